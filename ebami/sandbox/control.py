"""Starting and stopping a sandbox's server: `python -m ebami.sandbox serve` in the background,
ready once its state file (`ebami.sandbox.state_file`) names it; stopped with SIGTERM, then
SIGKILL; and the folder's lock, which lets one `start` or `stop` at a time change a folder.

Bad input is refused before anything starts (`ebami.sandbox.start_checks`); the variables a
client needs are `ebami.sandbox.clients`. This module does not import moto: `status` and `stop`
stay light.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ebami.core.errors import InputError
from ebami.core.waiting import Deadline, poll_until
from ebami.sandbox.faults import Faults
from ebami.sandbox.start_checks import check_fleet, check_region, create_folder
from ebami.sandbox.state_file import Folder, SandboxError, SandboxInfo, read_state, remove_state

LOCK_FILE = "sandbox.lock"
LOG_FILE = "server.log"
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
KILL_TIMEOUT = 5.0
# The longest another start (ready or given up and stopped) or stop holds a folder's lock.
LOCK_TIMEOUT = START_TIMEOUT + STOP_TIMEOUT + 2 * KILL_TIMEOUT
POLL_INTERVAL = 0.05


@dataclass(frozen=True)
class Clock:
    """How waits tell time and pause; tests pass their own."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    def deadline(self, seconds: float) -> Deadline:
        return Deadline(seconds, clock=self.now, sleep=self.sleep)


@contextmanager
def folder_lock(
    directory: Path,
    *,
    timeout: float = LOCK_TIMEOUT,
    progress: Callable[[str], None] = lambda _: None,
    clock: Clock = Clock(),
) -> Iterator[None]:
    """Hold the folder's lock: one start or stop at a time, so that two starts at once can never
    both find no sandbox and both spawn a server. The lock is the kernel's (`flock`) on a file
    next to the state file: a process that dies holding it releases it, and the server, which
    does not inherit the descriptor, never holds it."""
    path = directory / LOCK_FILE
    try:
        handle = path.open("a")
    except OSError as exc:
        raise SandboxError(f"cannot open the sandbox lock file {path}: {exc.strerror}") from None
    with handle:

        def taken() -> bool | None:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return None
            return True

        def waiting_for() -> str:
            return f"waiting for another 'ebami sandbox' start or stop in {directory}"

        deadline = clock.deadline(timeout)
        if not poll_until(
            taken, deadline, waiting_for=waiting_for, report=progress, polls=steady_polls()
        ):
            raise SandboxError(
                f"another 'ebami sandbox' start or stop held {path} for {timeout:.0f} s; "
                "try again once it is done"
            )
        yield  # closing the file releases the lock


def start_background(
    directory: Path | Folder,
    *,
    port: int,
    region: str,
    faults: Faults,
    seed: int,
    fleet: int = 0,
    enforce_iam: bool = False,
    timeout: float = START_TIMEOUT,
    progress: Callable[[str], None] = lambda _: None,
    clock: Clock = Clock(),
) -> SandboxInfo:
    """Start `python -m ebami.sandbox serve` detached; return once its state file says ready.

    Bad input (port, region, a folder that cannot be made) is refused before anything starts.
    The folder's lock is held from the look for a running sandbox until the new one is ready.
    """
    folder = directory if isinstance(directory, Folder) else Folder(directory, str(directory))
    directory = folder.path
    if not 0 <= port <= 65535:
        raise InputError(f"--port {port} is out of range: give 1 to 65535, or 0 for a free port")
    check_region(region)
    check_fleet(fleet, faults)
    create_folder(folder)
    with folder_lock(directory, progress=progress, clock=clock):
        running = read_state(directory)
        if running is not None:
            raise SandboxError(
                f"a sandbox is already running in {directory} "
                f"(pid {running.pid}, {running.endpoint}); "
                "stop it with 'ebami sandbox stop' or pick another --dir"
            )
        log_path = directory / LOG_FILE
        command = [
            sys.executable, "-m", "ebami.sandbox", "serve",
            "--dir", str(directory), "--port", str(port), "--region", region,
            "--seed", str(seed), "--faults", json.dumps(faults.to_json()),
            "--fleet", str(fleet), *(["--enforce-iam"] if enforce_iam else []),
        ]  # fmt: skip
        progress(f"starting the sandbox in {directory}")
        with log_path.open("w") as log:
            proc = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                close_fds=True,
            )
        try:
            return _wait_ready(proc, directory, log_path, timeout, clock)
        except BaseException:  # not ready, or Ctrl-C: leave nothing running
            _terminate(proc.pid, STOP_TIMEOUT, clock)
            remove_state(directory, proc.pid)
            raise


def steady_polls() -> Iterator[float]:
    """A local server answers within milliseconds: poll at one short, steady interval."""
    return itertools.repeat(POLL_INTERVAL)


def _wait_ready(
    proc: subprocess.Popen[bytes], directory: Path, log_path: Path, timeout: float, clock: Clock
) -> SandboxInfo:
    def ready() -> SandboxInfo | None:
        if proc.poll() is not None:
            raise SandboxError(
                f"the sandbox server exited with code {proc.returncode} before it was ready: "
                f"{_last_line(log_path).removeprefix('error: ')} (log: {log_path})"
            )
        info = read_state(directory)
        return info if info is not None and info.pid == proc.pid else None

    info = poll_until(ready, clock.deadline(timeout), polls=steady_polls())
    if info is None:
        raise SandboxError(f"the sandbox was not ready within {timeout:.0f} s (log: {log_path})")
    return info


def stop(
    directory: Path,
    *,
    timeout: float = STOP_TIMEOUT,
    progress: Callable[[str], None] = lambda _: None,
    clock: Clock = Clock(),
) -> SandboxInfo | None:
    """Stop the sandbox running in `directory`; None when there was none. A start under way in
    the folder is waited for, then stopped."""
    if not directory.is_dir():
        return None
    with folder_lock(directory, progress=progress, clock=clock):
        info = read_state(directory)
        if info is None:
            return None
        if info.run:
            raise SandboxError(
                f"the sandbox in {directory} is the one 'ebami sandbox run' (pid {info.pid}) "
                "serves for its command: it stops when that command ends"
            )
        _terminate(info.pid, timeout, clock)
        remove_state(directory, info.pid)
        return info


def _terminate(pid: int, timeout: float, clock: Clock) -> None:
    """SIGTERM, wait up to `timeout`, then SIGKILL the process group and wait a little more."""

    def gone() -> bool | None:
        return True if not _alive(pid) else None

    for signum, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, KILL_TIMEOUT)):
        try:
            if signum == signal.SIGTERM:
                os.kill(pid, signum)
            else:
                os.killpg(pid, signum)
        except ProcessLookupError:
            return
        if poll_until(gone, clock.deadline(wait), polls=steady_polls()):
            return


def _alive(pid: int) -> bool:
    try:
        waited, _status = os.waitpid(pid, os.WNOHANG)
        if waited == pid:
            return False
    except ChildProcessError:
        pass  # not our child: fall back to probing
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie that is not our child still answers kill(0); /proc tells.
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return True
    return "\nState:\tZ" not in status


def _last_line(path: Path) -> str:
    try:
        lines = [line for line in path.read_text().splitlines() if line.strip()]
    except OSError:
        return "no log"
    return lines[-1] if lines else "no output"
