"""Compositing: the one place where I = αF + (1 − α)B is written, the BGMv2 shadow, and DIM's
fit of a background behind a foreground (`cover_crop`).

Every dataset, sample generator, test set, augmentation, method panel and the inference
runner's background replacement composites through `composite`, so a change of convention
(premultiplied foregrounds, linear light) happens here once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

import cv2
import numpy as np
from kornia.filters import box_blur
from torch import Tensor

Image = TypeVar("Image", Tensor, np.ndarray)


def composite(fgr: Image, pha: Image, bgr: Image) -> Image:
    """`pha * fgr + (1 - pha) * bgr` for float images in [0, 1] (tensors or arrays).

    `pha` has one channel and broadcasts over the colour channels (NCHW tensors: N,1,H,W).

    >>> import torch
    >>> fgr, bgr = torch.ones(1, 3, 2, 2), torch.zeros(1, 3, 2, 2)
    >>> composite(fgr, torch.full((1, 1, 2, 2), 0.25), bgr)[0, :, 0, 0]
    tensor([0.2500, 0.2500, 0.2500])
    """
    return pha * fgr + (1 - pha) * bgr


def cast_shadow(bgr: Tensor, shadow: Tensor, blur: int) -> Tensor:
    """Darken `bgr` by a box-blurred shadow matte (N,1,H,W in [0, 1]), as `train_base.py` does.

    BGMv2 subtracts `box_blur(affine(pha) * strength)` from the plate behind the person, so the
    network learns that a shadow is background (specs/bgmv2.md §2.5, step 3).
    """
    shadow = box_blur(shadow, (blur, blur), border_type="reflect")
    return (bgr - shadow).clamp(0, 1)


def cover_crop(bgr: np.ndarray, size: Sequence[int]) -> np.ndarray:
    """DIM's background fit: upscale (bicubic) until it covers `size` (h, w), crop top-left."""
    h, w = int(size[0]), int(size[1])
    bh, bw = bgr.shape[:2]
    ratio = max(w / bw, h / bh)
    if ratio > 1:
        new = (int(np.ceil(bw * ratio)), int(np.ceil(bh * ratio)))
        bgr = cv2.resize(bgr, new, interpolation=cv2.INTER_CUBIC)
    return np.ascontiguousarray(bgr[:h, :w])
