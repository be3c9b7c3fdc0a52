"""Helpers of the metrics' CPU paths: the smallest crop that holds the answer, and images in
parallel (OpenCV and NumPy release the GIL, so threads use every core)."""

from __future__ import annotations

import os
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

import numpy as np

T = TypeVar("T")


def bounding_box(mask: np.ndarray, margin: int = 0) -> tuple[slice, slice] | None:
    """Rows and columns of the True pixels of an H,W mask, grown by `margin` and clipped to the
    image; None when no pixel is set."""
    any_row = mask.any(axis=1)
    if not any_row.any():
        return None
    r, c = np.flatnonzero(any_row), np.flatnonzero(mask.any(axis=0))
    height, width = mask.shape
    return (
        slice(max(int(r[0]) - margin, 0), min(int(r[-1]) + 1 + margin, height)),
        slice(max(int(c[0]) - margin, 0), min(int(c[-1]) + 1 + margin, width)),
    )


def map_images(fn: Callable[[int], T], count: int) -> list[T]:
    """`[fn(0), ..., fn(count - 1)]`, computed on up to one thread per core."""
    workers = min(count, os.cpu_count() or 1)
    if workers <= 1:
        return [fn(n) for n in range(count)]
    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(fn, range(count)))
