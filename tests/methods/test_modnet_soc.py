"""MODNet's SOC adaptation (specs/modnet.md §2.3): the loss terms and the training stage."""

import functools

import numpy as np
import pytest
import torch
from scipy.ndimage import grey_dilation, grey_erosion

from mattebench.losses.modnet import blur, soc_boundaries, soc_loss
from mattebench.methods import MODNetSOC
from mattebench.models.modnet import MODNet


@pytest.mark.parametrize("size", [(64, 64), (96, 160), (48, 80)])  # sides 3, 6, 3
def test_boundaries_are_the_official_scipy_dilation_minus_erosion(size):
    torch.manual_seed(0)
    h, w = size
    semantic = torch.rand(2, 1, h // 16, w // 16)
    matte = (torch.rand(2, 1, h, w) > 0.5).float() * torch.rand(2, 1, 1, 1)
    fg = (matte > 0.1).float() * torch.nn.functional.interpolate(
        (semantic > 0.1).float(), scale_factor=16, mode="bilinear"
    )
    side = int((h + w) / 2 * 0.05)
    expected = [
        grey_dilation(f, size=(side, side)) - grey_erosion(f, size=(side, side)) != 0
        for f in fg[:, 0].numpy()
    ]
    np.testing.assert_array_equal(soc_boundaries(semantic, matte)[:, 0].numpy(), expected)


def test_a_model_agreeing_with_itself_and_its_backup_has_zero_loss():
    matte = torch.zeros(1, 1, 64, 64)
    matte[..., 16:48, 16:48] = 1
    semantic = blur(torch.nn.functional.interpolate(matte, scale_factor=1 / 16, mode="bilinear"))
    detail = torch.rand_like(matte)
    losses = soc_loss(semantic, detail, matte, detail, matte)
    assert losses["loss"].item() == pytest.approx(0, abs=1e-6)


def test_detail_consistency_counts_boundary_pixels_only():
    matte = torch.zeros(1, 1, 64, 64)
    matte[..., 16:48, 16:48] = 1
    semantic = torch.ones(1, 1, 4, 4)
    boundaries = soc_boundaries(semantic, matte)
    assert 0 < boundaries.sum() < boundaries.numel()
    backup = matte + 0.5 * (1 - boundaries)  # differs away from the boundary only
    assert soc_loss(semantic, matte, matte, matte, backup)["soc_detail"].item() == 0
    backup = matte + 0.5 * boundaries
    assert soc_loss(semantic, matte, matte, matte, backup)["soc_detail"].item() == pytest.approx(
        0.5
    )


def test_a_sample_without_boundary_gives_a_finite_loss():
    zeros = torch.zeros(1, 1, 64, 64)
    losses = soc_loss(torch.zeros(1, 1, 4, 4), zeros, zeros, zeros + 0.3, zeros + 0.3)
    assert torch.isfinite(losses["loss"])


def make_method(**kwargs):
    return MODNetSOC(
        net=MODNet(),
        optimizer=functools.partial(torch.optim.Adam, betas=(0.9, 0.99)),
        lr=1e-5,
        **kwargs,
    )


def test_soc_step_reads_no_labels_and_keeps_norm_statistics():
    with pytest.warns(UserWarning, match="init_weights"):
        method = make_method()
    method.train()
    stats = {k: v.clone() for k, v in method.net.state_dict().items() if "running" in k}
    losses = method.training_loss({"image": torch.rand(1, 3, 64, 96)})
    losses["loss"].backward()
    assert {"soc_semantic", "soc_detail"} <= set(losses)
    assert method.training_inputs() == ("image",)
    for key, value in method.net.state_dict().items():
        if key in stats:
            torch.testing.assert_close(value, stats[key], msg=key)
    assert any(p.grad is not None for p in method.net.parameters())


def test_backup_is_a_frozen_copy_outside_the_checkpoint_and_optimiser():
    with pytest.warns(UserWarning, match="init_weights"):
        method = make_method()
    method.on_train_epoch_start()
    assert not any(k.startswith("backup") for k in method.state_dict())
    assert sum(p.numel() for p in method.parameters()) == sum(
        p.numel() for p in method.net.parameters()
    )
    with torch.no_grad():
        next(method.net.parameters()).add_(1)
    backup_first = next(method.backup.net.parameters())
    assert not torch.equal(backup_first, next(method.net.parameters()))
    assert not backup_first.requires_grad
