"""A verified AMI's copies in the build's copy regions are verified with it (the same bake key,
the same bytes): `apply`'s default choice, `status`'s drift and `prune`'s bakes see the copy as
verified in its own region, with where the proof was made; and revoked with it."""

from __future__ import annotations

import json
from pathlib import Path

from ebami.sandbox import world
from tests.sandbox_helpers import SandboxFactory, run_ebami
from tests.support.amis import tags_of
from tests.support.runs import build

WEST = "us-west-2"


def test_verify_tags_the_copies_and_the_copy_region_uses_them(
    make_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = make_sandbox(fleet=2)  # fleet-01 in us-east-1, fleet-02 in us-west-2
    built = build(sandbox, "--release", "2017.09", "--copy-to", WEST, cwd=tmp_path)
    assert built.returncode == 0, built.stderr
    image_id = built.stdout.strip()
    west = sandbox.client("ec2", region=WEST)
    (copy,) = west.describe_images(Owners=["self"])["Images"]
    assert "ebami:verified" not in tags_of(copy)

    checked = run_ebami(
        sandbox,
        "verify",
        "--ami",
        image_id,
        "--instance-profile",
        world.EC2_ROLE,
        cwd=tmp_path,
        env={"EBAMI_COPY_TO": WEST},
    )
    assert checked.returncode == 0, checked.stderr
    assert f"tagged {copy['ImageId']} ({WEST}) ebami:verified: a copy" in checked.stderr
    (home,) = sandbox.client("ec2").describe_images(ImageIds=[image_id])["Images"]
    (copy,) = west.describe_images(ImageIds=[copy["ImageId"]])["Images"]
    assert tags_of(copy)["ebami:verified"] == tags_of(home)["ebami:verified"]
    assert tags_of(copy)["ebami:verified-copy-of"] == f"us-east-1/{image_id}"

    status = run_ebami(
        sandbox, "--region", WEST, "-o", "json", "status", "--release", "2017.09", cwd=tmp_path
    )
    assert status.returncode == 0, status.stderr
    shown = json.loads(status.stdout)
    assert [item["standing"] for item in shown["images"]] == ["verified"]
    (fleet,) = shown["environments"]
    assert (fleet["environment"], fleet["drift"]) == ("fleet-02", "stock")
    assert fleet["newest_verified"] == copy["ImageId"]

    # The default choice in the copy's region: the copy, verified, no --ami needed.
    applied = run_ebami(sandbox, "--region", WEST, "apply", "--env", "fleet-02", cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    assert f"fleet-02  applied  {copy['ImageId']}" in applied.stdout

    # Revoked with its copies: the copy in us-west-2 is tagged in the same run.
    revoked = run_ebami(
        sandbox,
        "revoke",
        "--ami",
        image_id,
        "--reason",
        "a test",
        cwd=tmp_path,
        env={"EBAMI_COPY_TO": WEST},
    )
    assert revoked.returncode == 0, revoked.stderr
    (copy,) = west.describe_images(ImageIds=[copy["ImageId"]])["Images"]
    assert tags_of(copy)["ebami:revoked"]
    assert tags_of(copy)["ebami:revoked-reason"] == "a test"
