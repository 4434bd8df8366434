"""CreateEnvironment in the sandbox: an environment of any seeded platform, on its own AMI or a
custom one (ImageId), from a platform or a saved configuration, known to every other action;
EB's refusals of what it would refuse, and the sandbox's of what it does not model."""

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
AL2023 = world.PLATFORMS[-1]
LAUNCH = "aws:autoscaling:launchconfiguration"


@pytest.fixture
def clients(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    with sandbox_in_process(tmp_path, monkeypatch, clock=FakeClock(), region=REGION):
        yield (
            boto3.client("elasticbeanstalk", region_name=REGION),
            boto3.client("ec2", region_name=REGION),
        )


def error(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as failed:
        call(**kwargs)
    found = failed.value.response["Error"]
    return str(found["Code"]), str(found["Message"])


def image_option(eb: Any, name: str) -> str:
    settings = eb.describe_configuration_settings(ApplicationName=APP, EnvironmentName=name)
    (value,) = [
        option["Value"]
        for option in settings["ConfigurationSettings"][0]["OptionSettings"]
        if (option["Namespace"], option["OptionName"]) == (LAUNCH, "ImageId")
    ]
    return str(value)


def instance_images(eb: Any, ec2: Any, name: str) -> list[str]:
    resources = eb.describe_environment_resources(EnvironmentName=name)
    ids = [item["Id"] for item in resources["EnvironmentResources"]["Instances"]]
    found = ec2.describe_instances(InstanceIds=ids)["Reservations"]
    return [instance["ImageId"] for item in found for instance in item["Instances"]]


def test_an_environment_on_a_custom_ami_of_another_platform(clients: tuple[Any, Any]) -> None:
    eb, ec2 = clients
    stock = AL2023.image_id(REGION)
    custom = ec2.copy_image(SourceImageId=stock, SourceRegion=REGION, Name="custom")["ImageId"]
    created = eb.create_environment(
        ApplicationName=APP,
        EnvironmentName="modern",
        PlatformArn=AL2023.arn(REGION),
        VersionLabel=world.APPLICATION_VERSION,
        OptionSettings=[{"Namespace": LAUNCH, "OptionName": "ImageId", "Value": custom}],
        Tags=[{"Key": "team", "Value": "web"}],
    )
    assert (created["EnvironmentName"], created["PlatformArn"]) == ("modern", AL2023.arn(REGION))
    assert created["Status"] == "Ready"  # AWS answers Launching: the README says so
    described = eb.describe_environments(EnvironmentNames=["modern"])["Environments"]
    assert [item["EnvironmentId"] for item in described] == [created["EnvironmentId"]]
    assert image_option(eb, "modern") == custom
    assert instance_images(eb, ec2, "modern") == [custom]
    tags = eb.list_tags_for_resource(ResourceArn=created["EnvironmentArn"])["ResourceTags"]
    assert {"Key": "team", "Value": "web"} in tags
    messages = [
        event["Message"] for event in eb.describe_events(EnvironmentName="modern")["Events"]
    ]
    assert "createEnvironment completed successfully." in messages
    # Like any environment: its update starts (and is followed by the sandbox's clock).
    updating = eb.update_environment(
        EnvironmentName="modern", OptionsToRemove=[{"Namespace": LAUNCH, "OptionName": "ImageId"}]
    )
    assert updating["Status"] == "Updating"


def test_from_a_saved_configuration_its_platform_and_ami(clients: tuple[Any, Any]) -> None:
    eb, ec2 = clients
    eb.create_configuration_template(
        ApplicationName=APP, TemplateName="al2023", PlatformArn=AL2023.arn(REGION)
    )
    created = eb.create_environment(
        ApplicationName=APP, EnvironmentName="from-saved", TemplateName="al2023"
    )
    assert created["PlatformArn"] == AL2023.arn(REGION)
    assert instance_images(eb, ec2, "from-saved") == [AL2023.image_id(REGION)]
    # A saved configuration's settings on another platform (PlatformArn may come with it).
    al2 = world.PLATFORMS[5]
    other = eb.create_environment(
        ApplicationName=APP, EnvironmentName="saved-on-al2", TemplateName="al2023",
        PlatformArn=al2.arn(REGION),
    )  # fmt: skip
    assert other["PlatformArn"] == al2.arn(REGION)
    assert instance_images(eb, ec2, "saved-on-al2") == [al2.image_id(REGION)]


def test_a_launch_that_fails_leaves_nothing_behind(
    clients: tuple[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from ebami.sandbox import environments

    eb, _ = clients
    before = eb.describe_environments()["Environments"]

    def broken(*args: Any, **kwargs: Any) -> list[str]:
        raise RuntimeError("the launch failed")

    with monkeypatch.context() as patched:
        patched.setattr(environments, "launch_instances", broken)
        # In process, the server's exception reaches the caller; over HTTP it is a 500.
        with pytest.raises((ClientError, RuntimeError)):
            eb.create_environment(
                ApplicationName=APP, EnvironmentName="halfmade", PlatformArn=AL2023.arn(REGION)
            )
    assert eb.describe_environments()["Environments"] == before
    assert eb.describe_events(EnvironmentName="halfmade")["Events"] == []
    # The name is free again: the same request now succeeds.
    made = eb.create_environment(
        ApplicationName=APP, EnvironmentName="halfmade", PlatformArn=AL2023.arn(REGION)
    )
    assert made["Status"] == "Ready"


@pytest.mark.parametrize(
    ("kwargs", "refusal"),
    [
        ({"EnvironmentName": "staging", "SolutionStackName": world.PLATFORMS[1].solution_stack},
         ("InvalidParameterValue", "Environment staging already exists.")),
        ({"EnvironmentName": "-web-", "PlatformArn": AL2023.arn(REGION)},
         ("InvalidParameterValue", "Value '-web-' at 'environmentName' failed to satisfy "
          "constraint: 4 to 40 letters, digits and hyphens, not starting or ending with a "
          "hyphen")),
        ({"EnvironmentName": "a" * 41, "PlatformArn": AL2023.arn(REGION)},
         ("InvalidParameterValue", f"Value '{'a' * 41}' at 'environmentName' failed to satisfy "
          "constraint: 4 to 40 letters, digits and hyphens, not starting or ending with a "
          "hyphen")),
        ({"PlatformArn": AL2023.arn(REGION)},
         ("InvalidParameterValue", "the ebami sandbox needs an EnvironmentName")),
        ({"EnvironmentName": "both", "PlatformArn": AL2023.arn(REGION),
          "SolutionStackName": world.PLATFORMS[1].solution_stack},
         ("InvalidParameterCombination",
          "SolutionStackName goes without TemplateName and PlatformArn")),
        ({"EnvironmentName": "nothing"},
         ("InvalidParameterValue",
          "give TemplateName, SolutionStackName or PlatformArn: the environment's platform")),
        ({"EnvironmentName": "unknown", "PlatformArn": "arn:aws:elasticbeanstalk:us-east-1::"
          "platform/Nope/1.0.0"},
         ("InvalidParameterValue", "No Platform found for PlatformArn = "
          "'arn:aws:elasticbeanstalk:us-east-1::platform/Nope/1.0.0'.")),
        ({"EnvironmentName": "noversion", "PlatformArn": AL2023.arn(REGION),
          "VersionLabel": "v0"},
         ("InvalidParameterValue", "No Application Version named 'v0' found.")),
        ({"EnvironmentName": "noimage", "PlatformArn": AL2023.arn(REGION),
          "OptionSettings": [{"Namespace": LAUNCH, "OptionName": "ImageId",
                              "Value": "ami-0123456789abcdef0"}]},
         ("InvalidParameterValue", "the ebami sandbox refuses ImageId ami-0123456789abcdef0: "
          "no such AMI in us-east-1")),
        ({"EnvironmentName": "noprofile", "PlatformArn": AL2023.arn(REGION),
          "OptionSettings": [{"Namespace": LAUNCH, "OptionName": "IamInstanceProfile",
                              "Value": "nope"}]},
         ("InvalidParameterValue",
          "the ebami sandbox refuses IamInstanceProfile nope: no such instance profile")),
        ({"EnvironmentName": "grouped", "PlatformArn": AL2023.arn(REGION), "GroupName": "g"},
         ("InvalidParameterValue", "the ebami sandbox does not model GroupName")),
        ({"EnvironmentName": "roled", "PlatformArn": AL2023.arn(REGION),
          "OperationsRole": "arn:aws:iam::123456789012:role/ops"},
         ("InvalidParameterValue", "the ebami sandbox does not model OperationsRole")),
        ({"EnvironmentName": "worker", "PlatformArn": AL2023.arn(REGION),
          "Tier": {"Name": "Worker", "Type": "SQS/HTTP"}},
         ("InvalidParameterValue",
          "the ebami sandbox models web server environments only (Tier WebServer)")),
    ],
    ids=["taken", "hyphen-first", "41-letters", "no-name", "stack-and-arn", "no-platform",
         "unknown-platform", "unknown-version", "unknown-image", "unknown-profile", "group",
         "operations-role", "worker"],
)  # fmt: skip
def test_refusals_leave_no_environment(
    clients: tuple[Any, Any], kwargs: dict[str, Any], refusal: tuple[str, str]
) -> None:
    eb, _ = clients
    before = eb.describe_environments()["Environments"]
    assert error(eb.create_environment, ApplicationName=APP, **kwargs) == refusal
    assert eb.describe_environments()["Environments"] == before
