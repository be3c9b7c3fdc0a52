"""Which files are scored: predictions matched to ground truth (and trimaps) by name, or to a
built test set's samples by id. A missing prediction is an error unless skipping is asked for."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from mattebench.data.decode import IMAGE_EXTENSIONS, DuplicateImageError, image_names
from mattebench.testsets.manifest import TestSetError, read_manifest, verify_files

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


def find_files(folder: Path, role: str) -> dict[str, Path]:
    """Images directly in `folder` by name without extension, in sorted order.

    Hidden files (``.DS_Store``, ``._x.png``) and other extensions are ignored; two images with
    the same name are an error, since either could be the one meant.
    """
    if not folder.exists():
        raise EvaluationError(f"{role} folder not found: {folder}")
    if not folder.is_dir():
        raise EvaluationError(f"{role} path is not a folder: {folder}")
    try:
        files = {stem: folder / name for stem, name in image_names(folder).items()}
    except DuplicateImageError as exc:
        raise EvaluationError(f"{role} folder: {exc}") from None
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
        warn(f"{len(extra)} prediction(s) without ground truth, ignored: {_list(extra)}")
    missing = sorted(alphas.keys() - preds.keys())
    if missing:
        message = f"{len(missing)} ground-truth alpha(s) without a prediction: {_list(missing)}"
        if not allow_missing:
            raise EvaluationError(f"{message} (pass --allow-missing to skip them)")
        warn(f"{message}; skipped")
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
) -> tuple[list[Case], dict[str, Any]]:
    """The samples of a built test set with their predictions: `<pred>/<id>.png`, or with
    `kind` infer.py's layout `<pred>/<clip>/<kind>/<frame>.png` (one infer run per folder);
    and what they are scored on: the set's name and its hash, verified against the files on
    disk first (a changed, missing or extra file or an edited sample list is an error)."""
    try:
        manifest = read_manifest(testset)
        sha256 = verify_files(testset, manifest)
    except TestSetError as exc:
        raise EvaluationError(str(exc)) from None
    info = {"name": manifest["name"], "manifest_sha256": sha256, "verified": True}
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
        warn(f"{message}; skipped: {_list(missing)}")
    if not cases:
        raise EvaluationError(f"no prediction for any sample of {testset} in {pred_dir}")
    return cases, info


def warn(message: str) -> None:
    print(f"warning: {message}", file=sys.stderr)


def _list(names: Sequence[str]) -> str:
    listed = ", ".join(names[:_MAX_LISTED])
    if len(names) > _MAX_LISTED:
        listed += f", ... ({len(names) - _MAX_LISTED} more)"
    return listed
