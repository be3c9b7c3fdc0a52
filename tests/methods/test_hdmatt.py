"""The HDMatt method: its DIM loss, training patch sampling and input checks."""

from __future__ import annotations

import functools

import numpy as np
import pytest
import torch

from mattebench.losses.hdmatt import dim_loss
from mattebench.methods.hdmatt import HDMatt
from mattebench.models.hdmatt import HDMatt as HDMattNet
from mattebench.models.hdmatt import border_weights


@pytest.fixture(scope="module")
def method() -> HDMatt:
    torch.manual_seed(0)
    optimizer = functools.partial(torch.optim.Adam)
    return HDMatt(HDMattNet(), patch_size=64, margin=16, train_candidates=3, optimizer=optimizer)


def batch(size: int = 96, n: int = 2) -> dict:
    alpha = torch.zeros(n, 1, size, size)
    alpha[..., size // 2 :] = 1
    alpha[..., size // 2 - 4 : size // 2] = 0.5
    trimap = torch.where(alpha == 0.5, 0.5, alpha)
    fgr, bgr = torch.rand(n, 3, size, size), torch.rand(n, 3, size, size)
    image = alpha * fgr + (1 - alpha) * bgr
    return {"image": image, "alpha": alpha, "trimap": trimap, "fgr": fgr, "bgr": bgr}


def test_dim_loss_counts_unknown_pixels_weighted_by_the_blending_mask():
    b = batch(64, 1)
    perfect = dim_loss(b["alpha"], b["alpha"], b["fgr"], b["bgr"], b["trimap"], torch.ones(64, 64))
    assert perfect["loss"] == pytest.approx(1e-3)  # sqrt(eps)
    wrong_known = torch.where(b["trimap"] == 0.5, b["alpha"], 1 - b["alpha"])
    known = dim_loss(wrong_known, b["alpha"], b["fgr"], b["bgr"], b["trimap"], torch.ones(64, 64))
    assert known["loss"] == pytest.approx(1e-3)
    pred = b["alpha"].clone()
    pred[..., 0, :] += 0.4  # errors in the first row only: border weight 1/16
    w = border_weights(64, 16)
    flat = dim_loss(pred, b["alpha"], b["fgr"], b["bgr"], b["trimap"], torch.ones(64, 64))
    masked = dim_loss(pred, b["alpha"], b["fgr"], b["bgr"], b["trimap"], w)
    assert masked["alpha_loss"] < flat["alpha_loss"] / 4


def test_training_loss_samples_patches_and_backpropagates(method):
    method.train()
    losses = method.training_loss(batch())
    assert set(losses) == {"loss", "alpha_loss", "comp_loss"} and losses["loss"].isfinite()
    losses["loss"].backward()
    assert method.net.cpc.theta.weight.grad.abs().sum() > 0
    assert method.net.encoder.trunk.conv1.weight.grad.abs().sum() > 0
    method.zero_grad()


def test_declared_training_trimap_is_dims_recipe_from_alpha(method):
    """The datamodule draws it per item (`training_trimap`): DIM's band, 1..trimap_kernel px."""
    recipe = method.training_trimap()
    alpha = batch()["alpha"][0, 0].numpy()
    trimap = recipe(alpha, np.random.default_rng(0))
    assert set(np.unique(trimap).tolist()) <= {0.0, 0.5, 1.0}
    assert (trimap == 0.5).sum() >= (batch()["trimap"][0, 0] == 0.5).sum().item()
    assert recipe.keywords == {"kernel_range": (1, method.trimap_kernel)}


def test_predict_any_size(method):
    method.eval()
    b = batch(100, 2)
    b = {k: v[..., :, :77] for k, v in b.items()}
    with torch.no_grad():
        alpha = method.predict(b)["alpha"]
    assert alpha.shape == (2, 1, 100, 77)
    known = b["trimap"] != 0.5
    assert torch.equal(alpha[known], b["trimap"][known])


def test_bad_inputs_are_clear_errors(method):
    b = batch(64, 1)
    with pytest.raises(KeyError, match="trimap"):
        method.predict({"image": b["image"]})
    with pytest.raises(ValueError, match="differs from image size"):
        method.predict({"image": b["image"], "trimap": b["trimap"][..., :32]})
    with pytest.raises(ValueError, match=r"\{0, 0.5, 1\}"):
        method.predict({"image": b["image"], "trimap": b["trimap"] * 0.9})
    with pytest.raises(ValueError, match="multiple of 32"):
        HDMatt(HDMattNet(), patch_size=100, optimizer=torch.optim.Adam)


def test_resume_continues_the_patch_samplers_stream(method, tmp_path):
    """The sampler's state goes into the checkpoint and back: after a resume the patches are
    the ones the uninterrupted run would have drawn next."""
    b = batch()

    def query(m: HDMatt) -> torch.Tensor:  # where the next query patch is cut (its trimap)
        return m._sample(b, 0)[0]["trimap"]

    query(method)  # an epoch's draws before the checkpoint
    checkpoint: dict = {}
    method.on_save_checkpoint(checkpoint)
    torch.save(checkpoint, tmp_path / "last.ckpt")
    uninterrupted = [query(method) for _ in range(3)]

    optimizer = functools.partial(torch.optim.Adam)
    resumed = HDMatt(HDMattNet(), patch_size=64, margin=16, train_candidates=3, optimizer=optimizer)
    resumed.on_load_checkpoint(torch.load(tmp_path / "last.ckpt", weights_only=True))
    for expected in uninterrupted:
        assert torch.equal(query(resumed), expected)
