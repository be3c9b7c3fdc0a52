"""MODNet's losses, as ZHKKKe/MODNet `src/trainer.py`.

- `supervised_loss` = `supervised_training_iter` (specs/modnet.md §2.1): semantic MSE at 1/16
  (x10), detail L1 in the trimap's unknown band (x10), matte L1 + compositional terms with the
  unknown band weighted 4x (x1).
- `soc_loss` = `soc_adaptation_iter` (§2.3): self-supervised sub-objectives consistency on
  unlabelled images, against the model's own predictions and a frozen backup copy.
"""

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


def soc_boundaries(pred_semantic: Tensor, pred_matte: Tensor) -> Tensor:
    """SOC's boundary mask: where the predicted foreground (matte > 0.1 times the bilinearly
    x16-upsampled semantic > 0.1) is not constant over a `side` x `side` window, side = 5 % of
    the mean image side. scipy's `grey_dilation - grey_erosion != 0` as max and min pools (the
    window's even-size origin and reflect borders give the same result, tested)."""
    h, w = pred_matte.shape[-2:]
    semantic_fg = F.interpolate((pred_semantic > 0.1).float(), scale_factor=16, mode="bilinear")
    fg = (pred_matte > 0.1).float() * semantic_fg
    side = max(int((h + w) / 2 * 0.05), 1)
    before, after = side // 2, side - 1 - side // 2
    padded = F.pad(fg, (before, after, before, after), mode="replicate")
    dilated = F.max_pool2d(padded, side, stride=1)
    eroded = -F.max_pool2d(-padded, side, stride=1)
    return (dilated != eroded).to(pred_matte.dtype)


def _masked_l1(pred: Tensor, target: Tensor, mask: Tensor) -> Tensor:
    """Per-sample mean |pred - target| over the mask, then the batch mean. The official code
    divides by the mask's sum unguarded (NaN for a sample without boundary); such a sample
    contributes 0 here."""
    total = (mask * (pred - target).abs()).sum(dim=(1, 2, 3))
    return (total / mask.sum(dim=(1, 2, 3)).clamp_min(1)).mean()


def soc_loss(
    pred_semantic: Tensor,
    pred_detail: Tensor,
    pred_matte: Tensor,
    backup_detail: Tensor,
    backup_matte: Tensor,
    semantic_scale: float = 100.0,
    detail_scale: float = 1.0,
) -> dict[str, Tensor]:
    """Semantic consistency (the 1/16 blurred matte and the semantic prediction as each other's
    pseudo ground truth, values <= 0.01 zeroed) x100, plus detail consistency (detail and matte
    against the backup model's, on SOC boundaries only) x1. The backup outputs come from the
    epoch-start copy of the model, run without gradients."""
    with torch.no_grad():
        boundaries = soc_boundaries(pred_semantic, pred_matte)
    downsampled_matte = blur(F.interpolate(pred_matte, scale_factor=1 / 16, mode="bilinear"))
    pseudo_semantic = downsampled_matte.detach()
    pseudo_semantic = pseudo_semantic * (pseudo_semantic > 0.01)
    pseudo_matte = pred_semantic.detach()
    pseudo_matte = pseudo_matte * (pseudo_matte > 0.01)
    semantic = semantic_scale * (
        F.mse_loss(pred_semantic, pseudo_semantic) + F.mse_loss(downsampled_matte, pseudo_matte)
    )
    detail = detail_scale * (
        _masked_l1(pred_detail, backup_detail, boundaries)
        + _masked_l1(pred_matte, backup_matte, boundaries)
    )
    return {"loss": semantic + detail, "soc_semantic": semantic, "soc_detail": detail}
