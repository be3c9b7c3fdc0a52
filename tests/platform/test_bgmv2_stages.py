"""BGMv2's training stages at the paper's sizes (specs/bgmv2.md §2.1, §2.4-2.5): the refine
stage's base network sees what stage 1 trained on, on the real data and scaled on the sample."""

from __future__ import annotations

import math

import hydra
import pytest
import torch
from omegaconf import OmegaConf

from mattebench.data.augment import BatchAugment
from mattebench.tasks import train
from tests.platform.conftest import compose_config

#: (stage 1, stage 2): the paper's commands, and the sample's.
STAGES = {
    "paper": (["experiment=bgmv2_videomatte"], ["experiment=bgmv2_videomatte_stage2"]),
    "sample": (
        ["model=bgmv2_base", "data=videomatte_sample"],
        ["experiment=bgmv2_videomatte_stage2_sample"],
    ),
}


def crop_sides(cfg, draws: int = 20) -> set[int]:
    """Every side the per-batch crop of `cfg`'s recipe gave over `draws` batches, rounded as the
    datamodule rounds them for the method (its declared `input_multiple`)."""
    augment = BatchAugment(**OmegaConf.to_container(cfg.data.batch_augment, resolve=True))
    method = hydra.utils.get_class(cfg.model._target_)
    augment.crop_multiple = math.lcm(augment.crop_multiple, method.input_multiple)
    alpha = torch.zeros(1, 1, cfg.data.size, cfg.data.size)
    sides = set()
    for seed in range(draws):
        out = augment.manual_seed(seed).crop({"alpha": alpha})["alpha"]
        sides.update(out.shape[-2:])
    return sides


class _Seen(Exception):
    """Raised by the hook: the base network's input size is known, the rest is not needed."""


def base_input_side(cfg, side: int) -> int:
    """The side the refine network's base network gets for a `side`² crop (MobileNetV2 for
    speed: the backbone does not change the sizes)."""
    net_cfg = OmegaConf.merge(cfg.model.net, {"backbone": "mobilenetv2"})
    net = hydra.utils.instantiate(net_cfg).eval()

    def seen(_, args):
        raise _Seen(tuple(args[0].shape[-2:]))

    net.backbone.register_forward_pre_hook(seen)
    image = torch.rand(1, 3, side, side)
    with torch.no_grad(), pytest.raises(_Seen) as info:
        net(image, image)
    h, w = info.value.args[0]
    assert h == w
    return h


@pytest.mark.parametrize("scale", STAGES)
def test_stage2_base_network_sees_the_stage1_crop_sizes(tmp_path, scale):
    first, second = (compose_config(tmp_path, overrides) for overrides in STAGES[scale])
    assert first.model.net._target_.endswith("MattingBase")
    assert second.model.net._target_.endswith("MattingRefine")
    assert second.data.size == 4 * first.data.size  # 512 -> 2048 (sample: 256 -> 1024)
    stage1, stage2 = crop_sides(first), crop_sides(second)
    s1, s2 = first.data.size, second.data.size
    assert s1 // 2 <= min(stage1) and max(stage1) < s1  # paper: 256..511
    assert s2 // 2 <= min(stage2) and max(stage2) < s2  # paper: 1024..2047
    assert all(side % 4 == 0 for side in stage2)  # MattingRefine needs multiples of 4
    # the base network sees stage 1's crop range: s1/2 .. s1-1 for the extreme stage-2 crops
    assert base_input_side(second, s2 // 2) == s1 // 2  # paper: 1024 -> 256
    assert base_input_side(second, s2 - 4) == s1 - 1  # paper: 2044 -> 511
    assert all(s1 // 2 <= base_input_side(second, side) < s1 for side in sorted(stage2)[1:3])
    # the refiner samples the paper's share of the pixels (80,000 of 2048²), and never more
    # 4x4 patches than the smallest crop holds
    pixels = second.model.net.refine_sample_pixels
    assert pixels / s2**2 == pytest.approx(80_000 / 2048**2)
    assert pixels // 16 <= (min(stage2) // 4) ** 2
    geometry = second.data.sample_augment.foreground.transforms.geometry
    assert list(geometry.scale) == [0.3, 1.0]  # §2.4: the refine stage's foreground scale
    assert second.data.batch_size == (4 if scale == "paper" else 2)


@pytest.mark.parametrize(
    ("experiment", "data", "epochs"),
    [("bgmv2_photomatte13k", "folders", 25), ("bgmv2_distinctions646", "distinctions646", 30)],
)
def test_fine_tuning_stages_use_the_refine_recipe(tmp_path, experiment, data, epochs):
    cfg = compose_config(tmp_path, [f"experiment={experiment}"])
    stage2 = compose_config(tmp_path, ["experiment=bgmv2_videomatte_stage2"])
    assert cfg.data.train._target_ == compose_config(tmp_path, [f"data={data}"]).data.train._target_
    assert cfg.trainer.max_epochs == epochs and cfg.experiment_name == experiment
    assert cfg.model == stage2.model
    for key in ("size", "batch_size", "sample_augment"):
        assert cfg.data[key] == stage2.data[key], key
    for key in ("crop_scale", "crop_multiple"):
        assert cfg.data.batch_augment[key] == stage2.data.batch_augment[key], key


@pytest.mark.slow
def test_stage2_sample_trains_from_a_stage1_checkpoint(make_config):
    """The documented chain on the sample: stage 1, then stage 2 from its last checkpoint."""
    fast = ["logger=csv", "model.net.backbone=mobilenetv2", "data.num_workers=0"]
    stage1 = make_config(
        *STAGES["sample"][0], *fast, "trainer=cpu", "trainer.max_epochs=1",
        "trainer.limit_train_batches=1", "trainer.limit_val_batches=1",
        "data.val_samples=1", "data.test_samples=1",
    )  # fmt: skip
    train(stage1)
    checkpoint = f"{stage1.paths.output_dir}/checkpoints/last.ckpt"
    stage2 = make_config(
        *STAGES["sample"][1], *fast, f"model.init_weights={checkpoint}",
        "trainer.limit_train_batches=1", "data.test_samples=1",
    )  # fmt: skip
    stage2.paths.output_dir = f"{stage1.paths.output_dir}_stage2"
    metrics = train(stage2)
    assert "test/sad_unknown" in metrics
