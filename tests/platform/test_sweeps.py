"""Multirun sweeps as users run them (a subprocess per command line): the method comparison
and its report, an Optuna search, DDP inside a multirun, and the SLURM launcher config."""

from __future__ import annotations

import csv
import os
import subprocess
import sys
from pathlib import Path

import pytest
from hydra.core.global_hydra import GlobalHydra
from omegaconf import OmegaConf

from mattebench.report import find_runs, write_report
from tests.platform.conftest import CONF_DIR, compose_config

REPO = CONF_DIR.parent
TINY = [
    "trainer.limit_train_batches=1",
    "data.size=64",
    "data.batch_size=2",
    "data.val_samples=2",
]


def multirun(root: Path, data_dir: Path, *overrides: str) -> Path:
    """`python train.py -m <overrides>` in a fresh project root; returns the sweep directory."""
    sweep = root / "sweep"
    env = {**os.environ, "MATTEBENCH_ROOT": str(root), "WANDB_MODE": "offline"}
    command = [sys.executable, str(REPO / "train.py"), "-m", *overrides,
               f"paths.data_dir={data_dir}", f"hydra.sweep.dir={sweep}"]  # fmt: skip
    result = subprocess.run(command, cwd=root, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    return sweep


@pytest.fixture(scope="module")
def comparison(sample_root: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The comparison experiment, two methods x two seeds, W&B offline."""
    root = tmp_path_factory.mktemp("compare")
    return multirun(root, sample_root / "data", "experiment=compare_methods_sample",
                    "model=modnet,modnet_temporal", *TINY)  # fmt: skip


@pytest.mark.slow  # multi-process
def test_compare_sweep_runs_every_method_and_seed_on_the_same_test_frames(comparison):
    runs = find_runs([comparison])
    assert sorted((r.method, r.seed) for r in runs) == [
        ("modnet", 1), ("modnet", 2), ("modnet_temporal", 1), ("modnet_temporal", 2)
    ]  # fmt: skip
    frames = {tuple(row["id"] for row in run.samples) for run in runs}
    assert len(frames) == 1 and len(next(iter(frames))) > 1  # identical test frames, in order
    for run in runs:
        assert run.metrics["test/dtssd"] > 0
        assert list((run.path / "wandb").glob("offline-run-*"))
        config = OmegaConf.load(run.path / "config.yaml")
        assert config.experiment_name == "compare_methods_sample"  # the W&B group
        assert list(config.tags) == [run.method, "videomatte_sample", None]


@pytest.mark.slow  # multi-process
def test_report_tables_every_method_with_mean_and_std(comparison, tmp_path):
    (comparison / "4" / ".hydra").mkdir(parents=True)  # a job that died before any result
    (comparison / "4" / ".hydra" / "overrides.yaml").write_text("- model=hdmatt\n- seed=1\n")
    report = write_report(find_runs([comparison]), tmp_path).read_text()
    rows = [line for line in report.splitlines() if line.startswith("| modnet")]
    assert len(rows) == 2 and all(" ± " in row and "| 2 |" in row for row in rows)
    assert "## Runs without results" in report and "model=hdmatt seed=1" in report
    for figure in ("quality_vs_speed.png", "per_sample_sad.png", "samples.png"):
        assert (tmp_path / figure).stat().st_size > 0 and figure in report
    assert "<table>" in (tmp_path / "report.html").read_text()


@pytest.mark.slow  # multi-process
def test_report_reads_the_benchmark_for_the_cost_columns(comparison, tmp_path):
    bench = tmp_path / "bench.json"
    bench.write_text('[{"method": "modnet", "fps": 12.5, "peak_mb": 300.0},'
                     ' {"method": "modnet", "fps": 8.0, "peak_mb": 200.0}]')  # fmt: skip
    report = write_report(find_runs([comparison]), tmp_path, bench=bench).read_text()
    (modnet,) = [line for line in report.splitlines() if line.startswith("| modnet |")]
    assert "| 12.5 | 300.0 |" in modnet  # the fastest setting


@pytest.mark.slow  # multi-process
def test_optuna_sweep_runs_trials_and_reports_the_best(sample_root, tmp_path):
    sweep = multirun(tmp_path, sample_root / "data", "hparams_search=optuna", "model=modnet",
                     "hydra.sweeper.n_trials=2", "hydra.sweeper.sampler.n_startup_trials=1",
                     "trainer=cpu", "logger=none", "trainer.max_epochs=1",
                     "data.test_samples=2", *TINY)  # fmt: skip
    results = OmegaConf.load(sweep / "optimization_results.yaml")
    assert set(results.best_params) == {"model.lr"}  # batch size fixed on the command line
    trials = [float(OmegaConf.load(sweep / str(n) / "metrics.json")["val/sad_image"])
              for n in range(2)]  # fmt: skip
    assert results.best_value == pytest.approx(min(trials))


@pytest.mark.slow  # multi-process
def test_ddp_inside_a_multirun_runs_each_job_once(sample_root, tmp_path):
    sweep = multirun(tmp_path, sample_root / "data", "model=modnet", "trainer=ddp_cpu",
                     "seed=1,2", "logger=none", "trainer.max_epochs=1", "data.test_samples=2",
                     "callbacks=none", *TINY, "data.size=128", "data.batch_size=4")  # fmt: skip
    assert sorted(p.name for p in sweep.iterdir() if p.is_dir()) == ["0", "1"]  # not nested
    for job in ("0", "1"):
        assert (sweep / job / "metrics.json").is_file()
        for rank in ("rank0", "rank1"):  # each rank records the test samples it saw
            with open(sweep / job / rank / "test_samples.csv") as f:
                assert list(csv.DictReader(f))


@pytest.mark.slow  # multi-process
def test_multirun_resolves_its_sweep_dir_in_the_working_directory(sample_root, tmp_path):
    """As typed by a user: no MATTEBENCH_ROOT, no hydra.sweep.dir (the sweep directory is
    resolved before Hydra's runtime config exists)."""
    env = {k: v for k, v in os.environ.items() if k != "MATTEBENCH_ROOT"}
    command = [sys.executable, str(REPO / "train.py"), "-m", "model=bgmv2_base", "seed=1,2",
               "train=false", "logger=none", "trainer=cpu", "data.test_samples=2",
               f"paths.data_dir={sample_root / 'data'}"]  # fmt: skip
    result = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    (sweep,) = (tmp_path / "logs" / "train" / "multiruns").iterdir()
    assert all((sweep / job / "metrics.json").is_file() for job in ("0", "1"))


def test_slurm_launcher_config_composes(tmp_path):
    cfg = compose_config(tmp_path, ["hydra/launcher=slurm", "trainer=ddp_slurm"])
    GlobalHydra.instance().clear()
    assert cfg.hydra.launcher._target_.endswith("SlurmLauncher")
    assert cfg.hydra.launcher.gpus_per_node == cfg.hydra.launcher.tasks_per_node
    assert cfg.trainer.strategy == "ddp" and cfg.trainer.num_nodes == 1
