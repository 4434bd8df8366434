"""The leak report names what a killed run left, with the tags of the run behind each leftover:
instances, Packer's temporary security group and key pair, volumes and pending AMIs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from ebami.image import tags
from ebami.sandbox import world
from ebami.sandbox.faults import Faults
from ebami.sandbox.leaks import leak_report
from tests.fakes.clock import FakeClock
from tests.sandbox_helpers import sandbox_in_process

REGION = "us-east-1"
BUILDER_TAGS = {
    "Name": "ebami builder for ebami-al2017.09",
    tags.MANAGED: "true",
    tags.BAKE_KEY: "k1",
}
VERIFY_TAGS = {tags.MANAGED: "true", tags.PURPOSE: "verify", tags.VERIFY_RUN: "run-7"}


def tagged(resource: str, values: dict[str, str]) -> Any:  # boto3-stubs: one type per resource
    return [{"ResourceType": resource, "Tags": [{"Key": k, "Value": v} for k, v in values.items()]}]


def test_a_clean_world_reports_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with sandbox_in_process(tmp_path, monkeypatch, clock=FakeClock()):
        report = leak_report(boto3.client("ec2", region_name=REGION))
    assert report.clean
    assert report.lines() == ["nothing left behind"]
    assert report.to_json() == {
        "clean": True,
        "instances": [],
        "security_groups": [],
        "key_pairs": [],
        "volumes": [],
        "pending_images": [],
    }


def test_what_a_killed_run_left_is_listed_with_its_run_tags(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    faults = Faults(ami_pending_polls=5)
    with sandbox_in_process(tmp_path, monkeypatch, clock=FakeClock(), faults=faults):
        ec2 = boto3.client("ec2", region_name=REGION)
        base = ec2.describe_images(Owners=[world.AMAZON_OWNER_ID])["Images"][0]["ImageId"]

        def launch(values: dict[str, str]) -> str:
            instance: str = ec2.run_instances(
                ImageId=base, MinCount=1, MaxCount=1, TagSpecifications=tagged("instance", values)
            )["Instances"][0]["InstanceId"]
            return instance

        builder = launch(BUILDER_TAGS)
        verifier = launch(VERIFY_TAGS)
        group = ec2.create_security_group(GroupName="packer_6543", Description="Packer")["GroupId"]
        ec2.create_key_pair(KeyName="packer_6543")
        volume = ec2.create_volume(
            AvailabilityZone=f"{REGION}a", Size=8, TagSpecifications=tagged("volume", BUILDER_TAGS)
        )["VolumeId"]
        image = ec2.create_image(InstanceId=builder, Name="ebami-al2017.09")["ImageId"]
        report = leak_report(ec2)

    builder_tags = "[Name=ebami builder for ebami-al2017.09, ebami:bake-key=k1, ebami:managed=true]"
    assert report.lines() == [
        f"instances: {builder} {builder_tags}, "
        f"{verifier} [ebami:managed=true, ebami:purpose=verify, ebami:verify-run=run-7]",
        f"security groups: {group} (packer_6543)",
        "key pairs: packer_6543",
        f"volumes: {volume} {builder_tags}",
        f"pending AMIs: {image} (ebami-al2017.09)",
    ]
    assert not report.clean
    assert report.to_json()["instances"][1] == {"id": verifier, "name": "", "tags": VERIFY_TAGS}
    assert report.to_json()["pending_images"] == [
        {"id": image, "name": "ebami-al2017.09", "tags": {}}
    ]


def test_an_image_that_became_available_is_no_leftover(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    faults = Faults(ami_pending_polls=1)
    with sandbox_in_process(tmp_path, monkeypatch, clock=FakeClock(), faults=faults):
        ec2 = boto3.client("ec2", region_name=REGION)
        base = ec2.describe_images(Owners=[world.AMAZON_OWNER_ID])["Images"][0]["ImageId"]
        instance = ec2.run_instances(ImageId=base, MinCount=1, MaxCount=1)["Instances"][0]
        image = ec2.create_image(InstanceId=instance["InstanceId"], Name="baked")["ImageId"]
        ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
        first = leak_report(ec2)  # the image's one pending poll
        second = leak_report(ec2)
    assert [item.id for item in first.pending_images] == [image]
    assert second.clean
