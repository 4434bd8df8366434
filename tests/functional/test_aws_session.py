"""The session factory against moto (in-process): configuration, counting, errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from ebami import __version__
from ebami.aws.errors import aws_errors
from ebami.aws.session import ApiCallCounter, AwsSession
from ebami.errors import CredentialsError, InputError


@pytest.fixture
def aws() -> Iterator[None]:
    with mock_aws():
        yield


def test_clients_get_standard_retries_timeouts_and_user_agent(aws: None) -> None:
    client = AwsSession(region="eu-west-1").client("ec2")
    config = client.meta.config
    assert config.retries == {"mode": "standard"}
    assert (config.connect_timeout, config.read_timeout) == (10, 60)
    assert f"ebami/{__version__}" in config.user_agent_extra
    assert client.meta.region_name == "eu-west-1"


def test_the_users_retry_mode_is_kept(aws: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_RETRY_MODE", "adaptive")
    client = AwsSession(region="eu-west-1").client("ec2")
    assert client.meta.config.retries["mode"] == "adaptive"


def test_clients_are_cached(aws: None) -> None:
    session = AwsSession(region="eu-west-1")
    assert session.client("s3") is session.client("s3")


def test_counter_counts_calls_per_operation(aws: None) -> None:
    counter = ApiCallCounter()
    session = AwsSession(region="us-east-1", counter=counter)
    ec2 = session.client("ec2")
    ec2.describe_images(Owners=["self"])
    ec2.describe_images(Owners=["self"])
    ec2.describe_instances()
    assert counter.lines() == ["ec2.DescribeImages: 2", "ec2.DescribeInstances: 1"]
    assert counter.total == 3


def test_missing_region_is_an_input_error() -> None:
    with pytest.raises(InputError, match=r"^no AWS region: pass --region"):
        AwsSession().client("ec2")


def test_unknown_profile_is_an_input_error() -> None:
    with pytest.raises(
        InputError, match=r"profile .*could not be found; pass an existing --profile"
    ):
        AwsSession(profile="nope", region="us-east-1")


def test_missing_credentials(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")
    client = AwsSession(region="us-east-1").client("ec2")
    with (
        pytest.raises(CredentialsError, match=r"^ec2:DescribeImages: no AWS credentials found"),
        aws_errors("ec2:DescribeImages"),
    ):
        client.describe_images(Owners=["self"])
