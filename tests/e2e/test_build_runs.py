"""`ebami build` runs next to each other and runs that end abruptly: the real CLI process, the
real packer binary (behind small wrappers that hold or break it), the sandbox over HTTP.

Two builds of one bake key end with one AMI; a failed build never removes another run's AMI;
a Ctrl-C or SIGTERM while `packer version` runs is the interrupt; what a killed run left is
reported by the next build.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ebami.sandbox.leaks import leak_report
from tests.sandbox_helpers import Sandbox, SandboxFactory, wait_for
from tests.support.amis import own_images, tags_of
from tests.support.runs import build, ebami_command

LEASES = "/ebami/leases/"


def real_packer() -> str:
    found = shutil.which("packer")
    if found is None:
        pytest.fail("packer is not installed; scripts/system-deps installs it")
    return found


def wrapper(folder: Path, body: str) -> dict[str, str]:
    """A `packer` on PATH that runs `body` (Python, with `args` and `PACKER`, the real one)
    before handing over to the real packer; the environment that puts it first on PATH."""
    folder.mkdir(parents=True, exist_ok=True)
    script = folder / "packer"
    script.write_text(
        f"#!{sys.executable}\n"
        "import json, os, sys, time\n"
        f"PACKER = {real_packer()!r}\n"
        "args = sys.argv[1:]\n"
        f"{body}\n"
        "os.execv(PACKER, [PACKER, *args])\n",
        encoding="utf-8",
    )
    script.chmod(0o755)
    return {"PATH": f"{folder}{os.pathsep}{os.environ['PATH']}"}


class Run:
    """One `ebami build` process, its stderr collected as it comes."""

    def __init__(self, sandbox: Sandbox, *args: str, cwd: Path, env: dict[str, str]) -> None:
        self.process = subprocess.Popen(
            ebami_command("build", *args),
            cwd=cwd,
            env={**os.environ, **sandbox.env(), **env},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.lines.append(line.rstrip("\n"))

    def saw(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    def wait_for(self, text: str, timeout: float = 60.0) -> None:
        wait_for(lambda: self.saw(text) or self.process.poll() is not None, timeout=timeout)
        assert self.saw(text), self.stderr

    def finish(self, timeout: float = 120.0) -> tuple[int, str]:
        """The exit code and stdout (ebami writes little there: the pipe never fills)."""
        try:
            self.process.wait(timeout=timeout)
        finally:
            if self.process.poll() is None:
                self.process.kill()
        self._reader.join(timeout=10)
        assert self.process.stdout is not None
        return self.process.returncode, self.process.stdout.read()

    @property
    def stderr(self) -> str:
        return "\n".join(self.lines)


RunFactory = Callable[..., Run]


@pytest.fixture
def runs() -> Iterator[RunFactory]:
    """Starts `ebami build` processes; any still running at the end (a failed test) gets
    SIGTERM, which it forwards to its Packer, then SIGKILL if it does not end."""
    started: list[Run] = []

    def start(sandbox: Sandbox, *args: str, cwd: Path, env: dict[str, str]) -> Run:
        run = Run(sandbox, *args, cwd=cwd, env=env)
        started.append(run)
        return run

    yield start
    for run in started:
        if run.process.poll() is None:
            run.process.terminate()
            try:
                run.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                run.process.kill()
                run.process.wait()


def parameters(sandbox: Sandbox, path: str) -> list[str]:
    found: list[dict[str, Any]] = sandbox.client("ssm").describe_parameters()["Parameters"]
    return [item["Name"] for item in found if item["Name"].startswith(path)]


def test_two_builds_of_one_bake_key_end_with_one_ami_and_both_report_it(
    make_sandbox: SandboxFactory, runs: RunFactory, tmp_path: Path
) -> None:
    sandbox = make_sandbox()
    gate = tmp_path / "gate"
    # Packer waits at the gate, so that the first run is mid-bake when the second starts.
    env = wrapper(
        tmp_path / "bin",
        f"while args[:1] == ['build'] and not os.path.exists({str(gate)!r}):\n    time.sleep(0.05)",
    )
    first = runs(sandbox, "--release", "2017.09", cwd=tmp_path, env=env)
    first.wait_for("packer build of")
    second = runs(sandbox, "--release", "2017.09", cwd=tmp_path, env=env)
    second.wait_for("another build of this bake key is running")
    assert len(parameters(sandbox, LEASES)) == 1
    gate.touch()
    first_code, first_out = first.finish()
    second_code, second_out = second.finish()
    assert first_code == 0, first.stderr
    assert second_code == 0, second.stderr
    image_id = first_out.strip()
    assert second_out.strip() == image_id
    assert second.saw(f"{image_id} was baked meanwhile by build run ")
    assert not second.saw("packer build of")
    assert second.lines[-1].startswith(f"{image_id} already built")
    images = own_images(sandbox)
    assert [image["ImageId"] for image in images] == [image_id]
    assert parameters(sandbox, LEASES) == []  # released by both
    assert leak_report(sandbox.client("ec2")).clean


def test_a_failed_build_never_removes_another_runs_ami_of_the_same_name(
    make_sandbox: SandboxFactory, runs: RunFactory, tmp_path: Path
) -> None:
    sandbox = make_sandbox()
    name_file, gate = tmp_path / "name", tmp_path / "gate"
    read_variables = (
        "path = next(a.split('=', 1)[1] for a in args if a.startswith('-var-file='))\n"
        "    variables = json.load(open(path))\n"
    )
    # Two builds of different bake keys started in the same second plan the same AMI name.
    # This one (more drivers) says its name and waits while the other bakes under that name.
    waits = runs(
        sandbox,
        "--release", "2017.09", "--drivers", "json-file,syslog,awslogs,fluentd,gelf,none",
        cwd=tmp_path,
        env=wrapper(
            tmp_path / "waits",
            "if args[:1] == ['build']:\n"
            f"    {read_variables}"
            f"    open({str(name_file)!r}, 'w').write(variables['ami_name'])\n"
            f"    while not os.path.exists({str(gate)!r}):\n"
            "        time.sleep(0.05)",
        ),
    )  # fmt: skip
    wait_for(lambda: name_file.exists() and name_file.read_text())
    done = build(
        sandbox,
        "--release", "2017.09",
        cwd=tmp_path,
        env=wrapper(
            tmp_path / "bakes",
            "if args[:1] == ['build']:\n"
            f"    {read_variables}"
            f"    variables['ami_name'] = open({str(name_file)!r}).read()\n"
            "    json.dump(variables, open(path, 'w'))",
        ),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    theirs = done.stdout.strip()
    assert [image["Name"] for image in own_images(sandbox)] == [name_file.read_text()]
    # Now the waiting build goes on: Packer refuses the name, an AMI has it, and the build
    # fails and cleans up after itself.
    gate.touch()
    code, _ = waits.finish()
    assert code == 1, waits.stderr
    assert waits.lines[-1].startswith("error: packer build failed"), waits.stderr
    assert [(item["ImageId"], item["State"]) for item in own_images(sandbox)] == [
        (theirs, "available")
    ]
    assert leak_report(sandbox.client("ec2")).clean


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_while_packer_version_runs_is_the_interrupt(
    make_sandbox: SandboxFactory, runs: RunFactory, tmp_path: Path, signum: signal.Signals
) -> None:
    sandbox = make_sandbox()
    pid_file = tmp_path / "probe.pid"
    # A Packer slow to say its version (a cold network file system, say).
    env = wrapper(
        tmp_path / "bin",
        "if args[:1] == ['version']:\n"
        f"    open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        "    time.sleep(60)",
    )
    run = runs(sandbox, "--release", "2017.09", "--force", cwd=tmp_path, env=env)
    run.wait_for("packer build of")
    wait_for(pid_file.exists)
    # The bake has started and asked for the version: ebami waits for the probe.
    time.sleep(0.5)
    run.process.send_signal(signum)
    code, _ = run.finish(timeout=60)
    assert code == 130, run.stderr
    assert run.lines[-1] == (
        f"error: interrupted ({signum.name}) while reading Packer's version"
    ), run.stderr
    assert "install Packer" not in run.stderr
    probe = int(pid_file.read_text())
    wait_for(lambda: not _alive(probe))
    assert parameters(sandbox, LEASES) == []  # the lease was released
    assert own_images(sandbox) == []
    assert leak_report(sandbox.client("ec2")).clean


def test_the_next_build_reports_what_a_killed_run_left_and_removes_nothing(
    make_sandbox: SandboxFactory, runs: RunFactory, tmp_path: Path
) -> None:
    # The new AMI stays pending: the run is mid-bake when it and its Packer are killed.
    sandbox = make_sandbox(ami_pending_polls=100_000)
    pid_file = tmp_path / "packer.pid"
    env = wrapper(
        tmp_path / "bin",
        f"if args[:1] == ['build']:\n    open({str(pid_file)!r}, 'w').write(str(os.getpid()))",
    )
    # A killed run cannot remove its temporary files (nor its Packer, Packer's log): they go to
    # the test's own folder, not the machine's /tmp.
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    env = {**env, "TMPDIR": str(scratch)}
    killed = runs(sandbox, "--release", "2017.09", cwd=tmp_path, env=env)
    killed.wait_for("Waiting for AMI to become ready")
    killed.process.kill()
    # Packer runs in a process group of its own: a lost machine takes it too.
    os.killpg(int(pid_file.read_text()), signal.SIGKILL)
    killed.finish()
    left = leak_report(sandbox.client("ec2"))
    assert left.instances
    assert left.security_groups
    assert left.key_pairs
    (pending,) = own_images(sandbox)

    nxt = build(sandbox, "--release", "2017.09", "--no-wait", cwd=tmp_path)
    assert nxt.returncode == 1, nxt.stderr
    warnings = [line for line in nxt.stderr.splitlines() if line.startswith("warning: ")]
    region = sandbox.info.region
    expected = [
        f"aws ec2 terminate-instances --instance-ids {left.instances[0].id} --region {region}",
        f"aws ec2 deregister-image --image-id {pending['ImageId']} --region {region}",
        f"aws ec2 delete-security-group --group-id {left.security_groups[0].id} --region {region}",
        f"aws ec2 delete-key-pair --key-name {left.key_pairs[0].id} --region {region}",
    ]
    for command in expected:
        assert any(command in line for line in warnings), (command, nxt.stderr)
    assert "may also belong to a run still going" in nxt.stderr
    last = nxt.stderr.strip().splitlines()[-1]
    assert last.startswith("error: another build of this bake key is running (run ")
    assert f"aws ssm delete-parameter --name {LEASES}" in last
    # Reported, not removed: it might have been a run still going.
    assert leak_report(sandbox.client("ec2")) == left
    assert [item["ImageId"] for item in own_images(sandbox)] == [pending["ImageId"]]


def test_a_build_that_finds_its_ami_shares_and_tags_it_as_asked(
    make_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = make_sandbox()
    first = build(sandbox, "--release", "2017.09", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    image_id = first.stdout.strip()
    again = build(
        sandbox,
        "--release", "2017.09", "--share-with", "123456789012", "--tag", "team=platform",
        "--ssm-parameter", "/ebami/al1/latest", cwd=tmp_path, env={"EBAMI_OUTPUT": "json"},
    )  # fmt: skip
    assert again.returncode == 0, again.stderr
    record = json.loads(again.stdout)
    assert (record["image_id"], record["skipped"]) == (image_id, True)
    ec2 = sandbox.client("ec2")
    permissions = ec2.describe_image_attribute(ImageId=image_id, Attribute="launchPermission")
    assert permissions["LaunchPermissions"] == [{"UserId": "123456789012"}]
    (image,) = ec2.describe_images(ImageIds=[image_id])["Images"]
    assert tags_of(image)["team"] == "platform"
    snapshot_ids = [m["Ebs"]["SnapshotId"] for m in image["BlockDeviceMappings"] if "Ebs" in m]
    for snapshot in ec2.describe_snapshots(SnapshotIds=snapshot_ids)["Snapshots"]:
        assert tags_of(snapshot)["team"] == "platform"
    parameter = sandbox.client("ssm").get_parameter(Name="/ebami/al1/latest")["Parameter"]
    assert parameter["Value"] == image_id


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
