"""Connectivity levels of the Conn metric (Rhemann et al. 2009; DIM `compute_connectivity_error.m`).

For thresholds t_1..t_10, Omega_i is the largest 4-connected component of
`(pred >= t_i) & (target >= t_i)`; a pixel's level is t_{i-1} for the first i at which it leaves
Omega_i (an empty intersection gives Omega_i = {} and assigns every remaining pixel, as the GCA
copy of the official code and mmagic do), and 1 if it never leaves.

Why it is fast on wide regions, where cropping to the scored pixels saves nothing:
- `(p >= t) & (g >= t)` is `min(p, g) >= t`, computed once; a pixel's level follows from how
  many consecutive Omegas hold it (a uint8 count per pixel), with no per-pixel index lists.
- The thresholds are handled incrementally. Every component at t_{i+1} lies inside one
  component at t_i, so a pixel still in play (inside Omega_i) can only stay in a component
  inside Omega_i. Labelling `(min >= t_{i+1}) & Omega_i` on Omega_i's bounding box finds those
  components; the largest of them is the largest of the whole image whenever it is larger than
  every other component at t_i (which bounds every component outside Omega_i). Only when that
  bound fails is the whole crop labelled again. Each step thus works on a shrinking box.
- Labelling runs in OpenCV, component sizes come from a histogram, and the loop stops once no
  pixel is left in play.
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
    scored: np.ndarray | None,
    thresholds: Sequence[float],
    *,
    column_major_ties: bool,
) -> np.ndarray:
    """Level l of each scored pixel of one H,W float64 matte pair.

    Args:
        scored: flat (row-major) indices of the pixels whose level is needed; None for every
            pixel (row-major).
    """
    both = np.minimum(pred, target)
    crop = bounding_box(both >= thresholds[1])
    if crop is None:  # the first intersection is empty: every level is t_0
        return np.full(pred.size if scored is None else len(scored), thresholds[0])
    held = np.zeros(both.shape, np.uint8)  # 0 outside the crop: never in Omega_1
    held[crop] = _omega_counts(both[crop], thresholds, column_major_ties)
    # held == k: in Omega_1..Omega_k, not in Omega_{k+1}: level t_k (1 if it never leaves)
    table = np.array([*thresholds[:-1], 1.0], dtype=np.float64)
    return table.take(held.ravel() if scored is None else held.ravel().take(scored))


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
    count, labels = cv2.connectedComponents(binary, connectivity=4, ltype=cv2.CV_32S)
    if count <= 1:
        return None
    sizes = _component_sizes(labels, count)
    sizes[0] = 0  # label 0 is the background, never a component (the GCA-Matting bug)
    label = _largest_label(labels, sizes, column_major_ties)
    size = int(sizes[label])
    sizes[label] = 0
    return labels, label, size, int(sizes.max())


def _component_sizes(labels: np.ndarray, count: int) -> np.ndarray:
    if count <= np.iinfo(np.uint16).max and labels.size < _EXACT_FLOAT32_COUNT:
        hist = cv2.calcHist([labels.astype(np.uint16)], [0], None, [count], [0, count])
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
