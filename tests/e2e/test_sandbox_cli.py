"""`ebami sandbox start|status|stop|run` as a user runs them: processes, ports, exit codes,
signals, two starts at once, and the leak report."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from ebami.sandbox.state_file import STATE_FILE
from tests.sandbox_helpers import SandboxFactory, wait_for


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


def test_sandbox_commands_inside_run_reach_its_own_sandbox(tmp_path: Path) -> None:
    """`status` and `release` inside `sandbox run` find the run's sandbox, not the default
    folder's; `stop` refuses to stop it; the state file goes with the run."""
    out = tmp_path / "out"
    script = (
        '"$0" -m ebami --output json sandbox status > "$1/status.json" && '
        '"$0" -m ebami --output json sandbox release > "$1/release.json" && '
        '{ "$0" -m ebami sandbox stop 2> "$1/stop.err"; echo $? > "$1/stop.code"; } && '
        'echo "$EBAMI_SANDBOX_DIR" > "$1/dir"'
    )
    out.mkdir()
    home = tmp_path / "home"  # the default folder would be here: it must stay untouched
    proc = ebami(
        "sandbox", "run", "--", "sh", "-c", script, sys.executable, str(out),
        env={"HOME": str(home), "XDG_STATE_HOME": str(home / "state")},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    status = json.loads((out / "status.json").read_text())
    assert status["run"] is True
    assert status["directory"] == (out / "dir").read_text().strip()
    assert json.loads((out / "release.json").read_text())["image_id"].startswith("ami-")
    assert (out / "stop.code").read_text().strip() == "1"
    assert "stops when that command ends" in (out / "stop.err").read_text()
    assert not Path(status["directory"]).exists()  # removed with the run
    assert not (home / "state").exists()


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
    proc = ebami("sandbox", "run", "--realism", "off,late-events=soon", "--", "true")
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "error: --realism late-events='soon' is not a number of seconds: give 0 or more, or off"
    )
    proc = ebami("sandbox", "run", "--", "true", env={"EBAMI_SANDBOX_AMI_PENDING_POLLS": "soon"})
    assert proc.returncode == 2
    assert proc.stderr.strip() == (
        "error: EBAMI_SANDBOX_AMI_PENDING_POLLS='soon' is not a whole number: give 0 or more"
    )
    assert not (tmp_path / STATE_FILE).exists()


def test_a_taken_port_is_refused_at_once(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = ebami("sandbox", "start", "--dir", str(tmp_path), "--port", str(port))
    assert proc.returncode == 1
    assert f"--port {port} is taken on 127.0.0.1" in proc.stderr
    assert "not ready within" not in proc.stderr
    assert not (tmp_path / STATE_FILE).exists()


def test_a_start_that_is_not_ready_in_time_leaves_nothing_running(tmp_path: Path) -> None:
    from ebami.sandbox.control import start_background
    from ebami.sandbox.faults import Faults
    from ebami.sandbox.state_file import SandboxError

    folder = tmp_path / "slow"
    with pytest.raises(SandboxError, match="the sandbox was not ready within 0 s"):
        start_background(folder, port=0, region="us-east-1", faults=Faults(), seed=0, timeout=0.05)
    assert processes_mentioning(str(folder)) == []
    assert not (folder / STATE_FILE).exists()


def live_members(pgid: int) -> list[int]:
    """The processes of group `pgid` that are not zombies (a zombie has ended already)."""
    members = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        state, _ppid, group = stat[stat.rindex(")") + 2 :].split()[:3]
        if int(group) == pgid and state != "Z":
            members.append(int(entry.name))
    return members


# A grandchild of `sandbox run`: it answers SIGTERM with a call to the sandbox, which therefore
# must still be up when the group ends. Background jobs of a script ignore SIGINT.
GRANDCHILD = """
import os, signal, sys, time
import boto3
ec2 = boto3.client("ec2")
def bye(*_):
    ec2.describe_key_pairs()
    open(sys.argv[2], "w").write("answered")
    sys.exit(0)
signal.signal(signal.SIGTERM, bye)
open(sys.argv[1], "w").write(f"{os.getpgid(0)} {os.environ['AWS_ENDPOINT_URL']}")
time.sleep(300)
"""


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_to_run_ends_every_process_of_the_command_before_the_sandbox(
    signum: signal.Signals, tmp_path: Path
) -> None:
    ready, answered = tmp_path / "ready", tmp_path / "answered"
    # The grandchild in the background, a command substitution in the foreground (the shape of
    # `ami=$(ebami build ...)` in scripts/pipeline). Every process names tmp_path.
    sleeper = f"\"$0\" -c 'import time; time.sleep(300)' {tmp_path}"
    script = f'"$0" -c "$1" {ready} {answered} & x=$({sleeper}); wait'
    proc = subprocess.Popen(
        [sys.executable, "-m", "ebami", "sandbox", "run", "--",
         "bash", "-c", script, sys.executable, GRANDCHILD],
        stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        wait_for(lambda: ready.exists() and ready.read_text(), timeout=60)
        pgid, endpoint = ready.read_text().split()
        assert int(pgid) != os.getpgid(0)  # the command's own group, not ebami's or ours
        proc.send_signal(signum)
        _, stderr = proc.communicate(timeout=60)
        group_left, left = live_members(int(pgid)), processes_mentioning(str(tmp_path))
    finally:  # a failure must not leave the command's processes behind
        proc.kill()
        for pid in processes_mentioning(str(tmp_path)):
            os.kill(pid, signal.SIGKILL)
    assert proc.returncode == 128 + signum, stderr
    assert f"passed {signum.name} on to bash and its processes" in stderr
    assert answered.read_text() == "answered"  # the sandbox outlived the group
    assert (group_left, left) == ([], [])
    assert listening_addresses(int(endpoint.rsplit(":", 1)[1])) == set()


def test_two_starts_at_once_in_one_folder_leave_one_server(tmp_path: Path) -> None:
    folder = tmp_path / "sb"
    command = [sys.executable, "-m", "ebami", "sandbox", "start", "--dir", str(folder)]
    starts = [
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]
    outcomes = [start.communicate(timeout=120) for start in starts]
    servers = [
        pid
        for pid in processes_mentioning(str(folder))
        if b"serve" in Path(f"/proc/{pid}/cmdline").read_bytes()
    ]
    stopped = ebami("sandbox", "stop", "--dir", str(folder))
    left = processes_mentioning(str(folder))
    for orphan in left:  # a failure must not leave a server behind
        os.kill(orphan, signal.SIGKILL)
    assert sorted(start.returncode for start in starts) == [0, 1], outcomes
    assert len(servers) == 1
    [(exports, _)] = [
        out for out, start in zip(outcomes, starts, strict=True) if not start.returncode
    ]
    [refused] = [err for (_, err), start in zip(outcomes, starts, strict=True) if start.returncode]
    assert f"a sandbox is already running in {folder} (pid {servers[0]}" in refused
    assert stopped.returncode == 0, stopped.stderr
    assert f"sandbox stopped (pid {servers[0]}" in stopped.stderr
    assert left == []
    endpoint = exports.split("AWS_ENDPOINT_URL=", 1)[1].split()[0]
    assert listening_addresses(int(endpoint.rsplit(":", 1)[1])) == set()


def test_status_lists_what_a_killed_run_left_with_the_tags_of_its_run(
    make_sandbox: SandboxFactory,
) -> None:
    sandbox = make_sandbox(ami_pending_polls=5)
    ec2 = sandbox.client("ec2")
    base = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    run_tags = [
        {"Key": "Name", "Value": "ebami builder for ebami-test"},
        {"Key": "ebami:managed", "Value": "true"},
        {"Key": "ebami:bake-key", "Value": "k1"},
    ]
    instance = ec2.run_instances(
        ImageId=base, MinCount=1, MaxCount=1,
        TagSpecifications=[{"ResourceType": "instance", "Tags": run_tags}],
    )["Instances"][0]["InstanceId"]  # fmt: skip
    image = ec2.create_image(InstanceId=instance, Name="ebami-test")["ImageId"]
    folder = str(sandbox.directory)

    status = ebami("sandbox", "status", "--dir", folder)
    assert status.returncode == 0, status.stderr
    rows = status.stdout.splitlines()
    tags = "[Name=ebami builder for ebami-test, ebami:bake-key=k1, ebami:managed=true]"
    assert rows[-2:] == [
        f"leaks     instances: {instance} {tags}",
        f"          pending AMIs: {image} (ebami-test)",
    ]
    as_json = ebami("--output", "json", "sandbox", "status", "--dir", folder)
    leaks = json.loads(as_json.stdout)["leaks"]
    assert leaks["clean"] is False
    assert leaks["instances"] == [
        {"id": instance, "name": "", "tags": {tag["Key"]: tag["Value"] for tag in run_tags}}
    ]
    assert [item["id"] for item in leaks["pending_images"]] == [image]

    ec2.terminate_instances(InstanceIds=[instance])
    ec2.deregister_image(ImageId=image)
    cleaned = ebami("sandbox", "status", "--dir", folder)
    assert cleaned.stdout.splitlines()[-1] == "leaks     nothing left behind"
