"""Image panels name their columns (issues 15 and 17): a title strip above the grid, and the
same titles in the W&B caption, for a plate method (BGMv2 refine, with its declared maps), an
image-only method (MODNet, which must not be shown the plate it never sees) and a trimap
method's inputs."""

from __future__ import annotations

from functools import cache
from types import SimpleNamespace
from unittest.mock import MagicMock

import numpy as np
import pytest
import torch
from lightning.pytorch.loggers import WandbLogger
from PIL import Image

from mattebench.methods import BGMv2, MODNet
from mattebench.methods.panels import PADDING, caption, panel_columns, render
from mattebench.models.bgmv2 import MattingRefine
from mattebench.models.modnet import MODNet as MODNetNet

H, W, N = 48, 64, 2
COMMON = ["input", "GT alpha", "predicted alpha", "|pred - GT|", "composite"]


def batch() -> dict:
    """A batch with every key a plate dataset gives: the plate is there for both methods."""
    g = torch.Generator().manual_seed(0)
    alpha = torch.zeros(N, 1, H, W)
    alpha[..., 10:40, 20:44] = 1
    fgr, bgr = torch.rand(N, 3, H, W, generator=g), torch.rand(N, 3, H, W, generator=g)
    trimap = torch.where(alpha > 0.5, 1.0, 0.0)
    return {"image": alpha * fgr + (1 - alpha) * bgr, "bgr": bgr, "alpha": alpha, "fgr": fgr,
            "trimap": trimap}  # fmt: skip


@cache  # built once (inference ignores the stub trainer the panel test attaches)
def bgmv2() -> BGMv2:
    torch.manual_seed(0)
    net = MattingRefine("mobilenetv2", backbone_scale=0.25, refine_sample_pixels=64)
    return BGMv2(net=net, optimizer=None).eval()


@cache
def modnet() -> MODNet:
    torch.manual_seed(0)
    return MODNet(net=MODNetNet(in_channels=3), optimizer=None, ref_size=None).eval()


def columns(method, data: dict) -> list:
    with torch.no_grad():
        pred = method.infer(data)
    return panel_columns(data, pred, method.inputs, method.panel_maps, N)


@pytest.mark.parametrize(
    ("make", "titles"),
    [
        (bgmv2, ["input", "plate", *COMMON[1:], "predicted error", "refined patches"]),
        (modnet, COMMON),
    ],
    ids=["plate", "image_only"],
)
def test_titles_match_columns(make, titles):
    cols = columns(make(), batch())
    assert [title for title, _ in cols] == titles
    assert all(len(x) == N for _, x in cols)
    assert " | ".join(titles) in caption(cols)


def test_trimap_shown_to_trimap_methods_only():
    data = batch()
    pred = {"alpha": data["alpha"].flip(-1)}
    cols = panel_columns(data, pred, ("image", "trimap"), {}, N)
    assert [title for title, _ in cols] == ["input", "trimap", *COMMON[1:]]
    assert torch.equal(cols[1][1], data["trimap"])


def test_title_strip_above_the_grid():
    cols = columns(bgmv2(), batch())
    panel = render(cols)
    grid_height = N * (H + PADDING) + PADDING
    strip = panel.shape[-2] - grid_height
    assert strip > 0 and panel.shape[-1] == len(cols) * (W + PADDING) + PADDING
    for i in range(len(cols)):  # every column's title tile has text on it
        x0 = PADDING + i * (W + PADDING)
        assert panel[:, :strip, x0 : x0 + W].max() > 0.5, cols[i][0]
    # the grid is shifted down by the strip, not drawn over: its first tile is the input
    first = panel[:, strip + PADDING : strip + PADDING + H, PADDING : PADDING + W]
    torch.testing.assert_close(first, cols[0][1][0])


def test_log_panels_saves_titled_png_and_captions_wandb(tmp_path):
    method, data = bgmv2(), batch()
    wandb = MagicMock(spec=WandbLogger)
    method.trainer = SimpleNamespace(
        default_root_dir=str(tmp_path), loggers=[wandb], current_epoch=3, global_step=7
    )
    with torch.no_grad():
        pred = method.infer(data)
    method.log_panels(data, pred, "val")
    png = np.asarray(Image.open(tmp_path / "panels" / "val_epoch003.png"))
    strip = png.shape[0] - (N * (H + PADDING) + PADDING)
    assert strip > 0 and png[:strip].max() > 128  # a title strip, not blank

    call = wandb.log_image.call_args.kwargs
    assert call["key"] == "val/panels" and call["step"] == 7
    assert call["images"][0].shape[-2:] == png.shape[:2]
    cols = columns(method, data)
    assert call["caption"] == [caption(cols)]
    assert " | ".join(title for title, _ in cols) in call["caption"][0]
