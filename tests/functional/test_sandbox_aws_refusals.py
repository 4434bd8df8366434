"""The sandbox refuses what SSM and EC2 refuse, with AWS's error codes, so that a test cannot
pass on a name AWS would reject: parameter names (PutParameter) and a second AMI of one name."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from ebami.sandbox import world
from ebami.sandbox.parameters import MAX_LENGTH_WITH_ARN
from tests.fakes.clock import FakeClock
from tests.sandbox_helpers import sandbox_in_process

REGION = "us-east-1"
ARN_PREFIX = "arn:aws:ssm:us-east-1:123456789012:parameter/"


@pytest.fixture
def in_process(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with sandbox_in_process(tmp_path, monkeypatch, clock=FakeClock()):
        yield


def refusal(call: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as refused:
        call()
    error = refused.value.response["Error"]
    return error["Code"], error["Message"]


BAD_CHARACTERS = (
    'Parameter name: can\'t be prefixed with "ssm" (case-insensitive). If formed as a path, it '
    "can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of "
    "letters, numbers and the following 3 symbols .-_"
)
LONGEST = "/" + "n" * (MAX_LENGTH_WITH_ARN - len(ARN_PREFIX))


@pytest.mark.usefixtures("in_process")
@pytest.mark.parametrize(
    ("name", "code", "message"),
    [
        ("/ebami/with space", "ValidationException", BAD_CHARACTERS),
        ("/ebami/at@sign", "ValidationException", BAD_CHARACTERS),
        ("/ebami/ümlaut", "ValidationException", BAD_CHARACTERS),
        ("ebami*", "ValidationException", BAD_CHARACTERS),
        ("ebami/latest", "ValidationException", "Parameter name must be a fully qualified name."),
        ("/l" * 16, "HierarchyLevelLimitExceededException", None),
        (LONGEST + "n", "ValidationException", None),
        # moto's own refusals of the reserved prefixes, kept.
        ("/aws/ebami/latest", "AccessDeniedException", None),
        ("/AWS/ebami/latest", "AccessDeniedException", None),
        ("awsEbami", "ValidationException", None),
        ("SSM-ebami", "ValidationException", None),
        ("/ssm/ebami", "ValidationException", None),
    ],
)
def test_parameter_names_aws_refuses_are_refused(name: str, code: str, message: str | None) -> None:
    ssm = boto3.client("ssm", region_name=REGION)
    refused = refusal(lambda: ssm.put_parameter(Name=name, Value="ami-1", Type="String"))
    assert refused[0] == code
    if message is not None:
        assert refused[1] == message
    assert ssm.describe_parameters()["Parameters"] == []


@pytest.mark.usefixtures("in_process")
def test_parameter_names_aws_accepts_are_kept_and_end_spaces_removed() -> None:
    ssm = boto3.client("ssm", region_name=REGION)
    accepted = ["/ebami/al2017.09/latest-ami", "ebami.latest_ami-1", "/l" * 15, LONGEST]
    for name in accepted:
        ssm.put_parameter(Name=name, Value="ami-1", Type="String")
    ssm.put_parameter(Name="  /ebami/padded ", Value="ami-2", Type="String")  # AWS strips them
    names = {parameter["Name"] for parameter in ssm.describe_parameters()["Parameters"]}
    assert names == {*accepted, "/ebami/padded"}
    assert ssm.get_parameter(Name="/ebami/padded")["Parameter"]["Value"] == "ami-2"


def launch(ec2: Any) -> str:
    image = ec2.describe_images(Owners=[world.AMAZON_OWNER_ID])["Images"][0]["ImageId"]
    instance: str = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0][
        "InstanceId"
    ]
    return instance


@pytest.mark.usefixtures("in_process")
def test_a_second_image_of_a_name_the_account_uses_is_refused() -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    instance = launch(ec2)
    first = ec2.create_image(InstanceId=instance, Name="ebami-al2017.09")["ImageId"]
    expected = (
        "InvalidAMIName.Duplicate",
        f"AMI name ebami-al2017.09 is already in use by AMI {first}",
    )
    assert (
        refusal(lambda: ec2.create_image(InstanceId=instance, Name="ebami-al2017.09")) == expected
    )
    assert (
        refusal(lambda: ec2.register_image(Name="ebami-al2017.09", RootDeviceName="/dev/xvda"))
        == expected
    )
    assert (
        refusal(
            lambda: ec2.copy_image(SourceImageId=first, SourceRegion=REGION, Name="ebami-al2017.09")
        )
        == expected
    )
    images = ec2.describe_images(Owners=["self"], Filters=[{"Name": "name", "Values": ["ebami-*"]}])
    assert [image["ImageId"] for image in images["Images"]] == [first]
    # Once deregistered, the name is free again; another region has names of its own.
    ec2.deregister_image(ImageId=first)
    ec2.create_image(InstanceId=instance, Name="ebami-al2017.09")
    west = boto3.client("ec2", region_name="us-west-2")
    west.register_image(Name="ebami-al2017.09", RootDeviceName="/dev/xvda")


@pytest.mark.usefixtures("in_process")
def test_a_name_only_amazon_uses_is_free_for_the_account() -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    amazons = ec2.describe_images(Owners=[world.AMAZON_OWNER_ID])["Images"][0]
    ec2.create_image(InstanceId=launch(ec2), Name=amazons["Name"])


@pytest.mark.usefixtures("in_process")
def test_two_images_of_one_name_at_once_end_with_one() -> None:
    ec2 = boto3.client("ec2", region_name=REGION)
    instance = launch(ec2)
    start = threading.Barrier(2)
    codes: list[str] = []

    def create() -> None:
        start.wait()
        try:
            ec2.create_image(InstanceId=instance, Name="ebami-race")
            codes.append("created")
        except ClientError as exc:
            codes.append(exc.response["Error"]["Code"])

    threads = [threading.Thread(target=create) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(codes) == ["InvalidAMIName.Duplicate", "created"]


class _Unscannable(dict[str, Any]):
    """The region's images, which may be looked up by id but not listed."""

    def values(self) -> Any:
        raise AssertionError("the name check listed every image of the region")


@pytest.mark.usefixtures("in_process")
def test_a_used_name_is_found_by_its_index_not_by_a_scan_of_every_image() -> None:
    from moto.backends import get_backend

    ec2 = boto3.client("ec2", region_name=REGION)
    instance = launch(ec2)
    first = ec2.create_image(InstanceId=instance, Name="ebami-indexed")["ImageId"]
    backend = get_backend("ec2")["123456789012"][REGION]
    backend.amis = _Unscannable(backend.amis)
    copy = ec2.copy_image(SourceImageId=first, SourceRegion=REGION, Name="ebami-indexed-copy")
    for name, made in (("ebami-indexed", first), ("ebami-indexed-copy", copy["ImageId"])):
        assert refusal(
            lambda name=name: ec2.register_image(Name=name, RootDeviceName="/dev/xvda")
        ) == (
            "InvalidAMIName.Duplicate",
            f"AMI name {name} is already in use by AMI {made}",
        )
    # A deregistered image's name is free again, without a scan either.
    ec2.deregister_image(ImageId=first)
    ec2.register_image(Name="ebami-indexed", RootDeviceName="/dev/xvda")
