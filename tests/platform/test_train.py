"""The user's commands, run in-process on the generated sample: fit, test, eval, resume."""

import csv
import json
from pathlib import Path

import hydra
import pytest
import torch
import wandb
from omegaconf import OmegaConf, open_dict

from mattebench import tasks
from mattebench.data.sources import DatasetNotFoundError
from mattebench.tasks import evaluate, train
from tests.platform.conftest import FAST, MODELS, logged

METRICS = ("sad", "mse", "grad", "conn", "mad")
TEST_KEYS = {"test/iou"} | {f"test/{m}_{r}" for m in METRICS for r in ("unknown", "image")}
ONE_EPOCH = [
    "trainer.max_epochs=1",
    "trainer.limit_train_batches=2",
    "callbacks=[model_checkpoint]",
]


#: Every model config, each on the VideoMatte240K sample but HDMatt on the Composition-1K one
#: (its recipe's data: DIM's trimap sets), plus Tiramisu on segmentation data. One config per
#: family runs in `make test`; the variants (other backbones, depths and solvers: the same code
#: paths) are marked slow and run in `make test-all`.
FAST_MODELS = {"bgmv2_base", "bgmv2", "modnet", "modnet_temporal", "modnet_soc", "hdmatt",
               "tiramisu56", "classical_cf"}  # fmt: skip
DATA_FOR = {"hdmatt": "composition1k_sample"}
RUNS = [
    *((model, DATA_FOR.get(model, "videomatte_sample")) for model in MODELS),
    ("tiramisu56", "coco_person_sample"),
]
#: Tiny sizes per family (the first matching prefix), so that each run takes seconds on a CPU.
TINY = {
    "bgmv2_base": ["model.net.backbone=mobilenetv2"],
    "bgmv2_mobilenetv2": [],
    "bgmv2_resnet101": [],
    "bgmv2": ["model.net.backbone=mobilenetv2"],
    "modnet": ["model.ref_size=null"],
    "hdmatt": ["model.patch_size=64", "model.margin=16"],
    "classical": ["model.workers=1", "model.max_side=64", "data.size=64"],
    "tiramisu": ["model.max_side=64", "data.size=64"],
}


@pytest.mark.parametrize(
    ("model", "data"),
    [pytest.param(*run, marks=() if run[0] in FAST_MODELS else pytest.mark.slow) for run in RUNS],
)
def test_fast_dev_run_of_every_model_config(make_config, model, data):
    """`python train.py model=<any> data=<sample> debug=fdr`: one batch of each stage, the
    shared test metrics, the run's files; a method with nothing to fit (classical) is only
    tested, under the same `train=true`."""
    tiny = next((v for k, v in TINY.items() if model.startswith(k)), [])
    cfg = make_config(f"model={model}", f"data={data}", "debug=fdr", *FAST, *tiny)
    metrics = train(cfg)
    assert set(metrics) >= TEST_KEYS
    run = Path(cfg.paths.output_dir)
    assert json.loads((run / "metrics.json").read_text()) == metrics
    assert list((run / "panels").glob("test_epoch*.png"))
    assert OmegaConf.load(run / "config.yaml").model._target_ == cfg.model._target_
    fitted = "train/loss" in metrics
    assert fitted == hydra.utils.get_class(cfg.model._target_).trainable
    if not fitted:  # the solvers' cost, and no image fell back to its trimap
        assert metrics["test/timeouts"] == 0 and metrics["test/failures"] == 0
        assert metrics["test/seconds_per_image"] > 0


FAST_LEARNING = {
    "bgmv2_base": [
        "model.net.backbone=mobilenetv2",
        "model.lr.backbone=1e-3", "model.lr.aspp=1e-3", "model.lr.decoder=1e-3",
    ],
    "modnet": ["model.optimizer._target_=torch.optim.Adam", "~model.optimizer.momentum",
               "model.lr=1e-3", "model.scheduler=null"],
}  # fmt: skip


@pytest.mark.parametrize("model", sorted(FAST_LEARNING))
def test_overfitting_a_batch_lowers_the_loss(make_config, model):
    cfg = make_config(
        f"model={model}", *FAST_LEARNING[model], "debug=overfit", *FAST,
        "trainer.overfit_batches=1", "trainer.max_epochs=15", "trainer.log_every_n_steps=1",
    )  # fmt: skip
    train(cfg)
    losses = logged(cfg, "train/loss")
    assert len(losses) == 15
    assert sum(losses[-5:]) / 5 < 0.6 * sum(losses[:5]) / 5


def test_eval_of_the_best_checkpoint_reproduces_the_test_metrics(make_config):
    cfg = make_config("model=bgmv2_mobilenetv2", *FAST, *ONE_EPOCH)
    trained = train(cfg)
    eval_cfg = make_config(
        "model=bgmv2_mobilenetv2", *FAST, f"ckpt_path={trained['best_checkpoint']}",
        config_name="eval",
    )  # fmt: skip
    evaluated = evaluate(eval_cfg)
    for key in TEST_KEYS:
        assert evaluated[key] == pytest.approx(trained[key], rel=1e-6), key
    assert evaluated["run"] == {  # the checkpoint's own run and seed, not eval.yaml's defaults
        "checkpoint": str(Path(trained["best_checkpoint"]).resolve()),
        "trained_in": str(Path(cfg.paths.output_dir).resolve()),
        "seed": cfg.seed,
    }


def test_resume_from_last_checkpoint_continues_the_step_count(make_config):
    cfg = make_config("model=bgmv2_base", "model.net.backbone=mobilenetv2", *FAST, *ONE_EPOCH,
                      "test=false")  # fmt: skip
    train(cfg)
    last = Path(cfg.paths.output_dir) / "checkpoints" / "last.ckpt"
    assert torch.load(last, weights_only=False)["global_step"] == 2
    resumed = make_config("model=bgmv2_base", "model.net.backbone=mobilenetv2", *FAST, *ONE_EPOCH,
                          "test=false", "trainer.max_epochs=2", f"ckpt_path={last}",
                          "resume_in_run_dir=false")  # fmt: skip
    with open_dict(resumed):  # into another directory (by default: the checkpoint's run)
        resumed.paths.output_dir = str(Path(cfg.paths.output_dir).parent / "resumed")
        resumed.callbacks.model_checkpoint.dirpath = resumed.paths.output_dir + "/checkpoints"
    train(resumed)
    last_resumed = Path(resumed.paths.output_dir) / "checkpoints" / "last.ckpt"
    checkpoint = torch.load(last_resumed, weights_only=False)
    assert checkpoint["global_step"] == 4
    assert checkpoint["epoch"] == 1


def test_missing_dataset_stops_before_training_with_directions(make_config, tmp_path):
    cfg = make_config("data=videomatte", "model=bgmv2_mobilenetv2", *FAST)
    with open_dict(cfg):
        cfg.paths.data_dir = str(tmp_path / "nowhere")
    with pytest.raises(DatasetNotFoundError) as error:
        train(cfg)
    message = str(error.value)
    assert str(tmp_path / "nowhere" / "VideoMatte240K_JPEG_SD") in message
    assert "videomatte_sample" in message


def test_wandb_offline_run_with_panels(make_config, monkeypatch):
    monkeypatch.delenv("WANDB_API_KEY", raising=False)
    monkeypatch.setenv("NETRC", "/nonexistent")
    cfg = make_config("model=bgmv2_mobilenetv2", *FAST, *ONE_EPOCH, "logger=wandb",
                      "model.save_samples=1")  # fmt: skip
    monkeypatch.setattr(tasks, "_finish_wandb", lambda: None)  # read the summary first
    metrics = train(cfg)
    summary = dict(wandb.run.summary)
    wandb.finish()
    run = Path(cfg.paths.output_dir)
    runs = list((run / "wandb").glob("offline-run-*"))
    assert len(runs) == 1
    assert list(runs[0].glob("files/media/images/val/panels*.png"))
    assert list((run / "panels").glob("test_epoch*.png"))
    # the comparison's media: the per-sample table, and the metrics as the run summary
    (table,) = runs[0].glob("files/media/table/test/samples_*.table.json")
    content = json.loads(table.read_text())
    assert content["columns"][:3] == ["id", "image", "alpha"] and len(content["data"]) == 1
    assert summary["test/sad_unknown"] == pytest.approx(metrics["test/sad_unknown"])
    assert summary["params"] == metrics["params"] == 5_006_839  # BGMv2 MobileNetV2
    assert summary["train/steps"] == metrics["train/steps"] == 2  # ONE_EPOCH's two batches


def test_every_test_sample_is_recorded(make_config):
    cfg = make_config("model=modnet", *FAST, "debug=fdr", "model.save_samples=1")
    metrics = train(cfg)
    run = Path(cfg.paths.output_dir)
    with (run / "test_samples.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 and set(rows[0]) >= {"id", "sad_unknown", "conn_image"}
    for name in ("sad_unknown", "grad_image"):
        mean = sum(float(r[name]) for r in rows) / len(rows)
        assert mean == pytest.approx(metrics[f"test/{name}"])
    stem = rows[0]["id"].replace("/", "__")
    assert {p.name for p in (run / "predictions").iterdir()} == {
        f"{stem}.png",
        f"{stem}.input.jpg",
        f"{stem}.gt.png",
    }


def test_refine_stage_starts_from_a_base_checkpoint(make_config):
    base = make_config("model=bgmv2_base", "model.net.backbone=mobilenetv2", *FAST, *ONE_EPOCH,
                       "test=false")  # fmt: skip
    train(base)
    last = Path(base.paths.output_dir) / "checkpoints" / "last.ckpt"
    refine = make_config("model=bgmv2_mobilenetv2", *FAST, f"model.init_weights={last}")
    module = hydra.utils.instantiate(refine.model, _convert_="object")
    stage1 = torch.load(last, weights_only=True)["state_dict"]
    for name, value in module.state_dict().items():
        if name.startswith("net.") and not name.startswith("net.refiner."):
            assert torch.equal(value, stage1[name]), name


@pytest.mark.slow  # multi-process
def test_two_process_ddp_on_cpu_trains_and_tests(make_config):
    """`trainer=ddp_cpu` spawns its ranks (no re-run of the command line, so it also works
    inside a Hydra multirun); the datamodule and model must survive being sent to them."""
    fast = [o for o in FAST if not o.startswith(("trainer=", "logger="))]
    cfg = make_config("model=bgmv2_mobilenetv2", "trainer=ddp_cpu", "logger=none", *fast,
                      "trainer.max_epochs=1", "trainer.limit_train_batches=2")  # fmt: skip
    metrics = train(cfg)
    assert set(metrics) >= TEST_KEYS


def test_a_failed_run_still_finishes_its_wandb_run(make_config, monkeypatch):
    import wandb
    from lightning.pytorch import Trainer

    def crash(*args, **kwargs):
        raise RuntimeError("crashed inside fit")

    monkeypatch.setenv("WANDB_MODE", "offline")
    monkeypatch.setattr(Trainer, "fit", crash)  # after the W&B run has started
    cfg = make_config("model=bgmv2_mobilenetv2", *FAST, "logger=wandb")
    with pytest.raises(RuntimeError, match="crashed inside fit"):
        train(cfg)
    assert wandb.run is None
    assert list((Path(cfg.paths.output_dir) / "wandb").glob("offline-run-*"))


@pytest.mark.parametrize("model", ["modnet_temporal", "bgmv2"])
def test_clip_evaluation_reports_dtssd(make_config, model):
    backbone = ["model.net.backbone=mobilenetv2"] if model.startswith("bgmv2") else []
    cfg = make_config(f"model={model}", *backbone, "debug=fdr", *FAST, "model.clip_eval=true",
                      "model.ofd=true", "data.test_samples=null")  # fmt: skip
    metrics = train(cfg)
    assert metrics["test/dtssd"] > 0
    assert set(metrics) >= TEST_KEYS
    with (Path(cfg.paths.output_dir) / "test_samples.csv").open() as f:
        frames = [row["id"] for row in csv.DictReader(f)]
    assert frames and len(frames) == len(set(frames))  # one row per scored frame
