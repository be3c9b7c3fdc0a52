"""Faults a user meets (issue 15): divergence, missing data, interrupted runs, corrupt files,
runs without a validation, and how the commands report them."""

from __future__ import annotations

import json
import logging
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from lightning.pytorch import Callback
from omegaconf import open_dict

from mattebench import tasks
from mattebench.callbacks import NonFiniteLossError
from mattebench.data.sources import DatasetNotFoundError
from mattebench.methods.bgmv2 import BGMv2
from mattebench.tasks import train
from tests.platform.conftest import FAST

ROOT = Path(__file__).resolve().parents[2]
BASE = ["model=bgmv2_base", "model.net.backbone=mobilenetv2", *FAST]
SHORT = [
    "trainer.limit_train_batches=2",
    "trainer.limit_val_batches=1",
    "callbacks=[model_checkpoint]",
]


def test_a_diverging_run_stops_at_the_first_non_finite_loss(make_config):
    rates = [f"model.lr.{module}=1e30" for module in ("backbone", "aspp", "decoder")]
    cfg = make_config(*BASE, *SHORT, *rates, "trainer.max_epochs=1", "test=false")
    with pytest.raises(NonFiniteLossError, match=r"at step 1 .*lower model\.lr"):
        train(cfg)
    assert not (Path(cfg.paths.output_dir) / "metrics.json").exists()


def test_a_non_finite_metric_is_not_written_as_a_result(caplog):
    with caplog.at_level(logging.WARNING):
        metrics = tasks._scalars({"val/sad": torch.tensor(float("nan")), "val/mse": 0.5})
    assert metrics == {"val/mse": 0.5, "non_finite": ["val/sad"]}
    assert "val/sad is nan" in caplog.text


def test_a_run_without_the_optimized_metric_returns_nothing_unless_a_sweeper_needs_it(caplog):
    with caplog.at_level(logging.WARNING):
        assert tasks.optimized_value({"test/sad": 1.0}, "val/sad_unknown") is None
    assert "was not logged" in caplog.text
    with pytest.raises(KeyError, match="val/sad_unknown"):
        tasks.optimized_value({"test/sad": 1.0}, "val/sad_unknown", sweeper_needs_it=True)


def test_the_data_is_checked_before_the_model_is_built(make_config, tmp_path, monkeypatch):
    def never(*args, **kwargs):
        raise AssertionError("the model was built before the data was checked")

    monkeypatch.setattr(BGMv2, "__init__", never)
    cfg = make_config("data=videomatte", "model=bgmv2_mobilenetv2", *FAST)
    with open_dict(cfg):
        cfg.paths.data_dir = str(tmp_path / "nowhere")
    with pytest.raises(DatasetNotFoundError):
        train(cfg)


def test_a_user_error_prints_its_message_alone_and_exits_1(tmp_path):
    command = [sys.executable, "train.py", "data=videomatte", "logger=none", "trainer=cpu",
               f"paths.data_dir={tmp_path / 'no'}", f"paths.log_dir={tmp_path}"]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if k != "HYDRA_FULL_ERROR"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr + done.stdout
    assert "\nError: VideoMatte240K not found" in done.stderr and "videomatte_sample" in done.stderr
    assert "HYDRA_FULL_ERROR=1" in done.stderr


@pytest.mark.slow  # three short training runs
def test_kill_and_resume_ends_exactly_as_the_uninterrupted_run(make_config):
    """Killed after epoch 0 and resumed from last.ckpt: the same final weights (BGMv2's ASPP
    dropout draws from torch's global generator, which the checkpoint must carry) and test
    metrics to the last digit, in the same run directory, with the best checkpoint kept."""
    whole = make_config(*BASE, *SHORT, "trainer.max_epochs=2")
    uninterrupted = train(whole)

    first = make_config(*BASE, *SHORT, "trainer.max_epochs=1", "test=false")
    with open_dict(first):  # another run directory under the same project
        first.paths.output_dir = str(Path(first.paths.output_dir).parent / "killed")
    train(first)
    last = Path(first.paths.output_dir) / "checkpoints" / "last.ckpt"
    again = make_config(*BASE, *SHORT, "trainer.max_epochs=2", f"ckpt_path={last}")
    resumed = train(again)

    for key in uninterrupted:
        if key.startswith("test/"):
            assert resumed[key] == uninterrupted[key], key
    weights = [
        torch.load(Path(run.paths.output_dir) / "checkpoints" / "last.ckpt", weights_only=True)
        for run in (whole, again)
    ]
    assert weights[0]["global_step"] == weights[1]["global_step"] == 4
    for name, tensor in weights[0]["state_dict"].items():
        assert torch.equal(tensor, weights[1]["state_dict"][name]), name
    assert Path(resumed["best_checkpoint"]).parent == last.parent
    assert (
        json.loads((last.parent.parent / "metrics.json").read_text())["test/iou"]
        == (uninterrupted["test/iou"])
    )


class SigtermAtStep3(Callback):
    """Sends this process a real SIGTERM, as a scheduler's preemption or `kill` would."""

    def on_train_batch_end(self, trainer, *args) -> None:
        if trainer.global_step == 3:
            os.kill(os.getpid(), signal.SIGTERM)


def test_a_terminated_run_saves_its_state_exits_143_and_resumes(make_config, caplog):
    """Lightning stops at the next batch after SIGTERM but saved nothing and exited with status 0,
    so a preempted run looked finished."""
    killed = make_config(*BASE, *SHORT, "trainer.max_epochs=3", "test=false",
                         f"+callbacks.sigterm._target_={__name__}.SigtermAtStep3")  # fmt: skip
    with caplog.at_level(logging.ERROR), pytest.raises(SystemExit) as stop:
        train(killed)
    assert stop.value.code == 143
    run = Path(killed.paths.output_dir)
    saved = run / "checkpoints" / "interrupted.ckpt"
    assert f"stopped by SIGTERM at epoch 1, step 3. Its state is in {saved}" in caplog.text
    assert torch.load(saved, weights_only=True, map_location="cpu")["global_step"] == 3
    assert not (run / "metrics.json").exists()

    resumed = make_config(*BASE, *SHORT, "trainer.max_epochs=3", "test=false", f"ckpt_path={saved}")
    train(resumed)
    assert Path(resumed.paths.output_dir) == run  # the same run directory
    last = torch.load(run / "checkpoints" / "last.ckpt", weights_only=True, map_location="cpu")
    assert last["global_step"] == 6  # 3 epochs x 2 batches: none lost, none repeated
    assert not saved.exists()  # a finished run removes its interruption file


def test_an_error_leaves_no_interruption_checkpoint(make_config):
    rates = [f"model.lr.{module}=1e30" for module in ("backbone", "aspp", "decoder")]
    cfg = make_config(*BASE, *SHORT, *rates, "trainer.max_epochs=1", "test=false")
    with pytest.raises(NonFiniteLossError):
        train(cfg)
    assert not (Path(cfg.paths.output_dir) / "checkpoints" / "interrupted.ckpt").exists()


@pytest.mark.slow  # copies the sample and trains
def test_skipped_corrupt_images_are_counted_in_the_metrics(make_config, sample_root, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(sample_root / "data" / "samples" / "VideoMatte240K", data / "VideoMatte240K")
    backgrounds = sorted((data / "VideoMatte240K" / "Backgrounds" / "train").iterdir())
    for path in backgrounds[1:]:  # all but one training background are corrupt
        path.write_bytes(b"\xff\xd8 not a jpeg")
    cfg = make_config(*BASE, *SHORT, "trainer.max_epochs=1", "test=false", "data.corrupt=skip")
    with open_dict(cfg):
        cfg.data.train.root = str(data / "VideoMatte240K")
    metrics = train(cfg)
    assert metrics["data/skipped_corrupt"] > 0
    written = json.loads((Path(cfg.paths.output_dir) / "metrics.json").read_text())
    assert written["data/skipped_corrupt"] == metrics["data/skipped_corrupt"]
