"""Errors a user can meet and fix (a missing dataset, a wrong checkpoint, a taken output folder),
and how the command-line entry points show them: the message alone and a non-zero exit, like
Hydra's own config errors, instead of a traceback through Lightning. `HYDRA_FULL_ERROR=1`
brings the traceback back; in a multirun the error is raised as usual, so the sweep records the
failed job and goes on to the next."""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)


class UserError(Exception):
    """An error in what the user asked for or supplied; its message says what to do."""


class CheckpointError(UserError, RuntimeError):
    """A weight file that is not a checkpoint, holds code, or does not fit the model (a
    RuntimeError, as `load_state_dict`'s own)."""


def expected_errors() -> tuple[type[BaseException], ...]:
    """Everything the entry points report as a message: the user's input or setup is at fault
    (imported here, not at the top, so that the models need not import the data layer)."""
    from mattebench.data.sources.base import CorruptImageError, DatasetLayoutError
    from mattebench.testsets.manifest import TestSetError

    return (
        UserError,
        DatasetLayoutError,
        CorruptImageError,
        TestSetError,
        FileNotFoundError,
        FileExistsError,
    )


def report_user_errors(interrupted: str = "interrupted") -> Callable[[Callable], Callable]:
    """Wraps a `@hydra.main` function: an expected error prints `Error: <message>` and exits 1;
    Ctrl-C prints the one line `interrupted` (saying how to resume) and exits 130."""

    def decorate(main: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(main)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            try:
                return main(*args, **kwargs)
            except KeyboardInterrupt:
                if _show_traceback():
                    raise
                print(interrupted, file=sys.stderr)
                raise SystemExit(130) from None
            except Exception as error:
                expected = _expected_cause(error)
                if expected is None or _show_traceback():
                    raise
                log.debug("user error", exc_info=True)
                print(
                    f"Error: {expected}\n(HYDRA_FULL_ERROR=1 shows the traceback)", file=sys.stderr
                )
                raise SystemExit(1) from None

        return wrapped

    return decorate


def _expected_cause(error: BaseException) -> BaseException | None:
    """The expected error itself, or the one behind a wrapper (Hydra's InstantiationException
    around a constructor's error), else None."""
    while error is not None:
        if isinstance(error, expected_errors()):
            return error
        error = error.__cause__
    return None


def _show_traceback() -> bool:
    # Hydra is imported here: the models and the benchmark import this module without it.
    from hydra.core.hydra_config import HydraConfig
    from hydra.types import RunMode

    if os.environ.get("HYDRA_FULL_ERROR") == "1":
        return True
    return HydraConfig.initialized() and HydraConfig.get().mode == RunMode.MULTIRUN
