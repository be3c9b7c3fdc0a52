"""Connectivity error of the Conn metric (Rhemann et al. 2009; DIM `compute_connectivity_error.m`).

For thresholds t_1..t_10, Omega_i is the largest 4-connected component of
`(pred >= t_i) & (target >= t_i)`; a pixel's level l is t_{i-1} for the first i at which it leaves
Omega_i (an empty intersection gives Omega_i = {} and assigns every remaining pixel, as the GCA
copy of the official code and mmagic do), and 1 if it never leaves. The error sums
`|phi(pred) - phi(target)|` over the region, `phi(x) = 1 - d * (d >= theta)`, `d = x - l`.

Why it is fast on wide regions, where cropping to the scored pixels saves nothing:
- `(p >= t) & (g >= t)` is `min(p, g) >= t`, computed once; a pixel's level follows from how
  many consecutive Omegas hold it (a uint8 count per pixel), with no per-pixel index lists.
- The thresholds are handled incrementally. Every component at t_{i+1} lies inside one
  component at t_i, so a pixel still in play (inside Omega_i) can only stay in a component
  inside Omega_i. Labelling `(min >= t_{i+1}) & Omega_i` on Omega_i's bounding box finds those
  components; the largest of them is the largest of the whole image whenever it is larger than
  every other component at t_i (which bounds every component outside Omega_i). Only when that
  bound fails is the whole crop labelled again. Each step thus works on a shrinking box.
- Labelling runs in OpenCV with 16-bit labels (32-bit only when a binary image has more
  components), component sizes come from a histogram, and the loop stops once no pixel is left
  in play.
- The error is a handful of whole-array passes over the region's bounding box: the counts
  become levels through a lookup table, `d * (d >= theta)` is one OpenCV threshold, and the
  region is a mask of the final sum, so no scored pixel is ever gathered.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from mattebench.metrics.cpu import bounding_box

#: Rhemann et al. 2009: a pixel is penalised only when it exceeds its level by at least theta.
THETA = 0.15
#: `cv2.THRESH_TOZERO` keeps `d > threshold`; above the largest double below theta that is
#: exactly `d >= theta`.
_KEEP_ABOVE = float(np.nextafter(THETA, -np.inf))
#: calcHist counts in float32, exact below 2**24 pixels; larger crops use np.bincount.
_EXACT_FLOAT32_COUNT = 2**24


def connectivity_error_sum(
    pred: np.ndarray,
    target: np.ndarray,
    region: np.ndarray | None,
    thresholds: Sequence[float],
    *,
    column_major_ties: bool,
) -> float:
    """Sum over `region` (an H,W boolean mask; None for every pixel) of
    `|phi(pred) - phi(target)|` for one H,W float64 matte pair (p = 1)."""
    both = np.minimum(pred, target)
    held = np.zeros(both.shape, np.uint8)  # 0 outside the crop: never in Omega_1
    crop = bounding_box(both >= thresholds[1])
    if crop is not None:  # else the first intersection is empty: every level is t_0
        held[crop] = _omega_counts(both[crop], thresholds, column_major_ties)
    box = (slice(None), slice(None)) if region is None else bounding_box(region)
    if box is None:
        return 0.0
    # held == k: in Omega_1..Omega_k, not in Omega_{k+1}: level t_k (1 if it never leaves)
    table = np.zeros(256, np.float64)
    table[: len(thresholds)] = [*thresholds[:-1], 1.0]
    levels = cv2.LUT(held[box], table)
    # phi(p) - phi(g) = (1 - a) - (1 - b) = b - a, with a, b the thresholded distances
    kept_pred = _kept_distance(np.subtract(pred[box], levels))
    kept_target = _kept_distance(np.subtract(target[box], levels, out=levels))
    error = np.abs(np.subtract(kept_target, kept_pred, out=kept_pred), out=kept_pred)
    if region is not None:  # a product, not a selection: no branches on a ragged region
        np.multiply(error, region[box], out=error)
    return float(error.sum())


def _kept_distance(distance: np.ndarray) -> np.ndarray:
    """`d * (d >= theta)`, in place."""
    cv2.threshold(distance, _KEEP_ABOVE, 0.0, cv2.THRESH_TOZERO, dst=distance)
    return distance


def _omega_counts(
    both: np.ndarray, thresholds: Sequence[float], column_major_ties: bool
) -> np.ndarray:
    """Per pixel, the number of consecutive Omegas (from Omega_1) that hold it (uint8).

    While any pixel is in play, Omega_i lies inside Omega_{i-1} (a component at t_i is inside
    or outside Omega_{i-1}, and one outside would leave no pixel in play), so the pixels in
    every Omega so far are exactly Omega_i and one boolean map tracks both.
    """
    full = (slice(0, both.shape[0]), slice(0, both.shape[1]))
    held = np.zeros(both.shape, np.uint8)
    binary = np.empty(both.shape, np.uint8)
    in_omega = np.empty(both.shape, bool)  # Omega_i; valid inside `box` only
    box, other_max = full, 0  # other_max bounds every component at t_i but Omega_i
    for i in range(1, len(thresholds)):
        found = None
        if i > 1:  # label (min >= t_i) & Omega_{i-1} on Omega_{i-1}'s box
            np.greater_equal(both[box], thresholds[i], out=binary[box].view(bool))
            np.logical_and(binary[box], in_omega[box], out=binary[box].view(bool))
            found = _largest(binary[box], column_major_ties)
            if found is None:  # nothing of Omega_{i-1} is left at t_i
                break
            if found[2] > other_max:
                labels, largest, _, second = found
                other_max = max(other_max, second)
                np.equal(labels, largest, out=in_omega[box])
            else:  # a component outside Omega_{i-1} may be as large: label the whole crop
                found = None
        if found is None:
            np.greater_equal(both, thresholds[i], out=binary.view(bool))
            # never empty: the crop holds (min >= t_1), and a restricted try found pixels >= t_i
            labels, largest, _, other_max = _largest(binary, column_major_ties)
            if i > 1 and not (labels[box][in_omega[box]] == largest).any():
                break  # Omega_i is outside Omega_{i-1}: every remaining pixel leaves
            box = full
            np.equal(labels, largest, out=in_omega)
        held[box] += in_omega[box]
        inner = bounding_box(in_omega[box])
        box = tuple(
            slice(o.start + s.start, o.start + s.stop) for o, s in zip(box, inner, strict=True)
        )
    return held


def _largest(
    binary: np.ndarray, column_major_ties: bool
) -> tuple[np.ndarray, int, int, int] | None:
    """The 4-connected labels of `binary`, the label and size of its largest component and
    the size of the next largest (0 if none); None when `binary` is empty."""
    count, labels = _label(binary)
    if count <= 1:
        return None
    sizes = _component_sizes(labels, count)
    sizes[0] = 0  # label 0 is the background, never a component (the GCA-Matting bug)
    label = _largest_label(labels, sizes, column_major_ties)
    size = int(sizes[label])
    sizes[label] = 0
    return labels, label, size, int(sizes.max())


def _label(binary: np.ndarray) -> tuple[int, np.ndarray]:
    """4-connected labels, uint16 (half the memory traffic, and the histogram's own type)
    unless the image holds 65,535 components or more (OpenCV then refuses 16-bit labels)."""
    try:
        return cv2.connectedComponents(binary, connectivity=4, ltype=cv2.CV_16U)
    except cv2.error:
        return cv2.connectedComponents(binary, connectivity=4, ltype=cv2.CV_32S)


def _component_sizes(labels: np.ndarray, count: int) -> np.ndarray:
    if labels.dtype == np.uint16 and labels.size < _EXACT_FLOAT32_COUNT:
        hist = cv2.calcHist([labels], [0], None, [count], [0, count])
        return hist.ravel().astype(np.int64)
    return np.bincount(labels.ravel(), minlength=count)


def _largest_label(labels: np.ndarray, sizes: np.ndarray, column_major_ties: bool) -> int:
    """Label of the largest component; ties go to the component whose first pixel comes first
    in row-major (OpenCV/SciPy/mmagic) or column-major (MATLAB `bwconncomp`) scan order (the
    order of two pixels does not change when both are cropped to the same box)."""
    candidates = np.flatnonzero(sizes == sizes.max())
    if len(candidates) == 1:
        return int(candidates[0])
    height, width = labels.shape

    def first_pixel(label: int) -> int:
        r, c = np.nonzero(labels == label)
        return int((c * height + r).min() if column_major_ties else (r * width + c).min())

    return min(candidates.tolist(), key=first_pixel)
