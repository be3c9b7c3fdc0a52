"""The global random state in every checkpoint, so a resumed run draws what the uninterrupted one
would have drawn. Lightning saves the model, optimizer, loops and datamodule, not torch's global
generator; BGMv2's ASPP dropout draws from it, so a run resumed from `last.ckpt` re-seeded at
start and its weights drifted from the uninterrupted run's (MODNet has no dropout, and the data
streams keep their own generators)."""

from __future__ import annotations

import random
from typing import Any

import torch
from lightning.pytorch import Callback


class RandomStateCheckpoint(Callback):
    """Saves torch's CPU and CUDA generators and Python's `random` (tensors and ints, so the
    checkpoint still loads with `weights_only=True`) and restores them on resume. NumPy's global
    generator is not saved: nothing in training draws from it. Under DDP the checkpoint holds
    rank 0's state, which every rank then takes."""

    def state_dict(self) -> dict[str, Any]:
        version, state, gauss = random.getstate()
        return {
            "torch": torch.get_rng_state(),
            "torch.cuda": torch.cuda.get_rng_state_all() if torch.cuda.is_available() else [],
            "python": [version, list(state), gauss],
        }

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        torch.set_rng_state(state_dict["torch"])
        if state_dict["torch.cuda"] and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(state_dict["torch.cuda"])
        version, state, gauss = state_dict["python"]
        random.setstate((version, tuple(state), gauss))
