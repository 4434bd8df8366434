"""Helpers for tests that run real tools: cloud-init's own shellify and a bubblewrap jail."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

CLOUD_INIT_PYTHON = "/usr/bin/python3"


def cloud_init_script(runcmd: list[object]) -> str:
    """Turn a runcmd list into the shell script cloud-init itself would write for it."""
    if shutil.which("cloud-init") is None:
        pytest.fail("cloud-init is not installed; .ci/run installs it (apt-get install cloud-init)")
    proc = subprocess.run(
        [
            CLOUD_INIT_PYTHON,
            "-c",
            "import json, sys; from cloudinit.util import shellify; "
            "sys.stdout.write(shellify(json.load(sys.stdin)))",
        ],
        input=json.dumps(runcmd),
        capture_output=True,
        text=True,
        check=True,
    )
    return proc.stdout


def run_in_jail(script: str, etc: Path) -> subprocess.CompletedProcess[str]:
    """Run `script` with sh inside bubblewrap: read-only /usr, `etc` as /etc, no network."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        pytest.fail("bubblewrap is not installed; .ci/run installs it (apt-get install bubblewrap)")
    args = [
        bwrap, "--unshare-all", "--die-with-parent", "--new-session",
        "--ro-bind", "/usr", "/usr",
        "--symlink", "usr/bin", "/bin", "--symlink", "usr/sbin", "/sbin",
        "--symlink", "usr/lib", "/lib", "--symlink", "usr/lib64", "/lib64",
        "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp",
        "--bind", str(etc), "/etc",
        "/bin/sh", "-c", script,
    ]  # fmt: skip
    return subprocess.run(args, capture_output=True, text=True, timeout=60, check=False)


class RecordingReporter:
    """A `Reporter` (`ebami.core.reporting`) that keeps every line, warnings prefixed as the
    terminal prints them."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def progress(self, message: str) -> None:
        self.lines.append(message)

    def detail(self, message: str) -> None:
        self.lines.append(message)

    def warn(self, message: str) -> None:
        self.lines.append("warning: " + message)
