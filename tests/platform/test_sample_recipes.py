"""The sample recipes (scale=sample, conf/recipe/): what they change, and that the main job learns.

`make train` is the first thing a newcomer runs: from scratch on the generated sample, it must
end with a matte that is plainly the person. On the held-out test set the recipe reaches test IoU
0.82-0.85 (README: seed 42 at one and two threads), and the bar sits a little below that, since
the thread count changes the float rounding and so the trajectory."""

from __future__ import annotations

import pytest

from mattebench.tasks import train
from tests.platform.conftest import compose_config

COMPARED = ["bgmv2_base", "bgmv2", "modnet", "modnet_temporal", "hdmatt", "tiramisu56"]
OWN_SIZE = ("bgmv2", "tiramisu56")  # sample sizes other than 128x128, checked below


def test_sample_recipes_apply_only_at_sample_scale(tmp_path):
    paper = compose_config(tmp_path, ["model=bgmv2_base"])
    sample = compose_config(tmp_path, ["model=bgmv2_base", "scale=sample"])
    assert paper.model.net.backbone == "resnet50" and "init_alpha_bias" not in paper.model
    assert "plate" not in paper.data.batch_augment
    assert sample.model.net.backbone == "mobilenetv2" and sample.model.init_alpha_bias == 0.5
    assert sample.data.batch_augment.plate == {}  # the test protocol's plate perturbation
    assert list(sample.data.sample_augment.foreground.transforms.geometry.scale) == [1.0, 1.6]
    quiet = {key: sample.data.batch_augment[key] for key in ("shadow_p", "jitter_p", "misalign_p")}
    assert quiet == {"shadow_p": 0, "jitter_p": 0, "misalign_p": 0}  # the test protocol has none
    assert "shadow_p" not in paper.data.batch_augment  # BatchAugment's defaults: BGMv2's recipe
    refine = compose_config(tmp_path, ["model=bgmv2", "scale=sample"])
    assert refine.model.net.backbone == "mobilenetv2" and refine.model.lr.refiner == 1e-3


def composed(tmp_path, model: str):
    return compose_config(tmp_path, ["experiment=compare_methods_sample", f"model={model}"])


def test_the_sample_comparison_trains_each_method_for_its_epochs_on_more_actors(tmp_path):
    epochs = {model: composed(tmp_path, model).trainer.max_epochs for model in COMPARED}
    assert epochs == dict(composed(tmp_path, "bgmv2").epochs_per_method)
    assert composed(tmp_path, "tiramisu67").trainer.max_epochs == 10  # a method it does not list
    data = composed(tmp_path, "modnet").data
    assert data.sample.clips == 64 and data.sample.test_clips == 4
    assert data.train.root.endswith("samples/VideoMatte240K-64clips")  # not make train's sample
    main = compose_config(tmp_path, ["experiment=bgmv2_sample"]).data
    assert main.sample.clips == 7 and main.sample.test_clips == 4  # 3 actors trained, 4 validate
    assert data.testsets == main.testsets and data.testset_root == main.testset_root


def test_the_sample_comparison_gives_each_method_its_recipe(tmp_path):
    sweep = compose_config(tmp_path, ["experiment=compare_methods_sample"])
    assert sweep.hydra.sweeper.params.model.split(",") == COMPARED
    runs = {model: composed(tmp_path, model) for model in COMPARED}
    assert {run.data.size for model, run in runs.items() if model not in OWN_SIZE} == {128}
    refine = runs["bgmv2"]  # its base sees what stage 1's sees, as in the paper
    assert refine.data.size * refine.model.net.backbone_scale == 128
    assert runs["hdmatt"].model.patch_size == 64
    assert runs["hdmatt"].data.sample_augment.foreground.transforms.geometry.scale == [1.0, 1.6]
    tiramisu = runs["tiramisu56"]  # cheaper samples, and segments at the scale it trained at
    assert tiramisu.model.net.batch_stats_at_eval and tiramisu.model.net.growth_rate == 12
    assert tiramisu.data.size == 96 and tiramisu.model.max_side == 72
    for model in ("modnet", "modnet_temporal"):  # Adam replaces SGD whole: no `momentum` left
        modnet = runs[model].model
        assert modnet.ref_size == 128 and modnet.lr == 1e-3
        assert modnet.optimizer == {"_target_": "torch.optim.Adam", "_partial_": True}
        assert modnet.scheduler == {
            "_target_": "torch.optim.lr_scheduler.CosineAnnealingLR", "_partial_": True
        }  # fmt: skip
    assert runs["modnet_temporal"].data.batch_augment.lighting_p == 0
    main = compose_config(tmp_path, ["experiment=bgmv2_sample"])
    assert main.model.net.backbone == "mobilenetv2" and main.trainer.max_epochs == 40
    again = compose_config(tmp_path, ["experiment=bgmv2_sample", "ckpt_path=x"], "eval")
    assert again.model.net.backbone == "mobilenetv2"  # eval.py builds the network it trained


@pytest.mark.slow  # the whole main job: minutes on a CPU
def test_make_train_ends_with_the_person_matted(make_config):
    cfg = make_config("experiment=bgmv2_sample", "logger=csv")
    metrics = train(cfg)
    assert metrics["test/iou"] >= 0.8, metrics
