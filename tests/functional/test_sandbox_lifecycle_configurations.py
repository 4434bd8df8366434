"""Saved configurations (configuration templates) in the sandbox: made from an environment they
keep its AMI as an explicit ImageId; DescribeApplications lists them; updated and deleted as on
Elastic Beanstalk. The sandbox seeds none."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from ebami.sandbox import world
from tests.fakes.clock import FakeClock
from tests.sandbox_helpers import sandbox_in_process

REGION = "us-east-1"
APP = world.APPLICATION
LAUNCH = "aws:autoscaling:launchconfiguration"
STOCK = world.ENVIRONMENT_PLATFORM.image_id(REGION)
AL2 = next(p for p in world.PLATFORMS if p.name == world.ECS_AL2 and p.version == "3.5.0")


@pytest.fixture
def eb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    with sandbox_in_process(tmp_path, monkeypatch, clock=FakeClock(), region=REGION):
        yield boto3.client("elasticbeanstalk", region_name=REGION)


def image_id(settings: dict[str, Any]) -> str:
    (value,) = [
        item["Value"]
        for item in settings["OptionSettings"]
        if (item["Namespace"], item["OptionName"]) == (LAUNCH, "ImageId")
    ]
    return str(value)


def templates(eb: Any) -> list[str]:
    (application,) = eb.describe_applications(ApplicationNames=[APP])["Applications"]
    return list(application["ConfigurationTemplates"])


def env_id(eb: Any, name: str) -> str:
    return str(
        eb.describe_environments(EnvironmentNames=[name])["Environments"][0]["EnvironmentId"]
    )


def error(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as failed:
        call(**kwargs)
    found = failed.value.response["Error"]
    return str(found["Code"]), str(found["Message"])


def test_none_are_seeded_and_applications_list_their_versions(eb: Any) -> None:
    (application,) = eb.describe_applications()["Applications"]
    assert application["ApplicationName"] == APP
    assert application["ConfigurationTemplates"] == []
    assert application["Versions"] == [world.APPLICATION_VERSION]
    assert eb.describe_applications(ApplicationNames=["other"])["Applications"] == []


def test_a_configuration_saved_from_an_environment_names_its_ami(eb: Any) -> None:
    made = eb.create_configuration_template(
        ApplicationName=APP,
        TemplateName="staging-before",
        EnvironmentId=env_id(eb, "staging"),
        Description="before the rollout",
    )
    assert (made["TemplateName"], made["Description"]) == ("staging-before", "before the rollout")
    assert made["PlatformArn"] == world.ENVIRONMENT_PLATFORM.arn(REGION)
    assert image_id(made) == STOCK
    assert templates(eb) == ["staging-before"]
    (described,) = eb.describe_configuration_settings(
        ApplicationName=APP, TemplateName="staging-before"
    )["ConfigurationSettings"]
    assert "EnvironmentName" not in described
    assert "DeploymentStatus" not in described
    assert image_id(described) == STOCK
    rolling = {
        (item["Namespace"], item["OptionName"]): item["Value"]
        for item in described["OptionSettings"]
    }
    assert rolling[("aws:autoscaling:updatepolicy:rollingupdate", "RollingUpdateEnabled")] == (
        "false"
    )


def test_update_copy_and_delete(eb: Any) -> None:
    eb.create_configuration_template(
        ApplicationName=APP,
        TemplateName="base",
        SolutionStackName=world.ENVIRONMENT_PLATFORM.solution_stack,
    )
    # A platform without ImageId: the platform's own AMI is in effect.
    assert (
        image_id(
            eb.describe_configuration_settings(ApplicationName=APP, TemplateName="base")[
                "ConfigurationSettings"
            ][0]
        )
        == STOCK
    )
    ami = AL2.image_id(REGION)
    updated = eb.update_configuration_template(
        ApplicationName=APP,
        TemplateName="base",
        OptionSettings=[{"Namespace": LAUNCH, "OptionName": "ImageId", "Value": ami}],
    )
    assert image_id(updated) == ami
    copy = eb.create_configuration_template(
        ApplicationName=APP,
        TemplateName="copy",
        SourceConfiguration={"ApplicationName": APP, "TemplateName": "base"},
    )
    assert image_id(copy) == ami
    assert templates(eb) == ["base", "copy"]
    eb.update_configuration_template(
        ApplicationName=APP,
        TemplateName="base",
        OptionsToRemove=[{"Namespace": LAUNCH, "OptionName": "ImageId"}],
    )
    assert (
        image_id(
            eb.describe_configuration_settings(ApplicationName=APP, TemplateName="base")[
                "ConfigurationSettings"
            ][0]
        )
        == STOCK
    )
    eb.delete_configuration_template(ApplicationName=APP, TemplateName="base")
    assert templates(eb) == ["copy"]


def test_refusals(eb: Any) -> None:
    missing = "No Configuration Template named 'webapp/nope' found."
    assert error(eb.describe_configuration_settings, ApplicationName=APP, TemplateName="nope") == (
        "InvalidParameterValue",
        missing,
    )
    assert error(eb.delete_configuration_template, ApplicationName=APP, TemplateName="nope") == (
        "InvalidParameterValue",
        missing,
    )
    assert error(
        eb.create_configuration_template,
        ApplicationName="other",
        TemplateName="t",
        SolutionStackName=world.ENVIRONMENT_PLATFORM.solution_stack,
    ) == ("InvalidParameterValue", "No Application named 'other' found.")
    eb.create_configuration_template(
        ApplicationName=APP, TemplateName="t", EnvironmentId=env_id(eb, "prod")
    )
    code, _message = error(
        eb.create_configuration_template,
        ApplicationName=APP,
        TemplateName="t",
        EnvironmentId=env_id(eb, "prod"),
    )
    assert code == "InvalidParameterValue"
    code, message = error(
        eb.update_configuration_template,
        ApplicationName=APP,
        TemplateName="t",
        OptionSettings=[{"Namespace": "aws:nope", "OptionName": "X", "Value": "1"}],
    )
    assert (code, message.endswith("Unknown configuration setting.")) == (
        "InvalidParameterValue",
        True,
    )
    code, _message = error(
        eb.describe_configuration_settings,
        ApplicationName=APP,
        TemplateName="t",
        EnvironmentName="prod",
    )
    assert code == "InvalidParameterCombination"
