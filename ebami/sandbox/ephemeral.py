"""`ebami sandbox run -- CMD`: a sandbox that lives exactly as long as one command and every
process it started.

CMD runs in a session (and so a process group) of its own, so that the group can be signalled
as one: a shell script's `$(ebami build ...)` and the Packer it runs are in it too. Signalling
only CMD would leave them running against a stopped sandbox. The new session has no controlling
terminal: CMD still reads and writes the standard streams it inherits, but the terminal's
Ctrl-C reaches ebami alone, and ebami passes it on.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from ebami.core.errors import InputError
from ebami.core.interrupts import handling
from ebami.core.waiting import poll_until
from ebami.sandbox.clients import CLEARED_VARIABLES, client_environment, ec2_client
from ebami.sandbox.control import Clock, steady_polls
from ebami.sandbox.faults import Faults
from ebami.sandbox.leaks import LeakReport, leak_report
from ebami.sandbox.start_checks import check_fleet, check_region
from ebami.sandbox.state_file import ENV_DIR, SandboxInfo, remove_state, write_state

# What a terminal or a supervisor sends to end a job; each is passed on to CMD's group.
FORWARDED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT)
# How long CMD's processes get to clean up (Packer and ebami remove what they made) after a
# signal, or after CMD exited leaving some of them running, before SIGKILL.
GRACE = 30.0
KILL_WAIT = 5.0
REAL_CLOCK = Clock()


@dataclass(frozen=True)
class RunOutcome:
    exit_code: int
    leaks: LeakReport


def run_in_sandbox(
    command: Sequence[str],
    *,
    region: str,
    faults: Faults,
    seed: int,
    fleet: int = 0,
    progress: Callable[[str], None] = lambda _: None,
) -> RunOutcome:
    """Start a sandbox, run `command` against it, stop it; the command's exit code is returned.

    The sandbox's folder holds a state file naming this process, and the command gets
    EBAMI_SANDBOX_DIR pointing at it: `ebami sandbox status` and `release` inside the command
    find this sandbox (and `stop` refuses to stop it).

    The sandbox is stopped, and its directory removed, only once every process of the command's
    group has ended (see `run_command`), in every case.
    """
    if not command:
        raise InputError(
            "sandbox run needs a command after '--', such as: ebami sandbox run -- ebami lookup"
        )
    check_region(region)
    check_fleet(fleet, faults)
    from ebami.sandbox.server import SandboxServer

    with tempfile.TemporaryDirectory(prefix="ebami-sandbox-") as directory:
        server = SandboxServer(
            Path(directory), region=region, faults=faults, seed=seed, fleet=fleet
        )
        started = time.monotonic()
        endpoint = server.start()
        pid = os.getpid()
        try:
            write_state(
                Path(directory),
                SandboxInfo(pid, endpoint, region, directory, faults, time.time(), fleet, run=True),
            )
            progress(f"sandbox ready at {endpoint} in {time.monotonic() - started:.1f} s")
            env = {key: value for key, value in os.environ.items() if key not in CLEARED_VARIABLES}
            env.update(client_environment(endpoint, region))
            env[ENV_DIR] = directory
            code = run_command(list(command), env, progress=progress)
            leaks = leak_report(ec2_client(endpoint, region))
        finally:
            remove_state(Path(directory), pid)
            server.stop()
    return RunOutcome(code, leaks)


def run_command(
    command: list[str],
    env: dict[str, str],
    *,
    grace: float = GRACE,
    progress: Callable[[str], None] = lambda _: None,
    clock: Clock = REAL_CLOCK,
) -> int:
    """Run `command` in a new session and process group; return once no process of the group
    is left.

    SIGINT, SIGTERM, SIGHUP and SIGQUIT are passed on to the whole group. After such a signal,
    or once the command exits leaving processes of its group behind, the group has `grace`
    seconds to end (the leftovers get SIGTERM), then it is killed. The exit code is the
    command's, 128 + N when signal N ended it.
    """
    group = ProcessGroup(command[0])
    # The handlers are in place before the command starts: no signal can fall between the two.
    with handling(dict.fromkeys(FORWARDED, group.forward)):
        try:
            proc = subprocess.Popen(command, env=env, start_new_session=True)
        except FileNotFoundError:
            raise InputError(f"command not found: {command[0]}") from None
        except PermissionError:
            raise InputError(f"command is not executable: {command[0]}") from None
        group.started(proc)
        # The command itself runs as long as it runs: no deadline until it ends or is signalled.
        poll_until(group.leader_done_or_signalled, clock.deadline(math.inf), polls=steady_polls())
        group.end(grace, progress, clock)
    code = proc.returncode
    if code is None:  # not even SIGKILL ended it within KILL_WAIT
        return 128 + signal.SIGKILL
    return code if code >= 0 else 128 - code


class ProcessGroup:
    """The process group of one command: its leader (the command) and whatever it started."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.received: list[signal.Signals] = []
        self._proc: subprocess.Popen[bytes] | None = None
        self._sent_term = False

    def started(self, proc: subprocess.Popen[bytes]) -> None:
        self._proc = proc
        for signum in self.received:  # arrived while the command was being started
            self.send(signum)

    def forward(self, signum: int, _frame: FrameType | None) -> None:
        self.received.append(signal.Signals(signum))
        self.send(signal.Signals(signum))

    def send(self, signum: signal.Signals) -> None:
        if self._proc is None:
            return  # not started yet: `started` passes it on
        self._sent_term = self._sent_term or signum == signal.SIGTERM
        with contextlib.suppress(ProcessLookupError):  # the whole group has ended already
            os.killpg(self._proc.pid, signum)

    def leader_done(self) -> bool | None:
        return True if self._proc is not None and self._proc.poll() is not None else None

    def leader_done_or_signalled(self) -> bool | None:
        return True if self.received else self.leader_done()

    def gone(self) -> bool | None:
        if self._proc is None or not self.leader_done():
            return None
        return None if group_alive(self._proc.pid) else True

    def end(self, grace: float, progress: Callable[[str], None], clock: Clock) -> None:
        """Give the group `grace` seconds to end, then kill it."""
        if self.gone():
            return
        deadline = clock.deadline(grace)
        if self.received:
            progress(
                f"passed {self.received[0].name} on to {self.name} and its processes: "
                f"waiting up to {grace:.0f} s for them to end"
            )
            poll_until(self.leader_done, deadline, polls=steady_polls())
        if self.leader_done() and not self.gone() and not self._sent_term:
            # Left running by a command that has ended, or deaf to the signal it got (a
            # script's background jobs ignore SIGINT): they would outlive the sandbox.
            progress(f"{self.name} has ended but left processes running: sending them SIGTERM")
            self.send(signal.SIGTERM)
        if poll_until(self.gone, deadline, polls=steady_polls()):
            return
        progress(f"{self.name}'s processes were still running after {grace:.0f} s: killing them")
        self.send(signal.SIGKILL)
        if not poll_until(self.gone, clock.deadline(KILL_WAIT), polls=steady_polls()):
            progress(f"{self.name}'s processes did not end even on SIGKILL")


def group_alive(pgid: int) -> bool:
    """Whether a process other than a zombie is left in process group `pgid`."""
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone is there, under another user
    # kill(0) also finds zombies, which are dead already and wait only for their parent.
    try:
        entries = list(Path("/proc").iterdir())
    except OSError:
        return True  # no /proc here: trust kill
    return any(_member_state(entry, pgid) not in (None, "Z") for entry in entries)


def _member_state(entry: Path, pgid: int) -> str | None:
    """The state letter of the process at /proc/`entry` if it is in group `pgid`."""
    if not entry.name.isdigit():
        return None
    try:
        stat = (entry / "stat").read_text()
    except OSError:
        return None  # ended meanwhile
    # pid (comm) state ppid pgrp ...; comm may hold spaces and parentheses.
    fields = stat[stat.rindex(")") + 2 :].split()
    return fields[0] if int(fields[2]) == pgid else None
