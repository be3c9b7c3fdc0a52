"""What every config composes to, not only that it composes.

- Each model config builds exactly the class its `_target_` names, with arguments that class
  takes, the shared evaluation knobs (`conf/model/base/evaluation.yaml`) and no interpolation of
  run keys (`${seed}`, `${trainer...}`): run values reach the method from the run.
- Each data config extends `conf/data/base/dataset.yaml` and holds only datamodule arguments.
- Every model composes with every data config, and the model changes the data only through its
  declared data recipe (`conf/data/recipe/`), the rest being the data config's own values.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hydra
import lightning as L
import pytest
from lightning.pytorch import LightningDataModule, LightningModule, Trainer
from omegaconf import OmegaConf

from mattebench.data import MattingDataModule
from mattebench.methods import BGMv2
from tests.platform.conftest import CONF_DIR, FAST, MODELS, compose_config

DATA = sorted(p.stem for p in (CONF_DIR / "data").glob("*.yaml"))
TRAINERS = sorted(p.stem for p in (CONF_DIR / "trainer").glob("*.yaml"))
LOGGERS = sorted(p.stem for p in (CONF_DIR / "logger").glob("*.yaml"))
EVALUATION = OmegaConf.load(CONF_DIR / "model" / "base" / "evaluation.yaml")
DATA_BASE = OmegaConf.load(CONF_DIR / "data" / "base" / "dataset.yaml")
#: The model configs that name a data recipe (`conf/data/recipe/<recipe>.yaml`).
RECIPES = {"modnet": "modnet", "modnet_temporal": "modnet_temporal"}


def init_arguments(cls: type) -> set[str]:
    """Every named argument `cls(...)` accepts, through the `**kwargs` its `__init__`s pass up."""
    names: set[str] = set()
    for klass in cls.__mro__:
        if "__init__" in vars(klass):
            parameters = inspect.signature(klass.__init__).parameters.values()
            names |= {p.name for p in parameters if p.kind == p.POSITIONAL_OR_KEYWORD}
    return names - {"self"}


def strings(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for value in node.values():
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)
    elif isinstance(node, str):
        yield node


def leaves(node: Any, prefix: str = "") -> dict[str, Any]:
    """`{"a.b.c": value}` for every leaf of a plain container."""
    if not isinstance(node, dict) or not node:
        return {prefix: node}
    out: dict[str, Any] = {}
    for key, value in node.items():
        out.update(leaves(value, f"{prefix}.{key}" if prefix else str(key)))
    return out


@functools.cache
def composed(model: str, data: str | None = None) -> dict[str, Any]:
    """`train.py model=<model> [data=<data>]`'s config as a plain container, interpolations
    kept (the root is a placeholder: nothing here reads a file)."""
    overrides = [f"model={model}", *([f"data={data}"] if data else [])]
    cfg = OmegaConf.to_container(compose_config(Path("/placeholder"), overrides))
    cfg.pop("hydra")
    return cfg


def recipe_keys(recipe: str) -> set[str]:
    """The data keys a data recipe sets, its parent recipes' included."""
    cfg = OmegaConf.load(CONF_DIR / "data" / "recipe" / f"{recipe}.yaml")
    keys = set(leaves(OmegaConf.to_container(cfg.data)))
    for parent in cfg.get("defaults", []):
        if isinstance(parent, str) and parent != "_self_":
            keys |= recipe_keys(parent)
    return keys


@pytest.mark.parametrize("model", MODELS)
def test_every_model_config_builds_the_class_its_target_names(make_config, model):
    cfg = make_config(f"model={model}")
    module = hydra.utils.instantiate(cfg.model)
    cls = hydra.utils.get_class(cfg.model._target_)
    assert type(module) is cls
    assert set(cfg.model) - {"_target_"} <= init_arguments(cls), "a key the class does not take"
    for knob, value in EVALUATION.items():
        assert cfg.model[knob] == value, knob
    run_keys = [s for s in strings(OmegaConf.to_container(cfg.model)) if "${" in s]
    assert not run_keys, f"model configs read no run keys: {run_keys}"
    groups = module.parameter_groups()
    assert sum(len(g["params"]) for g in groups) == len(list(module.parameters()))


@pytest.mark.parametrize("data", DATA)
def test_every_data_config_extends_the_base_with_datamodule_arguments(make_config, data):
    cfg = make_config(f"data={data}", "model=bgmv2_base")
    assert set(cfg.data) >= set(DATA_BASE) - {"defaults"}
    assert set(cfg.data) - {"_target_"} <= init_arguments(MattingDataModule)
    for key in ("train", "val", "test", "testsets"):
        assert not OmegaConf.is_missing(cfg.data, key), f"data={data} leaves {key} to the base"
    datamodule = hydra.utils.instantiate(cfg.data)
    assert isinstance(datamodule, MattingDataModule)
    assert (datamodule.hparams.size, datamodule.hparams.batch_size) == (
        cfg.data.size,
        cfg.data.batch_size,
    )


def test_eval_seed_is_set_without_a_plus_and_reaches_the_datamodule(tmp_path):
    """docs/testsets.md names `data.eval_seed`, the seed the built sets come from."""
    cfg = compose_config(tmp_path, ["data.eval_seed=3"])
    assert hydra.utils.instantiate(cfg.data, _convert_="object").eval_seed == 3


@pytest.mark.parametrize(
    "model",
    # one model per way of touching the data (none, MODNet's recipe, the temporal one) in
    # `make test`; the rest, the same composition, in `make test-all`
    [pytest.param(m, marks=() if m in {"bgmv2_base", *RECIPES} else pytest.mark.slow)
     for m in MODELS],
)  # fmt: skip
def test_every_model_composes_with_every_data_config(model):
    recipe = RECIPES.get(model)
    allowed = recipe_keys(recipe) if recipe else set()
    pipeline = "modnet" if recipe else "bgmv2"  # both recipes swap in MODNet's pipelines
    for data in DATA:
        cfg = composed(model, data)
        assert cfg["model"] == composed(model)["model"], f"the model node depends on data={data}"
        got, own = leaves(cfg["data"]), leaves(composed("bgmv2_base", data)["data"])
        changed = {k for k in set(got) | set(own) if got.get(k) != own.get(k)}
        changed = {k for k in changed if not k.startswith("sample_augment.")}
        # a recipe may turn a null node into its settings (coco_person has no batch_augment)
        assert all(any(a == k or a.startswith(k + ".") for a in allowed) for k in changed), (
            data,
            changed - allowed,
        )
        for job in ("foreground", "background"):
            path = CONF_DIR / "data" / "sample_augment" / job / f"{pipeline}.yaml"
            assert cfg["data"]["sample_augment"][job] == OmegaConf.to_container(
                OmegaConf.load(path)
            ), (data, job)


def test_run_values_reach_the_method_from_the_run(make_config):
    """HDMatt's patch sampler follows the run seed and its cosine schedule spans the run's
    epochs, though its model config names neither."""
    cfg = make_config(
        "model=hdmatt", "seed=7", "trainer=cpu", "trainer.max_epochs=5", "logger=none"
    )
    L.seed_everything(cfg.seed)
    module = hydra.utils.instantiate(cfg.model, _convert_="object")
    assert module.seed == 7
    module.trainer = hydra.utils.instantiate(cfg.trainer)
    assert module.configure_optimizers()["lr_scheduler"].T_max == 5
    fixed = make_config("model=hdmatt", "model.seed=3", "+model.scheduler.T_max=2", "seed=7")
    module = hydra.utils.instantiate(fixed.model, _convert_="object")
    module.trainer = hydra.utils.instantiate(cfg.trainer)
    assert module.seed == 3
    assert module.configure_optimizers()["lr_scheduler"].T_max == 2


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
