"""The per-sample pipelines are config: an experiment file or the command line edits them."""

from __future__ import annotations

from pathlib import Path

import albumentations as A
import numpy as np
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.utils import instantiate

from mattebench.data import PerSampleAugment
from mattebench.data.transforms import BoxBlur, Sharpen
from tests.platform.conftest import CONF_DIR

SWAP_BLUR = """# @package _global_
# BGMv2's recipe with a Gaussian blur in place of PIL's box blur, on the foreground only.
data:
  sample_augment:
    foreground:
      transforms:
        blur: {_target_: albumentations.GaussianBlur, blur_limit: [3, 7], p: 0.1}
"""


def sample_augment(*overrides: str) -> PerSampleAugment:
    GlobalHydra.instance().clear()
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        cfg = compose("train", overrides=["data=videomatte_sample", "data.size=48", *overrides])
    GlobalHydra.instance().clear()
    return instantiate(cfg.data.sample_augment)


def names(augment: PerSampleAugment, job: str) -> list[type]:
    return [type(t) for t in augment.pipelines[job].transforms]


def test_an_experiment_file_swaps_one_transform(tmp_path: Path):
    (tmp_path / "experiment").mkdir()
    (tmp_path / "experiment" / "swap_blur.yaml").write_text(SWAP_BLUR)
    augment = sample_augment(f"hydra.searchpath=[file://{tmp_path}]", "experiment=swap_blur")
    assert names(augment, "foreground") == [
        *names(sample_augment(), "foreground")[:2],
        A.GaussianBlur,  # in the box blur's place, everything else as it was
        Sharpen,
        A.ColorJitter,
    ]
    assert BoxBlur in names(augment, "background")  # the plate keeps BGMv2's blur
    pipeline = augment.pipelines["foreground"]
    assert pipeline.transforms[2].blur_limit == (3, 7) and pipeline.transforms[2].p == 0.1
    fgr = np.zeros((60, 80, 3), np.uint8)
    out = augment.foreground(fgr, fgr[..., 0], 48, np.random.default_rng(0))
    assert out[0].shape == (48, 48, 3)


def test_the_command_line_drops_and_adds_transforms():
    augment = sample_augment(
        "data.sample_augment.foreground.transforms.sharpen=null",
        "+data.sample_augment.background.transforms.gray={_target_:albumentations.ToGray,p:0.2}",
    )
    assert Sharpen not in names(augment, "foreground")
    assert names(augment, "background")[-1] is A.ToGray


def test_modnet_models_bring_modnets_pipelines():
    for model in ("modnet", "modnet_temporal"):
        augment = sample_augment(f"model={model}")
        assert names(augment, "foreground")[0] is A.Sequential
        assert BoxBlur not in names(augment, "foreground")
    pipeline = augment.pipelines["foreground"]
    pha = np.random.default_rng(0).integers(0, 256, (60, 80), dtype=np.uint8)
    out = pipeline(image=np.zeros((60, 80, 3), np.uint8), mask=pha, prev_pha=pha.copy())
    np.testing.assert_array_equal(out["prev_pha"], out["mask"])  # one geometry through Sequential
    assert len(np.unique(out["mask"])) > 100  # the alpha resized bilinearly, not as a label
