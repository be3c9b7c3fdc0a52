"""HDMatt's loss: DIM's alpha + composition Charbonnier losses over the unknown pixels, 0.5/0.5,
each pixel weighted by the patch's blending mask (specs/hdmatt.md §5; the DIM terms are mmagic's
`CharbonnierLoss` / `CharbonnierCompLoss`, §3)."""

from __future__ import annotations

import torch
from torch import Tensor

from mattebench.data.trimap import unknown_mask


def charbonnier(diff: Tensor, eps: float = 1e-6) -> Tensor:
    """sqrt(diff² + eps), mmagic's `charbonnier_loss` (elementwise)."""
    return torch.sqrt(diff * diff + eps)


def dim_loss(
    pred: Tensor,
    alpha: Tensor,
    fgr: Tensor,
    bgr: Tensor,
    trimap: Tensor,
    weights: Tensor,
    eps: float = 1e-6,
) -> dict[str, Tensor]:
    """pred/alpha/trimap (B,1,P,P), fgr/bgr (B,3,P,P), weights (P,P) or (B,1,P,P) in [0, 1].

    The composition term compares pred·F + (1-pred)·B with alpha·F + (1-alpha)·B, the same F and
    B, so plate augmentations applied after compositing do not leak into it.
    """
    mask = unknown_mask(trimap).to(pred.dtype) * weights
    norm = mask.sum().clamp_min(1e-6)
    alpha_term = (charbonnier(pred - alpha, eps) * mask).sum() / norm
    comp = charbonnier((pred - alpha) * (fgr - bgr), eps).mean(dim=1, keepdim=True)
    comp_term = (comp * mask).sum() / norm
    return {
        "loss": 0.5 * alpha_term + 0.5 * comp_term,
        "alpha_loss": alpha_term,
        "comp_loss": comp_term,
    }
