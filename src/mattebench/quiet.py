"""Silence what dependencies print that a user can do nothing about, so that the warnings left
in a run's output are the ones that need attention. Each entry names its source."""

from __future__ import annotations

import logging
import warnings

#: (message regex, where it comes from) for `warnings.warn` noise.
WARNINGS = (
    # Lightning's own pytree helper, on every fit with torch >= 2.10: nothing a caller can change.
    (r".*isinstance\(treespec, LeafSpec\)` is deprecated", "lightning.pytorch.utilities._pytree"),
    # Short sample runs and debug runs have fewer batches than the logging interval by design.
    (r"The number of training batches \(\d+\) is smaller than the logging interval", "fit_loop"),
)

#: Prefixes of Lightning's `rank_zero_info` advertisements (litlogger, litmodels).
TIPS = ("💡 Tip:",)


class _DropTips(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not str(record.getMessage()).startswith(TIPS)


def silence_dependency_noise() -> None:
    """Idempotent; called by the train, eval and infer tasks."""
    for pattern, _source in WARNINGS:
        warnings.filterwarnings("ignore", message=pattern)
    rank_zero = logging.getLogger("lightning.pytorch.utilities.rank_zero")
    if not any(isinstance(f, _DropTips) for f in rank_zero.filters):
        rank_zero.addFilter(_DropTips())
