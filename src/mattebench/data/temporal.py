"""The previous frame's alpha as a model sees it (`prev_alpha` in the Batch contract).

A model that takes the previous alpha as a 4th input channel must not trust it blindly: at a
cut or on the first frame there is none, and after a bad frame it is wrong. The temporal MODNet
recipe (specs/modnet.md §5.1, the Huawei Cloud write-up) feeds **zeros when there is no
previous frame** (a clip's first frame: the caller passes zeros, see
`CompositionDataset._previous_frame_alpha`), and otherwise the previous frame's alpha, replaced
by zeros with probability `empty_p` = 0.3 (people entering or leaving) and affine-transformed
with probability `warp_p` (learn to discard a bad previous result; the write-up gives no
numbers, so the ranges are the Google "Mobile Real-time Video Segmentation" major-affine idea,
§5.1). Image sources have no frames at all: there the previous alpha is synthesised from the
current one by a minor affine (Google's "learn to propagate" case), then perturbed the same way.
The thin-plate-spline image warp of the Google recipe is not done here.

NumPy/OpenCV, per sample, in the DataLoader workers: the previous frame is read there, next to
the current one, and must go through the same per-sample geometry (affine, flip, crop) as the
alpha before it is perturbed; each sample makes its own empty/warp decision; a `warpAffine` of
one matte is cheap; and the result then rides through `BatchAugment.crop` like any other N,1,H,W
key. The per-sample generator (`np.random.Generator`) is the one the dataset already draws from,
so `seed` / `fixed_train` reproducibility carries over.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from mattebench.data.augment import affine_matrix

Range = tuple[float, float]


def random_warp(
    mask: np.ndarray,
    rng: np.random.Generator,
    degrees: Range = (-10.0, 10.0),
    translate: Range = (0.05, 0.05),
    scale: Range = (0.9, 1.1),
    shear: Range = (0.0, 0.0),
) -> np.ndarray:
    """`mask` (H,W float32) under a random affine about its centre, bilinear, zero outside.

    Rotation uniform in `degrees`, shift uniform in ±`translate` × (W, H) (sub-pixel), scale
    uniform in `scale`, x-shear uniform in `shear` degrees (torchvision `RandomAffine` ranges).
    """
    h, w = mask.shape[:2]
    centre = ((w - 1) / 2, (h - 1) / 2)
    dx, dy = translate[0] * w, translate[1] * h
    matrix = affine_matrix(
        centre,
        centre,
        angle=rng.uniform(*degrees),
        translate=(rng.uniform(-dx, dx), rng.uniform(-dy, dy)),
        scale=rng.uniform(*scale),
        shear=rng.uniform(*shear),
    )
    mask = np.asarray(mask, np.float32)
    return cv2.warpAffine(mask, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)


@dataclass
class PreviousAlpha:
    """Turns (alpha, previous frame's alpha or None) into the `prev_alpha` the model sees.

    Args:
        empty_p: probability of an empty (all-zero) previous alpha: first frame, a cut.
        warp_p: probability (when not empty) of a large random affine of the previous alpha,
            so the model learns to distrust a bad previous frame; ranges `warp_*`.
        synth_*: the small motion that turns the current alpha into a plausible previous one
            for image datasets (no previous frame), always applied there.

    Call with H,W float32 alphas in [0, 1] and the sample's generator: `prev` is the previous
    frame's alpha (zeros at a clip's first frame, which stay zeros) or None for a source
    without frames (synthesised); returns H,W float32.
    """

    empty_p: float = 0.3
    warp_p: float = 0.3
    warp_degrees: Range = (-15.0, 15.0)
    warp_translate: Range = (0.1, 0.1)
    warp_scale: Range = (0.8, 1.2)
    warp_shear: Range = (-5.0, 5.0)
    synth_degrees: Range = (-3.0, 3.0)
    synth_translate: Range = (0.02, 0.02)
    synth_scale: Range = (0.97, 1.03)

    def __call__(
        self, alpha: np.ndarray, prev: np.ndarray | None, rng: np.random.Generator
    ) -> np.ndarray:
        alpha = np.asarray(alpha, np.float32)
        # both draws are always made, so the stream does not depend on the outcomes
        empty, warp = rng.random() < self.empty_p, rng.random() < self.warp_p
        if empty:
            return np.zeros_like(alpha)
        prev = self.synthesise(alpha, rng) if prev is None else np.asarray(prev, np.float32)
        if warp:
            prev = random_warp(
                prev, rng, self.warp_degrees, self.warp_translate, self.warp_scale, self.warp_shear
            )
        return prev

    def synthesise(self, alpha: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A previous alpha for an image: the current one moved a little (minor affine)."""
        return random_warp(
            alpha, rng, self.synth_degrees, self.synth_translate, self.synth_scale, (0.0, 0.0)
        )
