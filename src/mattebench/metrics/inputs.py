"""Checks and normalises what every matting metric receives, before the metrics differ.

One place decides the shared protocol: accepted dtypes and ranges, trimap values, the evaluation
region, and the steps that some evaluation codes apply to predictions before scoring (clamping,
forcing the trimap's known values, rounding to uint8). The metric definitions live in
`functional.py` and only see a validated `MattingBatch`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
from torch import Tensor

Region = Literal["auto", "unknown", "image", "mask"]
REGIONS: tuple[str, ...] = ("auto", "unknown", "image", "mask")

#: Float trimap values accepted as "unknown": 0.5, and 128/255 from a PNG trimap divided by 255.
_UNKNOWN_FLOATS = (0.5, 128 / 255)


@dataclass(frozen=True)
class Convention:
    """How one public evaluation code turns the same definitions into numbers (specs/metrics.md).

    Attributes:
        name: the convention's name, as passed to the metrics.
        whole_image_error_sums: SAD and the numerator of MSE sum over the whole image while
            the MSE denominator counts the unknown pixels only (mmagic 1.x `sad.py`,
            `matting_mse.py`).
        conn_threshold_product: connectivity thresholds are `i * 0.1` as `np.arange` builds them
            (0.30000000000000004, 0.6000000000000001, ...) rather than the exact `i / 10` of
            MATLAB's colon operator; decides whether alpha 153/255 passes the 0.6 threshold.
        column_major_ties: between equally large components, connectivity keeps the one whose
            first pixel comes first in column-major order (MATLAB `bwconncomp`) rather than
            row-major order (OpenCV, SciPy).
        postprocess_preds: predictions are clamped to [0, 1], forced to the trimap's known
            values and rounded to uint8 before scoring (mmagic `BaseMattor.postprocess`).
        needs_trimap: the code cannot evaluate without a trimap.
        has_mad: the code defines MAD.
    """

    name: str
    whole_image_error_sums: bool
    conn_threshold_product: bool
    column_major_ties: bool
    postprocess_preds: bool
    needs_trimap: bool
    has_mad: bool

    def conn_thresholds(self, step: float = 0.1) -> list[float]:
        """The 11 connectivity thresholds 0, 0.1, ..., 1 as this convention computes them."""
        count = round(1 / step)
        if self.conn_threshold_product:
            return [i * step for i in range(count + 1)]
        return [i / count for i in range(count + 1)]


CONVENTIONS: dict[str, Convention] = {
    # Official Deep Image Matting MATLAB code (Xu et al. 2017; DIM_evaluation_code/*.m).
    "dim": Convention(
        name="dim",
        whole_image_error_sums=False,
        conn_threshold_product=False,
        column_major_ties=True,
        postprocess_preds=False,
        needs_trimap=False,
        has_mad=True,
    ),
    # open-mmlab/mmagic 1.x (mmagic/evaluation/metrics/*.py and BaseMattor.postprocess).
    "mmagic": Convention(
        name="mmagic",
        whole_image_error_sums=True,
        conn_threshold_product=True,
        column_major_ties=False,
        postprocess_preds=True,
        needs_trimap=True,
        has_mad=False,
    ),
}


def get_convention(name: str | Convention) -> Convention:
    if isinstance(name, Convention):
        return name
    try:
        return CONVENTIONS[name]
    except KeyError:
        raise ValueError(
            f"Unknown metric convention {name!r}; choose one of {sorted(CONVENTIONS)}."
        ) from None


@dataclass(frozen=True)
class MattingBatch:
    """Validated inputs: float64 mattes in [0, 1] and the boolean evaluation region, N,1,H,W."""

    pred: Tensor
    target: Tensor
    region: Tensor
    convention: Convention
    region_size: Tensor
    """Number of evaluated pixels per image, shape (N,)."""


def check_options(convention: str | Convention, region: str, force_known: bool | None) -> None:
    """Fail at construction time, not at the first update, on a bad option combination."""
    conv = get_convention(convention)
    if region not in REGIONS:
        raise ValueError(f"Unknown region {region!r}; choose one of {list(REGIONS)}.")
    if conv.needs_trimap and region not in ("auto", "unknown"):
        raise ValueError(
            f"convention={conv.name!r} always scores the trimap's unknown region; "
            f"region={region!r} needs convention='dim'."
        )
    if conv.postprocess_preds and force_known is False:
        raise ValueError(
            f"convention={conv.name!r} always forces the trimap's known values "
            "(it is part of that code's protocol); use convention='dim' to turn it off."
        )


def prepare(
    preds: Tensor,
    target: Tensor,
    trimap: Tensor | None = None,
    mask: Tensor | None = None,
    *,
    convention: str | Convention = "dim",
    region: Region = "auto",
    force_known: bool | None = None,
) -> MattingBatch:
    """Validate the inputs and apply the convention's protocol; see `MattingBatch`.

    Args:
        preds: predicted alpha, N,1,H,W, float in [0, 1] or uint8 in 0..255.
        target: ground-truth alpha, same shape, same rules.
        trimap: N,1,H,W with values 0/0.5/1 (float) or 0/128/255 (uint8); 128/255 is also
            accepted as "unknown" for PNG trimaps divided by 255.
        mask: N,1,H,W boolean region, only with ``region="mask"``.
        convention: ``"dim"`` (official MATLAB code) or ``"mmagic"`` (mmagic 1.x).
        region: ``"unknown"`` (trimap's unknown pixels), ``"image"`` (every pixel, as RVM),
            ``"mask"`` (the given mask), or ``"auto"``: unknown when a trimap is given, else image.
        force_known: set predictions to 0/1 where the trimap says background/foreground before
            scoring (the DIM/mmagic protocol). Default: the convention's (mmagic yes, dim no).
    """
    conv = get_convention(convention)
    check_options(conv, region, force_known)
    _check_shape("preds", preds)
    if target.shape != preds.shape:
        raise ValueError(
            f"preds and target must have the same shape, got {tuple(preds.shape)} "
            f"and {tuple(target.shape)}."
        )
    pred = _to_unit_float("preds", preds, clamp=conv.postprocess_preds)
    gt = _to_unit_float("target", target, clamp=False)

    known_bg = known_fg = unknown = None
    if trimap is not None:
        if trimap.shape != preds.shape:
            raise ValueError(
                f"trimap must have the shape of preds {tuple(preds.shape)}, "
                f"got {tuple(trimap.shape)}."
            )
        known_bg, unknown, known_fg = _split_trimap(trimap.to(pred.device))

    if region == "auto":
        region = "unknown" if trimap is not None else "image"
    if conv.needs_trimap and trimap is None:
        raise ValueError(f"convention={conv.name!r} needs a trimap: pass trimap=...")

    if region == "unknown":
        if unknown is None:
            raise ValueError(
                "region='unknown' needs a trimap: pass trimap=..., "
                "or use region='image' to score every pixel."
            )
        region_mask = unknown
    elif region == "image":
        region_mask = _everywhere(pred)
    else:  # "mask"
        region_mask = _check_mask(mask, preds.shape).to(pred.device)
    if mask is not None and region != "mask":
        raise ValueError(f"A mask was given but region={region!r}; use region='mask'.")

    if force_known is None:
        force_known = conv.postprocess_preds
    if force_known:
        if trimap is None:
            raise ValueError("force_known=True needs a trimap: pass trimap=...")
        pred = pred.masked_fill_(known_bg, 0.0).masked_fill_(known_fg, 1.0)
    if conv.postprocess_preds and preds.dtype != torch.uint8:
        # mmagic: `pred *= 255; pred.round_()` on the float32 output, then uint8, then / 255.
        working = preds.dtype if preds.is_floating_point() else torch.float32
        pred = (pred.to(working) * 255).round().to(torch.float64) / 255.0

    region_size = _count_per_image(region_mask)
    return MattingBatch(
        pred=pred, target=gt, region=region_mask, convention=conv, region_size=region_size
    )


def _check_shape(name: str, x: Tensor) -> None:
    if x.ndim != 4 or x.shape[1] != 1:
        raise ValueError(
            f"{name} must be N,1,H,W (one alpha channel), got shape {tuple(x.shape)}; "
            "add the missing dimensions with x[:, None] or x[None, None]."
        )


def _to_unit_float(name: str, x: Tensor, *, clamp: bool) -> Tensor:
    """A float64 copy in [0, 1] (later steps work in place): uint8 is divided by 255, floats
    must already lie in [0, 1] (clamped only if asked)."""
    if not (x.dtype == torch.uint8 or x.is_floating_point()):
        raise TypeError(f"{name} must be float in [0, 1] or uint8 in 0..255, got dtype {x.dtype}.")
    x = _float64_copy(x, 255.0 if x.dtype == torch.uint8 else None)
    if clamp:
        if x.isnan().any():
            raise ValueError(f"{name} contains NaN values.")
        return x.clamp_(0.0, 1.0)
    lo, hi = _min_max(x)
    if math.isnan(lo) or math.isnan(hi):
        raise ValueError(f"{name} contains NaN values.")
    if lo < 0.0 or hi > 1.0:
        hint = " (it looks like 0..255: divide by 255 or pass uint8)" if hi > 1.5 else ""
        raise ValueError(f"{name} values must lie in [0, 1], found [{lo:.6g}, {hi:.6g}]{hint}.")
    return x


def _float64_copy(x: Tensor, divisor: float | None) -> Tensor:
    """`x` as a new float64 tensor, divided by `divisor` if given. On CPU in NumPy: one pass,
    and PyTorch's intra-op threads stay asleep instead of spinning beside the metrics' own
    threads (the same correctly rounded division, so the same values)."""
    if _has_numpy_view(x):
        array = x.detach().numpy()
        return torch.from_numpy(np.divide(array, divisor) if divisor else array.astype(np.float64))
    x = x.to(torch.float64, copy=True)
    return x.div_(divisor) if divisor else x


def _has_numpy_view(x: Tensor) -> bool:
    """On CPU, in a dtype NumPy has (not bfloat16)."""
    return x.device.type == "cpu" and x.dtype != torch.bfloat16


def _min_max(x: Tensor) -> tuple[float, float]:
    """Smallest and largest value (NaN if any is NaN); NumPy on CPU, as `_float64_copy`."""
    if x.device.type == "cpu":
        array = x.numpy()
        return float(array.min()), float(array.max())
    return tuple(v.item() for v in torch.aminmax(x))


def _split_trimap(trimap: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    """Background, unknown and foreground masks; any other trimap value is an error.

    The comparisons are written with operators that NumPy arrays and tensors share, and run on
    the CPU tensor's NumPy view (no PyTorch threads to wake for three byte compares)."""
    if not (trimap.dtype == torch.uint8 or trimap.is_floating_point()):
        raise TypeError(f"trimap must be float or uint8, got dtype {trimap.dtype}.")
    values = trimap.detach().numpy() if _has_numpy_view(trimap) else trimap
    if trimap.dtype == torch.uint8:
        bg, fg = values == 0, values == 255
        unknown = values == 128
    else:
        bg, fg = values == 0, values == 1
        # compared in the trimap's own precision: 128/255 as float32 for a float32 trimap
        half, png_half = (torch.tensor(v, dtype=trimap.dtype).item() for v in _UNKNOWN_FLOATS)
        unknown = (values == half) | (values == png_half)
    masks = tuple(
        torch.from_numpy(m) if isinstance(m, np.ndarray) else m for m in (bg, unknown, fg)
    )
    counted = sum(int(_count_per_image(m).sum()) for m in masks)
    if counted != trimap.numel():
        bg, unknown, fg = masks
        others = torch.unique(trimap[~(bg | fg | unknown)])[:8].tolist()
        expected = "0/128/255" if trimap.dtype == torch.uint8 else "0/0.5/1"
        raise ValueError(
            f"trimap may only contain {expected}; found other values such as {others}. "
            "Re-threshold it (e.g. a resized trimap) before evaluating."
        )
    return masks


def _count_per_image(mask: Tensor) -> Tensor:
    """True pixels per image of an N,... boolean tensor, int64 (N,). On CPU NumPy counts a
    byte mask several times faster than PyTorch, whose per-dimension bool counts materialise
    int64; elsewhere one whole-tensor count per image."""
    if mask.device.type == "cpu":
        flat = mask.reshape(len(mask), -1).numpy()
        return torch.tensor([np.count_nonzero(m) for m in flat], dtype=torch.int64)
    return torch.stack([torch.count_nonzero(m) for m in mask])


def _everywhere(x: Tensor) -> Tensor:
    """A boolean tensor of x's shape, all True (NumPy's fill on CPU, as `_float64_copy`)."""
    if x.device.type == "cpu":
        return torch.from_numpy(np.ones(x.shape, bool))
    return torch.ones_like(x, dtype=torch.bool)


def _check_mask(mask: Tensor | None, shape: torch.Size) -> Tensor:
    if mask is None:
        raise ValueError("region='mask' needs mask=... (N,1,H,W, boolean).")
    if mask.shape != shape:
        raise ValueError(f"mask must have shape {tuple(shape)}, got {tuple(mask.shape)}.")
    if mask.dtype != torch.bool:
        raise TypeError(f"mask must be a boolean tensor, got dtype {mask.dtype}.")
    return mask
