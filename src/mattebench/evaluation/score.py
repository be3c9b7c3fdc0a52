"""Scoring one matched image, and a whole folder or test set, with `mattebench.metrics`.

Files are decoded by `mattebench.data.decode.read_matte` (the RGBA rule: a cut-out's alpha
channel, else equal gray channels), so a matte means here what it means to the datasets. Trimap
values are not re-thresholded: the metrics take 0/128/255 (or 0/0.5/1) exactly, as the official
evaluation codes do (their unknown region is `trimap == 128`, which `data.trimap.unknown_mask`
agrees with on such files); any other value is an error naming the file.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mattebench.data import decode
from mattebench.evaluation.cases import (
    Case,
    EvaluationError,
    find_files,
    match,
    testset_cases,
    warn,
)
from mattebench.metrics import METRICS
from mattebench.metrics.inputs import Convention, check_options, get_convention, prepare


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


def read_matte(path: Path) -> np.ndarray:
    """One H,W matte or trimap as the metrics accept it: uint8, or float64 in [0, 1].

    Decoded by `data.decode.read_matte` (the RGBA rule); 16-bit divided by 65535. Equal colour
    channels are required of a gray matte saved as colour: the official MATLAB code reads
    channel 1 and mmagic converts to grayscale, which give the same numbers only then.
    """
    try:
        image = decode.read_matte(path)
        return image if image.dtype == np.uint8 else decode.to_unit(image, path).astype(np.float64)
    except (decode.CorruptImageError, decode.ImageFormatError) as exc:
        raise EvaluationError(str(exc)) from None


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
    the ground truth (`testset_cases`) and the result carries its `testset` name and verified
    hash.
    With `keep_going`, an image that cannot be scored (a corrupt file, a size mismatch, a bad
    trimap) is listed under `failures` (name -> reason) and the others are scored; the means
    are over the scored images only (`count`).
    """
    has_trimap = trimap_dir is not None or testset is not None
    conv = check_arguments(convention, region, force_known, has_trimap=has_trimap)
    extra: dict[str, Any] = {}
    if testset is not None:
        cases, extra["testset"] = testset_cases(
            Path(testset), Path(pred_dir), pred_kind, allow_missing=allow_missing
        )
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
            warn(f"not scored: {exc}")
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


def _size(image: np.ndarray) -> str:
    return f"{image.shape[1]}x{image.shape[0]}"
