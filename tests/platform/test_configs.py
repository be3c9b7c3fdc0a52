"""Every config composes and instantiates."""

from pathlib import Path

import hydra
import pytest
from lightning.pytorch import LightningDataModule, LightningModule, Trainer

from mattebench.methods import BGMv2
from tests.platform.conftest import CONF_DIR, FAST

MODELS = sorted(p.stem for p in (CONF_DIR / "model").glob("*.yaml"))
DATA = sorted(p.stem for p in (CONF_DIR / "data").glob("*.yaml"))
TRAINERS = sorted(p.stem for p in (CONF_DIR / "trainer").glob("*.yaml"))
LOGGERS = sorted(p.stem for p in (CONF_DIR / "logger").glob("*.yaml"))


@pytest.mark.parametrize("model", MODELS)
def test_every_model_config_instantiates(make_config, model):
    cfg = make_config(f"model={model}")
    module = hydra.utils.instantiate(cfg.model)
    assert isinstance(module, LightningModule)
    groups = module.parameter_groups()
    assert sum(len(g["params"]) for g in groups) == len(list(module.parameters()))


@pytest.mark.parametrize("data", DATA)
def test_every_data_config_instantiates(make_config, data):
    cfg = make_config(f"data={data}")
    assert isinstance(hydra.utils.instantiate(cfg.data), LightningDataModule)


@pytest.mark.parametrize("trainer", TRAINERS)
def test_every_trainer_config_instantiates(make_config, trainer):
    if trainer in ("gpu", "ddp", "ddp_slurm"):
        pytest.skip("needs a GPU")
    cfg = make_config(f"trainer={trainer}", "logger=none")
    assert isinstance(hydra.utils.instantiate(cfg.trainer), Trainer)


@pytest.mark.parametrize("logger", LOGGERS)
def test_every_logger_config_instantiates(make_config, logger, monkeypatch):
    monkeypatch.setenv("WANDB_MODE", "offline")
    cfg = make_config(f"logger={logger}")
    for entry in (cfg.get("logger") or {}).values():
        hydra.utils.instantiate(entry)


def test_run_names_tags_and_group_come_from_the_choices(make_config):
    cfg = make_config("model=bgmv2_base", "data=videomatte_sample", "seed=3")
    assert cfg.run_name == "bgmv2_base_videomatte_sample_s3"
    assert list(cfg.tags) == ["bgmv2_base", "videomatte_sample", "resnet50"]
    assert cfg.logger.wandb.group == "bgmv2_base_videomatte_sample"
    assert list(make_config("model=modnet").tags) == ["modnet", "videomatte_sample", None]


def test_fast_settings_compose(make_config):
    cfg = make_config("model=bgmv2_mobilenetv2", *FAST)
    assert isinstance(hydra.utils.instantiate(cfg.model), BGMv2)
    assert Path(cfg.paths.output_dir).name == "run"


@pytest.mark.parametrize(
    "experiment", sorted(p.stem for p in (CONF_DIR / "experiment").glob("*.yaml"))
)
def test_every_experiment_composes_and_instantiates(make_config, experiment):
    cfg = make_config(f"experiment={experiment}", "logger=none")
    assert isinstance(hydra.utils.instantiate(cfg.model), LightningModule)
    assert isinstance(hydra.utils.instantiate(cfg.data), LightningDataModule)
