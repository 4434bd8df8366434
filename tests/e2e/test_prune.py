"""`ebami status` and `ebami prune` after a series of real builds: status shows each AMI's
standing, channels and uses and each environment's drift; what anything uses stays, with its
reasons; the dry run changes nothing; `--yes` deletes exactly the old unused AMIs and their
snapshots."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from ebami.sandbox import world
from tests.sandbox_helpers import Sandbox, run_ebami
from tests.support.runs import api_calls, build, mutating
from tests.support.visibility import put_image_parameter

# Each build's drivers make its own bake key (one platform and release throughout).
DRIVERS = [
    "json-file,fluentd", "json-file,syslog,fluentd", "json-file,awslogs,fluentd",
    "json-file,gelf,fluentd", "json-file,journald,fluentd", "json-file,splunk,fluentd",
    "json-file,syslog,awslogs,fluentd", "json-file,syslog,gelf,fluentd",
    "json-file,awslogs,gelf,fluentd", "json-file,none,fluentd",
]  # fmt: skip
CHANNEL = "/ebami/multicontainer-docker/2017.09/stable"
LAUNCH = "aws:autoscaling:launchconfiguration"


def snapshots_of(sandbox: Sandbox, image_id: str) -> list[str]:
    (image,) = sandbox.client("ec2").describe_images(ImageIds=[image_id])["Images"]
    return [item["Ebs"]["SnapshotId"] for item in image["BlockDeviceMappings"] if "Ebs" in item]


def snapshot_exists(sandbox: Sandbox, snapshot_id: str) -> bool:
    found = sandbox.client("ec2").describe_snapshots(
        OwnerIds=["self"], Filters=[{"Name": "snapshot-id", "Values": [snapshot_id]}]
    )["Snapshots"]
    return bool(found)


def image_exists(sandbox: Sandbox, image_id: str) -> bool:
    ec2 = sandbox.client("ec2")
    return bool(ec2.describe_images(Owners=["self"], ImageIds=[image_id])["Images"])


def instances_of(sandbox: Sandbox, image_id: str, state: str) -> list[str]:
    reservations = sandbox.client("ec2").describe_instances(
        Filters=[
            {"Name": "image-id", "Values": [image_id]},
            {"Name": "instance-state-name", "Values": [state]},
        ]
    )["Reservations"]
    return [item["InstanceId"] for found in reservations for item in found["Instances"]]


def next_second() -> None:
    """EC2's creation times count seconds: the next build must be strictly newer."""
    start = int(time.time())
    while int(time.time()) == start:
        time.sleep(0.05)


def test_status_shows_and_prune_keeps_what_is_used_and_deletes_the_rest(
    sandbox: Sandbox, tmp_path: Path
) -> None:
    built: list[str] = []
    for number, drivers in enumerate(DRIVERS):
        if number == len(DRIVERS) - 1:
            next_second()
        result = build(sandbox, "--release", "2017.09", "--drivers", drivers, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        built.append(result.stdout.strip())
    assert len(set(built)) == len(DRIVERS)
    old, old_verified, in_history, on_staging, in_template, saved, rollback, stopped = built[:8]
    newest_verified, awaiting = built[8:]

    for image_id in (old_verified, newest_verified):
        checked = run_ebami(
            sandbox, "verify", "--ami", image_id, "--instance-profile", world.EC2_ROLE, cwd=tmp_path
        )
        assert checked.returncode == 0, checked.stderr
    applied = run_ebami(
        sandbox,
        "apply",
        "--env",
        "staging",
        "--ami",
        on_staging,
        "--allow-unverified",
        cwd=tmp_path,
    )
    assert applied.returncode == 0, applied.stderr
    ssm, ec2, eb = sandbox.client("ssm"), sandbox.client("ec2"), sandbox.client("elasticbeanstalk")
    for value in (in_history, newest_verified):  # the old value lives on in the history only
        put_image_parameter(ssm, CHANNEL, value, Overwrite=True)
    template = ec2.create_launch_template(
        LaunchTemplateName="web", LaunchTemplateData={"ImageId": in_template}
    )["LaunchTemplate"]["LaunchTemplateId"]
    ec2.create_launch_template_version(
        LaunchTemplateId=template, LaunchTemplateData={"ImageId": newest_verified}
    )
    eb.create_configuration_template(
        ApplicationName=world.APPLICATION,
        TemplateName="web-base",
        SolutionStackName=world.ENVIRONMENT_PLATFORM.solution_stack,
        OptionSettings=[{"Namespace": LAUNCH, "OptionName": "ImageId", "Value": saved}],
    )
    prod = eb.describe_environments(EnvironmentNames=["prod"])["Environments"][0]
    eb.update_tags_for_resource(
        ResourceArn=prod["EnvironmentArn"],
        TagsToAdd=[{"Key": "ebami:previous-image-id", "Value": rollback}],
    )
    instance = ec2.run_instances(ImageId=stopped, MinCount=1, MaxCount=1)["Instances"][0]
    ec2.stop_instances(InstanceIds=[instance["InstanceId"]])
    (staging_instance,) = instances_of(sandbox, on_staging, "running")
    doomed_snapshots = snapshots_of(sandbox, old) + snapshots_of(sandbox, old_verified)

    used_by = {
        in_history: [f"SSM parameter {CHANNEL} version 1"],
        on_staging: [
            "environment staging (Ready) ImageId",
            f"instance {staging_instance} (running)",
        ],
        in_template: [f"launch template {template} (web) version 1"],
        saved: [f"saved configuration {world.APPLICATION}/web-base"],
        rollback: ["rollback target of environment prod"],
        stopped: [f"instance {instance['InstanceId']} (stopped)"],
    }

    # `ebami status` shows the same estate: standing, channel and uses of each AMI, and drift.
    status = run_ebami(sandbox, "-o", "json", "status", "--release", "2017.09", cwd=tmp_path)
    assert status.returncode == 0, status.stderr
    assert mutating(api_calls(status.stderr)) == []
    estate = json.loads(status.stdout)
    images = {item["image_id"]: item for item in estate["images"]}
    assert set(images) == set(built)
    assert {image_id for image_id, item in images.items() if item["standing"] == "verified"} == {
        old_verified,
        newest_verified,
    }
    assert images[newest_verified]["channels"] == ["stable"]
    assert [use["where"] for use in images[rollback]["used_by"]] == [
        "rollback target of environment prod"
    ]
    drift = {item["environment"]: item for item in estate["environments"]}
    assert drift["staging"]["image_id"] == on_staging
    assert drift["staging"]["drift"] == "behind"
    assert drift["staging"]["newest_verified"] == newest_verified
    assert drift["prod"]["drift"] == "stock"

    dry = run_ebami(
        sandbox, "-o", "json", "prune", "--keep", "1", "--older-than", "0", cwd=tmp_path
    )
    assert dry.returncode == 0, dry.stderr
    calls = api_calls(dry.stderr)
    assert not [name for name in calls if "Deregister" in name or "Delete" in name], calls
    shown = json.loads(dry.stdout)
    assert shown["dry_run"] is True
    verdicts = {item["image_id"]: item["verdict"] for item in shown["amis"]}
    assert verdicts == {
        old: "delete", old_verified: "delete", newest_verified: "keep", awaiting: "keep",
        **dict.fromkeys(used_by, "protected"),
    }  # fmt: skip
    assert {item["image_id"]: item["used_by"] for item in shown["amis"] if item["used_by"]} == {
        **used_by,
        newest_verified: [
            f"launch template {template} (web) version 2",
            f"SSM parameter {CHANNEL} version 2 (current)",
        ],
    }
    assert [item["params"]["image_id"] for item in shown["instructions"][1:]] == [
        old,
        old_verified,
    ]
    assert all(image_exists(sandbox, image_id) for image_id in built)

    done = run_ebami(
        sandbox, "-o", "json", "prune", "--keep", "1", "--older-than", "0", "--yes", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    outcome: dict[str, Any] = json.loads(done.stdout)
    assert [(item["image_id"], item["snapshot_ids"]) for item in outcome["deleted"]] == [
        (old, doomed_snapshots[:1]),
        (old_verified, doomed_snapshots[1:]),
    ]
    assert outcome["left_behind"] == []
    assert "deleted 2 AMI(s)" in done.stderr
    assert not image_exists(sandbox, old)
    assert not image_exists(sandbox, old_verified)
    assert not any(snapshot_exists(sandbox, snapshot) for snapshot in doomed_snapshots)
    for image_id in built[2:]:
        assert image_exists(sandbox, image_id)
        assert all(snapshot_exists(sandbox, item) for item in snapshots_of(sandbox, image_id))

    # The table says why each AMI stays.
    again = run_ebami(sandbox, "prune", "--keep", "1", "--older-than", "0", cwd=tmp_path)
    assert again.returncode == 0, again.stderr
    rows = {
        words[0]: words[2]
        for words in (line.split(None, 2) for line in again.stdout.splitlines())
        if words[0].startswith("ami-")
    }
    assert rows[rollback] == "protected: rollback target of environment prod"
    assert "dry run: 0 AMI(s) would be deleted" in again.stderr
