"""Experiment loggers: W&B that never needs a network unless you ask for one."""

from __future__ import annotations

import netrc
import os
from collections.abc import Sequence
from typing import Any

from lightning.pytorch.loggers import WandbLogger


def wandb_logged_in() -> bool:
    """True when an API key is available (WANDB_API_KEY or the `wandb login` netrc entry)."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    try:
        return netrc.netrc().authenticators("api.wandb.ai") is not None
    except (FileNotFoundError, netrc.NetrcParseError):
        return False


def wandb_logger(mode: str = "auto", tags: Sequence[str | None] = (), **kwargs: Any) -> WandbLogger:
    """A `WandbLogger`, offline unless logged in; `mode` is "auto", "online", "offline" or
    "disabled" (as WANDB_MODE). Offline runs land in `<save_dir>/wandb/offline-run-*`. Empty
    tags (e.g. the backbone of a method without a choice of one) are dropped."""
    if mode == "dryrun":  # wandb's old name for offline; it sets WANDB_MODE=dryrun itself
        mode = "offline"
    if mode not in ("auto", "online", "offline", "disabled"):
        raise ValueError(f"W&B mode must be auto, online, offline or disabled, got {mode!r}.")
    if mode == "auto":
        mode = "online" if wandb_logged_in() else "offline"
    tags = [str(tag) for tag in tags if tag]
    logger = WandbLogger(offline=mode == "offline", mode=mode, tags=tags, **kwargs)
    # Lightning always passes `anonymous` (None here), which W&B >= 0.19 deprecates with a
    # warning on every run; leaving it out is what W&B asks for and changes nothing else.
    if logger._wandb_init.get("anonymous") is None:
        logger._wandb_init.pop("anonymous", None)
    return logger
