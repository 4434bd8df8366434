"""`ebami verify` as a user runs it: the real CLI process against the sandbox over HTTP, real
SSM Run Command in bubblewrap, AMIs baked by the real packer."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
from pathlib import Path

import pytest

from ebami.core.waiting import intervals
from ebami.sandbox import world
from ebami.sandbox.leaks import leak_report
from tests.sandbox_helpers import Sandbox, SandboxFactory
from tests.support.amis import base_ami, image, launch, tags_of
from tests.support.environments import follow, update
from tests.support.runs import NO_FLUENTD, PROFILE, api_calls, baked, ebami_command, verify
from tests.support.visibility import image_exists


def assert_clean(sandbox: Sandbox) -> None:
    report = leak_report(sandbox.client("ec2"))
    assert report.clean, report.lines()


def polls_within(seconds: float) -> int:
    """The most polls ebami's poll schedule (`ebami.core.waiting.intervals`) makes in a wait of
    `seconds`: one at once, one after each pause, and pauses never run past the deadline.
    A slow machine makes fewer, never more."""
    polls, waited = 1, 0.0
    for interval in intervals():
        if waited >= seconds:
            return polls
        waited += min(interval, seconds - waited)
        polls += 1
    raise AssertionError("unreachable: intervals() never ends")


def test_the_built_ami_passes_and_is_tagged(sandbox: Sandbox, tmp_path: Path) -> None:
    ami = baked(sandbox, tmp_path)
    result = verify(sandbox, "--ami", ami, *PROFILE, cwd=tmp_path, json_output=True)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["passed"] is True
    (instance,) = report["instances"]
    assert instance["launched"] is True
    checks = {check["name"]: check for check in instance["checks"]}
    assert list(checks) == ["ssm", "logging-drivers", "os-release", "release-lock"]
    assert all(check["status"] == "passed" for check in checks.values())
    assert (
        '/etc/ecs/ecs.config:1: ECS_AVAILABLE_LOGGING_DRIVERS=["json-file","syslog","awslogs",'
        '"fluentd","none"]'
    ) in checks["logging-drivers"]["evidence"]
    assert "/etc/yum.conf:12: releasever=2017.09" in checks["release-lock"]["evidence"]

    tags = tags_of(image(sandbox, ami))
    assert tags["ebami:verified"] == report["verified_tags"]["ebami:verified"]
    assert tags["ebami:verified-checks"] == "ssm logging-drivers os-release release-lock"
    assert "launching a t2.nano instance" in result.stderr
    assert f"terminating {instance['instance_id']}" in result.stderr
    state = sandbox.client("ec2").describe_instances(InstanceIds=[instance["instance_id"]])
    assert state["Reservations"][0]["Instances"][0]["State"]["Name"] == "terminated"
    assert_clean(sandbox)


def test_an_ami_without_fluentd_fails_and_shows_the_effective_drivers(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    ami = baked(sandbox, tmp_path, "--drivers", NO_FLUENTD)
    result = verify(sandbox, "--ami", ami, *PROFILE, "--require", "fluentd", cwd=tmp_path)
    assert result.returncode == 5, result.stderr
    assert (
        'FAIL  logging-drivers  fluentd missing: the agent allows ["json-file", "syslog", '
        '"awslogs", "none"]'
    ) in result.stdout
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith(f"error: ami {ami} failed verification: i-")
    )
    assert "ebami:verified" not in tags_of(image(sandbox, ami))
    assert_clean(sandbox)


def test_a_quoted_drivers_line_fails_and_explains_the_fallback(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    # An AMI made by hand from an AL2 base (which has the agent) with the classic mistake.
    ec2 = sandbox.client("ec2")
    quoted = "ECS_AVAILABLE_LOGGING_DRIVERS='[\"fluentd\"]'"
    user_data = (
        "#cloud-config\nwrite_files:\n  - path: /etc/ecs/ecs.config\n    content: |\n"
        f"      {quoted}\n"
    )
    instance_id = launch(sandbox, base_ami(sandbox, world.ECS_AL2, "3.5.0"), user_data)
    ami = str(ec2.create_image(InstanceId=instance_id, Name="hand-made-quoted")["ImageId"])
    ec2.terminate_instances(InstanceIds=[instance_id])
    # EC2 may not show a new AMI at once; a user's script waits for it (`aws ec2 wait
    # image-exists`) before handing its id to ebami, which takes a NotFound for an id it is
    # given as the answer.
    image_exists(ec2, ami)

    result = verify(sandbox, "--ami", ami, *PROFILE, "--require", "fluentd", cwd=tmp_path)
    assert result.returncode == 5, result.stderr
    assert 'fluentd missing: the agent allows ["json-file", "none"], its fallback' in result.stdout
    assert f"/etc/ecs/ecs.config:1: {quoted}" in result.stdout
    assert (
        "error: the value is quoted: ecs-init keeps the quotes, the agent cannot decode a JSON "
        'array and the agent falls back to ["json-file", "none"]'
    ) in result.stdout
    assert_clean(sandbox)


def test_the_stock_amazon_linux_1_ami_has_no_agent_and_nothing_is_launched(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    stock = base_ami(sandbox, world.MULTICONTAINER_DOCKER, "2.8.4")
    before = sandbox.client("ec2").describe_instances()["Reservations"]
    result = verify(sandbox, "--ami", stock, *PROFILE, cwd=tmp_path, stats=True)
    assert result.returncode == 5, result.stderr
    # A diagnosis from the image alone, not a timeout: nothing launched, SSM never asked.
    calls = api_calls(result.stderr)
    assert calls, result.stderr
    assert "ec2.RunInstances" not in calls
    assert [call for call in calls if call.startswith("ssm.")] == []
    assert "waiting for SSM" not in result.stderr
    assert f"  {stock} (no instance launched)" in result.stdout
    assert "FAIL  ssm              no SSM agent: " in result.stdout
    assert "Amazon-owned Amazon Linux 1 image" in result.stderr
    assert sandbox.client("ec2").describe_instances()["Reservations"] == before
    assert_clean(sandbox)


def test_the_stock_environment_is_diagnosed_per_instance(sandbox: Sandbox, tmp_path: Path) -> None:
    result = verify(sandbox, "--env", "prod", cwd=tmp_path, json_output=True)
    assert result.returncode == 5, result.stderr
    report = json.loads(result.stdout)
    assert report["target"] == {"kind": "environment", "id": "prod"}
    assert len(report["instances"]) == world.ENVIRONMENTS["prod"]
    for instance in report["instances"]:
        image_check, ssm_check = instance["checks"]
        assert (image_check["name"], image_check["status"]) == ("image", "passed")
        assert ssm_check["detail"].startswith("no SSM agent")
    assert_clean(sandbox)


def test_an_environment_on_the_baked_ami_passes(
    make_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = make_sandbox()
    ami = baked(sandbox, tmp_path)
    request_id = update(
        sandbox,
        OptionSettings=[
            {
                "Namespace": "aws:autoscaling:launchconfiguration",
                "OptionName": "ImageId",
                "Value": ami,
            }
        ],
    )
    env, _, _ = follow(sandbox, request_id)
    assert env["Health"] == "Green"
    result = verify(sandbox, "--env", "prod", cwd=tmp_path)
    assert result.returncode == 0, result.stderr + result.stdout
    assert result.stdout.count(f"PASS  image            runs {ami}") == 2
    assert result.stdout.count("PASS  logging-drivers") == 2
    # --instance checks one of them the same way, and nothing is tagged or terminated.
    instance_id = result.stdout.split("  i-")[1].split(" ")[0]
    one = verify(sandbox, "--instance", "i-" + instance_id, cwd=tmp_path)
    assert one.returncode == 0, one.stderr
    assert "terminating" not in one.stderr
    assert "ebami:verified" not in tags_of(image(sandbox, ami))
    assert_clean(sandbox)


def test_ssm_offline_fails_within_the_deadline_and_terminates(
    make_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = make_sandbox(ssm_offline=True)
    ami = baked(sandbox, tmp_path)
    result = verify(sandbox, "--ami", ami, *PROFILE, "--timeout", "6", cwd=tmp_path, stats=True)
    assert result.returncode == 5, result.stderr
    # The verdict comes from the deadline (it waited the whole 6 s, no less) ...
    waited = re.search(
        r"the SSM agent registered but is ConnectionLost, not Online, after (\d+) s: ",
        result.stdout,
    )
    assert waited is not None, result.stdout
    assert int(waited[1]) >= 6
    # ... and it stopped there: no more polls than the schedule fits into 6 s, one launch, one
    # termination (no second wait, no retry loop on top).
    calls = api_calls(result.stderr)
    assert 2 <= calls["ssm.DescribeInstanceInformation"] <= polls_within(6), calls
    assert (calls["ec2.RunInstances"], calls["ec2.TerminateInstances"]) == (1, 1), calls
    assert "waiting for SSM to reach i-" in result.stderr
    assert "terminating i-" in result.stderr
    assert_clean(sandbox)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_during_the_wait_terminates_the_instance(
    signum: signal.Signals, make_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = make_sandbox(ssm_offline=True)
    ami = baked(sandbox, tmp_path)
    proc = subprocess.Popen(
        ebami_command("verify", "--ami", ami, *PROFILE, "--timeout", "300"),
        cwd=tmp_path,
        env={**os.environ, **sandbox.env()},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    seen: list[str] = []
    assert proc.stderr is not None
    for line in proc.stderr:
        seen.append(line)
        if line.startswith("waiting for SSM"):
            proc.send_signal(signum)
            break
    out, rest = proc.communicate(timeout=60)
    stderr = "".join(seen) + rest
    assert proc.returncode == 130, stderr
    assert "error: interrupted: verify stopped; terminated i-" in stderr
    assert out == ""
    assert_clean(sandbox)


def test_a_stock_al2_ami_passes_on_ecs_init_s_default(sandbox: Sandbox, tmp_path: Path) -> None:
    # No drivers line: ecs-init's own default decides, and `rpm -q ecs-init` says which one.
    stock = base_ami(sandbox, world.ECS_AL2, "3.5.0")
    result = verify(sandbox, "--ami", stock, *PROFILE, "--require", "fluentd", cwd=tmp_path)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "ecs-init 1.89.2-1.amzn2.x86_64's default (no line sets" in result.stdout
    assert "rpm -q ecs-init: 1.89.2-1.amzn2.x86_64" in result.stdout
    assert "PASS  os-release       runs Amazon Linux 2, the AMI's release 2" in result.stdout
    assert_clean(sandbox)


def test_a_subnet_without_a_route_is_diagnosed_at_the_deadline(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    # An own AMI without ebami's tags, made from the agent-less AL1 base: ebami cannot know the
    # agent is missing, so it launches, waits, and then finds the subnet has no way out.
    ec2 = sandbox.client("ec2")
    instance_id = launch(sandbox, base_ami(sandbox, world.MULTICONTAINER_DOCKER, "2.8.4"), "")
    ami = str(ec2.create_image(InstanceId=instance_id, Name="golden-untagged")["ImageId"])
    ec2.terminate_instances(InstanceIds=[instance_id])
    image_exists(ec2, ami)  # as a user's script waits before handing the id to ebami
    vpc = ec2.create_vpc(CidrBlock="10.9.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.9.1.0/24")["Subnet"]["SubnetId"]
    try:
        result = verify(
            sandbox, "--ami", ami, *PROFILE, "--subnet-id", subnet, "--timeout", "3", cwd=tmp_path
        )
    finally:
        assert_clean(sandbox)
        ec2.delete_subnet(SubnetId=subnet)
        ec2.delete_vpc(VpcId=vpc)
    assert result.returncode == 5, result.stderr
    assert (
        f"no route to the SSM endpoints: subnet {subnet} has no 0.0.0.0/0 route and VPC {vpc} "
        "has no interface endpoints for ec2messages, ssm, ssmmessages"
    ) in result.stdout


def test_verify_rides_out_throttling(make_sandbox: SandboxFactory, tmp_path: Path) -> None:
    sandbox = make_sandbox(throttle=0.3)
    stock = base_ami(sandbox, world.ECS_AL2023, "4.2.0")
    result = verify(sandbox, "--ami", stock, *PROFILE, cwd=tmp_path)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "PASS  os-release       runs Amazon Linux 2023, the AMI's release 2023" in result.stdout
    assert_clean(sandbox)
