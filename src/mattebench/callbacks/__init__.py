"""Lightning callbacks the tasks always attach (safety checks, not preferences)."""

from mattebench.callbacks.finite_loss import NonFiniteLossError, StopOnNonFiniteLoss
from mattebench.callbacks.interrupt import InterruptCheckpoint
from mattebench.callbacks.random_state import RandomStateCheckpoint

__all__ = [
    "InterruptCheckpoint",
    "NonFiniteLossError",
    "RandomStateCheckpoint",
    "StopOnNonFiniteLoss",
]
