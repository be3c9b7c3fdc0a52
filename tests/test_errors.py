"""How the entry points show expected errors and Ctrl-C (`mattebench.errors`)."""

from __future__ import annotations

import pytest
from hydra.errors import InstantiationException

from mattebench.errors import CheckpointError, report_user_errors


def _main(error: BaseException):
    @report_user_errors("interrupted; run the same command again to resume")
    def main() -> None:
        raise error

    return main


def test_ctrl_c_prints_one_line_and_exits_130(capsys, monkeypatch):
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    with pytest.raises(SystemExit) as done:
        _main(KeyboardInterrupt())()
    assert done.value.code == 130
    assert capsys.readouterr().err == "interrupted; run the same command again to resume\n"


def test_an_expected_error_behind_hydra_instantiation_prints_its_message(capsys, monkeypatch):
    monkeypatch.delenv("HYDRA_FULL_ERROR", raising=False)
    try:
        raise CheckpointError("w.pth is not a checkpoint")
    except CheckpointError as cause:
        wrapped = InstantiationException("Error in call to target 'BGMv2'")
        wrapped.__cause__ = cause
    with pytest.raises(SystemExit) as done:
        _main(wrapped)()
    assert done.value.code == 1
    assert capsys.readouterr().err.startswith("Error: w.pth is not a checkpoint\n")


def test_full_error_and_unexpected_errors_keep_the_traceback(monkeypatch):
    with pytest.raises(ZeroDivisionError):  # a bug, not a user error
        _main(ZeroDivisionError())()
    monkeypatch.setenv("HYDRA_FULL_ERROR", "1")
    with pytest.raises(CheckpointError):
        _main(CheckpointError("x"))()
