"""The BGMv2 augmentations: per sample on the CPU (workers), per batch on the training device.

`PerSampleAugment` is BGMv2's `dataset/augmentation.py` with the transform lists of
`train_base.py` / `train_refine.py` (specs/bgmv2.md §2.4); `BatchAugment` is the body of their
training loops between the transfer to the GPU and the forward pass (§2.5). Defaults are the
official values (base model: 512² samples, 256–511 px crops); every probability and range is a
constructor argument so Hydra configs can set the refine stage (2048², scale (0.3, 1), crops to a
multiple of 4) or another method's recipe. Randomness comes only from the generators passed in or
owned here, so a run is reproducible from its seed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from kornia.enhance import adjust_brightness, adjust_contrast, adjust_hue, adjust_saturation
from kornia.geometry.transform import warp_affine
from torch import Tensor, nn

from mattebench.data.compose import cast_shadow, composite
from mattebench.data.lighting import LightingAugment

Range = tuple[float, float]
#: Batch keys holding labels (resized with nearest, never blended).
LABEL_KEYS = ("trimap", "mask")


class AffineRange(NamedTuple):
    """The ranges of a torchvision `RandomAffine` (degrees; fractions of the size; x-shear)."""

    degrees: Range
    translate: Range
    scale: Range = (1.0, 1.0)
    shear: Range = (0.0, 0.0)


#: PIL's `ImageFilter.SHARPEN`, which BGMv2's `RandomSharpen` applies.
_SHARPEN = np.array([[-2, -2, -2], [-2, 32, -2], [-2, -2, -2]], np.float32) / 16
#: Luma weights of torchvision's `rgb_to_grayscale` (ColorJitter's contrast and saturation).
_LUMA = np.array([0.2989, 0.587, 0.114], np.float32)


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


def random_affine(
    rng: np.random.Generator,
    shape: tuple[int, int],
    size: int,
    degrees: Range,
    translate: Range,
    scale: Range,
    shear: Range,
) -> np.ndarray:
    """BGMv2's `PairRandomAffineAndResize` as one matrix from an (h, w) image to a `size`² crop.

    The official transform resizes by `max(size/w, size/h)` (so the crop is covered at scale 1),
    zero-pads, applies `RandomAffine` with translate and scale multiplied by that factor, and
    centre-crops; composed, that is an affine about the image centre onto the crop centre, which
    one `warpAffine` does without the padded full-size intermediate.
    """
    h, w = shape
    factor = max(size / w, size / h)
    max_dx, max_dy = translate[0] * factor * w, translate[1] * factor * h
    shift = (round(rng.uniform(-max_dx, max_dx)), round(rng.uniform(-max_dy, max_dy)))
    return affine_matrix(
        centre_in=((w - 1) / 2, (h - 1) / 2),
        centre_out=((size - 1) / 2, (size - 1) / 2),
        angle=rng.uniform(*degrees),
        translate=shift,
        scale=rng.uniform(*scale) * factor,
        shear=rng.uniform(*shear),
    )


def color_jitter(
    image: np.ndarray, rng: np.random.Generator, strength: Sequence[float]
) -> np.ndarray:
    """torchvision `ColorJitter(b, c, s, h)` on a float32 H,W,3 RGB image in [0, 1].

    Factors in [1 - x, 1 + x] (hue shift in [-h, h] turns), applied in a random order, with
    torchvision's formulas: brightness scales, contrast and saturation blend with the luma mean
    and the luma image, hue rotates the HSV hue.
    """
    b, c, s, h = strength
    for op in rng.permutation(4):
        if op == 0:
            image = image * rng.uniform(1 - b, 1 + b)
        elif op == 1:
            factor = rng.uniform(1 - c, 1 + c)
            image = image * factor + float((image @ _LUMA).mean()) * (1 - factor)
        elif op == 2:
            factor = rng.uniform(1 - s, 1 + s)
            image = image * factor + (image @ _LUMA)[..., None] * (1 - factor)
        else:
            hsv = cv2.cvtColor(np.clip(image, 0, 1, dtype=np.float32), cv2.COLOR_RGB2HSV)
            hsv[..., 0] = (hsv[..., 0] + 360 * rng.uniform(-h, h)) % 360
            image = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
        image = np.clip(image, 0, 1, dtype=np.float32)
    return image


class PerSampleAugment:
    """BGMv2's per-sample CPU augmentation, for one foreground (fgr, pha) and one background.

    Training (`train_base.py`): a shared random affine-and-resize to `size`² (fgr/pha scale
    `fgr_scale`, backgrounds `bgr_scale`), horizontal flip, box blur (p `blur_p`, radius
    0..`blur_radius`) and sharpen (p `sharpen_p`) — on fgr and pha together, as the official
    `PairRandomBoxBlur`/`PairRandomSharpen` do — and colour jitter on fgr only; the background
    gets its own draw of each. Validation: the affine only, with `val_fgr_scale`/`val_bgr_scale`.

    Geometry is shared by construction: fgr and pha are warped with the same matrix and flipped
    together. Inputs are uint8 (H,W,3 RGB; H,W alpha), outputs float32 in [0, 1] at `size`².

    Natural photos with a label (`natural`: a COCO photo and its person mask) are not
    composited: they get the same kind of random affine, with `image_scale` (relative to the
    scale at which the image just covers the `size`² crop, so >= 1 keeps the crop inside the
    photo up to the rotation and shift), a shared horizontal flip, and colour jitter on the
    photo only (no blur or sharpen: they would smear the label's edges).
    """

    def __init__(
        self,
        fgr_scale: Range = (0.4, 1.0),
        bgr_scale: Range = (1.0, 2.0),
        val_fgr_scale: Range = (0.3, 1.0),
        val_bgr_scale: Range = (1.0, 1.2),
        degrees: Range = (-5.0, 5.0),
        translate: Range = (0.1, 0.1),
        shear: Range = (-5.0, 5.0),
        flip_p: float = 0.5,
        blur_p: float = 0.1,
        blur_radius: int = 5,
        sharpen_p: float = 0.1,
        jitter: Sequence[float] = (0.15, 0.15, 0.15, 0.05),
        image_scale: Range = (1.0, 1.5),
    ) -> None:
        self.fgr_scale, self.bgr_scale = tuple(fgr_scale), tuple(bgr_scale)
        self.image_scale = tuple(image_scale)
        self.val_fgr_scale, self.val_bgr_scale = tuple(val_fgr_scale), tuple(val_bgr_scale)
        self.degrees, self.translate, self.shear = tuple(degrees), tuple(translate), tuple(shear)
        self.flip_p, self.blur_p, self.blur_radius = flip_p, blur_p, blur_radius
        self.sharpen_p, self.jitter = sharpen_p, tuple(jitter)

    def __call__(
        self,
        fgr: np.ndarray,
        pha: np.ndarray,
        bgr: np.ndarray,
        size: int,
        rng: np.random.Generator,
        train: bool = True,
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(fgr H,W,3, pha H,W, bgr H,W,3) float32 at `size`²."""
        fgr, pha = self.foreground(fgr, pha, size, rng, train)
        return fgr, pha, self.background(bgr, size, rng, train)

    def foreground(
        self, fgr: np.ndarray, pha: np.ndarray, size: int, rng: np.random.Generator, train=True
    ) -> tuple[np.ndarray, np.ndarray]:
        scale = self.fgr_scale if train else self.val_fgr_scale
        matrix = self._affine(pha.shape[:2], size, scale, rng)
        fgr, pha = _warp(fgr, matrix, size), _warp(pha, matrix, size)
        if train:
            fgr, pha = self._filters(rng, fgr, pha)
            fgr = color_jitter(fgr, rng, self.jitter)
        return fgr, pha

    def natural(
        self, image: np.ndarray, pha: np.ndarray, size: int, rng: np.random.Generator, train=True
    ) -> tuple[np.ndarray, np.ndarray]:
        """(image H,W,3, pha H,W) float32 at `size`²: a photo and its label, one geometry."""
        scale = self.image_scale if train else (1.0, 1.0)
        matrix = self._affine(pha.shape[:2], size, scale, rng)
        image, pha = _warp(image, matrix, size), _warp(pha, matrix, size)
        if train:
            if rng.random() < self.flip_p:
                image, pha = (np.ascontiguousarray(x[:, ::-1]) for x in (image, pha))
            image = color_jitter(image, rng, self.jitter)
        return image, pha

    def background(
        self, bgr: np.ndarray, size: int, rng: np.random.Generator, train=True
    ) -> np.ndarray:
        scale = self.bgr_scale if train else self.val_bgr_scale
        bgr = _warp(bgr, self._affine(bgr.shape[:2], size, scale, rng), size)
        if train:
            (bgr,) = self._filters(rng, bgr)
            bgr = color_jitter(bgr, rng, self.jitter)
        return bgr

    def _affine(self, shape: tuple[int, int], size: int, scale: Range, rng) -> np.ndarray:
        return random_affine(rng, shape, size, self.degrees, self.translate, scale, self.shear)

    def _filters(self, rng: np.random.Generator, *images: np.ndarray) -> list[np.ndarray]:
        """Flip, box blur, sharpen: one draw each, applied to all `images` alike."""
        out = list(images)
        if rng.random() < self.flip_p:
            out = [np.ascontiguousarray(x[:, ::-1]) for x in out]
        if rng.random() < self.blur_p:
            k = 2 * int(rng.integers(0, self.blur_radius + 1)) + 1  # PIL BoxBlur(r): (2r+1)²
            out = [cv2.blur(x, (k, k), borderType=cv2.BORDER_REPLICATE) for x in out]
        if rng.random() < self.sharpen_p:
            out = [
                np.clip(cv2.filter2D(x, -1, _SHARPEN, borderType=cv2.BORDER_REPLICATE), 0, 1)
                for x in out
            ]
        return out


def _warp(image: np.ndarray, matrix: np.ndarray, size: int) -> np.ndarray:
    """uint8 or float image -> float32 in [0, 1], bilinear, zero outside (BGMv2's fill 0)."""
    out = cv2.warpAffine(image, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=0)
    return out.astype(np.float32) / 255 if image.dtype == np.uint8 else out


class BatchAugment(nn.Module):
    """BGMv2's per-batch augmentation on the training device: crop, shadow, composite, noise,
    background jitter and misalignment, in `train_base.py`'s order (specs/bgmv2.md §2.5).

    Not in BGMv2: with `lighting_p > 0`, point/line lights (`LightingAugment`, configured by the
    `lighting` keyword arguments) are added to the composite right after compositing, before the
    sensor noise; the default 0 leaves BGMv2's augmentation and its random stream unchanged.

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


class RescaleCrop:
    """MODNet's per-sample geometry: random rescale, then a random `size`² crop (specs/modnet.md
    §2.2: "fg randomly rescaled to 384–768, then cropped to 512").

    The spec does not say which side is rescaled nor how a crop larger than the image is filled,
    so this rescales the shorter side to a length uniform in [scale[0]·size, scale[1]·size]
    (default [size, 1.5·size], which always covers the crop; a lower bound below 1 pads with
    zeros, bottom/right) and cuts one random `size`×`size` window. Every array passed is
    transformed with the same geometry; `LABEL_KEYS` (trimap, mask) are resized with nearest,
    the rest bilinearly. Arrays are H,W or H,W,C of one (H, W); dtypes are kept.

    >>> crop = RescaleCrop(64)
    >>> out = crop(np.random.default_rng(0), image=np.zeros((90, 120, 3), np.float32))
    >>> out["image"].shape
    (64, 64, 3)
    """

    def __init__(self, size: int = 512, scale: Range = (1.0, 1.5)) -> None:
        self.size, self.scale = size, tuple(scale)

    def params(self, shape: tuple[int, int], rng: np.random.Generator) -> tuple[int, int, int, int]:
        """(new_h, new_w, top, left) for an image of `shape`."""
        h, w = shape
        short = rng.uniform(self.scale[0] * self.size, self.scale[1] * self.size)
        factor = short / min(h, w)
        new_h, new_w = max(1, round(h * factor)), max(1, round(w * factor))
        top = int(rng.integers(0, max(new_h - self.size, 0) + 1))
        left = int(rng.integers(0, max(new_w - self.size, 0) + 1))
        return new_h, new_w, top, left

    def __call__(self, rng: np.random.Generator, **arrays: np.ndarray) -> dict[str, np.ndarray]:
        shapes = {a.shape[:2] for a in arrays.values()}
        if len(shapes) != 1:
            raise ValueError(f"RescaleCrop needs arrays of one size, got {sorted(shapes)}")
        new_h, new_w, top, left = self.params(shapes.pop(), rng)
        out = {}
        for key, array in arrays.items():
            flag = cv2.INTER_NEAREST if key in LABEL_KEYS else cv2.INTER_LINEAR
            resized = cv2.resize(array, (new_w, new_h), interpolation=flag)
            window = resized[top : top + self.size, left : left + self.size]
            if window.shape[:2] != (self.size, self.size):
                pad = [(0, self.size - window.shape[0]), (0, self.size - window.shape[1])]
                window = np.pad(window, pad + [(0, 0)] * (window.ndim - 2))
            out[key] = np.ascontiguousarray(window)
        return out
