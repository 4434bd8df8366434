"""One model of an AMI and of a bake, end to end in the sandbox: a `--force` rebuild is a bake of
its own (prune removes the older rebuilds nothing uses), a bake still pending is never kept in
place of an available one, and a revoked or unverified AMI is never "current" (drift flags it,
check asks for a build, build never reuses or publishes it)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ebami.sandbox import world
from tests.sandbox_helpers import Sandbox, SandboxFactory, run_ebami
from tests.support.amis import base_ami, launch
from tests.support.visibility import image_exists

RELEASE = ("--release", "2017.09")
CHANNEL = "/ebami/multicontainer-docker/2017.09/stable"


def next_second() -> None:
    """EC2's creation times count seconds: the next build must be strictly newer."""
    start = int(time.time())
    while int(time.time()) == start:
        time.sleep(0.05)


def ebami(sandbox: Sandbox, cwd: Path, *args: str, code: int = 0) -> str:
    result = run_ebami(sandbox, *args, cwd=cwd, timeout=180)
    assert result.returncode == code, (args, result.returncode, result.stderr)
    return result.stdout


def build_and_verify(sandbox: Sandbox, cwd: Path, *extra: str) -> str:
    next_second()
    image_id = ebami(sandbox, cwd, "build", *RELEASE, *extra).strip()
    ebami(sandbox, cwd, "verify", "--ami", image_id, "--instance-profile", world.EC2_ROLE)
    return image_id


def images_left(sandbox: Sandbox, image_ids: list[str]) -> set[str]:
    found = sandbox.client("ec2").describe_images(Owners=["self"])["Images"]
    return {image["ImageId"] for image in found} & set(image_ids)


def drift_of(report: dict[str, Any], environment: str) -> dict[str, Any]:
    drifts: list[dict[str, Any]] = report["drift"]
    return next(item for item in drifts if item["environment"] == environment)


def test_prune_removes_a_forced_rebuild_nothing_uses(
    make_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = make_sandbox()
    first = build_and_verify(sandbox, tmp_path)
    rebuilds = [build_and_verify(sandbox, tmp_path, "--force") for _ in range(3)]
    applied, promoted, newest = rebuilds
    tags = {
        image["ImageId"]: {tag["Key"]: tag["Value"] for tag in image.get("Tags", [])}
        for image in sandbox.client("ec2").describe_images(Owners=["self"])["Images"]
    }
    assert len({tags[image_id]["ebami:bake-key"] for image_id in [first, *rebuilds]}) == 1
    assert len({tags[image_id]["ebami:build-run"] for image_id in [first, *rebuilds]}) == 4
    ebami(sandbox, tmp_path, "apply", "--env", "prod", "--ami", applied)
    ebami(sandbox, tmp_path, "promote", "--ami", promoted, "--channel", "stable")

    plan = json.loads(
        ebami(sandbox, tmp_path, "-o", "json", "prune", "--keep", "1", "--older-than", "0")
    )
    verdicts = {item["image_id"]: item["verdict"] for item in plan["amis"]}
    assert verdicts == {
        first: "delete",
        applied: "protected",
        promoted: "protected",
        newest: "keep",
    }
    ebami(sandbox, tmp_path, "prune", "--keep", "1", "--older-than", "0", "--yes")
    assert images_left(sandbox, [first, *rebuilds]) == {applied, promoted, newest}


def test_a_revoked_or_unverified_ami_is_never_current(
    make_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = make_sandbox()
    revoked = build_and_verify(sandbox, tmp_path)
    ebami(sandbox, tmp_path, "apply", "--env", "prod", "--ami", revoked)
    ebami(sandbox, tmp_path, "revoke", "--ami", revoked, "--reason", "CVE-2026-0001")

    # check: a build is needed (the AMI carrying the bake key is revoked), prod drifts.
    check = json.loads(
        ebami(
            sandbox, tmp_path, "-o", "json", "check", *RELEASE, "--env", "prod", "--exit-code",
            code=10,
        )
    )  # fmt: skip
    assert check["build_needed"] is True
    assert check["revoked_ami"] == revoked
    assert drift_of(check, "prod")["status"] == "revoked"
    status = json.loads(ebami(sandbox, tmp_path, "-o", "json", "status", *RELEASE))
    prod = next(item for item in status["environments"] if item["environment"] == "prod")
    assert prod["drift"] == "revoked"

    # build makes a new bake of the same key and publishes it, never the revoked AMI.
    parameter = "/ebami/al2017.09/latest"
    rebuilt = ebami(sandbox, tmp_path, "build", *RELEASE, "--ssm-parameter", parameter).strip()
    assert rebuilt != revoked
    value = sandbox.client("ssm").get_parameter(Name=parameter)["Parameter"]["Value"]
    assert value == rebuilt

    # An environment switched to an AMI verify never proved drifts too.
    ebami(sandbox, tmp_path, "apply", "--env", "staging", "--ami", rebuilt, "--allow-unverified")
    check = json.loads(
        ebami(sandbox, tmp_path, "-o", "json", "check", *RELEASE, "--env", "staging")
    )
    assert drift_of(check, "staging")["status"] == "unverified"
    assert check["verify_needed"] is True


def test_the_newer_of_two_bakes_revoked_sends_drift_back_to_the_older(
    make_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = make_sandbox()
    older = build_and_verify(sandbox, tmp_path)
    newer = build_and_verify(sandbox, tmp_path, "--force")
    ebami(sandbox, tmp_path, "apply", "--env", "prod", "--ami", newer)
    ebami(sandbox, tmp_path, "revoke", "--ami", newer, "--reason", "broken")

    check = json.loads(ebami(sandbox, tmp_path, "-o", "json", "check", *RELEASE, "--env", "prod"))
    prod = drift_of(check, "prod")
    assert prod["status"] == "revoked"
    assert prod["newest_verified"] == older
    # The older bake of the same key is still good: nothing to build.
    assert check["build_needed"] is False
    assert check["existing_ami"] == older


def test_a_pending_bake_is_never_kept_in_place_of_an_available_one(
    make_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    """Two verified bakes made in the same second, the newer (by the tie rule) still pending:
    prune keeps the available one as the verified bake, never deletes it for the pending."""
    sandbox = make_sandbox(ami_pending_polls=3)
    ec2 = sandbox.client("ec2")
    instance = launch(sandbox, base_ami(sandbox, world.ECS_AL2, "3.5.0"), "")
    made = {}
    for name, key, run in (("available", "bake-a", "run-a"), ("pending", "bake-b", "run-b")):
        tags = {
            "ebami:managed": "true",
            "ebami:platform": "ecs-al2",
            "ebami:release": "2",
            "ebami:bake-key": key,
            "ebami:build-run": run,
            "ebami:verified": "2026-12-01T00:00:00Z",
        }
        image_id = ec2.create_image(  # tagged as it is made: CreateTags may not find it yet
            InstanceId=instance,
            Name=name,
            TagSpecifications=[
                {
                    "ResourceType": "image",
                    "Tags": [{"Key": key_, "Value": value} for key_, value in tags.items()],
                }
            ],
        )["ImageId"]
        made[name] = image_id
        if name == "available":  # polled until available, as a finished bake is
            while image_exists(ec2, image_id)["State"] != "available":
                pass
    plan = json.loads(
        ebami(sandbox, tmp_path, "-o", "json", "prune", "--keep", "1", "--older-than", "0")
    )
    decisions = {item["image_id"]: item for item in plan["amis"]}
    assert decisions[made["pending"]]["state"] == "pending"
    assert decisions[made["available"]]["verdict"] == "keep"
    assert decisions[made["available"]]["reasons"] == [
        "verified bake 1 of the 1 kept for ecs-al2 2"
    ]
    ebami(sandbox, tmp_path, "prune", "--keep", "1", "--older-than", "0", "--yes")
    assert images_left(sandbox, list(made.values())) == set(made.values())
