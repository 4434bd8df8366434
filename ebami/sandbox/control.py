"""Running sandboxes: the state file that lets `start`, `status` and `stop` find one, the
folder's lock that lets one `start` or `stop` at a time change it, the background server
process, and the environment a client needs to talk to it.

This module does not import moto: `status` and `stop` stay light. The server process itself is
`python -m ebami.sandbox serve`.
"""

from __future__ import annotations

import fcntl
import itertools
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ebami.core.errors import EbamiError, InputError
from ebami.core.files import write_atomically
from ebami.core.waiting import Deadline, poll_until
from ebami.sandbox.faults import Faults

STATE_FILE = "sandbox.json"
LOCK_FILE = "sandbox.lock"
LOG_FILE = "server.log"
ENV_DIR = "EBAMI_SANDBOX_DIR"
ENV_MARKER = "EBAMI_SANDBOX"  # set to the endpoint; tells ebami commands they talk to a sandbox
FAKE_KEY_ID = "sandbox"
FAKE_SECRET = "sandbox-secret"  # noqa: S105 - a placeholder the sandbox accepts, not a secret
START_TIMEOUT = 30.0
STOP_TIMEOUT = 10.0
KILL_TIMEOUT = 5.0
# The longest another start (ready or given up and stopped) or stop holds a folder's lock.
LOCK_TIMEOUT = START_TIMEOUT + STOP_TIMEOUT + 2 * KILL_TIMEOUT
POLL_INTERVAL = 0.05
# The seed world needs these services in its region; its ARNs and IAM are the `aws` partition's.
REGION_SERVICES = ("ec2", "elasticbeanstalk", "ssm")
REGION_PARTITION = "aws"


@dataclass(frozen=True)
class Clock:
    """How waits tell time and pause; tests pass their own."""

    now: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep

    def deadline(self, seconds: float) -> Deadline:
        return Deadline(seconds, clock=self.now, sleep=self.sleep)


class SandboxError(EbamiError):
    """A sandbox could not be started, found or stopped."""


@dataclass(frozen=True)
class SandboxInfo:
    """What the state file records about a running sandbox."""

    pid: int
    endpoint: str
    region: str
    directory: str
    faults: Faults
    started: float
    fleet: int = 0  # the fleet's environments: ebami.sandbox.world.fleet_regions

    def to_json(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "endpoint": self.endpoint,
            "region": self.region,
            "directory": self.directory,
            "faults": self.faults.to_json(),
            "started": self.started,
            "fleet": self.fleet,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> SandboxInfo:
        return cls(
            pid=int(data["pid"]),
            endpoint=str(data["endpoint"]),
            region=str(data["region"]),
            directory=str(data["directory"]),
            faults=Faults.from_json(data.get("faults", {})),
            started=float(data.get("started", 0.0)),
            fleet=int(data.get("fleet", 0)),
        )


@dataclass(frozen=True)
class Folder:
    """A sandbox's folder and how it was given: `--dir X`, `EBAMI_SANDBOX_DIR=X` or the default,
    so that a folder that cannot be made is refused in the user's own terms."""

    path: Path
    given_as: str

    @classmethod
    def resolve(cls, given: Path | None, environ: Mapping[str, str]) -> Folder:
        if given is not None:
            return cls(given, f"--dir {given}")
        if environ.get(ENV_DIR):
            return cls(Path(environ[ENV_DIR]), f"{ENV_DIR}={environ[ENV_DIR]}")
        state_home = environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
        path = Path(state_home) / "ebami" / "sandbox"
        return cls(path, f"the default sandbox folder {path} (set --dir or {ENV_DIR})")


def served_regions() -> list[str]:
    """The regions a sandbox can be seeded in: those moto's backends serve (botocore's list)
    for every service the world needs, in the partition the world's ARNs name."""
    # The endpoint data alone: a session would read the caller's AWS profile, which is none of
    # the sandbox's business (and may not exist).
    from botocore.loaders import create_loader
    from botocore.regions import EndpointResolver

    resolver = EndpointResolver(create_loader().load_data("endpoints"))
    served = [
        set(resolver.get_available_endpoints(service, partition_name=REGION_PARTITION))
        for service in REGION_SERVICES
    ]
    return sorted(set.intersection(*served))


def check_region(region: str) -> None:
    regions = served_regions()
    if region not in regions:
        raise InputError(
            f"--region {region} is not a region the sandbox serves: give an AWS region, one of "
            + ", ".join(regions)
        )


def check_fleet(fleet: int, faults: Faults) -> None:
    """Refuse a fleet size out of range, and a per-environment fault naming no environment of
    the world the sandbox would seed."""
    from ebami.sandbox import world

    if not 0 <= fleet <= world.FLEET_MAX:
        raise InputError(
            f"--fleet {fleet} is out of range: give a number of environments from 0 to "
            f"{world.FLEET_MAX}"
        )
    names = [*world.ENVIRONMENTS, *world.fleet_regions(fleet, world.SECOND_REGION)]
    for name in faults.update_fails_health_envs:
        if name not in names:
            fleet_names = f", or fleet-01 to {names[-1]}" if fleet else " (no --fleet given)"
            raise InputError(
                f"--fail-update-health-env {name} names no sandbox environment: give "
                f"{', '.join(world.ENVIRONMENTS)}{fleet_names}"
            )


def create_folder(folder: Folder) -> None:
    """Make the folder (and its parents) and make sure files can be written in it."""
    try:
        folder.path.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder.path):
            pass
    except FileExistsError:
        reason = "it is a file"
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
    else:
        return
    raise InputError(
        f"{folder.given_as}: cannot create or write the sandbox folder ({reason}); "
        "give a folder you can create and write to"
    )


def client_environment(endpoint: str, region: str) -> dict[str, str]:
    """The variables that point AWS clients (boto3, the AWS CLI, ebami) at a sandbox."""
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": FAKE_KEY_ID,
        "AWS_SECRET_ACCESS_KEY": FAKE_SECRET,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        ENV_MARKER: endpoint,
        # The sandbox settles health at each step of an update, so ebami's health settle
        # window (60 s on AWS, where health lags behind) needs one second here.
        "EBAMI_SETTLE": "1",
    }


# Variables that would send a client's credentials or requests elsewhere.
CLEARED_VARIABLES = ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN")


def export_lines(info: SandboxInfo) -> str:
    lines = [
        f"export {key}={value}"
        for key, value in client_environment(info.endpoint, info.region).items()
    ]
    lines.append("unset " + " ".join(CLEARED_VARIABLES))
    return "\n".join(lines)


def read_state(directory: Path) -> SandboxInfo | None:
    """The running sandbox in `directory`, or None (a stale state file is removed)."""
    path = directory / STATE_FILE
    try:
        info = SandboxInfo.from_json(json.loads(path.read_text()))
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (ValueError, KeyError, TypeError) as exc:
        raise SandboxError(f"cannot read the sandbox state file {path}: {exc}; remove it") from None
    if not is_sandbox_process(info.pid):
        path.unlink(missing_ok=True)
        return None
    return info


def write_state(directory: Path, info: SandboxInfo) -> None:
    write_atomically(directory / STATE_FILE, json.dumps(info.to_json(), indent=2) + "\n")


def remove_state(directory: Path, pid: int) -> None:
    path = directory / STATE_FILE
    try:
        if json.loads(path.read_text()).get("pid") == pid:
            path.unlink()
    except (OSError, ValueError):
        pass


def is_sandbox_process(pid: int) -> bool:
    """Whether `pid` is alive and is an ebami sandbox server (not a reused pid)."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        try:
            os.kill(pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True  # no /proc here: trust the pid
    return b"ebami.sandbox" in cmdline and b"serve" in cmdline


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
            "--fleet", str(fleet),
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
                f"{_last_line(log_path)} (log: {log_path})"
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


def ec2_client(endpoint: str, region: str) -> Any:
    """An EC2 client for a sandbox: its endpoint, region and fake credentials, whatever
    AWS_PROFILE or the AWS config files of the caller say."""
    import botocore.session
    from botocore.config import Config

    isolated = botocore.session.Session(session_vars={"profile": (None, None, None, None)})
    return isolated.create_client(
        "ec2",
        region_name=region,
        aws_access_key_id=FAKE_KEY_ID,
        aws_secret_access_key=FAKE_SECRET,
        endpoint_url=endpoint,
        config=Config(
            retries={"mode": "standard", "total_max_attempts": 10},
            connect_timeout=5,
            read_timeout=30,
        ),
    )
