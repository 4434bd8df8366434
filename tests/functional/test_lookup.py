"""`find_base_ami` against botocore's Stubber: the exact calls, filters and pages."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import Stubber

from ebami.aws.elasticbeanstalk import ElasticBeanstalk
from ebami.core.errors import AwsError, NotFoundError
from ebami.image.lookup import find_base_ami
from tests.fakes.platforms import AL1, ARN, FILTERS, description, summary


@pytest.fixture
def stubbed() -> Iterator[tuple[ElasticBeanstalk, Stubber]]:
    client = boto3.client("elasticbeanstalk", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield ElasticBeanstalk(client), stubber
        stubber.assert_no_pending_responses()


def test_newest_version_of_the_release_across_pages(
    stubbed: tuple[ElasticBeanstalk, Stubber],
) -> None:
    eb, stubber = stubbed
    stubber.add_response(
        "list_platform_versions",
        {
            "PlatformSummaryList": [summary("2.8.0", "2017.09"), summary("2.10.1", "2018.03")],
            "NextToken": "page2",
        },
        {"Filters": FILTERS},
    )
    stubber.add_response(
        "list_platform_versions",
        {"PlatformSummaryList": [summary("2.9.2", "2017.09"), summary("2.7.5", "2017.09")]},
        {"Filters": FILTERS, "NextToken": "page2"},
    )
    stubber.add_response(
        "describe_platform_version",
        description(
            "2.9.2",
            "2017.09",
            [
                {"VirtualizationType": "pv", "ImageId": "ami-00000000000000001"},
                {"VirtualizationType": "hvm", "ImageId": "ami-0123456789abcdef0"},
            ],
        ),
        {"PlatformArn": ARN.format("2.9.2")},
    )
    base = find_base_ami(eb, AL1, region="us-east-1", release="2017.09")
    assert base.image_id == "ami-0123456789abcdef0"
    assert base.platform_version == "2.9.2"
    assert base.platform_arn == ARN.format("2.9.2")
    assert (base.os_name, base.os_version) == ("Amazon Linux", "2017.09")
    assert base.lifecycle_state == "Deprecated"


def test_pinned_platform_version_is_a_server_side_filter(
    stubbed: tuple[ElasticBeanstalk, Stubber],
) -> None:
    eb, stubber = stubbed
    pinned = [*FILTERS, {"Type": "PlatformVersion", "Operator": "=", "Values": ["2.8.0"]}]
    stubber.add_response(
        "list_platform_versions",
        {"PlatformSummaryList": [summary("2.8.0", "2017.09")]},
        {"Filters": pinned},
    )
    stubber.add_response(
        "describe_platform_version",
        description("2.8.0", "2017.09", [{"VirtualizationType": "hvm", "ImageId": "ami-1"}]),
        {"PlatformArn": ARN.format("2.8.0")},
    )
    assert find_base_ami(eb, AL1, region="us-east-1", platform_version="2.8.0").image_id == "ami-1"


def test_no_match_names_the_filters_and_private_amis(
    stubbed: tuple[ElasticBeanstalk, Stubber],
) -> None:
    eb, stubber = stubbed
    stubber.add_response(
        "list_platform_versions",
        {"PlatformSummaryList": [summary("2.10.1", "2018.03")]},
        {"Filters": FILTERS},
    )
    with pytest.raises(NotFoundError) as exc:
        find_base_ami(eb, AL1, region="us-east-1", release="2017.09")
    assert str(exc.value) == (
        "no platform version found in us-east-1 for PlatformName = "
        "'Multi-container Docker running on 64bit Amazon Linux', PlatformOwner = "
        "'AWSElasticBeanstalk' with OS release 2017.09; platform versions of retired branches "
        "may no longer be listed and their base AMIs may be private: pick another --release or "
        "--platform-version"
    )


def test_version_without_hvm_ami_is_not_found(stubbed: tuple[ElasticBeanstalk, Stubber]) -> None:
    eb, stubber = stubbed
    stubber.add_response(
        "list_platform_versions",
        {"PlatformSummaryList": [summary("2.8.0", "2017.09")]},
        {"Filters": FILTERS},
    )
    stubber.add_response(
        "describe_platform_version",
        description("2.8.0", "2017.09", [{"VirtualizationType": "pv", "ImageId": "ami-1"}]),
        {"PlatformArn": ARN.format("2.8.0")},
    )
    with pytest.raises(NotFoundError, match="lists no hvm base AMI"):
        find_base_ami(eb, AL1, region="us-east-1")


def test_aws_errors_name_the_operation(stubbed: tuple[ElasticBeanstalk, Stubber]) -> None:
    eb, stubber = stubbed
    stubber.add_client_error(
        "list_platform_versions",
        "AccessDenied",
        "not allowed",
        expected_params={"Filters": FILTERS},
    )
    with pytest.raises(AwsError) as exc:
        find_base_ami(eb, AL1, region="us-east-1")
    assert str(exc.value) == (
        "access denied: the caller may not elasticbeanstalk:ListPlatformVersions; "
        "`ebami iam policy` prints what it needs"
    )
