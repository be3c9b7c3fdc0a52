"""Trimaps from ground-truth alpha, by the BGMv2 test protocol.

The BGMv2 paper's test protocol (specs/bgmv2.md §3; `eval/benchmark.m` scores inside it) thresholds
the alpha at 0.06 and 0.96 and grows the band between them with 10 erosions of a 3x3 circular
kernel each side; the metrics' unknown region is the 0.5 band. NumPy/OpenCV so it runs in
DataLoader workers.
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
    alpha = np.asarray(alpha)
    if alpha.dtype == np.uint8:
        alpha = alpha.astype(np.float32) / 255
    assert alpha.ndim == 2, f"expected an H,W alpha, got shape {alpha.shape}"
    fg = cv2.erode((alpha >= high).astype(np.uint8), _KERNEL, iterations=iterations)
    bg = cv2.erode((alpha <= low).astype(np.uint8), _KERNEL, iterations=iterations)
    trimap = np.full(alpha.shape, 0.5, np.float32)
    trimap[fg > 0] = 1
    trimap[bg > 0] = 0
    return trimap
