"""The one model registry: every `conf/model/<name>.yaml`, built exactly as training builds it.

A method's name is its model config's name (`bgmv2`, `modnet_temporal`, `classical_knn`, ...),
everywhere: `train.py model=<name>`, the benchmark's `--methods <name>`, `export.py` and
`infer.py model=<name>`, and the report's rows. `build_method` composes `train.yaml` with
`model=<name>` through Hydra's compose API and instantiates `cfg.model`, so the benchmark runs
the very object a training run would (its inference policy, input normalisation, trimap rule),
not a look-alike. Hydra is imported only when a config is composed.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from omegaconf import DictConfig

    from mattebench.methods.base import MattingMethod


def config_dir() -> Path:
    """`conf/` of the project: under MATTEBENCH_ROOT or the working directory, else the
    checkout this package is installed from."""
    for root in (os.environ.get("MATTEBENCH_ROOT"), os.getcwd()):
        if root and (Path(root) / "conf" / "train.yaml").is_file():
            return Path(root) / "conf"
    return Path(__file__).resolve().parents[2] / "conf"


def model_names() -> list[str]:
    """Every model config name, sorted (`conf/model/*.yaml`)."""
    return sorted(path.stem for path in (config_dir() / "model").glob("*.yaml"))


def compose(overrides: Sequence[str] = (), config_name: str = "train") -> DictConfig:
    """The config `python <config_name>.py <overrides>` would run with (no Hydra run started)."""
    from hydra import compose as hydra_compose
    from hydra import initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    GlobalHydra.instance().clear()
    with initialize_config_dir(str(config_dir()), version_base="1.3"):
        return hydra_compose(config_name, overrides=list(overrides))


def build_method(name: str, overrides: Sequence[str] = ()) -> MattingMethod:
    """The method of `train.py model=<name> <overrides>` (random or `model.init_weights`
    weights), in eval mode. An unknown name is an error that lists the known ones."""
    import hydra

    names = model_names()
    if name not in names:
        raise ValueError(
            f"no model config {name!r} in {config_dir() / 'model'}; choose from {names}"
        )
    cfg = compose([f"model={name}", *overrides])
    return hydra.utils.instantiate(cfg.model, _convert_="object").eval()
