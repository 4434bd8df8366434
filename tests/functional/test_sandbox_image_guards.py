"""EC2's own AMI guards in the sandbox (ebami.sandbox.image_guards, image_references), through
boto3 on the sandbox in this process: deregistration protection and its cooldown, disabling,
DeregisterImage's associated snapshots, LastLaunchedTime and DescribeImageReferences."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from ebami.sandbox import runtime, world
from ebami.sandbox.faults import Faults
from ebami.sandbox.realism import Realism
from tests.fakes.clock import FakeClock
from tests.sandbox_helpers import sandbox_in_process

REGION = "us-east-1"
START = datetime(2026, 12, 1, 9, 0, tzinfo=timezone.utc)
AL2023 = next(p for p in world.PLATFORMS if p.name == world.ECS_AL2023)


class WallClock:
    def __init__(self) -> None:
        self.moment = START

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def wall(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> Iterator[WallClock]:
    # AWS's delays (a new image's NotFound, a parameter's validation) are another module's.
    faults = Faults(realism=Realism.off())
    with sandbox_in_process(tmp_path, monkeypatch, clock=clock, faults=faults):
        moment = WallClock()
        runtime.current().now = moment
        yield moment


def ec2() -> Any:
    return boto3.client("ec2", region_name=REGION)


def own_image(name: str = "custom") -> str:
    """An AMI of this account, made from an instance of the world's AL2023 base AMI."""
    client = ec2()
    instance = client.run_instances(
        ImageId=AL2023.image_id(REGION), MinCount=1, MaxCount=1, InstanceType="t3.micro"
    )["Instances"][0]["InstanceId"]
    image_id = str(client.create_image(InstanceId=instance, Name=name)["ImageId"])
    client.terminate_instances(InstanceIds=[instance])
    return image_id


def refusal(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as refused:
        call(**kwargs)
    error = refused.value.response["Error"]
    return str(error["Code"]), str(error["Message"])


def protection(image_id: str) -> str:
    return str(ec2().describe_images(ImageIds=[image_id])["Images"][0]["DeregistrationProtection"])


def test_protection_refuses_deregistration_until_disabled(wall: WallClock) -> None:
    image_id = own_image()
    assert protection(image_id) == "disabled"
    answer = ec2().enable_image_deregistration_protection(ImageId=image_id)
    assert answer["Return"] == "enabled-without-cooldown"
    assert protection(image_id) == "enabled-without-cooldown"
    code, message = refusal(ec2().deregister_image, ImageId=image_id)
    assert code == "OperationNotPermitted"
    assert "deregistration protection is enabled" in message
    assert ec2().disable_image_deregistration_protection(ImageId=image_id)["Return"] == "disabled"
    ec2().deregister_image(ImageId=image_id)
    assert ec2().describe_images(Owners=["self"])["Images"] == []


def test_the_cooldown_holds_protection_for_24_hours_after_it_is_disabled(wall: WallClock) -> None:
    image_id = own_image()
    answer = ec2().enable_image_deregistration_protection(ImageId=image_id, WithCooldown=True)
    assert answer["Return"] == "enabled-with-cooldown"
    ended = ec2().disable_image_deregistration_protection(ImageId=image_id)["Return"]
    assert ended == "disabled-until 2026-12-02T09:00:00.000Z"
    wall.moment = START + timedelta(hours=23, minutes=59)
    code, message = refusal(ec2().deregister_image, ImageId=image_id)
    assert (code, "cooldown that ends at 2026-12-02T09:00:00.000Z" in message) == (
        "OperationNotPermitted",
        True,
    )
    assert protection(image_id) == ended
    wall.moment = START + timedelta(hours=24)
    assert protection(image_id) == "disabled"
    ec2().deregister_image(ImageId=image_id)


def test_only_the_owner_protects_or_disables_an_image(wall: WallClock) -> None:
    for call in (ec2().enable_image_deregistration_protection, ec2().disable_image):
        code, _ = refusal(call, ImageId=AL2023.image_id(REGION))  # owned by amazon
        assert code == "AuthFailure"


def test_a_disabled_image_is_hidden_unshared_and_cannot_launch(wall: WallClock) -> None:
    image_id = own_image()
    ec2().modify_image_attribute(
        ImageId=image_id, LaunchPermission={"Add": [{"UserId": "210987654321"}]}
    )
    ec2().disable_image(ImageId=image_id)
    assert ec2().describe_images(Owners=["self"])["Images"] == []
    shown = ec2().describe_images(Owners=["self"], IncludeDisabled=True)["Images"]
    assert [(image["ImageId"], image["State"]) for image in shown] == [(image_id, "disabled")]
    permissions = ec2().describe_image_attribute(ImageId=image_id, Attribute="launchPermission")
    assert permissions["LaunchPermissions"] == []
    code, _ = refusal(
        ec2().run_instances, ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="t3.micro"
    )
    assert code == "InvalidAMIID.Unavailable"
    code, _ = refusal(
        ec2().modify_image_attribute,
        ImageId=image_id,
        LaunchPermission={"Add": [{"UserId": "210987654321"}]},
    )
    assert code == "OperationNotPermitted"
    ec2().enable_image(ImageId=image_id)
    assert [image["ImageId"] for image in ec2().describe_images(Owners=["self"])["Images"]] == [
        image_id
    ]


def test_deregistering_with_its_snapshots_deletes_those_no_other_image_uses(
    wall: WallClock,
) -> None:
    image_id = own_image()
    image = ec2().describe_images(ImageIds=[image_id])["Images"][0]
    [snapshot_id] = [m["Ebs"]["SnapshotId"] for m in image["BlockDeviceMappings"]]
    answer = ec2().deregister_image(ImageId=image_id, DeleteAssociatedSnapshots=True)
    assert answer["DeleteSnapshotResults"] == [{"SnapshotId": snapshot_id, "ReturnCode": "success"}]
    snapshots = ec2().describe_snapshots(OwnerIds=["self"])["Snapshots"]
    assert snapshot_id not in {item["SnapshotId"] for item in snapshots}


def test_a_plain_deregistration_keeps_the_snapshots(wall: WallClock) -> None:
    image_id = own_image()
    image = ec2().describe_images(ImageIds=[image_id])["Images"][0]
    [snapshot_id] = [m["Ebs"]["SnapshotId"] for m in image["BlockDeviceMappings"]]
    answer = ec2().deregister_image(ImageId=image_id)
    assert "DeleteSnapshotResults" not in answer
    snapshots = ec2().describe_snapshots(OwnerIds=["self"])["Snapshots"]
    assert snapshot_id in {item["SnapshotId"] for item in snapshots}


def test_last_launched_time_is_the_latest_launch(wall: WallClock) -> None:
    image_id = own_image()
    assert "LastLaunchedTime" not in ec2().describe_images(ImageIds=[image_id])["Images"][0]
    wall.moment = START + timedelta(days=3)
    ec2().run_instances(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="t3.micro")
    shown = ec2().describe_images(ImageIds=[image_id])["Images"][0]["LastLaunchedTime"]
    assert shown == "2026-12-04T09:00:00.000Z"


def test_image_references_name_instances_launch_templates_and_parameters(
    wall: WallClock,
) -> None:
    image_id, other = own_image("one"), own_image("two")
    client = ec2()
    instance = client.run_instances(
        ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="t3.micro"
    )["Instances"][0]["InstanceId"]
    template = client.create_launch_template(
        LaunchTemplateName="web", LaunchTemplateData={"ImageId": image_id}
    )["LaunchTemplate"]["LaunchTemplateId"]
    for _ in range(10):  # the version naming the AMI drops out of the default depth (10)
        client.create_launch_template_version(
            LaunchTemplateId=template, LaunchTemplateData={"ImageId": other}
        )
    ssm = boto3.client("ssm", region_name=REGION)
    ssm.put_parameter(Name="/golden/web", Value=image_id, Type="String", DataType="aws:ec2:image")
    ssm.put_parameter(Name="/notes/web", Value=image_id, Type="String")  # text: not a reference

    def references(**kwargs: Any) -> list[tuple[str, str]]:
        found = client.describe_image_references(ImageIds=[image_id], **kwargs)
        return sorted((ref["ResourceType"], ref["Arn"]) for ref in found["ImageReferences"])

    account = "123456789012"
    assert references(IncludeAllResourceTypes=True) == [
        ("ec2:Instance", f"arn:aws:ec2:{REGION}:{account}:instance/{instance}"),
        ("ssm:Parameter", f"arn:aws:ssm:{REGION}:{account}:parameter/golden/web"),
    ]
    deep = [
        {
            "ResourceType": "ec2:LaunchTemplate",
            "ResourceTypeOptions": [{"OptionName": "version-depth", "OptionValues": ["11"]}],
        }
    ]
    assert references(ResourceTypes=deep) == [
        ("ec2:LaunchTemplate", f"arn:aws:ec2:{REGION}:{account}:launch-template/{template}")
    ]
    stopped_only = [
        {
            "ResourceType": "ec2:Instance",
            "ResourceTypeOptions": [{"OptionName": "state-name", "OptionValues": ["stopped"]}],
        }
    ]
    assert references(ResourceTypes=stopped_only) == []
    code, _ = refusal(client.describe_image_references, ImageIds=[image_id])
    assert code == "MissingParameter"
