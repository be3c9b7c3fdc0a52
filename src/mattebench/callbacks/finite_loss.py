"""Stop training at the first non-finite loss, before the step that would spread it into the
weights: a diverged run otherwise goes on, fails later inside a metric's input check, or saves a
broken model as its "best" checkpoint."""

from __future__ import annotations

import torch
from lightning.pytorch import Callback, LightningModule, Trainer

from mattebench.errors import UserError


class NonFiniteLossError(UserError):
    """The training loss became NaN or infinite."""


class StopOnNonFiniteLoss(Callback):
    def on_before_backward(
        self, trainer: Trainer, pl_module: LightningModule, loss: torch.Tensor
    ) -> None:
        if torch.isfinite(loss).all():
            return
        rates = sorted({group["lr"] for opt in trainer.optimizers for group in opt.param_groups})
        raise NonFiniteLossError(
            f"the training loss is {loss.item()} at step {trainer.global_step} (epoch "
            f"{trainer.current_epoch}, batch {trainer.fit_loop.epoch_loop.batch_idx}): training "
            f"diverged. The learning rate is the usual cause (now {', '.join(map(str, rates))}): "
            "lower model.lr (e.g. 10x) and train again; the checkpoints written so far predate "
            "the divergence."
        )
