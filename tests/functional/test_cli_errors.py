"""How the entry point ends a run: Ctrl-C and SIGTERM, internal errors, --debug."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import NoReturn

import pytest

from ebami.cli.main import main
from ebami.core.errors import ExitCode
from ebami.image import userdata
from tests.fakes.endpoints import SilentEndpoint


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


def test_sigterm_is_an_interrupt_like_ctrl_c(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def terminated(*_: object, **__: object) -> NoReturn:
        os.kill(os.getpid(), signal.SIGTERM)
        raise AssertionError("SIGTERM did not stop the command")

    before = signal.getsignal(signal.SIGTERM)
    monkeypatch.setattr(userdata, "render_user_data", terminated)
    assert main(["render", "--release", "2017.09"]) == ExitCode.CTRL_C
    assert capsys.readouterr().err.endswith("error: interrupted\n")
    assert signal.getsignal(signal.SIGTERM) == before  # main's handler is gone with it


def test_sigterm_to_a_real_process_waiting_for_aws_exits_130_with_the_line(
    silent_endpoint: SilentEndpoint,
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "ebami", "--region", "us-east-1", "lookup", "--release", "2017.09"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        # Connected: the process is inside a call that will never be answered.
        assert silent_endpoint.connected.wait(timeout=30), "ebami never connected"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == ExitCode.CTRL_C, err
    assert err.endswith("error: interrupted\n"), err
    assert out == ""
