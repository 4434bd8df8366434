"""Finding AMIs by tag and by name reads every page DescribeImages returns (botocore Stubber)."""

from __future__ import annotations

from typing import Any

import boto3
from botocore.stub import Stubber

from ebami.aws.ec2 import Ec2


def image(image_id: str, created: str) -> dict[str, Any]:
    return {
        "ImageId": image_id,
        "Name": f"ebami-{image_id}",
        "State": "available",
        "CreationDate": created,
        "Tags": [{"Key": "ebami:bake-key", "Value": "k"}],
        "BlockDeviceMappings": [],
    }


def test_images_by_tag_come_from_every_page_newest_first() -> None:
    client = boto3.client(
        "ec2",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",  # noqa: S106
    )
    filters = [
        {"Name": "tag:ebami:bake-key", "Values": ["k"]},
        {"Name": "state", "Values": ["available"]},
    ]
    with Stubber(client) as stub:
        stub.add_response(
            "describe_images",
            {"Images": [image("ami-00000001", "2026-01-01T00:00:00.000Z")], "NextToken": "p2"},
            {"Owners": ["self"], "Filters": filters},
        )
        stub.add_response(
            "describe_images",
            {"Images": [image("ami-00000002", "2026-02-01T00:00:00.000Z")]},
            {"Owners": ["self"], "Filters": filters, "NextToken": "p2"},
        )
        found = Ec2(client).find_images_by_tag("ebami:bake-key", "k")
        stub.assert_no_pending_responses()
    assert [item.image_id for item in found] == ["ami-00000002", "ami-00000001"]


def test_amis_by_id_are_read_200_ids_a_call_and_a_missing_one_is_left_out() -> None:
    client = boto3.client(
        "ec2",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",  # noqa: S106
    )
    ids = [f"ami-{number:08x}" for number in range(250)]
    with Stubber(client) as stub:
        stub.add_response(
            "describe_images",
            {"Images": [image(ids[0], "2026-01-01T00:00:00.000Z")]},
            {"Filters": [{"Name": "image-id", "Values": ids[:200]}]},
        )
        stub.add_response(
            "describe_images",
            {"Images": [image(ids[249], "2026-01-02T00:00:00.000Z")]},
            {"Filters": [{"Name": "image-id", "Values": ids[200:]}]},
        )
        found = Ec2(client).images_by_id(ids + ids[:3])
        stub.assert_no_pending_responses()
    assert [item.image_id for item in found] == [ids[0], ids[249]]
