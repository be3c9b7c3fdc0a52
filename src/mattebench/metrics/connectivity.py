"""Connectivity levels of the Conn metric (Rhemann et al. 2009; DIM `compute_connectivity_error.m`).

For thresholds t_1..t_10, Omega_i is the largest 4-connected component of
`(pred >= t_i) & (target >= t_i)`; a pixel's level is t_{i-1} for the first i at which it leaves
Omega_i (an empty intersection gives Omega_i = {} and assigns every remaining pixel, as the GCA
copy of the official code and mmagic do), and 1 if it never leaves.

Why it is fast: `(p >= t) & (g >= t)` is `min(p, g) >= t`, computed once; the labelling runs in
OpenCV on the bounding box of the first intersection (every later one lies inside it);
component sizes come from a histogram; levels are tracked only for the scored pixels that are
still inside Omega, and the loop stops once none is left.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from mattebench.metrics.cpu import bounding_box

#: calcHist counts in float32, exact below 2**24 pixels; larger crops use np.bincount.
_EXACT_FLOAT32_COUNT = 2**24


def connectivity_levels(
    pred: np.ndarray,
    target: np.ndarray,
    scored: np.ndarray,
    thresholds: Sequence[float],
    *,
    column_major_ties: bool,
) -> np.ndarray:
    """Level l of each scored pixel of one H,W float64 matte pair.

    Args:
        scored: flat (row-major) indices of the pixels whose level is needed.
    """
    levels = np.full(len(scored), thresholds[0], dtype=np.float64)
    both = np.minimum(pred, target)
    box = bounding_box(both >= thresholds[1])
    if box is None:  # the first intersection is empty: every level is t_0
        return levels
    both = both[box]
    rows, cols = np.divmod(scored, pred.shape[1])
    rows, cols = rows - box[0].start, cols - box[1].start
    inside = (rows >= 0) & (rows < both.shape[0]) & (cols >= 0) & (cols < both.shape[1])
    pending = np.flatnonzero(inside)  # scored pixels inside every Omega so far
    pending_flat = rows[pending] * both.shape[1] + cols[pending]
    levels[pending] = 1.0

    # One set of buffers for all thresholds: fresh full-size arrays cost page faults.
    binary = np.empty(both.shape, np.uint8)
    labels = np.empty(both.shape, np.int32)
    for i in range(1, len(thresholds)):
        if len(pending) == 0:
            break
        np.greater_equal(both, thresholds[i], out=binary.view(bool))
        count, _ = cv2.connectedComponents(binary, labels, connectivity=4, ltype=cv2.CV_32S)
        if count > 1:
            largest = _largest_label(labels, count, column_major_ties)
            stays = np.take(labels, pending_flat) == largest
        else:
            stays = np.zeros(len(pending), dtype=bool)
        levels[pending[~stays]] = thresholds[i - 1]
        pending, pending_flat = pending[stays], pending_flat[stays]
    return levels


def _component_sizes(labels: np.ndarray, count: int) -> np.ndarray:
    if count <= np.iinfo(np.uint16).max and labels.size < _EXACT_FLOAT32_COUNT:
        hist = cv2.calcHist([labels.astype(np.uint16)], [0], None, [count], [0, count])
        return hist.ravel().astype(np.int64)
    return np.bincount(labels.ravel(), minlength=count)


def _largest_label(labels: np.ndarray, count: int, column_major_ties: bool) -> int:
    """Label of the largest component; ties go to the component whose first pixel comes first
    in row-major (OpenCV/SciPy/mmagic) or column-major (MATLAB `bwconncomp`) scan order."""
    sizes = _component_sizes(labels, count)
    sizes[0] = 0  # label 0 is the background, never a component (the GCA-Matting bug)
    candidates = np.flatnonzero(sizes == sizes.max())
    if len(candidates) == 1:
        return int(candidates[0])
    height, width = labels.shape

    def first_pixel(label: int) -> int:
        r, c = np.nonzero(labels == label)
        return int((c * height + r).min() if column_major_ties else (r * width + c).min())

    return min(candidates.tolist(), key=first_pixel)
