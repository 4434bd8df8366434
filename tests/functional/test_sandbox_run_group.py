"""`sandbox run`'s command runs in a process group of its own: signals reach every process of
the group, the wait covers the whole group, and what outlives its grace period is killed.

Real processes; the grace period runs on an injected clock whose every poll also lets a little
real time pass, so that the processes can react. Nothing here reads the wall clock.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from ebami.sandbox.control import Clock
from ebami.sandbox.ephemeral import ProcessGroup, group_alive, run_command

REAL_STEP = 0.01


class StepClock:
    """Time that moves only when the code under test sleeps; `on_sleep` runs after each sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self.on_sleep: Callable[[], None] = lambda: None

    def sleep(self, seconds: float) -> None:
        # At least a microsecond, as a real sleep: a deadline's last few ulps of float rounding
        # must not stop time.
        self.now += max(seconds, 1e-6)
        time.sleep(REAL_STEP)  # the processes under test run in real time
        self.on_sleep()

    @property
    def clock(self) -> Clock:
        return Clock(now=lambda: self.now, sleep=self.sleep)


class Sent:
    """Every signal sent to a process group (not the probes), at the injected time."""

    def __init__(self) -> None:
        self.signals: list[tuple[signal.Signals, float]] = []
        self.groups: set[int] = set()

    @property
    def names(self) -> list[signal.Signals]:
        return [signum for signum, _ in self.signals]


@pytest.fixture
def time_() -> StepClock:
    return StepClock()


@pytest.fixture
def sent(monkeypatch: pytest.MonkeyPatch, time_: StepClock) -> Sent:
    record = Sent()
    real_killpg = os.killpg

    def killpg(pgid: int, signum: int) -> None:
        if signum:
            record.signals.append((signal.Signals(signum), time_.now))
            record.groups.add(pgid)
        real_killpg(pgid, signum)

    monkeypatch.setattr(os, "killpg", killpg)
    return record


def running(pid: int) -> bool:
    """Whether `pid` is a live process (a zombie is not)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] != "Z"


def signal_self_once(ready: Path, signum: signal.Signals) -> Callable[[], None]:
    """An `on_sleep` that sends `signum` to this process once `ready` exists."""
    done = False

    def maybe_signal() -> None:
        nonlocal done
        if not done and ready.exists() and ready.read_text().strip():
            done = True
            os.kill(os.getpid(), signum)

    return maybe_signal


def test_a_signal_reaches_the_grandchildren_and_the_wait_covers_them(
    tmp_path: Path, time_: StepClock, sent: Sent
) -> None:
    pid_file = tmp_path / "grandchild"
    script = f"sleep 300 & echo $! > {pid_file}; x=$(sleep 301; echo); wait"
    time_.on_sleep = signal_self_once(pid_file, signal.SIGTERM)
    code = run_command(["bash", "-c", script], dict(os.environ), grace=30.0, clock=time_.clock)
    assert code == 128 + signal.SIGTERM
    assert not running(int(pid_file.read_text()))
    [group] = sent.groups
    assert group != os.getpgid(0)
    assert not group_alive(group)  # the $(...) subshell and its sleep too
    assert sent.names == [signal.SIGTERM]  # no SIGKILL was needed


def test_a_group_deaf_to_the_signal_is_killed_when_the_grace_period_ends(
    tmp_path: Path, time_: StepClock, sent: Sent
) -> None:
    ready = tmp_path / "ready"
    script = f"trap '' INT TERM; sleep 300 & echo $! > {ready}; wait"
    time_.on_sleep = signal_self_once(ready, signal.SIGINT)
    code = run_command(["bash", "-c", script], dict(os.environ), grace=2.0, clock=time_.clock)
    assert code == 128 + signal.SIGKILL
    assert not running(int(ready.read_text()))
    (interrupt, at), (kill, killed_at) = sent.signals
    assert (interrupt, kill) == (signal.SIGINT, signal.SIGKILL)
    # The leader never ended, so nothing else was sent: SIGKILL exactly at the end of the grace.
    assert killed_at - at == pytest.approx(2.0, abs=0.06)


def test_a_script_s_background_jobs_deaf_to_sigint_get_sigterm_once_it_ends(
    tmp_path: Path, time_: StepClock, sent: Sent
) -> None:
    pid_file = tmp_path / "job"
    # A non-interactive shell starts `&` jobs with SIGINT ignored: Ctrl-C ends the script only.
    script = f"sleep 300 & echo $! > {pid_file}; wait"
    time_.on_sleep = signal_self_once(pid_file, signal.SIGINT)
    code = run_command(["bash", "-c", script], dict(os.environ), grace=30.0, clock=time_.clock)
    assert code == 128 + signal.SIGINT
    assert not running(int(pid_file.read_text()))
    assert sent.names == [signal.SIGINT, signal.SIGTERM]


def test_processes_left_by_a_command_that_exits_are_ended_and_its_code_kept(
    tmp_path: Path, time_: StepClock, sent: Sent
) -> None:
    pid_file = tmp_path / "daemon"
    progress: list[str] = []
    code = run_command(
        ["bash", "-c", f"sleep 300 & echo $! > {pid_file}; exit 3"],
        dict(os.environ),
        grace=30.0,
        progress=progress.append,
        clock=time_.clock,
    )
    assert code == 3
    assert not running(int(pid_file.read_text()))
    assert sent.names == [signal.SIGTERM]
    assert progress == ["bash has ended but left processes running: sending them SIGTERM"]


def test_a_command_that_leaves_nothing_is_neither_waited_for_nor_signalled(
    time_: StepClock, sent: Sent
) -> None:
    code = run_command(["sh", "-c", "exit 0"], dict(os.environ), clock=time_.clock)
    assert code == 0
    assert sent.signals == []


def test_a_signal_that_comes_before_the_command_has_started_is_passed_on_once_it_has() -> None:
    group = ProcessGroup("sleep")
    group.forward(signal.SIGTERM, None)
    proc = subprocess.Popen(["sleep", "300"], start_new_session=True)
    try:
        group.started(proc)
        assert proc.wait(timeout=30) == -signal.SIGTERM
    finally:
        proc.kill()
