"""The Elastic Beanstalk actions the EB CLI needs, in the sandbox: platform branches and their
filters, the storage location, validation of settings, solution stacks, environment properties
and the file of a saved configuration."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from botocore.exceptions import ClientError

from ebami.sandbox import world
from tests.fakes.clock import FakeClock
from tests.sandbox_helpers import sandbox_in_process

REGION = "us-east-1"
APP = world.APPLICATION
BUCKET = world.storage_bucket(REGION, "123456789012")
PROPERTIES = "aws:elasticbeanstalk:application:environment"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def eb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> Iterator[Any]:
    with sandbox_in_process(tmp_path, monkeypatch, clock=clock, region=REGION):
        yield boto3.client("elasticbeanstalk", region_name=REGION)


def branch_names(eb: Any, *filters: dict[str, Any]) -> list[str]:
    found = eb.list_platform_branches(Filters=list(filters))["PlatformBranchSummaryList"]
    return [branch["BranchName"] for branch in found]


def error(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as failed:
        call(**kwargs)
    found = failed.value.response["Error"]
    return str(found["Code"]), str(found["Message"])


def test_platform_branches_are_the_seeded_ones_oldest_first(eb: Any) -> None:
    found = eb.list_platform_branches()["PlatformBranchSummaryList"]
    assert [(b["BranchName"], b["LifecycleState"], b["BranchOrder"]) for b in found] == [
        (world.MULTICONTAINER_DOCKER, "Retired", 1),
        (world.ECS_AL2, "Supported", 2),
        (world.ECS_AL2023, "Supported", 3),
    ]
    assert {b["PlatformName"] for b in found} == {"Docker"}
    assert found[0]["SupportedTierList"] == ["WebServer/Standard", "Worker/SQS/HTTP"]


def test_platform_branch_filters_as_the_eb_cli_sends_them(eb: Any) -> None:
    by_name = {"Attribute": "BranchName", "Operator": "=", "Values": [world.ECS_AL2023]}
    assert branch_names(eb, by_name) == [world.ECS_AL2023]
    not_retired = {"Attribute": "LifecycleState", "Operator": "!=", "Values": ["Retired"]}
    assert branch_names(eb, not_retired) == [world.ECS_AL2, world.ECS_AL2023]
    # The reference lists lifecycle values in lower case: the same answer.
    lower = {"Attribute": "LifecycleState", "Operator": "in", "Values": ["retired", "beta"]}
    assert branch_names(eb, lower) == [world.MULTICONTAINER_DOCKER]
    ecs = {"Attribute": "BranchName", "Operator": "begins_with", "Values": ["ECS"]}
    worker = {"Attribute": "TierType", "Operator": "=", "Values": ["Worker/SQS/HTTP"]}
    assert branch_names(eb, ecs, worker) == [world.ECS_AL2, world.ECS_AL2023]


@pytest.mark.parametrize(
    ("item", "wording"),
    [
        ({"Attribute": "Owner", "Operator": "=", "Values": ["x"]}, "Invalid filter attribute"),
        ({"Attribute": "TierType", "Operator": "in", "Values": ["x"]}, "Invalid operator in"),
        ({"Attribute": "BranchName", "Operator": "=", "Values": ["a", "b"]}, "takes one value"),
    ],
)
def test_platform_branch_filters_the_reference_does_not_allow_are_refused(
    eb: Any, item: dict[str, Any], wording: str
) -> None:
    code, message = error(eb.list_platform_branches, Filters=[item])
    assert code == "InvalidParameterValue"
    assert wording in message


def test_platform_branches_page(eb: Any) -> None:
    first = eb.list_platform_branches(MaxRecords=2)
    assert len(first["PlatformBranchSummaryList"]) == 2
    rest = eb.list_platform_branches(MaxRecords=2, NextToken=first["NextToken"])
    assert [b["BranchName"] for b in rest["PlatformBranchSummaryList"]] == [world.ECS_AL2023]
    assert "NextToken" not in rest


def test_the_storage_location_is_the_accounts_bucket_made_once(eb: Any) -> None:
    s3 = boto3.client("s3", region_name=REGION)
    s3.delete_objects(
        Bucket=BUCKET,
        Delete={
            "Objects": [{"Key": o["Key"]} for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]]
        },
    )
    s3.delete_bucket(Bucket=BUCKET)
    assert eb.create_storage_location()["S3Bucket"] == BUCKET
    assert eb.create_storage_location()["S3Bucket"] == BUCKET  # exists: the same name
    assert BUCKET in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_validation_lists_a_message_per_setting_eb_refuses(eb: Any) -> None:
    answer = eb.validate_configuration_settings(
        ApplicationName=APP,
        EnvironmentName="staging",
        OptionSettings=[
            {"Namespace": "aws:autoscaling:asg", "OptionName": "MaxSize", "Value": "3"},
            {"Namespace": "aws:autoscaling:asg", "OptionName": "Colour", "Value": "red"},
            {"Namespace": PROPERTIES, "OptionName": "LOG_LEVEL", "Value": "debug"},
            {"Namespace": PROPERTIES, "OptionName": "BAD KEY", "Value": "x"},
        ],
    )
    assert [(m["Namespace"], m["OptionName"], m["Severity"]) for m in answer["Messages"]] == [
        ("aws:autoscaling:asg", "Colour", "error"),
        (PROPERTIES, "BAD KEY", "error"),
    ]
    assert "Unknown configuration setting" in answer["Messages"][0]["Message"]


def test_validation_needs_an_environment_or_a_saved_configuration_that_exists(eb: Any) -> None:
    settings: list[dict[str, str]] = []
    code, _ = error(
        eb.validate_configuration_settings,
        ApplicationName=APP,
        EnvironmentName="staging",
        TemplateName="t",
        OptionSettings=settings,
    )
    assert code == "InvalidParameterCombination"
    code, message = error(
        eb.validate_configuration_settings,
        ApplicationName=APP,
        TemplateName="missing",
        OptionSettings=settings,
    )
    assert (code, message) == (
        "InvalidParameterValue",
        f"No Configuration Template named '{APP}/missing' found.",
    )


def test_solution_stacks_are_the_seeded_platforms(eb: Any) -> None:
    answer = eb.list_available_solution_stacks()
    assert sorted(answer["SolutionStacks"]) == sorted(p.solution_stack for p in world.PLATFORMS)
    assert {d["SolutionStackName"] for d in answer["SolutionStackDetails"]} == set(
        answer["SolutionStacks"]
    )


def properties(eb: Any) -> dict[str, str]:
    """The environment properties of the deployed set (a draft is only on its way)."""
    (settings,) = [
        found
        for found in eb.describe_configuration_settings(
            ApplicationName=APP, EnvironmentName="staging"
        )["ConfigurationSettings"]
        if found["DeploymentStatus"] == "deployed"
    ]
    return {
        item["OptionName"]: item["Value"]
        for item in settings["OptionSettings"]
        if item["Namespace"] == PROPERTIES
    }


def test_environment_properties_are_set_listed_and_removed(eb: Any, clock: FakeClock) -> None:
    eb.update_environment(
        EnvironmentName="staging",
        OptionSettings=[
            {"Namespace": PROPERTIES, "OptionName": "LOG_LEVEL", "Value": "debug"},
            {"Namespace": PROPERTIES, "OptionName": "GREETING", "Value": "hello world"},
        ],
    )
    clock.advance(5)  # the update of options alone settles
    assert properties(eb) == {"LOG_LEVEL": "debug", "GREETING": "hello world"}
    eb.update_environment(
        EnvironmentName="staging",
        OptionsToRemove=[{"Namespace": PROPERTIES, "OptionName": "GREETING"}],
    )
    clock.advance(5)
    assert properties(eb) == {"LOG_LEVEL": "debug"}


@pytest.mark.parametrize(
    ("name", "value"), [("BAD KEY", "x"), ("K" * 129, "x"), ("OK", "v" * 257), ("OK", "a;b")]
)
def test_environment_properties_outside_ebs_limits_are_refused(
    eb: Any, name: str, value: str
) -> None:
    code, message = error(
        eb.update_environment,
        EnvironmentName="staging",
        OptionSettings=[{"Namespace": PROPERTIES, "OptionName": name, "Value": value}],
    )
    assert code == "InvalidParameterValue"
    assert "Environment property" in message
    assert properties(eb) == {}


def test_a_saved_configuration_has_its_file_in_the_storage_location(eb: Any) -> None:
    env_id = eb.describe_environments(EnvironmentNames=["staging"])["Environments"][0][
        "EnvironmentId"
    ]
    eb.create_configuration_template(
        ApplicationName=APP, TemplateName="snap", EnvironmentId=env_id, Description="saved"
    )
    s3 = boto3.client("s3", region_name=REGION)
    key = f"resources/templates/{APP}/snap"
    saved = yaml.safe_load(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    assert saved["Platform"] == {"PlatformArn": world.ENVIRONMENT_PLATFORM.arn(REGION)}
    assert saved["EnvironmentConfigurationMetadata"]["Description"] == "saved"
    assert saved["OptionSettings"]["aws:autoscaling:launchconfiguration"] == {
        "ImageId": world.ENVIRONMENT_PLATFORM.image_id(REGION)
    }
    assert saved["AWSConfigurationTemplateVersion"] == "1.1.0.0"
    eb.update_configuration_template(
        ApplicationName=APP,
        TemplateName="snap",
        OptionSettings=[
            {"Namespace": "aws:autoscaling:asg", "OptionName": "MaxSize", "Value": "2"}
        ],
    )
    saved = yaml.safe_load(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())
    assert saved["OptionSettings"]["aws:autoscaling:asg"] == {"MaxSize": "2"}
    eb.delete_configuration_template(ApplicationName=APP, TemplateName="snap")
    with pytest.raises(ClientError):
        s3.get_object(Bucket=BUCKET, Key=key)
