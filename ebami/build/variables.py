"""The Packer variables of a build plan (`packer/common/variables.pkr.hcl` declares them)."""

from __future__ import annotations

import shlex
import sys
from typing import Any

from ebami.build.options import BuildOptions
from ebami.build.planner import BuildPlan
from ebami.image import tags
from ebami.packer.runner import MANIFEST_FILE

USER_DATA_FILE = "user-data.yaml"
ECS_CONFIG_DIR = "ecs-config"


def packer_variables(
    plan: BuildPlan, options: BuildOptions, *, endpoint: str | None
) -> dict[str, Any]:
    """`endpoint` is the EC2 endpoint override, if any: Packer ignores AWS_ENDPOINT_URL."""
    return {
        "region": plan.region,
        "source_ami": plan.base.image_id,
        "instance_type": options.instance_type,
        "subnet_id": options.subnet_id or "",
        "iam_instance_profile": options.instance_profile or "",
        "communicator": options.communicator.value.replace("-", "_"),
        "ssh_source_cidrs": list(options.ssh_cidrs),
        "ami_name": plan.ami_name,
        "ami_description": plan.description,
        "tags": dict(plan.tags),
        "run_tags": {
            "Name": f"ebami builder for {plan.ami_name}",
            tags.MANAGED: "true",
            tags.BAKE_KEY: plan.bake_key.value,
            tags.BUILD_RUN: plan.run_id,
        },
        "user_data_file": USER_DATA_FILE,
        "ec2_endpoint": endpoint or "",
        "encrypt_boot": options.image_options(plan.region)["encrypt"],
        "kms_key_id": options.kms_key_id or "",
        "ami_regions": options.copies(plan.region),
        "ami_users": list(options.share_with),
        "ecs_config_check": _check_command(plan),
        "manifest_file": MANIFEST_FILE,
    }


def _check_command(plan: BuildPlan) -> str:
    """The shell-local command that judges the builder's ecs.config (real-AWS builds)."""
    return shlex.join(
        [
            sys.executable,
            "-m",
            "ebami.image.bakecheck",
            "--drivers",
            ",".join(plan.user_data.drivers),
            f"{ECS_CONFIG_DIR}/var-lib-ecs.config",
            f"{ECS_CONFIG_DIR}/etc-ecs.config",
        ]
    )
