"""The subprocess seam with real processes: streaming, and signals forwarded to the group."""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

from ebami.packer.process import SubprocessRunner

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
    result = SubprocessRunner().run(
        ["sh", "-c", "echo one; echo two >&2; exit 4"],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"]},
        on_line=lines.append,
    )
    assert sorted(lines) == ["one", "two"]
    assert (result.returncode, result.interrupted_by) == (4, None)


def test_sigint_reaches_the_child_and_the_runner_waits_for_it(tmp_path: Path) -> None:
    lines: list[str] = []
    previous = signal.getsignal(signal.SIGINT)

    def on_line(line: str) -> None:
        lines.append(line)
        if line == "ready":
            # What a Ctrl-C in the terminal does to ebami.
            os.kill(os.getpid(), signal.SIGINT)

    result = SubprocessRunner().run(
        [sys.executable, "-c", WRAPPER],
        cwd=tmp_path,
        env={"PATH": os.environ["PATH"]},
        on_line=on_line,
    )
    assert lines == ["ready", "child cleaned up"]
    assert result.interrupted_by is signal.SIGINT
    assert result.returncode == 3
    assert signal.getsignal(signal.SIGINT) is previous  # ebami's own handler is back
