"""Where a sandbox lives and how ebami finds it: the sandbox's folder (`--dir`,
`EBAMI_SANDBOX_DIR` or the default) and the state file in it, which the server writes once it is
ready and removes as it stops, and which `start`, `status`, `stop` and `release` read
(`SandboxInfo`). A state file whose process is gone is stale: reading it removes it.

This module does not import moto nor botocore. The folder's lock and the server's log are
`ebami.sandbox.control`'s.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ebami.core.errors import EbamiError
from ebami.core.files import write_atomically
from ebami.sandbox.faults import Faults

STATE_FILE = "sandbox.json"
ENV_DIR = "EBAMI_SANDBOX_DIR"


class SandboxError(EbamiError):
    """A sandbox could not be started, found, reached or stopped."""


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
    # Served inside `ebami sandbox run`'s own process for its command: it ends with the command,
    # and `ebami sandbox stop` leaves it alone.
    run: bool = False
    # IAM authorizes each request (`sandbox start --enforce-iam`): ebami.sandbox.iam_enforcement.
    enforce_iam: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "pid": self.pid,
            "endpoint": self.endpoint,
            "region": self.region,
            "directory": self.directory,
            "faults": self.faults.to_json(),
            "started": self.started,
            "fleet": self.fleet,
            "run": self.run,
            "enforce_iam": self.enforce_iam,
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
            run=bool(data.get("run", False)),
            enforce_iam=bool(data.get("enforce_iam", False)),
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


def read_state(directory: Path) -> SandboxInfo | None:
    """The running sandbox in `directory`, or None (a stale state file is removed)."""
    path = directory / STATE_FILE
    try:
        info = SandboxInfo.from_json(json.loads(path.read_text()))
    except (FileNotFoundError, NotADirectoryError):
        return None
    except (ValueError, KeyError, TypeError) as exc:
        raise SandboxError(f"cannot read the sandbox state file {path}: {exc}; remove it") from None
    if not is_sandbox_process(info.pid, run=info.run):
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


def is_sandbox_process(pid: int, *, run: bool = False) -> bool:
    """Whether `pid` is alive and is an ebami sandbox server (not a reused pid): `python -m
    ebami.sandbox serve`, or with `run`, the `ebami sandbox run` that serves one in-process."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        try:
            os.kill(pid, 0)
        except (ProcessLookupError, PermissionError):
            return False
        return True  # no /proc here: trust the pid
    words = cmdline.split(b"\0")
    if run:
        return b"sandbox" in words and b"run" in words
    return b"ebami.sandbox" in cmdline and b"serve" in cmdline
