"""The subprocess seam under the Packer runner: run a command, stream its lines, forward signals.

Packer runs in its own process group, so a Ctrl-C in the terminal reaches ebami only; ebami
forwards it to that group (once per signal received) and keeps reading until Packer has
cleaned up and exited. The whole group, because `packer` is a wrapper that leaves signals to
the child doing the build, as a terminal would deliver them. Without this, Packer would see the
signal twice, and ebami could exit while Packer's instance, security group and key pair still
exist.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Protocol

from ebami.interrupts import STOP_SIGNALS, handling

FORWARDED_SIGNALS = STOP_SIGNALS
# How long to wait for Packer's clean-up when ebami itself fails while Packer runs.
CLEANUP_WAIT_SECONDS = 600


@dataclass(frozen=True)
class ProcessResult:
    returncode: int
    # The first signal ebami received and forwarded while the process ran, if any.
    interrupted_by: signal.Signals | None = None


class ProcessRunner(Protocol):
    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        on_line: Callable[[str], None],
    ) -> ProcessResult:
        """Run `argv`, pass each line of its output (stdout and stderr) to `on_line`."""
        ...


class SubprocessRunner:
    """The real thing: `subprocess.Popen` with line streaming and signal forwarding."""

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        on_line: Callable[[str], None],
    ) -> ProcessResult:
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            encoding="utf-8",
            errors="replace",
            bufsize=1,
            start_new_session=True,
        )
        received: list[signal.Signals] = []
        try:
            with _forwarding(process, received):
                assert process.stdout is not None  # noqa: S101 - stdout=PIPE above
                for line in process.stdout:
                    on_line(line.rstrip("\n"))
                returncode = process.wait()
        finally:
            _stop(process)
        return ProcessResult(returncode, received[0] if received else None)


@contextmanager
def _forwarding(process: subprocess.Popen[str], received: list[signal.Signals]) -> Iterator[None]:
    """While inside, SIGINT and SIGTERM go to `process` instead of raising in ebami.

    Off the main thread (a test's worker) handlers cannot be set: the default behaviour stays.
    """

    def forward(signum: int, _frame: FrameType | None) -> None:
        received.append(signal.Signals(signum))
        _signal_group(process, signum)

    with handling(dict.fromkeys(FORWARDED_SIGNALS, forward)):
        yield


def _stop(process: subprocess.Popen[str]) -> None:
    """If ebami failed while the process runs, interrupt it and give it time to clean up."""
    if process.poll() is not None:
        return
    _signal_group(process, signal.SIGINT)
    try:
        process.wait(timeout=CLEANUP_WAIT_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _signal_group(process: subprocess.Popen[str], signum: int) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signum)
