"""Compose the real Hydra configs in-process, with every path under a temporary directory."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest
from hydra import compose, initialize_config_dir
from hydra.core.global_hydra import GlobalHydra
from hydra.core.hydra_config import HydraConfig
from omegaconf import DictConfig, open_dict

CONF_DIR = Path(__file__).resolve().parents[2] / "conf"
#: Every model config name (`conf/model/*.yaml`; the shared parts live in `conf/model/base/`).
MODELS = sorted(p.stem for p in (CONF_DIR / "model").glob("*.yaml"))

#: A small, fast set-up: MobileNetV2, small crops, few samples, CPU, no W&B.
FAST = [
    "trainer=cpu",
    "logger=csv",
    "data.num_workers=0",
    "data.batch_size=2",
    "data.size=128",
    "data.val_samples=2",
    "data.test_samples=2",
]


def compose_config(root: Path, overrides: list[str], config_name: str = "train") -> DictConfig:
    """The config `python <config_name>.py <overrides>` would run with, rooted at `root`."""
    GlobalHydra.instance().clear()
    with initialize_config_dir(str(CONF_DIR), version_base="1.3"):
        cfg = compose(config_name, overrides=overrides, return_hydra_config=True)
    with open_dict(cfg):
        cfg.paths.root_dir = str(root)
        cfg.paths.output_dir = str(root / "run")
        cfg.hydra.runtime.output_dir = str(root / "run")
        cfg.hydra.runtime.cwd = str(root)
        cfg.hydra.job.num = 0
    HydraConfig.instance().set_config(cfg)
    return cfg


def logged(cfg: DictConfig, name: str) -> list[float]:
    """Every value of `name` the CSV logger wrote for the run of `cfg`, in order."""
    path = Path(cfg.paths.output_dir) / "csv" / "version_0" / "metrics.csv"
    with path.open() as f:
        return [float(row[name]) for row in csv.DictReader(f) if row.get(name)]


@pytest.fixture(scope="session")
def sample_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project root whose data/ holds the generated VideoMatte240K sample, shared by tests."""
    root = tmp_path_factory.mktemp("project")
    cfg = compose_config(root, ["data=videomatte_sample"])
    import hydra

    hydra.utils.instantiate(cfg.data).prepare_data()
    return root


@pytest.fixture
def make_config(sample_root: Path, tmp_path: Path) -> Callable[..., DictConfig]:
    """Configs sharing the generated sample data, each run writing under its own tmp_path."""

    def make(*overrides: str, config_name: str = "train") -> DictConfig:
        cfg = compose_config(tmp_path, list(overrides), config_name)
        with open_dict(cfg):
            cfg.paths.data_dir = str(sample_root / "data")
        return cfg

    yield make
    GlobalHydra.instance().clear()
