"""The subprocess seam with real processes: streaming, silences reported, and signals
forwarded to the group."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from ebami.packer.process import Silence, SubprocessRunner

# A parent that ignores SIGINT and leaves it to its child, as the packer binary does, and a
# child that cleans up when interrupted.
CHILD = """
import os, signal, sys, time
def clean_up(*_):
    os.write(1, b"child cleaned up\\n")
    sys.exit(3)
signal.signal(signal.SIGINT, clean_up)
print("ready", flush=True)
while True:
    time.sleep(0.05)
"""
WRAPPER = f"""
import signal, subprocess, sys
signal.signal(signal.SIGINT, signal.SIG_IGN)
sys.exit(subprocess.call([sys.executable, "-c", {CHILD!r}]))
"""


def test_lines_are_streamed_with_stderr_merged(tmp_path: Path) -> None:
    lines: list[str] = []
    result = (
        SubprocessRunner()
        .start(
            ["sh", "-c", "echo one; echo two >&2; printf 'no end\\r\\nlast'; exit 4"],
            cwd=tmp_path,
            env={"PATH": os.environ["PATH"]},
        )
        .finish(lines.append)
    )
    assert sorted(lines) == ["last", "no end", "one", "two"]
    assert (result.returncode, result.interrupted_by) == (4, None)


def test_sigint_reaches_the_child_and_the_runner_waits_for_it(tmp_path: Path) -> None:
    lines: list[str] = []
    previous = signal.getsignal(signal.SIGINT)

    def on_line(line: str) -> None:
        lines.append(line)
        if line == "ready":
            # What a Ctrl-C in the terminal does to ebami.
            os.kill(os.getpid(), signal.SIGINT)

    result = (
        SubprocessRunner()
        .start([sys.executable, "-c", WRAPPER], cwd=tmp_path, env={"PATH": os.environ["PATH"]})
        .finish(on_line)
    )
    assert lines == ["ready", "child cleaned up"]
    assert result.interrupted_by is signal.SIGINT
    assert result.returncode == 3
    assert signal.getsignal(signal.SIGINT) is previous  # ebami's own handler is back


def test_a_silence_is_reported_while_it_lasts_and_output_ends_it(tmp_path: Path) -> None:
    events: list[str] = []
    started = SubprocessRunner().start(
        ["sh", "-c", "echo step; sleep 1; echo done"],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"]},
    )
    result = started.finish(
        events.append, silence=Silence(0.2, lambda seconds: events.append("silent"))
    )
    assert result.returncode == 0
    assert events[0] == "step"
    assert events[-1] == "done"
    assert set(events[1:-1]) == {"silent"}  # reported (at least once), only in the silence


def test_an_interrupted_version_probe_started_early_is_stopped_in_the_foreground(
    tmp_path: Path,
) -> None:
    # `packer version` is started while ebami plans and finished when the bake needs it; a
    # Ctrl-C then reaches it, and the result says so.
    started = SubprocessRunner().start(
        [sys.executable, "-c", "import time; print('ready', flush=True); time.sleep(60)"],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"]},
    )

    def on_line(line: str) -> None:
        if line == "ready":
            os.kill(os.getpid(), signal.SIGINT)

    result = started.finish(on_line)
    assert result.interrupted_by is signal.SIGINT
    assert result.returncode == -signal.SIGINT
