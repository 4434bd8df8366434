"""`ebami build` as a user runs it: the real CLI process, the real packer binary, the sandbox."""

from __future__ import annotations

import json
import os
import signal
import subprocess
from pathlib import Path

import pytest

from ebami.image.ecsconfig import effective_drivers
from ebami.image.ecsfiles import ConfigFile
from ebami.image.ecsreport import DriversOrigin
from ebami.sandbox import world
from ebami.sandbox.leaks import leak_report
from tests.sandbox_helpers import Sandbox, SandboxFactory
from tests.support.amis import base_ami, image, launch, own_images, run_shell, tags_of
from tests.support.runs import api_calls, build, ebami_command

FLUENTD = "fluentd"


def ecs_config_of(sandbox: Sandbox, image_id: str) -> tuple[str, str]:
    """Launch an instance of the AMI and read ecs.config and yum.conf over SSM."""
    instance_id = launch(sandbox, image_id, "")
    try:
        config = run_shell(sandbox, instance_id, "cat /etc/ecs/ecs.config")
        yum = run_shell(sandbox, instance_id, "cat /etc/yum.conf 2>/dev/null || true")
    finally:
        sandbox.client("ec2").terminate_instances(InstanceIds=[instance_id])
    assert config["Status"] == "Success", config
    return config["StandardOutputContent"], yum["StandardOutputContent"]


def test_build_bakes_tags_and_is_idempotent(sandbox: Sandbox, tmp_path: Path) -> None:
    first = build(sandbox, "--release", "2017.09", "--record", "build.json", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    image_id = first.stdout.strip()
    assert image_id.startswith("ami-")
    assert (
        f"warning: sandbox: talking to the ebami sandbox at {sandbox.endpoint}, not AWS"
        in first.stderr.splitlines()
    )

    record = json.loads((tmp_path / "build.json").read_text())
    assert (record["image_id"], record["skipped"]) == (image_id, False)
    assert record["packer_source"] == "amazon-ebs.sandbox"
    stock = base_ami(sandbox, world.MULTICONTAINER_DOCKER, "2.8.4")
    assert record["base_ami"]["image_id"] == stock

    ami = image(sandbox, image_id)
    tags = tags_of(ami)
    assert tags["ebami:managed"] == "true"
    assert tags["ebami:bake-key"] == record["bake_key"]
    assert tags["ebami:base-ami"] == stock
    assert tags["ebami:platform-version"] == "2.8.4"
    assert tags["ebami:platform-arn"].endswith(
        "/Multi-container Docker running on 64bit Amazon Linux/2.8.4"
    )
    assert tags["ebami:release"] == "2017.09"
    assert FLUENTD in tags["ebami:drivers"].split()
    assert tags["ebami:user-data-sha256"] == record["user_data_sha256"]
    snapshot_ids = [m["Ebs"]["SnapshotId"] for m in ami["BlockDeviceMappings"] if "Ebs" in m]
    assert snapshot_ids
    snapshots = sandbox.client("ec2").describe_snapshots(SnapshotIds=snapshot_ids)["Snapshots"]
    for snapshot in snapshots:
        assert tags_of(snapshot)["ebami:bake-key"] == record["bake_key"]

    # An instance of the AMI answers over SSM (the base AMI has no agent: the bake installed
    # it) and its files give fluentd by the agent's rules; yum stays on 2017.09.
    config, yum = ecs_config_of(sandbox, image_id)
    report = effective_drivers([ConfigFile("/etc/ecs/ecs.config", config)])
    assert report.origin is DriversOrigin.CONFIG
    assert FLUENTD in report.drivers
    assert not report.failures([FLUENTD])
    assert "releasever=2017.09" in yum
    assert leak_report(sandbox.client("ec2")).clean

    again = build(sandbox, "--release", "2017.09", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    assert again.stdout.strip() == image_id
    assert "already carries bake key" in again.stderr
    assert "packer build" not in again.stderr

    forced = build(sandbox, "--release", "2017.09", "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert forced.stdout.strip().startswith("ami-")
    assert forced.stdout.strip() != image_id
    assert tags_of(image(sandbox, forced.stdout.strip()))["ebami:bake-key"] == record["bake_key"]
    assert leak_report(sandbox.client("ec2")).clean


@pytest.mark.parametrize(
    ("args", "platform", "version", "releasever"),
    [
        (["--release", "2018.03"], world.MULTICONTAINER_DOCKER, "2.11.0", "releasever=2018.03"),
        (["--platform", "ecs-al2"], world.ECS_AL2, "3.5.0", None),
    ],
    ids=["2018.03", "ecs-al2"],
)
def test_other_releases_and_platforms_build_with_their_own_lock(
    sandbox: Sandbox,
    tmp_path: Path,
    args: list[str],
    platform: str,
    version: str,
    releasever: str | None,
) -> None:
    result = build(sandbox, *args, cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    image_id = result.stdout.strip()
    tags = tags_of(image(sandbox, image_id))
    assert tags["ebami:base-ami"] == base_ami(sandbox, platform, version)
    config, yum = ecs_config_of(sandbox, image_id)
    assert FLUENTD in effective_drivers([ConfigFile("/etc/ecs/ecs.config", config)]).drivers
    if releasever is None:
        assert "releasever" not in yum  # Amazon Linux 2 does not support repo_releasever
        assert "ebami:release" not in tags
    else:
        assert releasever in yum


def test_json_output_and_ssm_parameter(sandbox: Sandbox, tmp_path: Path) -> None:
    result = build(
        sandbox,
        "--platform",
        "ecs-al2023",
        "--ssm-parameter",
        "/ebami/ecs-al2023/latest",
        cwd=tmp_path,
        env={"EBAMI_OUTPUT": "json"},
    )
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    parameter = sandbox.client("ssm").get_parameter(Name="/ebami/ecs-al2023/latest")["Parameter"]
    assert parameter["Value"] == record["image_id"]
    assert parameter["DataType"] == "aws:ec2:image"
    assert record["ssm_parameter"] == "/ebami/ecs-al2023/latest"
    assert record["ssm_agent_installed"] is False  # AL2023's base AMI has the agent


def test_dry_run_makes_no_mutating_call(sandbox: Sandbox, tmp_path: Path) -> None:
    before = {item["ImageId"] for item in own_images(sandbox)}
    result = build(
        sandbox, "--release", "2017.09", "--dry-run", cwd=tmp_path, env={"EBAMI_STATS": "1"}
    )
    assert result.returncode == 0, result.stderr
    assert "Bake key" in result.stdout
    assert "   variables.source_ami" in result.stdout or "skip: ami-" in result.stdout
    calls = list(api_calls(result.stderr))
    assert calls, result.stderr
    operations = [call.split(".", 1)[1] for call in calls]
    assert all(op.startswith(("Describe", "List", "Get")) for op in operations), operations
    assert "ec2.DescribeImages" in calls
    assert {item["ImageId"] for item in own_images(sandbox)} == before
    assert leak_report(sandbox.client("ec2")).clean


def test_packer_absent_is_one_clear_line(sandbox: Sandbox, tmp_path: Path) -> None:
    empty = tmp_path / "bin"
    empty.mkdir()
    before = {item["ImageId"] for item in own_images(sandbox)}
    result = build(
        sandbox, "--release", "2017.09", "--force", cwd=tmp_path, env={"PATH": str(empty)}
    )
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: packer was not found on PATH; install Packer 1.6.6 or newer")
    assert "Traceback" not in result.stderr
    assert {item["ImageId"] for item in own_images(sandbox)} == before
    assert leak_report(sandbox.client("ec2")).clean


def test_packer_failure_surfaces_packers_error(
    make_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = make_sandbox()
    stock = base_ami(sandbox, world.MULTICONTAINER_DOCKER, "2.8.4")
    # The platform still lists the AMI, as AWS does when a retired base AMI goes private.
    sandbox.client("ec2").deregister_image(ImageId=stock)
    result = build(sandbox, "--release", "2017.09", cwd=tmp_path)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last == (
        "error: packer build failed (exit 1): --> amazon-ebs.sandbox: No AMI was found matching "
        f'filters: {{ ImageIds: ["{stock}"] }}'
    ), result.stderr
    assert "Traceback" not in result.stderr
    assert leak_report(sandbox.client("ec2")).clean
    assert own_images(sandbox) == []


def test_sigint_mid_build_lets_packer_clean_up(
    make_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    # The new AMI stays pending, so Packer is mid-build (waiting for it) when the test signals.
    sandbox = make_sandbox(ami_pending_polls=100_000)
    process = subprocess.Popen(
        ebami_command("build", "--release", "2017.09"),
        cwd=tmp_path,
        env={**os.environ, **sandbox.env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    lines: list[str] = []
    try:
        for line in process.stderr:
            lines.append(line)
            if "Waiting for AMI to become ready" in line:
                break
        assert own_images(sandbox), "the build never reached CreateImage"
        process.send_signal(signal.SIGINT)
        _, rest = process.communicate(timeout=60)
        lines.append(rest)
    finally:
        if process.poll() is None:
            process.kill()
    stderr = "".join(lines)
    assert process.returncode == 130, stderr
    assert "Cleanly cancelled builds after being interrupted" in stderr
    assert stderr.strip().splitlines()[-1].startswith("error: interrupted (SIGINT)")
    assert leak_report(sandbox.client("ec2")).clean
    assert own_images(sandbox) == []  # the pending AMI was removed too
