"""Trimaps from ground-truth alpha: the BGMv2 test protocol and the MODNet training recipe.

The BGMv2 paper's test protocol (specs/bgmv2.md §3; `eval/benchmark.m` scores inside it) thresholds
the alpha at 0.06 and 0.96 and grows the band between them with 10 erosions of a 3x3 circular
kernel each side; the metrics' unknown region is the 0.5 band (`trimap_from_alpha`). MODNet
trains with a random-width band grown from the alpha's support (`modnet_trimap`). NumPy/OpenCV so
they run in DataLoader workers.
"""

from __future__ import annotations

import cv2
import numpy as np

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


def _unit_alpha(alpha: np.ndarray) -> np.ndarray:
    """An H,W alpha as floats in [0, 1] (uint8 is divided by 255)."""
    alpha = np.asarray(alpha)
    if alpha.dtype == np.uint8:
        alpha = alpha.astype(np.float32) / 255
    assert alpha.ndim == 2, f"expected an H,W alpha, got shape {alpha.shape}"
    return alpha
