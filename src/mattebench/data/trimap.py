"""Trimaps: the one rule that reads them, and the recipes that derive them from alpha.

**The rule** (every reader of a trimap goes through it: dataset files, inference guides, the
methods, the losses). A trimap value `v` in [0, 1] (8-bit: `v * 255`) means

- background where `v < 85/255` (8-bit 0..84),
- foreground where `v > 170/255` (8-bit 171..255),
- unknown otherwise (8-bit 85..170; the canonical value is 0.5, 128 in a file).

Why thirds: Composition-1K, AIM-500 and Distinctions-646 store trimaps as 0/128/255 PNGs, but
trimaps also arrive JPEG-compressed, resampled or drawn by hand, so values drift around those
three levels. Cutting the range in thirds leaves each level at least 42 levels from a boundary,
and an ambiguous value between a known level and 128 falls to *unknown*: a known pixel wrongly
called unknown is only predicted, while an unknown pixel wrongly called known is forced to 0 or 1
and drops out of the unknown-region metrics. The same thresholds split the 0/128/255 range as
GCA-Matting's loader does (`trimap < 85`, `>= 170`); a clean 0/128/255 or {0, 0.5, 1} trimap
gives exactly the unknown region that the metrics score (`metrics.inputs`: 128 / 0.5).

`quantise_trimap` maps any trimap to {0, 0.5, 1}; `is_background`, `is_foreground` and
`unknown_mask` give the three regions of any trimap (quantised or not) under the same rule,
on NumPy arrays and torch tensors alike. `resize_trimap` is the one way to resize a trimap: a
cell is known only if every pixel it covers was (a downscale never invents certainty).

**Recipes from alpha** (NumPy/OpenCV, so they run in DataLoader workers): the BGMv2 test
protocol (`trimap_from_alpha`), MODNet's training trimap (`modnet_trimap`) and DIM's training
trimap (`dim_trimap`, which HDMatt trains with).

This module imports neither Lightning nor Hydra, so model code may use the rule.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

Trimap = TypeVar("Trimap", Tensor, np.ndarray)
#: A training-trimap recipe as a method declares it (`MattingMethod.training_trimap`) and the
#: datamodule applies it to every training item: an (H,W) alpha and the item's generator ->
#: a {0, 0.5, 1} trimap (`modnet_trimap`, `dim_trimap`).
TrimapRecipe = Callable[[np.ndarray, np.random.Generator], np.ndarray]

#: Background below, foreground above these 8-bit levels; unknown between (inclusive).
BACKGROUND_BELOW, FOREGROUND_ABOVE = 85, 170
#: The canonical values of a quantised trimap.
BACKGROUND, UNKNOWN, FOREGROUND = 0.0, 0.5, 1.0


def _bounds(trimap: Tensor | np.ndarray) -> tuple[float, float]:
    """The thresholds in the trimap's own scale: 8-bit levels for uint8, else [0, 1]."""
    if trimap.dtype == (torch.uint8 if isinstance(trimap, Tensor) else np.uint8):
        return BACKGROUND_BELOW, FOREGROUND_ABOVE
    return BACKGROUND_BELOW / 255, FOREGROUND_ABOVE / 255


def is_background(trimap: Trimap) -> Trimap:
    """Boolean mask of the trimap's background (`v < 85/255`; uint8: `v < 85`)."""
    return trimap < _bounds(trimap)[0]


def is_foreground(trimap: Trimap) -> Trimap:
    """Boolean mask of the trimap's foreground (`v > 170/255`; uint8: `v > 170`)."""
    return trimap > _bounds(trimap)[1]


def unknown_mask(trimap: Trimap) -> Trimap:
    """Boolean mask of the trimap's unknown region: neither background nor foreground.

    >>> unknown_mask(np.float32([0, 0.3, 0.4, 0.5, 0.6, 0.7, 1])).tolist()
    [False, False, True, True, True, False, False]
    """
    low, high = _bounds(trimap)
    return (trimap >= low) & (trimap <= high)


def quantise_trimap(trimap: Trimap) -> Trimap:
    """Any trimap (float in [0, 1] or uint8) -> float {0, 0.5, 1} of the same shape and kind.

    Float tensors keep their dtype; arrays and uint8 tensors become float32.

    >>> quantise_trimap(np.uint8([0, 84, 85, 128, 170, 171, 255])).tolist()
    [0.0, 0.0, 0.5, 0.5, 0.5, 1.0, 1.0]
    """
    if isinstance(trimap, Tensor):
        dtype = trimap.dtype if trimap.is_floating_point() else torch.float32
        out = torch.full(trimap.shape, UNKNOWN, dtype=dtype, device=trimap.device)
    else:
        trimap = np.asarray(trimap)
        out = np.full(trimap.shape, UNKNOWN, np.float32)
    out[is_background(trimap)] = BACKGROUND
    out[is_foreground(trimap)] = FOREGROUND
    return out


def resize_trimap(trimap: Tensor, size: tuple[int, int]) -> Tensor:
    """(..., H, W) trimap -> (..., h, w) {0, 0.5, 1}: known only where every covered pixel was.

    Each known region is area-resized on its own; a cell is background (foreground) only if its
    whole footprint was, so a downscaled cell that mixes regions becomes unknown. Upscaling
    repeats cells (area on a larger grid is nearest-like), so it never blurs a boundary.
    """
    if tuple(trimap.shape[-2:]) == tuple(size):
        return quantise_trimap(trimap)
    lead = trimap.shape[:-2]
    flat = trimap.reshape(-1, 1, *trimap.shape[-2:])
    dtype = trimap.dtype if trimap.is_floating_point() else torch.float32
    bg = F.interpolate(is_background(flat).to(dtype), size=size, mode="area")
    fg = F.interpolate(is_foreground(flat).to(dtype), size=size, mode="area")
    out = torch.full_like(bg, UNKNOWN)
    out[bg >= 1] = BACKGROUND
    out[fg >= 1] = FOREGROUND
    return out.reshape(*lead, *size)


#: OpenCV's 3x3 ellipse is the cross [[0,1,0],[1,1,1],[0,1,0]]: the "3x3 circular kernel".
_KERNEL = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))


def trimap_from_alpha(
    alpha: np.ndarray, low: float = 0.06, high: float = 0.96, iterations: int = 10
) -> np.ndarray:
    """{0, 0.5, 1} float32 trimap of an H,W alpha (float in [0, 1], or uint8 in [0, 255]).

    Definite foreground is `alpha >= high` eroded `iterations` times, definite background
    `alpha <= low` eroded likewise; everything else is unknown. Image borders do not erode.

    >>> a = np.zeros((1, 30), np.float32); a[:, 15:] = 1
    >>> trimap_from_alpha(a, iterations=3)[0, 10:20]
    array([0. , 0. , 0.5, 0.5, 0.5, 0.5, 0.5, 0.5, 1. , 1. ], dtype=float32)
    """
    alpha = _unit_alpha(alpha)
    fg = cv2.erode((alpha >= high).astype(np.uint8), _KERNEL, iterations=iterations)
    bg = cv2.erode((alpha <= low).astype(np.uint8), _KERNEL, iterations=iterations)
    trimap = np.full(alpha.shape, 0.5, np.float32)
    trimap[fg > 0] = 1
    trimap[bg > 0] = 0
    return trimap


def modnet_kernel(
    size: int, rng: np.random.Generator, kernel_range: tuple[int, int] = (10, 20), unit: int = 256
) -> int:
    """MODNet's random kernel side: `size / unit * randint(lo, hi)` (20–40 px at 512).

    The maintainer's snippet computes `size // unit * k` in integers, which is 0 below 256 px;
    here the product is rounded instead (identical at multiples of `unit`), at least 1.
    """
    k = int(rng.integers(kernel_range[0], kernel_range[1] + 1))
    return max(1, round(size * k / unit))


def modnet_trimap(
    alpha: np.ndarray,
    rng: np.random.Generator | None = None,
    high: float = 0.9,
    low: float = 0.0,
    kernel_range: tuple[int, int] = (10, 20),
    unit: int = 256,
    kernel: int | None = None,
) -> np.ndarray:
    """The MODNet training trimap (specs/modnet.md §2.2, maintainer snippet in issues #74/#108).

    `fg = alpha >= high`, `not_bg = alpha > low`; a square kernel of side `d` (drawn by
    `modnet_kernel` from the shorter image side, or `kernel` if given; the same `d` dilates and
    erodes, as `d_size = e_size` in the snippet); unknown (0.5) where
    `dilate(not_bg, d) - erode(fg, d) != 0`, foreground (1) on the eroded `fg`, background (0)
    elsewhere. So every pixel with `low < alpha < high` is unknown, 0 means `alpha <= low` and
    1 means `alpha >= high`. Input float in [0, 1] or uint8; output float32 {0, 0.5, 1}.

    >>> a = np.zeros((1, 40), np.float32); a[:, 20:] = 1; a[:, 20] = 0.5
    >>> modnet_trimap(a, kernel=5)[0, 16:26]
    array([0. , 0. , 0.5, 0.5, 0.5, 0.5, 0.5, 1. , 1. , 1. ], dtype=float32)
    """
    alpha = _unit_alpha(alpha)
    if kernel is None:
        rng = np.random.default_rng() if rng is None else rng
        kernel = modnet_kernel(min(alpha.shape), rng, kernel_range, unit)
    square = np.ones((kernel, kernel), np.uint8)
    fg = cv2.erode((alpha >= high).astype(np.uint8), square)
    not_bg = cv2.dilate((alpha > low).astype(np.uint8), square)
    trimap = np.zeros(alpha.shape, np.float32)
    trimap[fg > 0] = 1
    trimap[not_bg.astype(np.int16) - fg != 0] = 0.5
    return trimap


def dim_trimap(
    alpha: np.ndarray,
    rng: np.random.Generator | None = None,
    kernel_range: tuple[int, int] = (1, 30),
    kernel: int | None = None,
) -> np.ndarray:
    """DIM's training trimap (Xu et al. 2017 §4; specs/hdmatt.md §3): the band between the
    eroded foreground (`alpha == 1`) and the dilated non-background (`alpha > 0`).

    The square kernel's side is drawn uniformly from `kernel_range` (DIM: 1-30 px) unless
    `kernel` is given, and made odd (`2 * (k // 2) + 1`) so the band is centred. Input float
    in [0, 1] or uint8; output float32 {0, 0.5, 1}. Image borders neither erode nor dilate.

    >>> a = np.zeros((1, 12), np.float32); a[:, 6:] = 1
    >>> dim_trimap(a, kernel=5)[0].tolist()
    [0.0, 0.0, 0.0, 0.0, 0.5, 0.5, 0.5, 0.5, 1.0, 1.0, 1.0, 1.0]
    """
    alpha = _unit_alpha(alpha)
    if kernel is None:
        rng = np.random.default_rng() if rng is None else rng
        kernel = int(rng.integers(kernel_range[0], kernel_range[1] + 1))
    side = 2 * (kernel // 2) + 1
    square = np.ones((side, side), np.uint8)
    fg = cv2.erode((alpha >= 254.5 / 255).astype(np.uint8), square)  # DIM's alpha == 255
    not_bg = cv2.dilate((alpha >= 0.5 / 255).astype(np.uint8), square)
    return np.where(fg > 0, FOREGROUND, np.where(not_bg > 0, UNKNOWN, BACKGROUND)).astype(
        np.float32
    )


def _unit_alpha(alpha: np.ndarray) -> np.ndarray:
    """An H,W alpha as floats in [0, 1] (uint8 is divided by 255)."""
    alpha = np.asarray(alpha)
    if alpha.dtype == np.uint8:
        alpha = alpha.astype(np.float32) / 255
    assert alpha.ndim == 2, f"expected an H,W alpha, got shape {alpha.shape}"
    return alpha
