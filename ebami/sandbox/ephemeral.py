"""`ebami sandbox run -- CMD`: a sandbox that lives exactly as long as one command."""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from ebami.errors import InputError
from ebami.interrupts import handling
from ebami.sandbox.control import CLEARED_VARIABLES, check_region, client_environment, ec2_client
from ebami.sandbox.faults import Faults
from ebami.sandbox.leaks import LeakReport, leak_report


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
    progress: Callable[[str], None] = lambda _: None,
) -> RunOutcome:
    """Start a sandbox, run `command` against it, stop it; the command's exit code is returned.

    Ctrl-C reaches the command (it shares the terminal); SIGTERM is passed on to it. The
    sandbox is stopped and its directory removed in every case.
    """
    if not command:
        raise InputError(
            "sandbox run needs a command after '--', such as: ebami sandbox run -- ebami lookup"
        )
    check_region(region)
    from ebami.sandbox.server import SandboxServer

    with tempfile.TemporaryDirectory(prefix="ebami-sandbox-") as directory:
        server = SandboxServer(Path(directory), region=region, faults=faults, seed=seed)
        started = time.monotonic()
        endpoint = server.start()
        try:
            progress(f"sandbox ready at {endpoint} in {time.monotonic() - started:.1f} s")
            env = {key: value for key, value in os.environ.items() if key not in CLEARED_VARIABLES}
            env.update(client_environment(endpoint, region))
            code = _run_forwarding_signals(list(command), env)
            leaks = leak_report(ec2_client(endpoint, region))
        finally:
            server.stop()
    return RunOutcome(code, leaks)


def _run_forwarding_signals(command: list[str], env: dict[str, str]) -> int:
    try:
        proc = subprocess.Popen(command, env=env)
    except FileNotFoundError:
        raise InputError(f"command not found: {command[0]}") from None
    except PermissionError:
        raise InputError(f"command is not executable: {command[0]}") from None

    def forward(signum: int, _frame: FrameType | None) -> None:
        proc.send_signal(signum)

    # SIGINT is ignored here: the child gets the terminal's own.
    with handling({signal.SIGINT: signal.SIG_IGN, signal.SIGTERM: forward}):
        code = proc.wait()
    return code if code >= 0 else 128 - code
