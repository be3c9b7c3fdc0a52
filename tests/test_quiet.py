"""Dependency noise a user can do nothing about is silenced; other warnings still show."""

from __future__ import annotations

import logging
import warnings

from lightning.pytorch.utilities.rank_zero import rank_zero_info

from mattebench.quiet import silence_dependency_noise


def test_dependency_noise_is_silenced_and_real_warnings_are_not(caplog):
    silence_dependency_noise()
    with warnings.catch_warnings(record=True) as caught:
        warnings.filterwarnings("always", message="a real problem")
        warnings.warn("`isinstance(treespec, LeafSpec)` is deprecated, use ...", stacklevel=1)
        message = "The number of training batches (3) is smaller than the logging interval"
        warnings.warn(message, stacklevel=1)
        warnings.warn("a real problem", stacklevel=1)
    assert [str(w.message) for w in caught] == ["a real problem"]
    with caplog.at_level(logging.INFO, logger="lightning.pytorch.utilities.rank_zero"):
        rank_zero_info("💡 Tip: For seamless cloud logging, try installing litlogger")
        rank_zero_info("GPU available: False, used: False")
    assert "litlogger" not in caplog.text and "GPU available" in caplog.text
