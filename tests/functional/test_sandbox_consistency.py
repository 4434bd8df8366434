"""The sandbox's AWS-like lateness, on its own clock (a fake one here): SSM shows an
`aws:ec2:image` version only once validated (and never an AMI gone meanwhile), and EC2 answers
NotFound for a new instance or AMI named explicitly, for a while."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from ebami.sandbox.faults import Faults
from ebami.sandbox.realism import Realism
from tests.fakes.clock import FakeClock
from tests.sandbox_helpers import sandbox_in_process

NAME = "/ebami/x/stable"


@pytest.fixture
def clock(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClock]:
    clock = FakeClock()
    faults = Faults(realism=Realism(parameter_validation=2.0, ec2_not_found=3.0))
    with sandbox_in_process(tmp_path, monkeypatch, clock=clock, faults=faults):
        yield clock


def client(service: str) -> Any:
    make: Any = boto3.client
    return make(service, region_name="us-east-1")


def code(call: Any, **kwargs: Any) -> str:
    with pytest.raises(ClientError) as exc:
        call(**kwargs)
    return str(exc.value.response["Error"]["Code"])


def history(ssm: Any) -> list[tuple[int, str]]:
    found = ssm.get_parameter_history(Name=NAME)["Parameters"]
    return [(int(item["Version"]), item["Value"]) for item in found]


def test_a_version_shows_once_validated_and_a_value_gone_meanwhile_never(
    clock: FakeClock,
) -> None:
    ssm, ec2 = client("ssm"), client("ec2")
    base = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    put = {"Name": NAME, "Type": "String", "DataType": "aws:ec2:image", "Overwrite": True}
    assert ssm.put_parameter(Value=base, **put)["Version"] == 1
    assert code(ssm.get_parameter, Name=NAME) == "ParameterNotFound"
    clock.advance(2.0)
    assert history(ssm) == [(1, base)]

    instance = ec2.run_instances(ImageId=base, MinCount=1, MaxCount=1)["Instances"][0]
    image = ec2.create_image(InstanceId=instance["InstanceId"], Name="gone-soon")["ImageId"]
    assert ssm.put_parameter(Value=image, **put)["Version"] == 2
    assert ssm.get_parameter(Name=NAME)["Parameter"]["Version"] == 1  # the previous one
    ec2.deregister_image(ImageId=image)
    clock.advance(2.0)
    assert history(ssm) == [(1, base)]  # dropped: the AMI was gone when validated
    assert ssm.put_parameter(Value=base, **put)["Version"] == 3  # 2 is not handed out again
    assert ssm.describe_parameters()["Parameters"][0]["Version"] == 1
    clock.advance(2.0)
    assert history(ssm) == [(1, base), (3, base)]


def test_new_instances_and_amis_are_not_found_when_named_for_a_while(clock: FakeClock) -> None:
    ec2 = client("ec2")
    base = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=base, MinCount=1, MaxCount=1)["Instances"][0]
    instance_id = instance["InstanceId"]
    assert code(ec2.describe_instances, InstanceIds=[instance_id]) == "InvalidInstanceID.NotFound"
    assert code(ec2.describe_instance_status, InstanceIds=[instance_id]) == (
        "InvalidInstanceID.NotFound"
    )
    tag = {"Resources": [instance_id], "Tags": [{"Key": "a", "Value": "b"}]}
    assert code(ec2.create_tags, **tag) == "InvalidInstanceID.NotFound"
    listed = [
        item["InstanceId"]
        for reservation in ec2.describe_instances()["Reservations"]
        for item in reservation["Instances"]
    ]
    assert instance_id in listed  # a listing by filters alone shows it
    clock.advance(3.0)
    ec2.create_tags(**tag)
    image_id = ec2.create_image(InstanceId=instance_id, Name="new-image")["ImageId"]
    assert code(ec2.describe_images, ImageIds=[image_id]) == "InvalidAMIID.NotFound"
    clock.advance(3.0)
    assert ec2.describe_images(ImageIds=[image_id])["Images"][0]["ImageId"] == image_id
