"""The two tasks behind `train.py` and `eval.py`: instantiate from the Hydra config, run, write
`metrics.json`, and always close the loggers (a failed run still finishes its W&B run)."""

from __future__ import annotations

import functools
import inspect
import json
import logging
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hydra
import lightning as L
import torch
from hydra.core.hydra_config import HydraConfig
from hydra.types import RunMode
from lightning.pytorch import Callback, LightningDataModule, LightningModule, Trainer
from lightning.pytorch.callbacks import LearningRateMonitor
from lightning.pytorch.loggers import Logger, WandbLogger
from lightning.pytorch.trainer.states import TrainerStatus
from lightning.pytorch.utilities.exceptions import SIGTERMException
from omegaconf import DictConfig, OmegaConf, open_dict

from mattebench.callbacks import InterruptCheckpoint, RandomStateCheckpoint, StopOnNonFiniteLoss
from mattebench.models.checkpoints import read_checkpoint
from mattebench.quiet import silence_dependency_noise

log = logging.getLogger(__name__)

#: `weights_only=True` for Lightning's own checkpoint loads where its Trainer takes it (2.6+;
#: the package allows 2.2+): torch honours an explicit value over
#: `TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD`. Older ones are kept safe by `checked_checkpoint` alone.
LIGHTNING_WEIGHTS_ONLY = (
    {"weights_only": True} if "weights_only" in inspect.signature(Trainer.test).parameters else {}
)


def task_wrapper(task: Callable[[DictConfig], dict[str, float]]) -> Callable:
    """Run a task, then finish the W&B run whatever happened, so the next job of a multirun
    starts clean and an interrupted run is still readable offline."""

    @functools.wraps(task)
    def wrapped(cfg: DictConfig) -> dict[str, float]:
        silence_dependency_noise()
        try:
            return task(cfg)
        finally:
            _finish_wandb()
            log.info("Output dir: %s", cfg.paths.output_dir)

    return wrapped


@task_wrapper
def train(cfg: DictConfig) -> dict[str, float]:
    """Fit, then test the best checkpoint; returns validation and test metrics."""
    if cfg.get("seed") is not None:
        L.seed_everything(cfg.seed, workers=True)
    cfg = _resume_in_run_dir(cfg)
    fit = bool(cfg.get("train")) and _trainable(cfg.model)
    resume = checked_checkpoint(cfg.get("ckpt_path")) if fit else None
    stages = [stage for stage, wanted in (("fit", fit), ("test", cfg.get("test"))) if wanted]
    datamodule, model, trainer = _instantiate(cfg, stages)
    if fit:
        try:
            trainer.fit(model, datamodule=datamodule, ckpt_path=resume, **LIGHTNING_WEIGHTS_ONLY)
        except SystemExit as stop:  # Lightning's exit after SIGTERM (status 0) or Ctrl-C
            if trainer.state.status != TrainerStatus.INTERRUPTED:
                raise
            raise SystemExit(_report_interruption(trainer, stop)) from None
    metrics = _scalars(trainer.callback_metrics)
    if fit:  # methods may train for different numbers of steps: the report shows them
        metrics["train/steps"] = trainer.global_step
    if cfg.get("test"):
        best = checked_checkpoint(_best_checkpoint(trainer))
        trainer.test(model, datamodule=datamodule, ckpt_path=best, **LIGHTNING_WEIGHTS_ONLY)
        metrics.update(_scalars(trainer.callback_metrics))
        metrics["best_checkpoint"] = best
    finish_run(trainer, model, metrics, Path(cfg.paths.output_dir))
    return metrics


@task_wrapper
def evaluate(cfg: DictConfig) -> dict[str, float]:
    """Test a checkpoint on the configured data; writes the same `metrics.json` as training."""
    checkpoint = Path(checked_checkpoint(cfg.ckpt_path))
    source = checkpoint_run(checkpoint)
    with open_dict(cfg):
        cfg.seed = source["seed"]  # the checkpoint's training seed, not eval.yaml's default
    datamodule, model, trainer = _instantiate(cfg, ["test"])
    trainer.test(model, datamodule=datamodule, ckpt_path=str(checkpoint), **LIGHTNING_WEIGHTS_ONLY)
    metrics = _scalars(trainer.callback_metrics)
    metrics["run"] = source
    finish_run(trainer, model, metrics, Path(cfg.paths.output_dir))
    return metrics


def checked_checkpoint(path: str | None) -> str | None:
    """`path`, once `read_checkpoint` has read it weights-only, before Lightning loads it: a file
    holding Python objects is refused in one line before any data or model is built. Lightning
    before 2.6 cannot be asked for a weights-only load (it loads with `weights_only=False` or
    torch's default, itself False before torch 2.6 or with `TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1`),
    and a file that loads weights-only runs no code through a full unpickler either."""
    if path is None:
        return None
    if not Path(path).is_file():
        raise FileNotFoundError(
            f"ckpt_path={path} does not exist; pass a checkpoint written by train.py "
            "(<run dir>/checkpoints/*.ckpt)."
        )
    read_checkpoint(path)
    return str(path)


def checkpoint_run(checkpoint: Path) -> dict[str, Any]:
    """Which training run a checkpoint comes from: `<run>/checkpoints/<file>.ckpt` beside the
    run's `config.yaml` gives its directory and seed (the report keys and pairs runs by them);
    a checkpoint from elsewhere has neither (None), never eval.yaml's default seed."""
    checkpoint = checkpoint.resolve()
    run = checkpoint.parent.parent
    config = run / "config.yaml"
    trained = checkpoint.parent.name == "checkpoints" and config.is_file()
    seed = OmegaConf.load(config).get("seed") if trained else None
    return {
        "checkpoint": str(checkpoint),
        "trained_in": str(run) if trained else None,
        "seed": seed,
    }


def finish_run(
    trainer: Trainer, model: LightningModule, metrics: dict[str, Any], folder: Path
) -> None:
    """Adds the model's parameter count and the number of corrupt training images skipped
    (`data.corrupt=skip`) to `metrics`, writes them to `metrics.json` in the run directory and to
    the W&B run summary (what W&B's run table and comparer show), under the same names."""
    metrics["params"] = sum(p.numel() for p in model.parameters())
    testset = _testset(trainer.datamodule)
    if testset is not None:  # what the test metrics were computed on: name and files' hash
        metrics["testset"] = testset
    skipped = getattr(trainer.datamodule, "skipped", None)
    if skipped is not None:
        metrics["data/skipped_corrupt"] = sum(skipped.values())
        for message, times in skipped.items():
            log.warning("skipped %d time(s): %s", times, message)
    write_metrics(metrics, folder / "metrics.json")
    for logger in trainer.loggers:
        if isinstance(logger, WandbLogger):
            logger.experiment.summary.update(metrics)


def optimized_value(
    metrics: dict[str, Any], name: str | None, sweeper_needs_it: bool = False
) -> float | None:
    """The metric a sweeper minimises. When it was not logged (`train=false` or a method with
    nothing to fit: no validation; a run shorter than one validation, a diverged one) that is an
    error listing the available names if an optimising sweeper needs the value, else a warning
    and None."""
    if not name:
        return None
    if name not in metrics:
        message = f"optimized_metric={name!r} was not logged; available: {sorted(metrics)}."
        if sweeper_needs_it:
            raise KeyError(message)
        log.warning("%s Nothing is returned to a sweeper.", message)
        return None
    return float(metrics[name])


def sweeper_optimises() -> bool:
    """True in a multirun whose sweeper optimises the returned value (Optuna, ...), not
    Hydra's basic grid sweeper, which ignores it."""
    if not HydraConfig.initialized():
        return False
    hydra_cfg = HydraConfig.get()
    basic = hydra_cfg.sweeper.get("_target_", "").endswith("BasicSweeper")
    return hydra_cfg.mode == RunMode.MULTIRUN and not basic


def write_metrics(metrics: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(metrics, indent=2, sort_keys=True) + "\n")
    log.info("Metrics written to %s", path)


def _instantiate(
    cfg: DictConfig, stages: list[str]
) -> tuple[LightningDataModule, LightningModule, Trainer]:
    """The data is checked for `stages` before the model is built, so that a missing dataset
    or a bad file is reported in seconds, not after the model and the trainer are set up."""
    log.info("Data <%s>, model <%s>", cfg.data._target_, cfg.model._target_)
    # Plain containers, not DictConfig: checkpoints then load with torch.load(weights_only=True).
    datamodule: LightningDataModule = hydra.utils.instantiate(cfg.data, _convert_="object")
    datamodule.prepare_data()
    for stage in stages:
        datamodule.setup(stage)
    model: LightningModule = hydra.utils.instantiate(cfg.model, _convert_="object")
    loggers = _instantiate_group(cfg.get("logger"), Logger)
    callbacks = [
        *_instantiate_group(cfg.get("callbacks"), Callback),
        StopOnNonFiniteLoss(),
        RandomStateCheckpoint(),
        InterruptCheckpoint(str(Path(cfg.paths.output_dir) / "checkpoints")),
    ]
    if not loggers:  # `logger=none`: a learning-rate monitor would have nowhere to write
        callbacks = [c for c in callbacks if not isinstance(c, LearningRateMonitor)]
    trainer: Trainer = hydra.utils.instantiate(cfg.trainer, callbacks=callbacks, logger=loggers)
    resolved = save_resolved_config(cfg, Path(cfg.paths.output_dir) / "config.yaml")
    for logger in loggers:
        logger.log_hyperparams(resolved)
    return datamodule, model, trainer


def save_resolved_config(cfg: DictConfig, path: Path) -> dict[str, Any]:
    """The run's config with every interpolation resolved (Hydra's `.hydra/config.yaml` keeps
    them), written beside the checkpoints and sent to the loggers as the run config."""
    resolved = OmegaConf.to_container(cfg, resolve=True, throw_on_missing=False)
    resolved.pop("hydra", None)
    path.parent.mkdir(parents=True, exist_ok=True)
    OmegaConf.save(OmegaConf.create(resolved), path)
    return resolved


def _instantiate_group(group: DictConfig | None, kind: type) -> list[Any]:
    """Every entry with a `_target_` in a config group (callbacks, loggers)."""
    objects = []
    for name, entry in (group or {}).items():
        if isinstance(entry, DictConfig) and "_target_" in entry:
            obj = hydra.utils.instantiate(entry)
            if not isinstance(obj, kind):
                raise TypeError(f"{name} instantiated {type(obj).__name__}, not a {kind.__name__}.")
            objects.append(obj)
    return objects


def _trainable(model: DictConfig) -> bool:
    """What the method class declares (`MattingMethod.trainable`): a method with nothing to fit
    (the classical solvers) is only tested, so every model config can run under one `train`
    setting (a comparison sweep mixes them)."""
    trainable = getattr(hydra.utils.get_class(model._target_), "trainable", True)
    if not trainable:
        log.info("%s has nothing to fit: testing only.", model._target_)
    return trainable


def _best_checkpoint(trainer: Trainer) -> str | None:
    callback = trainer.checkpoint_callback
    best = getattr(callback, "best_model_path", "") if callback is not None else ""
    if not best:
        log.warning(
            "No best checkpoint (no checkpoint callback or no validation): testing the "
            "current weights."
        )
        return None
    return best


def _scalars(metrics: dict[str, Any]) -> dict[str, Any]:
    """Lightning's logged values as floats. A NaN or infinite value is not a result: it is left
    out, named under `non_finite` (so `metrics.json` shows it happened) and warned about."""
    out: dict[str, Any] = {}
    for name, value in metrics.items():
        number = value.item() if isinstance(value, torch.Tensor) else float(value)
        if math.isfinite(number):
            out[name] = number
        else:
            out.setdefault("non_finite", []).append(name)
            log.warning("%s is %s: not a result, left out of the metrics.", name, number)
    return out


def _report_interruption(trainer: Trainer, stop: SystemExit) -> int:
    """Says where an interrupted fit stopped and how to resume it; the exit status, 128 + the
    signal's number, so that a scheduler or a shell sees an interrupted run, not a finished one."""
    saved = next(c.ckpt_path for c in trainer.callbacks if isinstance(c, InterruptCheckpoint))
    last = Path(saved).with_name("last.ckpt")
    cause = "SIGTERM" if isinstance(stop, SIGTERMException) else "Ctrl-C"
    log.error(
        "Training stopped by %s at epoch %d, step %d. Its state is in %s: run the same command "
        "with ckpt_path=%s to go on from there%s.",
        cause, trainer.current_epoch, trainer.global_step, saved, saved,
        f" (or ckpt_path={last}: from the last validation, exactly as an uninterrupted run)"
        if last.is_file() else "",
    )  # fmt: skip
    return 143 if cause == "SIGTERM" else 130


def _resume_in_run_dir(cfg: DictConfig) -> DictConfig:
    """Resuming `<run>/checkpoints/last.ckpt` writes into `<run>` again (`resume_in_run_dir`),
    so the checkpoint callback keeps its best score and best file, and the run stays one
    directory; Hydra's new directory then holds only its own logs."""
    ckpt = Path(cfg.ckpt_path) if cfg.get("ckpt_path") else None
    if ckpt is None or not cfg.get("train") or not cfg.get("resume_in_run_dir", True):
        return cfg
    run = ckpt.resolve().parent.parent
    if ckpt.parent.name != "checkpoints" or not (run / "config.yaml").is_file():
        return cfg
    with open_dict(cfg):
        cfg.paths.output_dir = str(run)
    log.info("Resuming in the run directory of %s: %s", ckpt, run)
    return cfg


def _testset(datamodule: LightningDataModule | None) -> dict[str, Any] | None:
    """`testset_info("test")` of a datamodule that tested on a built test set, else None."""
    try:
        return datamodule.testset_info("test")
    except (AttributeError, RuntimeError):
        return None


def _finish_wandb() -> None:
    try:
        import wandb
    except ImportError:
        return
    if wandb.run is not None:
        wandb.finish()
