"""BGMv2 loss terms as the official trainers compute them (specs/bgmv2.md §2.2)."""

import pytest
import torch
import torch.nn.functional as F

from mattebench.losses.bgmv2 import base_loss, refine_loss


def targets(size=(2, 1, 16, 16)):
    torch.manual_seed(0)
    pha = torch.rand(size)
    pha[:, :, :4] = 0  # a band of pure background: the foreground term ignores it
    fgr = torch.rand(size[0], 3, *size[2:])
    return pha, fgr


def test_base_loss_is_zero_for_a_perfect_prediction():
    pha, fgr = targets()
    terms = base_loss(pha, fgr, torch.zeros_like(pha), pha, fgr)
    assert terms["loss"].item() == pytest.approx(0.0, abs=1e-7)
    assert set(terms) == {"loss", "alpha_l1", "alpha_sobel", "fgr_l1", "err_mse"}


def test_base_terms_by_hand():
    pha, fgr = targets()
    pred_pha, pred_fgr, err = pha + 0.1, fgr.clone(), torch.full_like(pha, 0.3)
    pred_fgr[:, :, :4] = 1.0  # wrong only where alpha* = 0: masked out
    terms = base_loss(pred_pha, pred_fgr, err, pha, fgr)
    assert terms["alpha_l1"].item() == pytest.approx(0.1, rel=1e-5)
    assert terms["alpha_sobel"].item() == pytest.approx(0.0, abs=1e-6)  # a constant shift
    assert terms["fgr_l1"].item() == 0.0
    assert terms["err_mse"].item() == pytest.approx((0.3 - 0.1) ** 2, rel=1e-4)
    assert terms["loss"] == terms["alpha_l1"] + terms["alpha_sobel"] + terms["err_mse"]


def test_base_error_target_is_detached_refine_not_by_default():
    pha, fgr = targets()
    pred = (pha + 0.1).requires_grad_()
    err = torch.zeros_like(pha).requires_grad_()
    base_loss(pred, fgr, err, pha, fgr)["err_mse"].backward()
    assert pred.grad is None or pred.grad.abs().sum() == 0

    pha_sm = F.interpolate(pha, scale_factor=0.25, mode="bilinear").requires_grad_()
    fgr_sm = F.interpolate(fgr, scale_factor=0.25, mode="bilinear")
    err_sm = torch.zeros_like(pha_sm).requires_grad_()
    refine_loss(pha, fgr, pha_sm, fgr_sm, err_sm, pha, fgr)["err_mse"].backward()
    assert pha_sm.grad.abs().sum() > 0  # official train_refine.py (issue #196)
    pha_sm.grad = None
    terms = refine_loss(pha, fgr, pha_sm, fgr_sm, err_sm, pha, fgr, detach_error_target=True)
    terms["err_mse"].backward()
    assert pha_sm.grad is None or pha_sm.grad.abs().sum() == 0


def test_refine_loss_sums_both_resolutions():
    pha, fgr = targets((1, 1, 32, 32))
    pha_sm = F.interpolate(pha, size=(8, 8), mode="bilinear", align_corners=False)
    fgr_sm = F.interpolate(fgr, size=(8, 8), mode="bilinear", align_corners=False)
    perfect = refine_loss(pha, fgr, pha_sm, fgr_sm, torch.zeros_like(pha_sm), pha, fgr)
    # coarse targets are bilinear resizes without antialiasing, like the inputs above
    assert perfect["alpha_l1"].item() == pytest.approx(0.0, abs=1e-6)
    shifted = refine_loss(pha + 0.2, fgr, pha_sm + 0.1, fgr_sm, torch.zeros_like(pha_sm), pha, fgr)
    assert shifted["alpha_l1"].item() == pytest.approx(0.3, rel=1e-5)
