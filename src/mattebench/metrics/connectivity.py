"""Connectivity levels of the Conn metric (Rhemann et al. 2009; DIM `compute_connectivity_error.m`).

For thresholds t_1..t_10, Omega_i is the largest 4-connected component of
`(pred >= t_i) & (target >= t_i)`; a pixel's level is t_{i-1} for the first i at which it leaves
Omega_i (an empty intersection gives Omega_i = {} and assigns every remaining pixel, as the GCA
copy of the official code and mmagic do), and 1 if it never leaves.

Why it is fast: the labelling runs in OpenCV on the bounding box of the first intersection
(every later one lies inside it), levels are tracked only for the scored pixels, and the loop
stops once every scored pixel has its level.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np


def connectivity_levels(
    pred: np.ndarray,
    target: np.ndarray,
    rows: np.ndarray,
    cols: np.ndarray,
    thresholds: Sequence[float],
    *,
    column_major_ties: bool,
) -> np.ndarray:
    """Level l of each pixel (rows[k], cols[k]) of one H,W float64 matte pair."""
    levels = np.ones(len(rows), dtype=np.float64)
    pending = np.ones(len(rows), dtype=bool)
    top, bottom, left, right = _bounding_box((pred >= thresholds[1]) & (target >= thresholds[1]))
    pred, target = pred[top:bottom, left:right], target[top:bottom, left:right]
    rows, cols = rows - top, cols - left
    inside = (rows >= 0) & (rows < bottom - top) & (cols >= 0) & (cols < right - left)

    for i in range(1, len(thresholds)):
        if not pending.any():
            break
        both = ((pred >= thresholds[i]) & (target >= thresholds[i])).view(np.uint8)
        in_largest = np.zeros(len(rows), dtype=bool)
        if both.size:
            count, labels = cv2.connectedComponents(both, connectivity=4, ltype=cv2.CV_32S)
            if count > 1:
                largest = _largest_label(labels, column_major_ties)
                in_largest[inside] = labels[rows[inside], cols[inside]] == largest
        leaving = pending & ~in_largest
        levels[leaving] = thresholds[i - 1]
        pending &= in_largest
    return levels


def _bounding_box(mask: np.ndarray) -> tuple[int, int, int, int]:
    """Half-open (top, bottom, left, right) of the True pixels; empty box if there are none."""
    any_row, any_col = mask.any(axis=1), mask.any(axis=0)
    if not any_row.any():
        return 0, 0, 0, 0
    r = np.flatnonzero(any_row)
    c = np.flatnonzero(any_col)
    return int(r[0]), int(r[-1]) + 1, int(c[0]), int(c[-1]) + 1


def _largest_label(labels: np.ndarray, column_major_ties: bool) -> int:
    """Label of the largest component; ties go to the component whose first pixel comes first
    in row-major (OpenCV/SciPy/mmagic) or column-major (MATLAB `bwconncomp`) scan order."""
    sizes = np.bincount(labels.ravel())
    sizes[0] = 0  # label 0 is the background, never a component (the GCA-Matting bug)
    candidates = np.flatnonzero(sizes == sizes.max())
    if len(candidates) == 1:
        return int(candidates[0])
    height, width = labels.shape

    def first_pixel(label: int) -> int:
        r, c = np.nonzero(labels == label)
        return int((c * height + r).min() if column_major_ties else (r * width + c).min())

    return min(candidates.tolist(), key=first_pixel)
