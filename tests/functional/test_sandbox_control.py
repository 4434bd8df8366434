"""The start and stop waits of `ebami sandbox`, on an injected clock: they poll at a steady
short interval, give up exactly at their deadline, escalate SIGTERM to SIGKILL, and wait for
the folder's lock while another start or stop holds it."""

from __future__ import annotations

import fcntl
import os
import signal
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest

from ebami.sandbox import control, state_file
from ebami.sandbox.control import POLL_INTERVAL, Clock
from ebami.sandbox.faults import Faults
from ebami.sandbox.state_file import SandboxError, SandboxInfo, write_state


class FakeTime:
    """Time that passes only when something sleeps; `on_sleep` runs after every sleep."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[], None] = lambda: None

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        self.on_sleep()

    @property
    def clock(self) -> Clock:
        return Clock(now=lambda: self.now, sleep=self.sleep)


class FakeProcess:
    pid = 4242

    def __init__(self, returncode: int | None = None) -> None:
        self.returncode = returncode

    def poll(self) -> int | None:
        return self.returncode


def server(returncode: int | None = None) -> subprocess.Popen[bytes]:
    return cast("subprocess.Popen[bytes]", FakeProcess(returncode))


def info(pid: int, directory: Path) -> SandboxInfo:
    return SandboxInfo(pid, "http://127.0.0.1:1", "us-east-1", str(directory), Faults(), 0.0)


@pytest.fixture(autouse=True)
def any_pid_is_a_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(state_file, "is_sandbox_process", lambda pid, run=False: True)


def test_ready_gives_up_at_the_deadline_polling_steadily(tmp_path: Path) -> None:
    time = FakeTime()
    with pytest.raises(SandboxError) as refused:
        control._wait_ready(server(), tmp_path, tmp_path / "server.log", 2.0, time.clock)
    assert refused.value.message == (
        f"the sandbox was not ready within 2 s (log: {tmp_path / 'server.log'})"
    )
    assert time.now == pytest.approx(2.0)  # the deadline, not a poll more
    assert set(time.sleeps[:-1]) == {POLL_INTERVAL}
    assert len(time.sleeps) == pytest.approx(2.0 / POLL_INTERVAL, abs=1)


def test_ready_returns_the_state_the_server_writes(tmp_path: Path) -> None:
    time = FakeTime()
    process = server()

    def server_writes_its_state() -> None:
        if len(time.sleeps) == 3:
            write_state(tmp_path, info(process.pid, tmp_path))

    time.on_sleep = server_writes_its_state
    ready = control._wait_ready(process, tmp_path, tmp_path / "server.log", 30.0, time.clock)
    assert ready.pid == process.pid
    assert time.sleeps == [POLL_INTERVAL] * 3


def test_a_server_that_exits_is_reported_with_its_last_log_line(tmp_path: Path) -> None:
    log = tmp_path / "server.log"
    log.write_text("starting\nerror: bubblewrap cannot create its isolated root here\n\n")
    with pytest.raises(SandboxError) as refused:
        control._wait_ready(server(returncode=1), tmp_path, log, 30.0, FakeTime().clock)
    assert refused.value.message == (
        "the sandbox server exited with code 1 before it was ready: bubblewrap cannot "
        f"create its isolated root here (log: {log})"
    )


def test_stop_escalates_to_sigkill_at_the_deadline(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    time = FakeTime()
    write_state(tmp_path, info(77, tmp_path))
    sent: list[tuple[str, int, float]] = []
    killed = False

    def kill(pid: int, signum: int) -> None:
        sent.append(("kill", signum, time.now))

    def killpg(pid: int, signum: int) -> None:
        nonlocal killed
        sent.append(("killpg", signum, time.now))
        killed = True

    def alive(pid: Any) -> bool:
        return not killed

    monkeypatch.setattr(os, "kill", kill)
    monkeypatch.setattr(os, "killpg", killpg)
    monkeypatch.setattr(control, "_alive", alive)
    stopped = control.stop(tmp_path, timeout=10.0, clock=time.clock)
    assert stopped is not None
    assert stopped.pid == 77
    assert sent == [("kill", signal.SIGTERM, 0.0), ("killpg", signal.SIGKILL, pytest.approx(10.0))]
    assert time.now == pytest.approx(10.0)  # gone on the first look after SIGKILL


def test_stop_waits_no_longer_than_the_process_takes(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    time = FakeTime()
    write_state(tmp_path, info(77, tmp_path))
    monkeypatch.setattr(os, "kill", lambda pid, signum: None)
    monkeypatch.setattr(os, "killpg", lambda pid, signum: pytest.fail("SIGKILL sent"))
    monkeypatch.setattr(control, "_alive", lambda pid: time.now < 0.2)
    assert control.stop(tmp_path, timeout=10.0, clock=time.clock) is not None
    assert time.now == pytest.approx(0.2)
    assert not (tmp_path / state_file.STATE_FILE).exists()


class HeldLock:
    """The folder's lock as another `ebami sandbox start` holds it (flock conflicts between
    two opens of the file, even in one process)."""

    def __init__(self, directory: Path) -> None:
        self.handle = (directory / control.LOCK_FILE).open("a")
        fcntl.flock(self.handle, fcntl.LOCK_EX)

    def release(self) -> None:
        self.handle.close()


def test_a_start_waits_for_the_folder_lock_then_finds_the_sandbox_the_other_started(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(subprocess, "Popen", lambda *_, **__: pytest.fail("a second server"))
    time = FakeTime()
    other = HeldLock(tmp_path)

    def the_other_start_is_done() -> None:
        if len(time.sleeps) == 3:
            write_state(tmp_path, info(77, tmp_path))
            other.release()

    time.on_sleep = the_other_start_is_done
    progress: list[str] = []
    with pytest.raises(SandboxError) as refused:
        control.start_background(
            tmp_path, port=0, region="us-east-1", faults=Faults(), seed=0,
            progress=progress.append, clock=time.clock,
        )  # fmt: skip
    assert refused.value.message == (
        f"a sandbox is already running in {tmp_path} (pid 77, http://127.0.0.1:1); "
        "stop it with 'ebami sandbox stop' or pick another --dir"
    )
    assert time.sleeps == [POLL_INTERVAL] * 3
    assert progress == [
        f"waiting for another 'ebami sandbox' start or stop in {tmp_path} (0 s of 50 s)"
    ]


def test_the_folder_lock_gives_up_at_its_deadline(tmp_path: Path) -> None:
    time = FakeTime()
    other = HeldLock(tmp_path)
    with (
        pytest.raises(SandboxError) as refused,
        control.folder_lock(tmp_path, timeout=2.0, clock=time.clock),
    ):
        pytest.fail("the lock was taken while another held it")
    other.release()
    assert refused.value.message == (
        f"another 'ebami sandbox' start or stop held {tmp_path / control.LOCK_FILE} for 2 s; "
        "try again once it is done"
    )
    assert time.now == pytest.approx(2.0)
    with control.folder_lock(tmp_path, timeout=2.0, clock=time.clock):
        pass  # free again once the other let go


def test_stop_waits_for_a_start_under_way_then_stops_what_it_started(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    time = FakeTime()
    other = HeldLock(tmp_path)
    signalled: list[int] = []

    def the_other_start_is_done() -> None:
        if len(time.sleeps) == 2:
            write_state(tmp_path, info(77, tmp_path))
            other.release()

    time.on_sleep = the_other_start_is_done
    monkeypatch.setattr(os, "kill", lambda pid, signum: signalled.append(pid))
    monkeypatch.setattr(control, "_alive", lambda pid: not signalled)
    stopped = control.stop(tmp_path, clock=time.clock)
    assert stopped is not None
    assert (stopped.pid, signalled) == (77, [77])
    assert not (tmp_path / state_file.STATE_FILE).exists()
