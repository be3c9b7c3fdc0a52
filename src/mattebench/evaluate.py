"""Score a folder of predicted alpha mattes against ground truth, without running any model.

For predictions produced elsewhere (another code base, a released set of results): files are
matched by name without extension, each image is scored with the definitions of `mattebench.metrics`
under the chosen convention, and the per-image values and their plain mean over images (as the
official evaluation codes average) go to a table, ``<out>.json`` and ``<out>.csv``.

Usage::

    python -m mattebench.evaluate --pred results/mymethod --alpha data/comp1k/alpha \\
        --trimap data/comp1k/trimaps --convention dim
    # -> results/mymethod/evaluation.json and results/mymethod/evaluation.csv

``--convention mmagic`` reproduces mmagic 1.x numbers (needs ``--trimap``; no MAD). Without a
trimap, ``--region auto`` scores the whole image. The exit status is 2 on any error.

Against a built test set (`mattebench.testsets`), the ground truth and trimaps are the set's
files, matched by sample id, and the report names the set and its hash::

    python -m mattebench.evaluate --testset data/testsets/photomatte85 --pred out/alpha
    # a clip set, one `infer.py input=<set>/image/<clip> output=out/<clip>` per clip:
    python -m mattebench.evaluate --testset <set> --pred out --pred-kind alpha
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

import cv2
import numpy as np
import torch

from mattebench.metrics import METRICS
from mattebench.metrics.inputs import Convention, check_options, get_convention, prepare
from mattebench.testsets.manifest import TestSetError, read_manifest

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")

#: How many names a warning or error lists before it only counts the rest.
_MAX_LISTED = 20


class EvaluationError(ValueError):
    """A problem with the inputs, reported by `main` as ``error: ...`` with exit status 2."""


class Case(NamedTuple):
    """The files of one image, matched by name without extension."""

    name: str
    pred: Path
    alpha: Path
    trimap: Path | None

    def files(self) -> str:
        paths = [f"pred {self.pred}", f"alpha {self.alpha}"]
        if self.trimap is not None:
            paths.append(f"trimap {self.trimap}")
        return ", ".join(paths)


def metric_names(convention: str | Convention) -> list[str]:
    """The columns scored under `convention` (mmagic defines no MAD)."""
    has_mad = get_convention(convention).has_mad
    return [name for name in METRICS if name != "mad" or has_mad]


def check_arguments(
    convention: str, region: str, force_known: bool | None, *, has_trimap: bool
) -> Convention:
    """Reject a bad option combination before reading thousands of files."""
    try:
        conv = get_convention(convention)
        check_options(conv, region, force_known)
    except ValueError as exc:
        raise EvaluationError(str(exc)) from None
    if not has_trimap:
        if conv.needs_trimap:
            raise EvaluationError(f"--convention {conv.name} needs --trimap.")
        if region == "unknown":
            raise EvaluationError("--region unknown needs --trimap.")
        if force_known:
            raise EvaluationError("--force-known needs --trimap.")
    return conv


def find_files(folder: Path, role: str) -> dict[str, Path]:
    """Images directly in `folder` by name without extension, in sorted order.

    Hidden files (``.DS_Store``, ``._x.png``) and other extensions are ignored; two images with
    the same name are an error, since either could be the one meant.
    """
    if not folder.exists():
        raise EvaluationError(f"{role} folder not found: {folder}")
    if not folder.is_dir():
        raise EvaluationError(f"{role} path is not a folder: {folder}")
    files: dict[str, Path] = {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.suffix.lower() not in IMAGE_EXTENSIONS:
            continue
        if not path.is_file():
            continue
        if path.stem in files:
            raise EvaluationError(
                f"two {role} files have the name {path.stem!r}: "
                f"{files[path.stem].name} and {path.name} in {folder}"
            )
        files[path.stem] = path
    if not files:
        raise EvaluationError(f"no {role} images ({', '.join(IMAGE_EXTENSIONS)}) in {folder}")
    return files


def match(
    preds: dict[str, Path],
    alphas: dict[str, Path],
    trimaps: dict[str, Path] | None = None,
    *,
    allow_missing: bool = False,
) -> list[Case]:
    """Pair files by name; the ground truth decides which images a complete evaluation has.

    A missing prediction would silently flatter the mean, so it is an error unless skipping is
    asked for; a prediction without ground truth only costs a warning.
    """
    extra = sorted(preds.keys() - alphas.keys())
    if extra:
        _warn(f"{len(extra)} prediction(s) without ground truth, ignored: {_list(extra)}")
    missing = sorted(alphas.keys() - preds.keys())
    if missing:
        message = f"{len(missing)} ground-truth alpha(s) without a prediction: {_list(missing)}"
        if not allow_missing:
            raise EvaluationError(f"{message} (pass --allow-missing to skip them)")
        _warn(f"{message}; skipped")
    names = sorted(alphas.keys() & preds.keys())
    if not names:
        raise EvaluationError("no prediction has the name of a ground-truth alpha")
    if trimaps is not None:
        no_trimap = [name for name in names if name not in trimaps]
        if no_trimap:
            raise EvaluationError(
                f"{len(no_trimap)} ground-truth alpha(s) without a trimap: {_list(no_trimap)}"
            )
    return [
        Case(name, preds[name], alphas[name], trimaps[name] if trimaps is not None else None)
        for name in names
    ]


def testset_cases(
    testset: Path, pred_dir: Path, kind: str | None = None, *, allow_missing: bool = False
) -> list[Case]:
    """The samples of a built test set with their predictions: `<pred>/<id>.png`, or with
    `kind` infer.py's layout `<pred>/<clip>/<kind>/<frame>.png` (one infer run per folder)."""
    try:
        manifest = read_manifest(testset)
    except TestSetError as exc:
        raise EvaluationError(str(exc)) from None
    cases, missing = [], []
    for sample in manifest["samples"]:
        folder, _, name = sample["id"].rpartition("/")
        stem = pred_dir / folder / kind / name if kind else pred_dir / sample["id"]
        found = (stem.parent / f"{stem.name}{ext}" for ext in IMAGE_EXTENSIONS)
        pred = next((path for path in found if path.is_file()), None)
        if pred is None:
            missing.append(sample["id"])
            continue
        files = {role: testset / name for role, name in sample["files"].items()}
        cases.append(Case(sample["id"], pred, files["alpha"], files["trimap"]))
    if missing:
        message = f"{len(missing)} test sample(s) without a prediction in {pred_dir}"
        if not allow_missing:
            raise EvaluationError(f"{message}: {_list(missing)} (pass --allow-missing to skip)")
        _warn(f"{message}; skipped: {_list(missing)}")
    if not cases:
        raise EvaluationError(f"no prediction for any sample of {testset} in {pred_dir}")
    return cases


def read_matte(path: Path) -> np.ndarray:
    """One H,W matte or trimap as the metrics accept it: uint8, or float64 in [0, 1].

    uint16 images are divided by 65535. A 3-channel image must have equal channels (the official
    MATLAB code reads channel 1, mmagic converts to grayscale: the same numbers only then). A
    4-channel image is taken to be an RGBA cut-out and its alpha channel is used.
    """
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise EvaluationError(f"cannot read {path}: not an image, or a corrupt file")
    if image.ndim == 3:
        image = _single_channel(image, path)
    return _unit_range(image, path)


def _single_channel(image: np.ndarray, path: Path) -> np.ndarray:
    channels = image.shape[2]
    if channels == 1:
        return image[..., 0]
    if channels == 3:
        if not (
            np.array_equal(image[..., 0], image[..., 1])
            and np.array_equal(image[..., 0], image[..., 2])
        ):
            raise EvaluationError(
                f"{path} is not a grayscale matte: its 3 channels differ "
                "(save the alpha as a 1-channel image)"
            )
        return np.ascontiguousarray(image[..., 0])
    if channels == 4:
        return np.ascontiguousarray(image[..., 3])
    raise EvaluationError(f"{path} has {channels} channels; expected 1, 3 (equal) or 4 (RGBA)")


def _unit_range(image: np.ndarray, path: Path) -> np.ndarray:
    if image.dtype == np.uint8:
        return image
    if image.dtype == np.uint16:
        return image.astype(np.float64) / 65535.0
    if image.dtype.kind == "f":
        image = image.astype(np.float64)
        if not np.isfinite(image).all() or image.min() < 0.0 or image.max() > 1.0:
            raise EvaluationError(f"{path}: float values must be finite and lie in [0, 1]")
        return image
    raise EvaluationError(f"{path}: unsupported pixel type {image.dtype}; use 8 or 16-bit")


def check_sizes(case: Case, pred: np.ndarray, alpha: np.ndarray, trimap: np.ndarray | None) -> None:
    """Different sizes mean a resized or misnamed file: name both, never crop or resize."""
    others = [("prediction", case.pred, pred), ("trimap", case.trimap, trimap)]
    for role, path, image in others:
        if image is not None and image.shape != alpha.shape:
            raise EvaluationError(
                f"size mismatch: {role} {path} is {_size(image)} but ground truth "
                f"{case.alpha} is {_size(alpha)} (width x height)"
            )


def score_image(
    case: Case, convention: Convention, region: str, force_known: bool | None
) -> dict[str, float]:
    """All metrics of one image (N = 1), from one validated `MattingBatch`."""
    pred, alpha = read_matte(case.pred), read_matte(case.alpha)
    trimap = read_matte(case.trimap) if case.trimap is not None else None
    check_sizes(case, pred, alpha, trimap)
    preds, target = torch.from_numpy(pred)[None, None], torch.from_numpy(alpha)[None, None]
    trimaps = torch.from_numpy(trimap)[None, None] if trimap is not None else None
    try:
        batch = prepare(
            preds, target, trimaps, convention=convention, region=region, force_known=force_known
        )
        return {name: float(METRICS[name].per_image(batch)[0]) for name in metric_names(convention)}
    except (ValueError, TypeError) as exc:  # e.g. a trimap value other than 0/128/255
        raise EvaluationError(f"{case.name} ({case.files()}): {exc}") from exc


def evaluate_folder(
    pred_dir: str | Path,
    alpha_dir: str | Path | None,
    trimap_dir: str | Path | None = None,
    *,
    convention: str = "dim",
    region: str = "auto",
    force_known: bool | None = None,
    allow_missing: bool = False,
    on_image: Callable[[str, dict[str, float]], None] | None = None,
    testset: str | Path | None = None,
    pred_kind: str | None = None,
    keep_going: bool = False,
) -> dict[str, Any]:
    """Score every matched image; the result is what `write_reports` writes as JSON.

    ``region`` and ``force_known`` in the result are the resolved ones (``auto`` becomes
    ``unknown`` with a trimap, else ``image``), so a report says what was actually scored.
    `on_image(name, scores)` is called after each image, for progress output. With `testset`
    (a built set's folder; `alpha_dir` and `trimap_dir` are then None) the set's files are
    the ground truth (`testset_cases`) and the result carries its `testset` name and hash.
    With `keep_going`, an image that cannot be scored (a corrupt file, a size mismatch, a bad
    trimap) is listed under `failures` (name -> reason) and the others are scored; the means
    are over the scored images only (`count`).
    """
    has_trimap = trimap_dir is not None or testset is not None
    conv = check_arguments(convention, region, force_known, has_trimap=has_trimap)
    extra: dict[str, Any] = {}
    if testset is not None:
        testset = Path(testset)
        cases = testset_cases(testset, Path(pred_dir), pred_kind, allow_missing=allow_missing)
        manifest = read_manifest(testset)
        extra["testset"] = {"name": manifest["name"], "manifest_sha256": manifest["sha256"]}
    else:
        if alpha_dir is None:
            raise EvaluationError("give --alpha (a folder of ground truth) or --testset")
        preds = find_files(Path(pred_dir), "prediction")
        alphas = find_files(Path(alpha_dir), "ground-truth alpha")
        trimaps = find_files(Path(trimap_dir), "trimap") if trimap_dir is not None else None
        cases = match(preds, alphas, trimaps, allow_missing=allow_missing)

    images: dict[str, dict[str, float]] = {}
    failures: dict[str, str] = {}
    for case in cases:
        try:
            images[case.name] = score_image(case, conv, region, force_known)
        except EvaluationError as exc:
            if not keep_going:
                raise
            failures[case.name] = str(exc)
            _warn(f"not scored: {exc}")
            continue
        if on_image is not None:
            on_image(case.name, images[case.name])
    if not images:
        raise EvaluationError(f"no image could be scored ({len(failures)} failed)")
    names = metric_names(conv)
    if failures:
        extra["failures"] = failures
    return {
        "convention": conv.name,
        "region": region if region != "auto" else ("unknown" if has_trimap else "image"),
        "force_known": bool(force_known if force_known is not None else conv.postprocess_preds),
        "images": images,
        "mean": {name: float(np.mean([s[name] for s in images.values()])) for name in names},
        "count": len(images),
        **extra,
    }


def write_reports(results: dict[str, Any], prefix: str | Path) -> tuple[Path, Path]:
    """Write ``<prefix>.json`` and ``<prefix>.csv`` (one row per image, then ``mean``)."""
    prefix = Path(prefix)
    json_path = prefix.parent / f"{prefix.name}.json"
    csv_path = prefix.parent / f"{prefix.name}.csv"
    names = list(results["mean"])
    try:
        prefix.parent.mkdir(parents=True, exist_ok=True)
        json_path.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
        with csv_path.open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(["name", *names])
            for image, scores in results["images"].items():
                writer.writerow([image, *(scores[name] for name in names)])
            writer.writerow(["mean", *(results["mean"][name] for name in names)])
    except OSError as exc:
        raise EvaluationError(f"cannot write the reports: {exc}") from exc
    return json_path, csv_path


def format_row(label: str, scores: dict[str, float], names: Sequence[str]) -> str:
    """Fixed-width values first and the name last, so rows can be printed as they come."""
    return "".join(f"{scores[name]:>12.5g}" for name in names) + f"  {label}"


def format_header(names: Sequence[str]) -> str:
    return "".join(f"{name:>12}" for name in names) + "  name"


def _row_printer(names: Sequence[str]) -> Callable[[str, dict[str, float]], None]:
    """Print the header with the first row: an error before any image prints no table."""
    started = False

    def print_row(label: str, scores: dict[str, float]) -> None:
        nonlocal started
        if not started:
            print(format_header(names), flush=True)
            started = True
        print(format_row(label, scores, names), flush=True)

    return print_row


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="mattebench-evaluate",
        description="Score predicted alpha mattes against ground truth, matched by file name.",
    )
    parser.add_argument("--pred", type=Path, required=True, help="folder of predicted alphas")
    parser.add_argument("--alpha", type=Path, help="folder of ground-truth alphas")
    parser.add_argument(
        "--testset",
        type=Path,
        help="a built test set's folder instead of --alpha/--trimap (predictions by sample id)",
    )
    parser.add_argument(
        "--pred-kind",
        help="with --testset: read infer.py outputs <pred>/<clip>/<kind>/<frame>.png (e.g. alpha)",
    )
    parser.add_argument("--trimap", type=Path, help="folder of trimaps (0/128/255)")
    parser.add_argument(
        "--convention",
        choices=("dim", "mmagic"),
        default="dim",
        help="official DIM MATLAB code (default) or mmagic 1.x",
    )
    parser.add_argument(
        "--region",
        choices=("auto", "unknown", "image"),
        default="auto",
        help="pixels scored; auto: the trimap's unknown region with --trimap, else the image",
    )
    parser.add_argument(
        "--force-known",
        action="store_true",
        help="set predictions to the trimap's known values first (always on under mmagic)",
    )
    parser.add_argument(
        "--out",
        type=Path,
        help="report path without extension (default: <pred>/evaluation -> .json and .csv)",
    )
    parser.add_argument(
        "--allow-missing",
        action="store_true",
        help="skip ground-truth alphas without a prediction instead of failing",
    )
    parser.add_argument(
        "--keep-going",
        action="store_true",
        help="score the other images when one cannot be read or scored, list the failures "
        "(exit status 1 if any)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point; returns the exit status (2 on any input error)."""
    args = parse_args(argv)
    out = args.out if args.out is not None else args.pred / "evaluation"
    print_row = _row_printer(metric_names(args.convention))
    try:
        results = evaluate_folder(
            args.pred,
            args.alpha,
            args.trimap,
            convention=args.convention,
            region=args.region,
            force_known=True if args.force_known else None,
            allow_missing=args.allow_missing,
            on_image=print_row,
            testset=args.testset,
            pred_kind=args.pred_kind,
            keep_going=args.keep_going,
        )
        names = list(results["mean"])
        print("-" * (12 * len(names) + 6))
        print(format_row("mean", results["mean"], names))
        json_path, csv_path = write_reports(results, out)
    except EvaluationError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(
        f"{results['count']} image(s), convention={results['convention']}, "
        f"region={results['region']}, force_known={results['force_known']}"
    )
    print(f"wrote {json_path} and {csv_path}")
    failures = results.get("failures", {})
    for name, reason in failures.items():
        print(f"failed: {name}: {reason}", file=sys.stderr)
    if failures:
        print(f"{len(failures)} image(s) could not be scored (listed above)", file=sys.stderr)
    return 1 if failures else 0


def _warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _list(names: Sequence[str]) -> str:
    listed = ", ".join(names[:_MAX_LISTED])
    if len(names) > _MAX_LISTED:
        listed += f", ... ({len(names) - _MAX_LISTED} more)"
    return listed


def _size(image: np.ndarray) -> str:
    return f"{image.shape[1]}x{image.shape[0]}"


if __name__ == "__main__":
    raise SystemExit(main())
