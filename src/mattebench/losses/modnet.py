"""MODNet's supervised loss, as `supervised_training_iter` in ZHKKKe/MODNet `src/trainer.py`
(specs/modnet.md §2.1): semantic MSE at 1/16 (x10), detail L1 in the trimap's unknown band
(x10), matte L1 + compositional terms with the unknown band weighted 4x (x1)."""

from __future__ import annotations

from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage
from torch import Tensor


@lru_cache(maxsize=1)
def _blur_kernel() -> np.ndarray:
    """`GaussianBlurLayer(1, 3)`: sigma 0.3*((3-1)*0.5-1)+0.8 = 0.8, the kernel being
    `scipy.ndimage.gaussian_filter` of a 3x3 delta, as the official layer builds it."""
    delta = np.zeros((3, 3))
    delta[1, 1] = 1
    return ndimage.gaussian_filter(delta, 0.3 * ((3 - 1) * 0.5 - 1) + 0.8)


def blur(x: Tensor) -> Tensor:
    """Reflection-padded 3x3 Gaussian blur (a fixed kernel; the official layer's weights get
    gradients but are never optimised)."""
    kernel = torch.as_tensor(_blur_kernel(), dtype=x.dtype, device=x.device)
    return F.conv2d(F.pad(x, (1, 1, 1, 1), mode="reflect"), kernel.view(1, 1, 3, 3))


def semantic_target(gt_matte: Tensor) -> Tensor:
    """The 1/16 target: bilinear x1/16 without antialiasing (the centre 2x2 of each 16x16
    block), then blurred."""
    return blur(F.interpolate(gt_matte, scale_factor=1 / 16, mode="bilinear"))


def supervised_loss(
    pred_semantic: Tensor,
    pred_detail: Tensor,
    pred_matte: Tensor,
    image: Tensor,
    trimap: Tensor,
    gt_matte: Tensor,
    semantic_scale: float = 10.0,
    detail_scale: float = 10.0,
    matte_scale: float = 1.0,
) -> dict[str, Tensor]:
    """`image` is the network input normalised to [-1, 1]; `trimap` in {0, 0.5, 1}."""
    known = (trimap < 0.5) | (trimap > 0.5)  # the official `boundaries` mask marks KNOWN pixels
    semantic = semantic_scale * F.mse_loss(pred_semantic, semantic_target(gt_matte))
    detail = detail_scale * F.l1_loss(
        torch.where(known, trimap, pred_detail), torch.where(known, trimap, gt_matte)
    )
    band_matte = torch.where(known, trimap, pred_matte)
    l1 = F.l1_loss(pred_matte, gt_matte) + 4.0 * F.l1_loss(band_matte, gt_matte)
    compositional = F.l1_loss(image * pred_matte, image * gt_matte) + 4.0 * F.l1_loss(
        image * band_matte, image * gt_matte
    )
    matte = matte_scale * (l1 + compositional)
    return {
        "loss": semantic + detail + matte,
        "semantic": semantic,
        "detail": detail,
        "matte": matte,
    }
