"""`ebami verify --ami` under heavy throttling (half of all API calls refused), as a user runs it:
the real CLI process against one sandbox over HTTP. Every run ends with its verdict (0 or 5),
never with a throttling error in its place, and terminates the instance it launched."""

from __future__ import annotations

import json
import os
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from ebami.sandbox import world
from ebami.sandbox.leaks import leak_report
from tests.sandbox_helpers import Sandbox, SandboxFactory
from tests.support.runs import ebami_command

RUNS = 30
# Runs at once against the one sandbox (each mostly waits): together they take about a minute,
# and they throttle one another's calls as concurrent clients do.
AT_ONCE = 5
# The test's own calls are throttled too: they need more attempts than botocore's 3.
PATIENT = 25


def stock_al2023_ami(sandbox: Sandbox) -> str:
    eb = sandbox.client("elasticbeanstalk", attempts=PATIENT)
    arn = f"arn:aws:elasticbeanstalk:us-east-1::platform/{world.ECS_AL2023}/4.2.0"
    amis = eb.describe_platform_version(PlatformArn=arn)["PlatformDescription"]["CustomAmiList"]
    return str(next(ami["ImageId"] for ami in amis if ami["VirtualizationType"] == "hvm"))


def verify(sandbox: Sandbox, ami: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ebami_command(
            "-o",
            "json",
            "verify",
            "--ami",
            ami,
            "--instance-profile",
            world.EC2_ROLE,
            "--timeout",
            "60",
        ),
        cwd=cwd,
        env={**os.environ, **sandbox.env()},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def states(ec2: Any, instance_ids: list[str]) -> dict[str, str]:
    """One call (each of the test's calls may be throttled, and waits for its retries)."""
    reservations = ec2.describe_instances(InstanceIds=instance_ids)["Reservations"]
    return {
        instance["InstanceId"]: instance["State"]["Name"]
        for reservation in reservations
        for instance in reservation["Instances"]
    }


def test_throttling_never_replaces_the_verdict_nor_leaves_an_instance(
    make_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = make_sandbox(throttle=0.5)
    ami = stock_al2023_ami(sandbox)
    with ThreadPoolExecutor(max_workers=AT_ONCE) as pool:
        results = list(pool.map(lambda _: verify(sandbox, ami, tmp_path), range(RUNS)))
    launched = []
    for result in results:
        last = result.stderr.strip().splitlines()[-1]
        assert result.returncode in (0, 5), result.stderr
        assert "Throttling" not in last, result.stderr
        report = json.loads(result.stdout)
        assert report["left_behind"] == []
        (instance,) = report["instances"]
        launched.append(instance["instance_id"])
    # The fault did bite beyond what botocore's own 3 attempts ride out ...
    assert any("on 3 attempts; trying again" in result.stderr for result in results)
    # ... and every instance a run launched is gone: the sandbox has none left.
    ec2 = sandbox.client("ec2", attempts=PATIENT)
    assert set(states(ec2, launched).values()) <= {"shutting-down", "terminated"}
    report = leak_report(ec2)
    assert report.clean, report.lines()
