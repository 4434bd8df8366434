"""ebami's calls of EC2's own AMI guards (ebami.aws.ec2_guards) against the sandbox in this
process: what they answer, and `GuardUnavailable` (one line saying why) where the installed
botocore does not know the operation or AWS refuses it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest
from botocore.stub import Stubber

from ebami.aws.ec2 import Ec2
from ebami.core.errors import GuardUnavailable, NotFoundError
from ebami.sandbox import world
from ebami.sandbox.faults import Faults
from ebami.sandbox.realism import Realism
from tests.fakes.clock import FakeClock
from tests.sandbox_helpers import sandbox_in_process

REGION = "us-east-1"
AL2023 = next(p for p in world.PLATFORMS if p.name == world.ECS_AL2023)


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> Iterator[None]:
    faults = Faults(realism=Realism.off())
    with sandbox_in_process(tmp_path, monkeypatch, clock=clock, faults=faults):
        yield


def own_image(client: Any) -> str:
    instance = client.run_instances(
        ImageId=AL2023.image_id(REGION), MinCount=1, MaxCount=1, InstanceType="t3.micro"
    )["Instances"][0]["InstanceId"]
    image_id = str(client.create_image(InstanceId=instance, Name="custom")["ImageId"])
    client.terminate_instances(InstanceIds=[instance])
    return image_id


def test_protection_disabling_and_the_estate_read(sandbox: None) -> None:
    client = boto3.client("ec2", region_name=REGION)
    ec2 = Ec2(client)
    image_id = own_image(client)
    assert ec2.protect_image(image_id) == "enabled-without-cooldown"
    [image] = [item for item in ec2.own_images() if item.image_id == image_id]
    assert image.deregistration_protection == "enabled-without-cooldown"
    assert ec2.unprotect_image(image_id) == "disabled"
    ec2.disable_image(image_id)
    # The estate read includes disabled AMIs (IncludeDisabled).
    assert [(item.image_id, item.state) for item in ec2.own_images()] == [(image_id, "disabled")]
    client.enable_image(ImageId=image_id)  # `aws ec2 enable-image` undoes it
    assert [item.state for item in ec2.own_images()] == ["available"]


def test_deregistering_with_snapshots_reads_each_result(sandbox: None) -> None:
    client = boto3.client("ec2", region_name=REGION)
    ec2 = Ec2(client)
    image_id = own_image(client)
    [snapshot_id] = ec2.get_image(image_id).snapshot_ids
    assert ec2.deregister_with_snapshots(image_id) == {snapshot_id: "success"}
    with pytest.raises(NotFoundError, match=f"AMI {image_id} is deregistered already"):
        ec2.deregister_with_snapshots(image_id)


def test_image_references_leave_out_terminated_instances(sandbox: None) -> None:
    client = boto3.client("ec2", region_name=REGION)
    ec2 = Ec2(client)
    image_id = own_image(client)
    gone, running = (
        client.run_instances(ImageId=image_id, MinCount=1, MaxCount=1, InstanceType="t3.micro")[
            "Instances"
        ][0]["InstanceId"]
        for _ in range(2)
    )
    client.terminate_instances(InstanceIds=[gone])
    found = ec2.image_references([image_id])
    assert [(item.resource_type, item.resource) for item in found] == [("ec2:Instance", running)]


def old_botocore_client() -> Any:
    """An EC2 client whose service model lacks the guards, as botocore before 1.31 had it."""
    session = botocore.session.get_session()
    client = session.create_client("ec2", region_name=REGION)
    model = client.meta.service_model
    missing = {
        "EnableImageDeregistrationProtection", "DisableImageDeregistrationProtection",
        "DisableImage", "EnableImage", "DescribeImageReferences",
    }  # fmt: skip
    # A cached property: the model's own list, read once, then kept on the instance.
    model.__dict__["operation_names"] = [n for n in model.operation_names if n not in missing]
    return client


def test_an_operation_botocore_does_not_know_is_unavailable_in_one_line() -> None:
    ec2 = Ec2(old_botocore_client())
    with pytest.raises(GuardUnavailable) as unknown:
        ec2.image_references(["ami-0123456789abcdef0"])
    assert unknown.value.message.startswith(
        "DescribeImageReferences is unknown to the installed botocore "
    )
    assert unknown.value.message.endswith("(it came with 1.40.18)")


@pytest.mark.parametrize("code", ["UnauthorizedOperation", "InvalidAction"])
def test_a_refusal_or_an_unknown_action_is_unavailable(code: str) -> None:
    client = boto3.client("ec2", region_name=REGION)
    ec2 = Ec2(client)
    with Stubber(client) as stub:
        stub.add_client_error(
            "enable_image_deregistration_protection", service_error_code=code, service_message="no"
        )
        with pytest.raises(GuardUnavailable) as refused:
            ec2.protect_image("ami-0123456789abcdef0")
    assert refused.value.message == (
        "ec2:EnableImageDeregistrationProtection ami-0123456789abcdef0: AWS refused it "
        f"({code}: no)"
    )
