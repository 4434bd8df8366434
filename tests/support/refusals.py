"""A command refused for bad input, run through ebami's entry point in the test's process."""

from __future__ import annotations

import pytest

from ebami.cli.main import main
from ebami.core.errors import ExitCode


def refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """The one error line of a refused command (warnings, such as the endpoint's, aside)."""
    assert main(argv) == ExitCode.USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = [line for line in captured.err.splitlines() if not line.startswith("warning: ")]
    assert len(lines) == 1, captured.err
    return lines[0]
