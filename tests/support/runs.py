"""The real ebami CLI in its own process against a sandbox, as a user runs it: build, verify,
apply and any other command, the API call counts it prints (EBAMI_STATS=1), and its errors."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ebami.sandbox import world
from tests.sandbox_helpers import Sandbox

# verify's instance profile: the sandbox's EC2 role.
PROFILE = ("--instance-profile", world.EC2_ROLE)
# `build --drivers` for an AMI that does not allow fluentd.
NO_FLUENTD = "json-file,syslog,awslogs,none"
# How the line that says ebami talks to a sandbox, not AWS, starts.
SANDBOX_WARNING = "warning: sandbox: "
# The operations that change nothing start so.
READ_ONLY = ("Describe", "List", "Get")


def ebami_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "ebami", *args]


def ebami(
    sandbox: Sandbox,
    *args: str,
    cwd: Path,
    json_output: bool = False,
    stats: bool = False,
    timeout: float = 120,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run `ebami [-o json] ARGS` to its end against the sandbox (`env`: more variables)."""
    return subprocess.run(
        ebami_command(*(["-o", "json"] if json_output else []), *args),
        cwd=cwd,
        env={
            **os.environ,
            **sandbox.env(),
            **({"EBAMI_STATS": "1"} if stats else {}),
            **(env or {}),
        },
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def build(
    sandbox: Sandbox, *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    if shutil.which("packer") is None:
        pytest.fail("packer is not installed; scripts/system-deps installs it")
    return subprocess.run(
        ebami_command("build", *args),
        cwd=cwd,
        env={**os.environ, **sandbox.env(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def verify(
    sandbox: Sandbox, *args: str, cwd: Path, json_output: bool = False, stats: bool = False
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ebami_command(*(["-o", "json"] if json_output else []), "verify", *args),
        cwd=cwd,
        env={**os.environ, **sandbox.env(), **({"EBAMI_STATS": "1"} if stats else {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def apply(
    sandbox: Sandbox, *args: str, cwd: Path, **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    return ebami(sandbox, "apply", *args, cwd=cwd, **kwargs)


def baked(sandbox: Sandbox, cwd: Path, *args: str) -> str:
    result = build(sandbox, "--release", "2017.09", *args, cwd=cwd)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def verified_ami(sandbox: Sandbox, cwd: Path, *args: str) -> str:
    """Bake an AMI (build's own arguments `args`) and pass ebami verify on it."""
    ami = baked(sandbox, cwd, *args)
    checked = verify(sandbox, "--ami", ami, *PROFILE, cwd=cwd)
    assert checked.returncode == 0, checked.stderr
    return ami


def api_calls(stderr: str) -> dict[str, int]:
    """The per-operation API call counts ebami prints on stderr with EBAMI_STATS=1."""
    assert "API calls: " in stderr, stderr
    block = stderr.split("API calls: ", 1)[1].splitlines()[1:]
    counts: dict[str, int] = {}
    for line in block:
        if not line.startswith("  "):
            break
        operation, count = line.strip().rsplit(": ", 1)
        counts[operation] = int(count)
    return counts


def mutating(calls: dict[str, int]) -> list[str]:
    return [op for op in calls if not op.split(".", 1)[1].startswith(READ_ONLY)]


def diagnostics(stderr: str) -> list[str]:
    """stderr without the sandbox's own warning and the EBAMI_STATS block."""
    lines, in_stats = [], False
    for line in stderr.splitlines():
        if line.startswith("API calls: "):
            in_stats = True
        elif in_stats and line.startswith("  "):
            continue
        else:
            in_stats = False
            if not line.startswith(SANDBOX_WARNING):
                lines.append(line)
    return [line for line in lines if not line.startswith("API calls: ")]


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    """The single line a bad input gets: nothing else on stderr, no traceback."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = diagnostics(result.stderr)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), result.stderr
    return lines[0]


def last_error(result: subprocess.CompletedProcess[str]) -> str:
    """The final `error:` line of a run that did work first; never a traceback."""
    assert "Traceback" not in result.stderr, result.stderr
    lines = diagnostics(result.stderr)
    assert lines, result.stderr
    assert lines[-1].startswith("error: "), result.stderr
    assert sum(line.startswith("error: ") for line in lines) == 1, result.stderr
    return lines[-1]
