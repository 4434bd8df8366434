"""The Elastic Beanstalk reads apply's verdict rests on, through a real botocore client with
stubbed answers (shapes checked by botocore's Stubber): every page of `DescribeInstancesHealth`
with the attributes asked for, the configuration sets apart (a draft never passes for the
deployed set), and the environment each event is about."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timezone
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ebami.aws.eb_values import DEPLOYED, FAILED, PENDING, ConfigurationSet, Environment
from ebami.aws.elasticbeanstalk import ElasticBeanstalk
from ebami.core.errors import AwsError

ENVIRONMENT = Environment("prod", "e-123", "webapp", "Ready", "Green", "arn:platform")
LAUNCH = "aws:autoscaling:launchconfiguration"
WHEN = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)
ATTRIBUTES = ["HealthStatus", "Color", "Causes", "LaunchedAt", "Deployment"]


@pytest.fixture
def stubbed() -> Iterator[tuple[ElasticBeanstalk, Stubber]]:
    make: Any = boto3.client
    client = make("elasticbeanstalk", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield ElasticBeanstalk(client), stubber
        stubber.assert_no_pending_responses()


def test_instances_health_reads_every_page_with_the_attributes_it_needs(
    stubbed: tuple[ElasticBeanstalk, Stubber],
) -> None:
    eb, stubber = stubbed
    first = {
        "InstanceId": "i-0aaa",
        "HealthStatus": "Warning",
        "Color": "Yellow",
        "Causes": ["5 % of requests are 5xx"],
        "LaunchedAt": WHEN,
        "Deployment": {"VersionLabel": "v42", "DeploymentId": 7, "Status": "Deployed"},
    }
    stubber.add_response(
        "describe_instances_health",
        {"InstanceHealthList": [first], "NextToken": "page-2"},
        {"EnvironmentId": "e-123", "AttributeNames": ATTRIBUTES},
    )
    stubber.add_response(
        "describe_instances_health",
        {"InstanceHealthList": [{"InstanceId": "i-0bbb", "HealthStatus": "Pending"}]},
        {"EnvironmentId": "e-123", "AttributeNames": ATTRIBUTES, "NextToken": "page-2"},
    )
    found = eb.instances_health(ENVIRONMENT)
    assert [(item.instance_id, item.status, item.color) for item in found] == [
        ("i-0aaa", "Warning", "Yellow"),
        ("i-0bbb", "Pending", ""),
    ]
    assert found[0].causes == ("5 % of requests are 5xx",)
    assert (found[0].launched_at, found[0].deployment_status, found[0].deployment_id) == (
        WHEN,
        "Deployed",
        7,
    )
    assert found[1].to_json()["launched_at"] is None


def test_a_page_token_answered_twice_ends_the_read_with_an_error(
    stubbed: tuple[ElasticBeanstalk, Stubber],
) -> None:
    eb, stubber = stubbed
    page = {"InstanceHealthList": [{"InstanceId": "i-0aaa"}], "NextToken": "page-2"}
    stubber.add_response(
        "describe_instances_health", page, {"EnvironmentId": "e-123", "AttributeNames": ATTRIBUTES}
    )
    stubber.add_response(
        "describe_instances_health",
        page,
        {"EnvironmentId": "e-123", "AttributeNames": ATTRIBUTES, "NextToken": "page-2"},
    )
    with pytest.raises(AwsError, match="answered the page token 'page-2' twice"):
        eb.instances_health(ENVIRONMENT)


def settings(status: str | None, image: str | None, timeout: str = "PT30M") -> dict[str, Any]:
    options = [
        {
            "Namespace": "aws:autoscaling:updatepolicy:rollingupdate",
            "OptionName": "Timeout",
            "Value": timeout,
        }
    ]
    if image is not None:
        options.append({"Namespace": LAUNCH, "OptionName": "ImageId", "Value": image})
    described: dict[str, Any] = {"ApplicationName": "webapp", "OptionSettings": options}
    if status is not None:
        described["DeploymentStatus"] = status
    return described


def configuration(eb: ElasticBeanstalk, stubber: Stubber, *sets: dict[str, Any]) -> Any:
    stubber.add_response(
        "describe_configuration_settings",
        {"ConfigurationSettings": list(sets)},
        {"ApplicationName": "webapp", "EnvironmentName": "prod"},
    )
    return eb.configuration(ENVIRONMENT)


def test_during_an_update_the_deployed_set_is_the_configuration_and_the_draft_is_pending(
    stubbed: tuple[ElasticBeanstalk, Stubber],
) -> None:
    eb, stubber = stubbed
    # The pending draft comes first and sets what the deployed set leaves unset: it must not
    # leak into the deployed configuration.
    found = configuration(
        eb, stubber, settings(PENDING, "ami-0new", timeout="PT1H"), settings(DEPLOYED, None)
    )
    assert found.image_id is None
    assert found.value("aws:autoscaling:updatepolicy:rollingupdate", "Timeout") == "PT30M"
    assert found.drafts(PENDING) == (ConfigurationSet(PENDING, "ami-0new"),)
    assert found.deployment_statuses == (PENDING, DEPLOYED)
    assert found.image_ids == ("ami-0new",)


def test_a_failed_draft_is_kept_apart_from_the_deployed_set(
    stubbed: tuple[ElasticBeanstalk, Stubber],
) -> None:
    eb, stubber = stubbed
    found = configuration(eb, stubber, settings(DEPLOYED, "ami-0old"), settings(FAILED, "ami-0new"))
    assert found.image_id == "ami-0old"
    assert found.drafts(FAILED) == (ConfigurationSet(FAILED, "ami-0new"),)
    assert found.drafts(PENDING) == ()
    assert found.image_ids == ("ami-0old", "ami-0new")


def test_a_saved_configuration_s_set_has_no_deployment_status(
    stubbed: tuple[ElasticBeanstalk, Stubber],
) -> None:
    eb, stubber = stubbed
    stubber.add_response(
        "describe_configuration_settings",
        {"ConfigurationSettings": [settings(None, "ami-0saved")]},
        {"ApplicationName": "webapp", "TemplateName": "base"},
    )
    assert eb.image_ids("webapp", saved_configuration="base") == ("ami-0saved",)


def test_events_say_which_environment_they_are_about(
    stubbed: tuple[ElasticBeanstalk, Stubber],
) -> None:
    eb, stubber = stubbed
    stubber.add_response(
        "describe_events",
        {
            "Events": [
                {
                    "EventDate": WHEN,
                    "Message": "Environment update is starting.",
                    "Severity": "INFO",
                    "RequestId": "req-1",
                    "EnvironmentName": "prod",
                    "ApplicationName": "webapp",
                }
            ]
        },
        {
            "ApplicationName": "webapp",
            "EnvironmentName": "prod",
            "MaxRecords": 1000,
            "RequestId": "req-1",
        },
    )
    (event,) = eb.events(ENVIRONMENT, request_id="req-1")
    assert event.environment == "prod"
    assert event.identity == (WHEN, "Environment update is starting.", "INFO", "req-1", "prod")
