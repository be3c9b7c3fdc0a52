"""MODNet's supervised loss, term by term (specs/modnet.md §2.1)."""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mattebench.losses.modnet import blur, semantic_target, supervised_loss

# specs/modnet.md §2.1: the GaussianBlurLayer(1, 3) kernel.
KERNEL = [[0.062611, 0.125, 0.062611], [0.125, 0.249558, 0.125], [0.062611, 0.125, 0.062611]]


def test_blur_kernel_is_the_official_one():
    delta = torch.zeros(1, 1, 5, 5)
    delta[..., 2, 2] = 1
    np.testing.assert_allclose(blur(delta)[0, 0, 1:4, 1:4].numpy(), KERNEL, atol=1e-5)


def test_semantic_target_is_the_centre_2x2_mean_then_blurred():
    gt = torch.rand(2, 1, 64, 96)
    centres = gt.unfold(2, 16, 16).unfold(3, 16, 16)[..., 7:9, 7:9].mean(dim=(-1, -2))
    torch.testing.assert_close(semantic_target(gt), blur(centres))


def terms(pred_matte, gt, trimap, detail=None):
    semantic = semantic_target(gt)
    detail = pred_matte if detail is None else detail
    return supervised_loss(
        semantic, detail, pred_matte, torch.ones(1, 3, *gt.shape[-2:]), trimap, gt
    )


def test_errors_in_known_pixels_only_reach_the_plain_terms():
    gt = torch.zeros(1, 1, 32, 32)
    gt[..., 16:] = 1
    trimap = gt.clone()
    trimap[..., 12:20] = 0.5  # unknown band
    pred = gt.clone()
    pred[..., :4] = 0.5  # wrong inside the known background
    out = terms(pred, gt, trimap)
    assert out["detail"].item() == 0
    err = 0.5 * 4 * 32 / (32 * 32)
    # image = 1: L1 + compositional L1, each without the 4x band terms
    assert out["matte"].item() == pytest.approx(2 * err, rel=1e-5)


def test_unknown_band_errors_are_weighted_five_times_and_reach_detail():
    gt = torch.zeros(1, 1, 32, 32)
    trimap = torch.full_like(gt, 0.5)  # everything unknown
    pred = torch.full_like(gt, 0.2)
    out = terms(pred, gt, trimap)
    assert out["detail"].item() == pytest.approx(10 * 0.2, rel=1e-5)
    assert out["matte"].item() == pytest.approx((1 + 4) * 0.2 * 2, rel=1e-5)
    assert out["loss"] == out["semantic"] + out["detail"] + out["matte"]


def test_semantic_term_is_ten_times_the_mse_at_one_sixteenth():
    gt = torch.rand(1, 1, 64, 64)
    semantic = torch.zeros(1, 1, 4, 4)
    out = supervised_loss(semantic, gt, gt, torch.ones(1, 3, 64, 64), torch.full_like(gt, 0.5), gt)
    assert out["semantic"].item() == pytest.approx(
        10 * F.mse_loss(semantic, semantic_target(gt)).item()
    )
