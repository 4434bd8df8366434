"""The subprocess seam under the Packer runner: start a command, stream its lines, forward
signals, and say so when it has been silent for a while.

A command is started first and finished later (`ProcessRunner.start`, then
`Started.finish`), so that `packer version` runs on the other core while ebami plans, and is
finished in the foreground, where a Ctrl-C reaches it like any other phase.

Packer runs in its own process group, so a Ctrl-C in the terminal reaches ebami only; while
ebami finishes a command it forwards the signal to that group (once per signal received) and
keeps reading until Packer has cleaned up and exited. The whole group, because `packer` is a
wrapper that leaves signals to the child doing the build, as a terminal would deliver them.
Without this, Packer would see the signal twice, and ebami could exit while Packer's instance,
security group and key pair still exist.
"""

from __future__ import annotations

import codecs
import contextlib
import os
import selectors
import signal
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Protocol

from ebami.core.interrupts import STOP_SIGNALS, handling
from ebami.core.waiting import Clock

FORWARDED_SIGNALS = STOP_SIGNALS
# How long to wait for Packer's clean-up when ebami itself fails while Packer runs.
CLEANUP_WAIT_SECONDS = 600
_READ_SIZE = 65536


@dataclass(frozen=True)
class ProcessResult:
    returncode: int
    # The first signal ebami received and forwarded while the process ran, if any.
    interrupted_by: signal.Signals | None = None


@dataclass(frozen=True)
class Silence:
    """`report(seconds)` once the process has printed nothing for `after` seconds, and again
    every `after` seconds while the silence lasts; `seconds` is the silence so far."""

    after: float
    report: Callable[[float], None]
    clock: Clock = time.monotonic


class Started(Protocol):
    def finish(
        self, on_line: Callable[[str], None], *, silence: Silence | None = None
    ) -> ProcessResult:
        """Pass each line of the output (stdout and stderr) to `on_line` until the process
        exits, forwarding SIGINT and SIGTERM to it meanwhile."""
        ...


class ProcessRunner(Protocol):
    def start(self, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> Started:
        """Start `argv`; OSError when it cannot be run at all."""
        ...


class SubprocessRunner:
    """The real thing: `subprocess.Popen` in its own session."""

    def start(self, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> Started:
        process = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return _Started(process)


class _Started:
    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self._process = process

    def finish(
        self, on_line: Callable[[str], None], *, silence: Silence | None = None
    ) -> ProcessResult:
        received: list[signal.Signals] = []
        try:
            with _forwarding(self._process, received):
                _stream(self._process, on_line, silence)
                returncode = self._process.wait()
        finally:
            _stop(self._process)
        return ProcessResult(returncode, received[0] if received else None)


def _stream(
    process: subprocess.Popen[bytes], on_line: Callable[[str], None], silence: Silence | None
) -> None:
    """Read the output as it comes, waiting on the pipe at most until the next silence report
    is due (a blocking line read would keep the silence from being noticed)."""
    assert process.stdout is not None  # noqa: S101 - stdout=PIPE in start
    descriptor = process.stdout.fileno()
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    watch = SilenceWatch(silence.after, silence.clock) if silence else None
    pending = ""
    with selectors.DefaultSelector() as selector:
        selector.register(descriptor, selectors.EVENT_READ)
        while True:
            if not selector.select(watch.timeout() if watch else None):
                silent_for = watch.due() if watch else None
                if silence is not None and silent_for is not None:
                    silence.report(silent_for)
                continue
            chunk = os.read(descriptor, _READ_SIZE)
            if not chunk:
                break
            if watch:
                watch.heard()
            *lines, pending = (pending + decoder.decode(chunk)).split("\n")
            for line in lines:
                on_line(line.rstrip("\r"))
    pending += decoder.decode(b"", final=True)
    if pending:
        on_line(pending.rstrip("\r"))


class SilenceWatch:
    """When a silence report is due, on `clock`: `after` seconds after the last output, then
    every `after` seconds."""

    def __init__(self, after: float, clock: Clock) -> None:
        self._after = after
        self._clock = clock
        self._quiet_since = clock()
        self._next = self._quiet_since + after

    def heard(self) -> None:
        self._quiet_since = self._clock()
        self._next = self._quiet_since + self._after

    def timeout(self) -> float:
        """Seconds until the next report is due (0 when it is due now)."""
        return max(0.0, self._next - self._clock())

    def due(self) -> float | None:
        """The silence so far when a report is due now (the next one is then `after` seconds
        away), else None."""
        now = self._clock()
        if now < self._next:
            return None
        self._next = now + self._after
        return now - self._quiet_since


@contextmanager
def _forwarding(process: subprocess.Popen[bytes], received: list[signal.Signals]) -> Iterator[None]:
    """While inside, SIGINT and SIGTERM go to `process` instead of raising in ebami.

    Off the main thread (a test's worker) handlers cannot be set: the default behaviour stays.
    """

    def forward(signum: int, _frame: FrameType | None) -> None:
        received.append(signal.Signals(signum))
        _signal_group(process, signum)

    with handling(dict.fromkeys(FORWARDED_SIGNALS, forward)):
        yield


def _stop(process: subprocess.Popen[bytes]) -> None:
    """If ebami failed while the process runs, interrupt it and give it time to clean up."""
    if process.poll() is None:
        _signal_group(process, signal.SIGINT)
        try:
            process.wait(timeout=CLEANUP_WAIT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()


def _signal_group(process: subprocess.Popen[bytes], signum: int) -> None:
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signum)
