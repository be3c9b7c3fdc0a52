"""BGMv2's per-batch augmentation on the training device (kornia): crop, shadow, composite,
noise, plate jitter and misalignment.

`BatchAugment` is the body of `train_base.py` / `train_refine.py` between the transfer to the GPU
and the forward pass (specs/bgmv2.md §2.5). Defaults are the official values (base model:
256–511 px crops of 512² samples); every probability and range is a constructor argument so
Hydra configs can set the refine stage (crops to a multiple of 4) or another method's recipe.
Randomness comes only from the generators owned here, so a run is reproducible from its seed.
The per-sample work in the workers is in `sample_augment` (albumentations pipelines).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import torch
import torch.nn.functional as F
from kornia.enhance import adjust_brightness, adjust_contrast, adjust_hue, adjust_saturation
from kornia.geometry.transform import warp_affine
from torch import Tensor, nn

from mattebench.data.compose import cast_shadow, composite
from mattebench.data.geometry import Range, affine_matrix
from mattebench.data.lighting import LightingAugment
from mattebench.testsets.plate import PlatePerturbation

#: Batch keys holding labels (resized with nearest, never blended).
LABEL_KEYS = ("trimap", "mask")


class AffineRange(NamedTuple):
    """The ranges of a torchvision `RandomAffine` (degrees; fractions of the size; x-shear)."""

    degrees: Range
    translate: Range
    scale: Range = (1.0, 1.0)
    shear: Range = (0.0, 0.0)


class BatchAugment(nn.Module):
    """BGMv2's per-batch augmentation on the training device: crop, shadow, composite, noise,
    background jitter and misalignment, in `train_base.py`'s order (specs/bgmv2.md §2.5).

    Not in BGMv2: with `lighting_p > 0`, point/line lights (`LightingAugment`, configured by the
    `lighting` keyword arguments) are added to the composite right after compositing, before the
    sensor noise; the default 0 leaves BGMv2's augmentation and its random stream unchanged.

    Not in BGMv2 either: with `plate` (a `PlatePerturbation` or its keyword arguments), the
    plate is finally perturbed as the test protocol perturbs it (`testsets.plate`, one rule for
    both), so a short run meets that perturbation in training; None (default) leaves it out.

    Takes a batch dict with `fgr`, `alpha`, `bgr` (N,C,S,S floats) and returns it cropped, with
    `image` (the composite) added and `bgr` perturbed. One crop size per batch, in
    [crop_scale[0]·S, crop_scale[1]·S) rounded down to `crop_multiple` (base: 256..511 of 512;
    refine: 1024..2047 of 2048, multiple 4). Scalar draws use a CPU generator, noise a generator
    on the batch's device, both seeded by `manual_seed` (the datamodule seeds per rank).
    """

    def __init__(
        self,
        crop_scale: Range = (0.5, 1.0),
        crop_multiple: int = 1,
        shadow_p: float = 0.3,
        shadow_strength: float = 0.3,
        shadow_degrees: Range = (-5.0, 5.0),
        shadow_translate: Range = (0.2, 0.2),
        shadow_scale: Range = (0.5, 1.5),
        shadow_shear: Range = (-5.0, 5.0),
        shadow_blur: tuple[int, int] = (20, 40),
        noise_p: float = 0.4,
        noise_std: float = 0.03,
        jitter_p: float = 0.8,
        jitter: Sequence[float] = (0.18, 0.18, 0.18, 0.1),
        misalign_p: float = 0.3,
        misalign_degrees: Range = (-1.0, 1.0),
        misalign_translate: Range = (0.01, 0.01),
        lighting_p: float = 0.0,
        lighting: Mapping | None = None,
        plate: PlatePerturbation | Mapping | None = None,
        seed: int = 0,
    ) -> None:
        super().__init__()
        self.crop_scale, self.crop_multiple = tuple(crop_scale), crop_multiple
        self.shadow_p, self.shadow_strength = shadow_p, shadow_strength
        self.shadow_affine = AffineRange(
            tuple(shadow_degrees), tuple(shadow_translate), tuple(shadow_scale), tuple(shadow_shear)
        )
        self.shadow_blur = tuple(shadow_blur)
        self.noise_p, self.noise_std = noise_p, noise_std
        self.jitter_p, self.jitter = jitter_p, tuple(jitter)
        self.misalign_p = misalign_p
        self.misalign_affine = AffineRange(tuple(misalign_degrees), tuple(misalign_translate))
        self.lighting = LightingAugment(p=lighting_p, **(lighting or {}))
        self.plate = PlatePerturbation(**plate) if isinstance(plate, Mapping) else plate
        self.manual_seed(seed)

    def manual_seed(self, seed: int) -> BatchAugment:
        self.seed = seed
        self.generator = torch.Generator().manual_seed(seed)
        self._device_generators: dict[torch.device, torch.Generator] = {}
        return self

    def __getstate__(self) -> dict:
        """The generator travels as its state's bytes: `ddp_spawn` sends the datamodule to its
        ranks with torch's shared-memory pickler, which cannot share a generator's state."""
        return {
            **self.__dict__,
            "generator": bytes(self.generator.get_state().numpy()),
            "_device_generators": {},
        }

    def __setstate__(self, state: dict) -> None:
        generator = torch.Generator()
        generator.set_state(torch.frombuffer(bytearray(state["generator"]), dtype=torch.uint8))
        super().__setstate__({**state, "generator": generator})

    def forward(self, batch: dict) -> dict:
        batch = self.crop(dict(batch))
        fgr, pha, bgr = batch["fgr"], batch["alpha"], batch["bgr"]
        src = self.shadow(bgr, pha)
        src = composite(fgr, pha, src)
        src = self.lighting(src, self.generator)  # p = 0 (default): untouched, no draws
        noisy = self._select(self.noise_p, len(src), src.device)  # same samples for both
        src, bgr = self.noise(src, noisy), self.noise(bgr, noisy)
        bgr = self.color_jitter(bgr)
        bgr = self.misalign(bgr)
        if self.plate is not None:
            bgr = self.plate.batch(bgr, self.generator)
        return {**batch, "image": src, "bgr": bgr}

    def crop(self, batch: dict) -> dict:
        """One random (h, w) per batch: resize S² to max(h, w)², centre-crop (`random_crop`)."""
        size = batch["alpha"].shape[-1]
        lo, hi = int(self.crop_scale[0] * size), int(self.crop_scale[1] * size)
        m = self.crop_multiple
        h, w = (self._randint(lo, max(hi, lo + 1)) // m * m for _ in range(2))
        side = max(h, w)
        top, left = (side - h) // 2, (side - w) // 2
        for key, value in batch.items():
            if not (isinstance(value, Tensor) and value.ndim == 4):
                continue
            if side != size and key in LABEL_KEYS:
                value = F.interpolate(value, (side, side), mode="nearest")
            elif side != size:
                value = F.interpolate(value, (side, side), mode="bilinear", align_corners=False)
            batch[key] = value[..., top : top + h, left : left + w]
        return batch

    def shadow(self, bgr: Tensor, pha: Tensor) -> Tensor:
        """The plate behind the composite, darkened by a moved, blurred copy of the matte."""
        src = bgr.clone()
        chosen = self._select(self.shadow_p, len(bgr), bgr.device)
        if chosen.any():
            strength = self.shadow_strength * self._rand()
            shadow = self._warp(pha[chosen] * strength, self.shadow_affine)
            blur = self._randint(*self.shadow_blur)
            src[chosen] = cast_shadow(src[chosen], shadow, blur)
        return src

    def noise(self, image: Tensor, chosen: Tensor) -> Tensor:
        """Gaussian noise with one std in [0, noise_std) for the chosen samples, clamped."""
        if not chosen.any():
            return image
        image = image.clone()
        std = self.noise_std * self._rand()
        noise = torch.randn(
            image[chosen].shape,
            generator=self._device_generator(image.device),
            device=image.device,
            dtype=image.dtype,
        )
        image[chosen] = (image[chosen] + noise * std).clamp(0, 1)
        return image

    def color_jitter(self, bgr: Tensor) -> Tensor:
        """kornia 0.4.1 `ColorJitter` semantics as BGMv2 used it (specs/bgmv2.md §2.5 step 6).

        Per-sample factors; brightness additive (factor − 1), contrast multiplicative, HSV
        saturation, hue shift in turns × 2π; one random order per call. kornia ≥ 0.7's
        `ColorJitter` switched to torchvision's formulas, so the ops are composed here from
        `kornia.enhance`, with this module's generator.
        """
        chosen = self._select(self.jitter_p, len(bgr), bgr.device)
        if not chosen.any():
            return bgr
        b, c, s, h = self.jitter
        n = int(chosen.sum())
        ops = {
            0: lambda x: adjust_brightness(x, self._factors(n, -b, b, x)),
            1: lambda x: adjust_contrast(x, self._factors(n, 1 - c, 1 + c, x)),
            2: lambda x: adjust_saturation(x, self._factors(n, 1 - s, 1 + s, x)).clamp(0, 1),
            3: lambda x: adjust_hue(x, self._factors(n, -h, h, x) * 2 * math.pi).clamp(0, 1),
        }
        x = bgr[chosen]
        for op in torch.randperm(4, generator=self.generator).tolist():
            x = ops[op](x)
        bgr = bgr.clone()
        bgr[chosen] = x
        return bgr

    def misalign(self, bgr: Tensor) -> Tensor:
        """A small rotation and integer shift of the plate alone (nearest, zero fill)."""
        chosen = self._select(self.misalign_p, len(bgr), bgr.device)
        if not chosen.any():
            return bgr
        bgr = bgr.clone()
        bgr[chosen] = self._warp(bgr[chosen], self.misalign_affine)
        return bgr

    def _warp(self, images: Tensor, affine: AffineRange) -> Tensor:
        """torchvision `RandomAffine` with one parameter set for all `images`, nearest, fill 0."""
        degrees, translate, scale, shear = affine
        h, w = images.shape[-2:]
        dx, dy = translate[0] * w, translate[1] * h
        centre = ((w - 1) / 2, (h - 1) / 2)
        matrix = affine_matrix(
            centre,
            centre,
            angle=self._uniform_scalar(*degrees),
            translate=(round(self._uniform_scalar(-dx, dx)), round(self._uniform_scalar(-dy, dy))),
            scale=self._uniform_scalar(*scale),
            shear=self._uniform_scalar(*shear),
        )
        matrix = torch.as_tensor(matrix, dtype=images.dtype, device=images.device)
        matrix = matrix[None].expand(len(images), 2, 3)
        return warp_affine(images, matrix, (h, w), mode="nearest", padding_mode="zeros")

    # --- randomness: scalars from the CPU generator, tensors on the batch's device ---

    def _rand(self) -> float:
        return float(torch.rand((), generator=self.generator))

    def _uniform_scalar(self, lo: float, hi: float) -> float:
        return lo + (hi - lo) * self._rand()

    def _randint(self, lo: int, hi: int) -> int:
        return int(torch.randint(lo, hi, (), generator=self.generator))

    def _select(self, p: float, n: int, device: torch.device) -> Tensor:
        return (torch.rand(n, generator=self.generator) < p).to(device)

    def _factors(self, n: int, lo: float, hi: float, like: Tensor) -> Tensor:
        values = lo + (hi - lo) * torch.rand(n, generator=self.generator)
        return values.to(device=like.device, dtype=like.dtype)

    def _device_generator(self, device: torch.device) -> torch.Generator:
        if device not in self._device_generators:
            generator = torch.Generator(device).manual_seed(self.seed)
            self._device_generators[device] = generator
        return self._device_generators[device]
