"""`check --env` of many environments asks DescribeEnvironments for them together, a hundred
names a call (botocore Stubber)."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ebami.aws.elasticbeanstalk import NAMES_PER_CALL, ElasticBeanstalk
from ebami.core.errors import InputError, NotFoundError


def client() -> Any:
    return boto3.client(
        "elasticbeanstalk",
        region_name="us-east-1",
        aws_access_key_id="x",
        aws_secret_access_key="x",  # noqa: S106
    )


def described(name: str, application: str = "webapp", status: str = "Ready") -> dict[str, Any]:
    return {
        "EnvironmentName": name,
        "EnvironmentId": f"e-{name}",
        "ApplicationName": application,
        "Status": status,
        "Health": "Green",
        "PlatformArn": "arn:aws:elasticbeanstalk:us-east-1::platform/Docker/4.0.0",
    }


def test_150_environments_are_read_in_two_calls() -> None:
    names = [f"env-{number:03d}" for number in range(150)]
    eb = client()
    with Stubber(eb) as stub:
        for chunk in (names[:NAMES_PER_CALL], names[NAMES_PER_CALL:]):
            stub.add_response(
                "describe_environments",
                {"Environments": [described(name) for name in chunk]},
                {"EnvironmentNames": chunk, "IncludeDeleted": False, "ApplicationName": "webapp"},
            )
        found = ElasticBeanstalk(eb).environments_named(names, "webapp")
        stub.assert_no_pending_responses()
    assert list(found) == names
    assert found["env-149"].environment_id == "e-env-149"


def test_a_missing_or_ambiguous_name_is_refused_by_name() -> None:
    eb = client()
    with Stubber(eb) as stub:
        stub.add_response(
            "describe_environments",
            {"Environments": [described("prod"), described("gone", status="Terminated")]},
            {"EnvironmentNames": ["prod", "gone"], "IncludeDeleted": False},
        )
        with pytest.raises(NotFoundError, match="'gone' does not exist"):
            ElasticBeanstalk(eb).environments_named(["prod", "gone"])
    with Stubber(eb) as stub:
        stub.add_response(
            "describe_environments",
            {"Environments": [described("prod"), described("prod", application="api")]},
            {"EnvironmentNames": ["prod"], "IncludeDeleted": False},
        )
        with pytest.raises(InputError, match="several applications"):
            ElasticBeanstalk(eb).environments_named(["prod"])
