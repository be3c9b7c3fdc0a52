"""Per-sample augmentation in the DataLoader workers: albumentations pipelines.

`PerSampleAugment` holds one `albumentations.Compose` per job: the foreground (`image` = the
colour, `mask` = the alpha, `prev_pha` = the previous frame's alpha, all with one geometry),
the background plate (its own draws), and natural photos with a label (COCO person). All are
training pipelines: validation and test read built test sets (`mattebench.testsets`). The data
configs declare them with `_target_`s (`conf/data/sample_augment/`), so a command line or an
experiment file can add, drop, reorder or swap a transform; `bgmv2_augment` builds the same
BGMv2 recipe in Python for code that runs without Hydra (tests, benchmarks, a datamodule built
by hand).

Images go in and through the pipelines as uint8, as in BGMv2's PIL pipeline (the colour
jitter then runs on lookup tables), and come out float32 in [0, 1]. The randomness of every
call comes from the caller's generator: one number drawn from it seeds the pipeline, so a
sample is reproducible from the dataset's seed and a replayed generator replays the geometry.
"""

from __future__ import annotations

from collections.abc import Sequence

import albumentations as A
import numpy as np

from mattebench.data.geometry import Range
from mattebench.data.transforms import AffineAndResize, BoxBlur, Sharpen, compose, seed_pipeline

#: The foreground pipelines' extra targets: the previous frame's alpha follows the alpha.
FOREGROUND_TARGETS = {"prev_pha": "mask"}


class PerSampleAugment:
    """Foreground, background and natural-photo pipelines; float32 [0, 1] outputs at `size`².

    Args:
        foreground: training pipeline for (image = fgr, mask = pha[, prev_pha]).
        background: training pipeline for the plate (image).
        natural: training pipeline for a photo (image) and its label (mask); None if unused.
    """

    def __init__(
        self,
        foreground: A.Compose,
        background: A.Compose,
        natural: A.Compose | None = None,
    ) -> None:
        self.pipelines = {"foreground": foreground, "background": background, "natural": natural}

    def __call__(
        self,
        fgr: np.ndarray,
        pha: np.ndarray,
        bgr: np.ndarray,
        size: int,
        rng: np.random.Generator,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(fgr H,W,3, pha H,W, bgr H,W,3) float32 at `size`²."""
        fgr, pha = self.foreground(fgr, pha, size, rng)
        return fgr, pha, self.background(bgr, size, rng)

    def foreground(
        self, fgr: np.ndarray, pha: np.ndarray, size: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        out = self._run("foreground", size, rng, image=fgr, mask=pha)
        return out["image"], out["mask"]

    def background(self, bgr: np.ndarray, size: int, rng: np.random.Generator) -> np.ndarray:
        return self._run("background", size, rng, image=bgr)["image"]

    def natural(
        self, image: np.ndarray, pha: np.ndarray, size: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        """(image H,W,3, pha H,W) float32 at `size`²: a photo and its label, one geometry."""
        out = self._run("natural", size, rng, image=image, mask=pha)
        return out["image"], out["mask"]

    def min_source_side(self, job: str) -> int | None:
        """The shortest side the `job` pipeline needs from a source image (a larger image can be
        decoded at a reduced size); None when its geometry does not say."""
        pipeline = self.pipelines.get(job)
        first = pipeline.transforms[0] if pipeline is not None and pipeline.transforms else None
        return getattr(first, "min_source_side", None)

    def _run(self, job: str, size: int, rng: np.random.Generator, **data) -> dict:
        pipeline = self.pipelines[job]
        if pipeline is None:
            raise ValueError(
                f"this augmentation has no {job} pipeline; set data.sample_augment.{job} "
                "(see conf/data/sample_augment/)"
            )
        seed_pipeline(pipeline, int(rng.integers(2**63)))
        out, result = pipeline(**data), {}
        for name in data:
            value = out[name]
            if value.shape[:2] != (size, size):
                raise ValueError(
                    f"the {job} pipeline made a {name} of {value.shape[1]}x{value.shape[0]}, "
                    f"the dataset wants {size}x{size}: give its size-setting transforms "
                    "size: ${data.size}"
                )
            result[name] = _unit_float(value)
        return result


def _unit_float(image: np.ndarray) -> np.ndarray:
    if image.dtype == np.uint8:  # one pass: the cast happens inside the multiplication
        return np.multiply(image, np.float32(1 / 255), dtype=np.float32)
    return np.clip(image, 0, 1).astype(np.float32, copy=False)


def bgmv2_augment(
    size: int = 512,
    fgr_scale: Range = (0.4, 1.0),
    bgr_scale: Range = (1.0, 2.0),
    degrees: Range = (-5.0, 5.0),
    translate: Range = (0.1, 0.1),
    shear: Range = (-5.0, 5.0),
    flip_p: float = 0.5,
    blur_p: float = 0.1,
    blur_radius: int = 5,
    sharpen_p: float = 0.1,
    jitter: Sequence[float] = (0.15, 0.15, 0.15, 0.05),
    image_scale: Range = (1.0, 1.5),
) -> PerSampleAugment:
    """BGMv2's per-sample recipe (`train_base.py`, specs/bgmv2.md §2.4) at `size`²; the same
    pipelines as `conf/data/sample_augment/` declares (a test checks they agree).

    Training: affine-and-resize (fgr/pha `fgr_scale`, plate `bgr_scale`), flip, box blur and
    sharpen (on fgr and pha together), colour jitter on the colour only; the plate gets its own
    draw of each. Natural photos: the affine with `image_scale` (>= 1 keeps the crop inside the
    photo), a shared flip and the jitter on the photo (no blur or sharpen: they would smear the
    label's edges).
    """

    def affine(scale: Range) -> AffineAndResize:
        return AffineAndResize(size, degrees, translate, scale, shear)

    def filters() -> dict[str, A.BasicTransform]:
        return {
            "flip": A.HorizontalFlip(p=flip_p),
            "blur": BoxBlur(blur_radius, p=blur_p),
            "sharpen": Sharpen(p=sharpen_p),
            "jitter": color_jitter(jitter),
        }

    return PerSampleAugment(
        foreground=compose(
            {"geometry": affine(fgr_scale), **filters()}, additional_targets=FOREGROUND_TARGETS
        ),
        background=compose({"geometry": affine(bgr_scale), **filters()}),
        natural=compose(
            {
                "geometry": affine(image_scale),
                "flip": A.HorizontalFlip(p=flip_p),
                "jitter": color_jitter(jitter),
            }
        ),
    )


def color_jitter(strength: Sequence[float]) -> A.ColorJitter:
    """torchvision's `ColorJitter(b, c, s, h)` (factors in 1 ± x, hue ± h, random order)."""
    b, c, s, h = strength
    return A.ColorJitter(brightness=b, contrast=c, saturation=s, hue=h, p=1.0)
