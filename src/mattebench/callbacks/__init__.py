"""Lightning callbacks the tasks always attach (safety checks, not preferences)."""

from mattebench.callbacks.finite_loss import NonFiniteLossError, StopOnNonFiniteLoss

__all__ = ["NonFiniteLossError", "StopOnNonFiniteLoss"]
