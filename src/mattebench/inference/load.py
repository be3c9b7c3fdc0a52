"""A method from its Hydra config, with our Lightning checkpoint or an official release loaded,
for inference and export."""

from __future__ import annotations

from pathlib import Path

import hydra
from omegaconf import DictConfig

from mattebench.errors import CheckpointError, UserError
from mattebench.methods.base import MattingMethod
from mattebench.models.checkpoints import read_checkpoint


def load_method(
    model_cfg: DictConfig, ckpt_path: str | Path | None = None, weights: str | None = None
) -> MattingMethod:
    """`ckpt_path`: a checkpoint written by train.py; `weights`: an official file, loaded by the
    method's `init_weights` (equivalent to model.init_weights=...). The training-only scheduler
    is dropped: its config may refer to the trainer's, which inference does not have."""
    extra = {"scheduler": None}
    if weights:
        if not Path(weights).is_file():
            raise FileNotFoundError(f"weights={weights} does not exist.")
        extra["init_weights"] = weights
    try:
        method = hydra.utils.instantiate(model_cfg, **extra, _convert_="object")
    except Exception as error:
        if weights and "init_weights" in str(error):
            raise TypeError(
                f"{model_cfg._target_} takes no official weights (init_weights); "
                "use ckpt_path=<checkpoint of train.py> instead."
            ) from error
        raise
    if ckpt_path:
        load_checkpoint(method, Path(ckpt_path))
    return method.eval()


def load_checkpoint(method: MattingMethod, path: Path) -> None:
    """Loads a train.py checkpoint strictly: a checkpoint of another model config is an error
    that says so, not a silently half-loaded network."""
    if not path.is_file():
        raise FileNotFoundError(
            f"ckpt_path={path} does not exist; pass a checkpoint written by train.py "
            "(<run dir>/checkpoints/*.ckpt), or weights=<official release file>."
        )
    state = read_checkpoint(path)
    try:
        method.load_state_dict(state.get("state_dict", state))
    except RuntimeError as error:
        raise CheckpointError(
            f"{path} does not fit model={type(method).__name__} as configured; pass the model "
            f"config it was trained with (see its run's config.yaml). {error}"
        ) from error


def require_weights(cfg: DictConfig, method: MattingMethod, action: str) -> None:
    """Refuses to `action` (run, export) a method with parameters but no weights given
    (`ckpt_path`, `weights`, `model.init_weights`) unless `allow_random_weights=true`: the
    outputs of a random network look like a result and mean nothing."""
    given = cfg.get("ckpt_path") or cfg.get("weights") or cfg.model.get("init_weights")
    if given or cfg.allow_random_weights or not any(True for _ in method.parameters()):
        return
    raise UserError(
        f"model={cfg.model._target_.rsplit('.', 1)[-1]} has no weights to {action}: give "
        "ckpt_path=<run dir>/checkpoints/<file>.ckpt (trained with train.py) or "
        f"weights=<official release>. To {action} it with its random initial weights anyway "
        "(e.g. to try the pipeline), set allow_random_weights=true."
    )
