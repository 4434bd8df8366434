"""The real packer binary builds an amazon-ebs AMI against the sandbox."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from ebami.image.drivers import DEFAULT_DRIVERS
from ebami.image.platforms import resolve_platform
from ebami.image.userdata import render_user_data
from ebami.sandbox import world
from ebami.sandbox.leaks import leak_report
from tests.sandbox_helpers import Sandbox
from tests.support.amis import base_ami, launch, run_shell

TEMPLATE = Path(__file__).parent / "data" / "minimal.pkr.hcl"


def packer() -> str:
    path = shutil.which("packer")
    if path is None:
        pytest.fail(
            "packer is not installed; scripts/system-deps installs it (apt-get install packer)"
        )
    return path


def test_packer_build_bakes_the_user_data_into_the_ami(sandbox: Sandbox, tmp_path: Path) -> None:
    user_data = render_user_data(resolve_platform("ecs-al2"), DEFAULT_DRIVERS)
    (tmp_path / "user-data.yaml").write_text(user_data.text)
    variables = {
        "endpoint": sandbox.endpoint,
        "source_ami": base_ami(sandbox, world.ECS_AL2, "3.5.0"),
        "user_data_file": "user-data.yaml",
        "ami_name": "ebami-test",
    }
    command = [packer(), "build", "-machine-readable"]
    for name, value in variables.items():
        command += ["-var", f"{name}={value}"]
    proc = subprocess.run(
        [*command, str(TEMPLATE)],
        cwd=tmp_path,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), **sandbox.env()},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    manifest: dict[str, Any] = json.loads((tmp_path / "manifest.json").read_text())
    region, image_id = manifest["builds"][0]["artifact_id"].split(":")
    assert region == "us-east-1"
    image = sandbox.client("ec2").describe_images(ImageIds=[image_id])["Images"][0]
    assert (image["Name"], image["State"]) == ("ebami-test", "available")

    # Packer removed its temporary instance, security group and key pair.
    assert leak_report(sandbox.client("ec2")).clean

    instance_id = launch(sandbox, image_id, "")
    invocation = run_shell(sandbox, instance_id, "cat /etc/ecs/ecs.config")
    assert (
        invocation["StandardOutputContent"]
        == 'ECS_AVAILABLE_LOGGING_DRIVERS=["json-file","syslog","awslogs","fluentd","none"]\n'
    )
    sandbox.client("ec2").terminate_instances(InstanceIds=[instance_id])
