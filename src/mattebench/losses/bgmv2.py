"""BGMv2 losses, term by term as `train_base.compute_loss` and `train_refine.compute_loss`
(PeterL1n/BackgroundMattingV2; specs/bgmv2.md §2.2). Each returns its terms and their sum."""

from __future__ import annotations

import torch.nn.functional as F
from kornia.filters import sobel
from kornia.geometry.transform import resize
from torch import Tensor


def _alpha_terms(pha: Tensor, true_pha: Tensor) -> tuple[Tensor, Tensor]:
    """L1 on alpha and on its Sobel gradient magnitude (kornia: 3x3 /8, replicate borders)."""
    return F.l1_loss(pha, true_pha), F.l1_loss(sobel(pha), sobel(true_pha))


def _foreground_term(fgr: Tensor, true_fgr: Tensor, true_pha: Tensor) -> Tensor:
    """L1 on the foreground where the ground-truth alpha is non-zero."""
    mask = true_pha != 0
    return F.l1_loss(fgr * mask, true_fgr * mask)


def _resize(x: Tensor, size: tuple[int, int]) -> Tensor:
    """`kornia.resize` of the official code: bilinear, align_corners=False, no antialiasing."""
    return resize(x, size, interpolation="bilinear", align_corners=False, antialias=False)


def base_loss(
    pha: Tensor, fgr: Tensor, err: Tensor, true_pha: Tensor, true_fgr: Tensor
) -> dict[str, Tensor]:
    """MattingBase: alpha L1 + Sobel L1 + masked foreground L1 + error-map MSE against
    |pha - pha*| with the prediction detached."""
    alpha_l1, alpha_sobel = _alpha_terms(pha, true_pha)
    terms = {
        "alpha_l1": alpha_l1,
        "alpha_sobel": alpha_sobel,
        "fgr_l1": _foreground_term(fgr, true_fgr, true_pha),
        "err_mse": F.mse_loss(err, (pha.detach() - true_pha).abs()),
    }
    return {"loss": sum(terms.values()), **terms}


def refine_loss(
    pha: Tensor,
    fgr: Tensor,
    pha_sm: Tensor,
    fgr_sm: Tensor,
    err_sm: Tensor,
    true_pha: Tensor,
    true_fgr: Tensor,
    detach_error_target: bool = False,
) -> dict[str, Tensor]:
    """MattingRefine, 7 terms: alpha and Sobel L1 at full and coarse resolution, masked
    foreground L1 at both, and the coarse error map (upsampled) against the upsampled coarse
    alpha error. The official trainer does not detach that target (issue #196), the paper does:
    `detach_error_target` chooses."""
    size = tuple(true_pha.shape[-2:])
    true_pha_sm = _resize(true_pha, tuple(pha_sm.shape[-2:]))
    true_fgr_sm = _resize(true_fgr, tuple(fgr_sm.shape[-2:]))
    alpha_l1, alpha_sobel = _alpha_terms(pha, true_pha)
    alpha_l1_sm, alpha_sobel_sm = _alpha_terms(pha_sm, true_pha_sm)
    coarse = _resize(pha_sm.detach() if detach_error_target else pha_sm, size)
    terms = {
        "alpha_l1": alpha_l1 + alpha_l1_sm,
        "alpha_sobel": alpha_sobel + alpha_sobel_sm,
        "fgr_l1": _foreground_term(fgr, true_fgr, true_pha)
        + _foreground_term(fgr_sm, true_fgr_sm, true_pha_sm),
        "err_mse": F.mse_loss(_resize(err_sm, size), (coarse - true_pha).abs()),
    }
    return {"loss": sum(terms.values()), **terms}
