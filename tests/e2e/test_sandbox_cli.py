"""`ebami sandbox start|status|stop|run` as a user runs them: processes, ports, exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ebami.sandbox.control import STATE_FILE


def ebami(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ebami", *args],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def listening_addresses(port: int) -> set[str]:
    """The local addresses listening on `port` (IPv4 and IPv6), from /proc/net."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            address, port_hex = fields[1].rsplit(":", 1)
            if fields[3] == "0A" and int(port_hex, 16) == port:
                found.add(address)
    return found


def processes_mentioning(text: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and entry.name != str(os.getpid()):
            try:
                cmdline = (entry / "cmdline").read_bytes()
            except OSError:
                continue
            if text.encode() in cmdline:
                pids.append(int(entry.name))
    return pids


def test_start_status_stop_leave_nothing_behind(tmp_path: Path) -> None:
    folder = tmp_path / "sb"
    started = ebami("sandbox", "start", "--dir", str(folder), "--ssm-offline")
    assert started.returncode == 0, started.stderr
    exports = dict(
        line.removeprefix("export ").split("=", 1)
        for line in started.stdout.splitlines()
        if line.startswith("export ")
    )
    endpoint = exports["AWS_ENDPOINT_URL"]
    assert endpoint.startswith("http://127.0.0.1:")
    assert exports["EBAMI_SANDBOX"] == endpoint
    assert "unset AWS_PROFILE" in started.stdout
    assert "fault injected: SSM agents offline" in started.stderr
    port = int(endpoint.rsplit(":", 1)[1])
    assert listening_addresses(port) == {"0100007F"}  # 127.0.0.1 only, never 0.0.0.0

    again = ebami("sandbox", "start", "--dir", str(folder))
    assert again.returncode != 0
    assert "a sandbox is already running in" in again.stderr

    status = ebami("--output", "json", "sandbox", "status", "--dir", str(folder))
    assert status.returncode == 0, status.stderr
    report = json.loads(status.stdout)
    assert report["endpoint"] == endpoint
    assert report["faults_active"] == ["SSM agents offline"]
    assert report["leaks"]["clean"] is True
    pid = report["pid"]

    stopped = ebami("sandbox", "stop", "--dir", str(folder))
    assert stopped.returncode == 0, stopped.stderr
    assert f"sandbox stopped (pid {pid}" in stopped.stderr
    assert (
        not Path(f"/proc/{pid}").exists() or "State:\tZ" in Path(f"/proc/{pid}/status").read_text()
    )
    assert processes_mentioning(str(folder)) == []
    assert listening_addresses(port) == set()
    assert not (folder / STATE_FILE).exists()
    assert not (folder / "roots").exists()

    assert ebami("sandbox", "stop", "--dir", str(folder)).returncode == 0
    missing = ebami("sandbox", "status", "--dir", str(folder))
    assert missing.returncode == 4
    assert (
        missing.stderr.strip()
        == f"error: no sandbox is running in {folder}; start one with 'ebami sandbox start'"
    )


def test_run_wraps_one_command_and_passes_its_exit_code(tmp_path: Path) -> None:
    probe = tmp_path / "env.txt"
    proc = ebami(
        "sandbox", "run", "--", "sh", "-c",
        'echo "$AWS_ENDPOINT_URL $EBAMI_SANDBOX $AWS_REGION ${AWS_PROFILE-unset}" > "$0"; exit 7',
        str(probe),
        env={"AWS_PROFILE": "production"},
    )  # fmt: skip
    assert proc.returncode == 7, proc.stderr
    endpoint, marker, region, profile = probe.read_text().split()
    assert endpoint.startswith("http://127.0.0.1:")
    assert (marker, region, profile) == (endpoint, "us-east-1", "unset")
    port = int(endpoint.rsplit(":", 1)[1])
    assert listening_addresses(port) == set()  # the sandbox is gone with the command


def test_run_reports_what_the_command_left_behind() -> None:
    script = "import boto3; boto3.client('ec2').create_key_pair(KeyName='forgotten')"
    proc = ebami("sandbox", "run", "--", sys.executable, "-c", script)
    assert proc.returncode == 0, proc.stderr
    assert "left behind in the sandbox: key pairs: forgotten" in proc.stderr


def test_bad_fault_values_are_one_line_errors(tmp_path: Path) -> None:
    proc = ebami("sandbox", "start", "--dir", str(tmp_path), "--throttle", "1.5")
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "error: throttle fraction 1.5 is out of range: give a number from 0 to less than 1, "
        "such as 0.2"
    )
    proc = ebami("sandbox", "run", "--", "true", env={"EBAMI_SANDBOX_AMI_PENDING_POLLS": "soon"})
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "error: EBAMI_SANDBOX_AMI_PENDING_POLLS='soon' is not a whole number: give 0 or more"
    )
    assert not (tmp_path / STATE_FILE).exists()


def test_a_start_that_is_not_ready_in_time_leaves_nothing_running(tmp_path: Path) -> None:
    from ebami.sandbox.control import SandboxError, start_background
    from ebami.sandbox.faults import Faults

    folder = tmp_path / "slow"
    with pytest.raises(SandboxError, match="the sandbox was not ready within 0 s"):
        start_background(folder, port=0, region="us-east-1", faults=Faults(), seed=0, timeout=0.05)
    assert processes_mentioning(str(folder)) == []
    assert not (folder / STATE_FILE).exists()
