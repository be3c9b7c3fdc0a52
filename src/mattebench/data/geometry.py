"""Affine geometry shared by the per-sample pipelines, the per-batch augmentation and the
previous-alpha simulation: torchvision's `RandomAffine` as one 2x3 matrix.

Every BGMv2 affine goes through torchvision's `F.affine` (rotation, integer translation, scale,
x-shear about the image centre); building the matrix once lets OpenCV and kornia warp an image
in a single pass, and lets `bgmv2_affine` fold BGMv2's resize-pad-affine-crop into one warp.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import numpy as np

Range = tuple[float, float]


def affine_matrix(
    centre_in: Sequence[float],
    centre_out: Sequence[float],
    angle: float = 0.0,
    translate: Sequence[float] = (0.0, 0.0),
    scale: float = 1.0,
    shear: float = 0.0,
) -> np.ndarray:
    """2x3 forward matrix: rotate/shear/scale about `centre_in`, land it on `centre_out` + shift.

    torchvision's `F.affine` (x-shear only, as `RandomAffine.get_params` with `shear=(-5, 5)`),
    which every BGMv2 affine goes through. Degrees in, pixel centres at integer coordinates.
    """
    rot, sx = math.radians(angle), math.radians(shear)
    linear = scale * np.array(
        [
            [math.cos(rot), -math.cos(rot) * math.tan(sx) - math.sin(rot)],
            [math.sin(rot), -math.sin(rot) * math.tan(sx) + math.cos(rot)],
        ]
    )
    offset = np.asarray(centre_out, float) + np.asarray(translate, float)
    offset -= linear @ np.asarray(centre_in, float)
    return np.concatenate([linear, offset[:, None]], axis=1)


def bgmv2_affine(
    rng: random.Random,
    shape: tuple[int, int],
    size: int,
    degrees: Range,
    translate: Range,
    scale: Range,
    shear: Range,
) -> tuple[np.ndarray, dict[str, float]]:
    """BGMv2's `PairRandomAffineAndResize` as one matrix from an (h, w) image to a `size`² crop.

    The official transform resizes by `max(size/w, size/h)` (so the crop is covered at scale 1),
    zero-pads, applies `RandomAffine` with translate and scale multiplied by that factor, and
    centre-crops; composed, that is an affine about the image centre onto the crop centre. The
    draws follow `RandomAffine.get_params`: angle, integer shift (±translate·factor·w or h),
    scale, x-shear. Returns the matrix and the drawn parameters (scale relative to the cover).
    """
    h, w = shape
    factor = max(size / w, size / h)
    angle = rng.uniform(*degrees)
    max_dx, max_dy = translate[0] * factor * w, translate[1] * factor * h
    shift = (round(rng.uniform(-max_dx, max_dx)), round(rng.uniform(-max_dy, max_dy)))
    zoom = rng.uniform(*scale)
    skew = rng.uniform(*shear)
    matrix = affine_matrix(
        centre_in=((w - 1) / 2, (h - 1) / 2),
        centre_out=((size - 1) / 2, (size - 1) / 2),
        angle=angle,
        translate=shift,
        scale=zoom * factor,
        shear=skew,
    )
    params = {"angle": angle, "dx": shift[0], "dy": shift[1], "scale": zoom, "shear": skew}
    return matrix, params
