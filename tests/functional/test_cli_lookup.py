"""`ebami lookup` end to end through the entry point, with a stubbed Elastic Beanstalk."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.stub import Stubber

from ebami.aws.session import AwsSession
from ebami.cli.main import main
from ebami.core.errors import ExitCode
from tests.fakes.platforms import FILTERS, description, summary

Response = tuple[str, dict[str, Any], dict[str, Any]]


@pytest.fixture
def responses(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Response]]:
    """Responses for the client the real session factory makes (so the counter sees calls)."""
    queued: list[Response] = []
    stubbers: list[Stubber] = []
    real_client = AwsSession.client

    def stubbed_client(self: AwsSession, service: str) -> Any:
        client = real_client(self, service)
        if not stubbers:
            stubber = Stubber(client)
            for operation, response, params in queued:
                stubber.add_response(operation, response, params)
            stubber.activate()
            stubbers.append(stubber)
        return client

    monkeypatch.setattr(AwsSession, "client", stubbed_client)
    yield queued
    for stubber in stubbers:
        stubber.assert_no_pending_responses()
        stubber.deactivate()


def prepare(responses: list[Response]) -> None:
    arn = summary("2.8.0", "2017.09")["PlatformArn"]
    responses.append(
        (
            "list_platform_versions",
            {"PlatformSummaryList": [summary("2.8.0", "2017.09")]},
            {"Filters": FILTERS},
        )
    )
    responses.append(
        (
            "describe_platform_version",
            description("2.8.0", "2017.09", [{"VirtualizationType": "hvm", "ImageId": "ami-0abc"}]),
            {"PlatformArn": arn},
        )
    )


def test_table_output(responses: list[Response], capsys: pytest.CaptureFixture[str]) -> None:
    prepare(responses)
    assert main(["--region", "eu-west-1", "lookup", "--release", "2017.09"]) == 0
    captured = capsys.readouterr()
    assert captured.err == (
        "looking up the base AMI of Multi-container Docker running on 64bit Amazon Linux "
        "in eu-west-1\n"
    )
    assert captured.out.splitlines() == [
        "Base AMI          ami-0abc",
        "Region            eu-west-1",
        "Platform          Multi-container Docker running on 64bit Amazon Linux",
        "Platform version  2.8.0",
        "Platform ARN      " + summary("2.8.0", "2017.09")["PlatformArn"],
        "Branch            Multi-container Docker running on 64bit Amazon Linux",
        "OS                Amazon Linux 2017.09",
        "Lifecycle         Deprecated",
    ]


def test_json_output_and_stats(
    responses: list[Response], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    prepare(responses)
    monkeypatch.setenv("EBAMI_STATS", "1")
    assert main(["--region", "eu-west-1", "-o", "json", "lookup", "--release", "2017.09"]) == 0
    captured = capsys.readouterr()
    result = json.loads(captured.out)
    assert result["image_id"] == "ami-0abc"
    assert result["platform"] == "multicontainer-docker"
    assert captured.err.endswith(
        "API calls: 2\n"
        "  elasticbeanstalk.DescribePlatformVersion: 1\n"
        "  elasticbeanstalk.ListPlatformVersions: 1\n"
    )


def test_no_region_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["lookup"]) == ExitCode.USAGE
    captured = capsys.readouterr()
    assert captured.err == (
        "error: no AWS region: pass --region, set region in ebami.toml, or set AWS_REGION\n"
    )


def test_release_of_another_family_is_refused_before_any_call(
    responses: list[Response], capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["--region", "eu-west-1", "lookup", "-p", "ecs-al2023", "--release", "2018.03"])
    assert code == ExitCode.USAGE
    assert capsys.readouterr().err.startswith("error: --release: release '2018.03' is an Amazon")
