"""How the entry point ends a run: Ctrl-C, internal errors, --debug."""

from __future__ import annotations

from collections.abc import Callable
from typing import NoReturn

import pytest

from ebami import userdata
from ebami.cli.main import main
from ebami.errors import ExitCode


def fail_with(exc: BaseException) -> Callable[..., NoReturn]:
    def raise_it(*_: object, **__: object) -> NoReturn:
        raise exc

    return raise_it


def test_ctrl_c_exits_130(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(userdata, "render_user_data", fail_with(KeyboardInterrupt()))
    assert main(["render", "--release", "2017.09"]) == ExitCode.CTRL_C
    assert capsys.readouterr().err.endswith("error: interrupted\n")


def test_internal_error_without_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(userdata, "render_user_data", fail_with(ValueError("boom")))
    assert main(["render", "--release", "2017.09"]) == ExitCode.ERROR
    assert capsys.readouterr().err == (
        "error: internal error: ValueError: boom; rerun with --debug for the traceback and "
        "report it\n"
    )


def test_debug_prints_the_traceback_and_api_calls(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(userdata, "render_user_data", fail_with(ValueError("boom")))
    assert main(["--debug", "render", "--release", "2017.09"]) == ExitCode.ERROR
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert "API calls: none\n" in err
    assert err.endswith("rerun with --debug for the traceback and report it\n")


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == ExitCode.USAGE
    assert "Usage: ebami" in capsys.readouterr().out
