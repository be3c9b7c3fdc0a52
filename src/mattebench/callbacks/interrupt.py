"""A resumable checkpoint when training is stopped by SIGTERM (a scheduler's preemption, `kill`)
or Ctrl-C. Lightning stops at the next batch but saves nothing, and after SIGTERM it even exits
with status 0: a killed run looked finished and lost everything since its last validation."""

from __future__ import annotations

from lightning.pytorch import LightningModule, Trainer
from lightning.pytorch.callbacks import OnExceptionCheckpoint
from lightning.pytorch.utilities.exceptions import SIGTERMException

INTERRUPTIONS = (SIGTERMException, KeyboardInterrupt)


class InterruptCheckpoint(OnExceptionCheckpoint):
    """Lightning's `OnExceptionCheckpoint` for interruptions only: a run that failed (a diverged
    loss, a corrupt file) leaves no checkpoint that a resume could take for progress. The file is
    removed when a run with it finishes normally (Lightning's `teardown`)."""

    def __init__(self, dirpath: str) -> None:
        super().__init__(dirpath, filename="interrupted")

    def on_exception(
        self, trainer: Trainer, pl_module: LightningModule, exception: BaseException
    ) -> None:
        if isinstance(exception, INTERRUPTIONS):  # the full state: optimizer, loops, data RNGs
            trainer.save_checkpoint(self.ckpt_path, weights_only=False)
