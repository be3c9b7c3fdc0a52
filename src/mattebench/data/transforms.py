"""The few albumentations transforms that BGMv2's recipe needs and albumentations lacks.

Everything else in the per-sample pipelines is a stock albumentations transform (flip, colour
jitter, MODNet's rescale-and-crop). Hand-written here, and why:

- `AffineAndResize`: BGMv2 scales relative to the size at which the image just covers the
  `size`² crop, translates by a fraction of that covering size and outputs `size`² from any
  input size. albumentations can say it only as `SmallestMaxSize` + `Affine` + `CenterCrop`,
  three resamplings, the first of the full frame (and `Affine` shifts by sub-pixels where
  torchvision rounds); one `warpAffine` does the same in one resampling of the output pixels.
- `BoxBlur`: `A.Blur` draws odd kernels from 3 up; PIL's `BoxBlur(r)` that BGMv2 uses draws
  the radius 0..5 uniformly (radius 0 leaves the image as it is), and BGMv2 blurs the alpha
  with the foreground (`PairRandomBoxBlur`), which albumentations' image-only blur does not.
- `Sharpen`: `A.Sharpen` with alpha 1/8 and lightness 1 is PIL's `ImageFilter.SHARPEN` kernel;
  this subclass also applies it to masks, because BGMv2 sharpens the alpha too.

Masks (the alpha, the previous frame's alpha) are images in BGMv2 (bilinear, filtered): these
transforms treat them as such. `compose` builds a `Compose` from named transforms so that a
config can drop, add or swap one by name.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from typing import Any

import albumentations as A
import cv2
import numpy as np

from mattebench.data.geometry import Range, bgmv2_affine


def compose(transforms: Mapping[str, A.BasicTransform | None], **kwargs: Any) -> A.Compose:
    """An `albumentations.Compose` of `transforms` in their (config) order; a None entry is left
    out, so a command line or an experiment file can remove (`...transforms.blur=null`), add
    or replace one transform by name. `kwargs` go to `Compose` (e.g. `additional_targets`)."""
    chosen = [t for t in transforms.values() if t is not None]
    return A.Compose(chosen, **kwargs)


class AffineAndResize(A.DualTransform):
    """BGMv2's `(Pair)RandomAffineAndResize((size, size), degrees, translate, scale, shear)`.

    Bilinear on images and masks alike (BGMv2 warps the alpha as an image), zero fill. The
    parameters of the last draw are in `params["affine"]` (angle, dx, dy, scale, shear), for
    the distribution tests.
    """

    def __init__(
        self,
        size: int,
        degrees: Range = (-5.0, 5.0),
        translate: Range = (0.1, 0.1),
        scale: Range = (0.4, 1.0),
        shear: Range = (-5.0, 5.0),
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.size = size
        self.degrees, self.translate = tuple(degrees), tuple(translate)
        self.scale, self.shear = tuple(scale), tuple(shear)

    @property
    def min_source_side(self) -> int:
        """The shortest side a source image needs for this transform never to enlarge it: an
        image with a shorter side of at least this can be decoded at a reduced size."""
        return math.ceil(self.size * self.scale[1])

    def get_params_dependent_on_data(self, params: dict, data: dict) -> dict[str, Any]:
        matrix, affine = bgmv2_affine(
            self.py_random,
            params["shape"][:2],
            self.size,
            self.degrees,
            self.translate,
            self.scale,
            self.shear,
        )
        return {"matrix": matrix, "affine": affine}

    def apply(self, img: np.ndarray, matrix: np.ndarray, **params: Any) -> np.ndarray:
        size = (self.size, self.size)
        return cv2.warpAffine(img, matrix, size, flags=cv2.INTER_LINEAR, borderValue=0)

    def apply_to_mask(self, mask: np.ndarray, matrix: np.ndarray, **params: Any) -> np.ndarray:
        return self.apply(mask, matrix)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("size", "degrees", "translate", "scale", "shear")


class BoxBlur(A.DualTransform):
    """PIL's `ImageFilter.BoxBlur(r)`, r uniform in 0..`max_radius`, on images and masks alike
    (BGMv2's `PairRandomBoxBlur(p, max_radius)`): a (2r+1)² mean, edges extended."""

    def __init__(self, max_radius: int = 5, p: float = 0.1) -> None:
        super().__init__(p=p)
        self.max_radius = max_radius

    def get_params(self) -> dict[str, Any]:
        return {"radius": self.py_random.randint(0, self.max_radius)}

    def apply(self, img: np.ndarray, radius: int, **params: Any) -> np.ndarray:
        if radius == 0:
            return img
        k = 2 * radius + 1
        return cv2.blur(img, (k, k), borderType=cv2.BORDER_REPLICATE)

    def apply_to_mask(self, mask: np.ndarray, radius: int, **params: Any) -> np.ndarray:
        return self.apply(mask, radius)

    def get_transform_init_args_names(self) -> tuple[str, ...]:
        return ("max_radius",)


class Sharpen(A.Sharpen):
    """`A.Sharpen` defaulting to PIL's `ImageFilter.SHARPEN` (alpha 1/8, lightness 1: centre 2,
    neighbours −1/8) and applied to masks too, as BGMv2's `PairRandomSharpen(p)` does."""

    def __init__(
        self, alpha: Range = (0.125, 0.125), lightness: Range = (1.0, 1.0), p: float = 0.1
    ) -> None:
        super().__init__(alpha=alpha, lightness=lightness, p=p)

    @property
    def targets(self) -> dict[str, Any]:
        return {**super().targets, "mask": self.apply}


def seed_pipeline(pipeline: A.BaseCompose, seed: int) -> None:
    """Give every transform of `pipeline` one shared random stream seeded by `seed`.

    `Compose.set_random_seed` seeds each transform with the same seed, so their first draws
    coincide (a flip at p 0.5 would always come with a blur at p 0.1); one shared generator
    keeps the draws independent and the whole pipeline reproducible from one number.
    """
    pipeline.set_random_state(np.random.default_rng(seed), random.Random(seed))
