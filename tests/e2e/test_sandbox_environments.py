"""Environment updates in the sandbox: the source article's failure and its fix, end to end."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from ebami.sandbox import world
from tests.sandbox_helpers import Sandbox, wait_for
from tests.support.amis import ARTICLE_USER_DATA, bake
from tests.support.environments import COMPLETED, IMAGE_ID, STOCK, follow, update

# An image whose ecs-init allows fluentd, as the application needs.
AL2 = next(p for p in world.PLATFORMS if p.name == world.ECS_AL2).image_id("us-east-1")


def configured_image(sandbox: Sandbox) -> str:
    settings = sandbox.client("elasticbeanstalk").describe_configuration_settings(
        ApplicationName=world.APPLICATION, EnvironmentName="prod"
    )["ConfigurationSettings"][0]["OptionSettings"]
    return str(next(o["Value"] for o in settings if o["OptionName"] == "ImageId"))


def instances_of(sandbox: Sandbox) -> list[dict[str, Any]]:
    eb = sandbox.client("elasticbeanstalk")
    ids = [
        i["Id"]
        for i in eb.describe_environment_resources(EnvironmentName="prod")["EnvironmentResources"][
            "Instances"
        ]
    ]
    reservations = sandbox.client("ec2").describe_instances(InstanceIds=ids)["Reservations"]
    return [i for r in reservations for i in r["Instances"]]


def test_custom_ami_turns_prod_green_and_eb_refuses_the_stock_ami_back(make_sandbox: Any) -> None:
    sandbox: Sandbox = make_sandbox()
    old = {i["InstanceId"] for i in instances_of(sandbox)}
    custom = bake(sandbox, ARTICLE_USER_DATA)

    request_id = update(sandbox, OptionSettings=[{**IMAGE_ID, "Value": custom}])
    env, messages, events = follow(sandbox, request_id)
    # Info for a moment after the update ("Configuration update completed ..."), then Ok.
    assert (env["Health"], env["HealthStatus"]) in {("Green", "Info"), ("Green", "Ok")}
    eb = sandbox.client("elasticbeanstalk")
    assert wait_for(
        lambda: (
            eb.describe_environments(EnvironmentNames=["prod"])["Environments"][0]["HealthStatus"]
            == "Ok"
        )
    )
    # DescribeEvents(RequestId=<UpdateEnvironment's>) has the whole update, and only it.
    assert messages[0] == "Environment update is starting."
    assert messages[-1] == COMPLETED
    assert {event["RequestId"] for event in events} == {request_id}
    assert "Successfully deployed new configuration to environment." in messages
    new = instances_of(sandbox)
    assert {i["ImageId"] for i in new} == {custom}
    assert {i["InstanceId"] for i in new}.isdisjoint(old)
    for instance_id in old:
        assert f"Removed instance [{instance_id}] from your environment." in messages
    terminated = sandbox.client("ec2").describe_instances(InstanceIds=sorted(old))["Reservations"]
    assert {i["State"]["Name"] for r in terminated for i in r["Instances"]} == {"terminated"}
    # EB's bootstrap appended the cluster after the baked drivers line.
    config = (sandbox.instance_root(new[0]["InstanceId"]) / "etc/ecs/ecs.config").read_text()
    assert config.splitlines()[0].startswith("ECS_AVAILABLE_LOGGING_DRIVERS=")
    assert config.splitlines()[1].startswith("ECS_CLUSTER=awseb-prod-")

    # Back to the stock AMI: its first new instance fails on fluentd, and prod's health-based
    # policy makes EB roll the update back to the custom AMI.
    request_id = update(sandbox, OptionsToRemove=[IMAGE_ID])
    env, messages, _ = follow(sandbox, request_id)
    assert any('"reason": "ATTRIBUTE"' in message for message in messages)
    assert "Failed to deploy configuration." in messages
    assert "The environment was reverted to the previous configuration setting." in messages
    assert messages[-1] == (
        "Update environment operation is complete, but with errors. "
        "For more information, see troubleshooting documentation."
    )
    assert (env["Health"], env["HealthStatus"]) == ("Green", "Ok")
    assert {i["ImageId"] for i in instances_of(sandbox)} == {custom}
    assert configured_image(sandbox) == custom


def test_an_ami_without_fluentd_stays_red(make_sandbox: Any) -> None:
    sandbox: Sandbox = make_sandbox()
    without = ARTICLE_USER_DATA.replace('"fluentd",', "")
    request_id = update(sandbox, OptionSettings=[{**IMAGE_ID, "Value": bake(sandbox, without)}])
    env, messages, _ = follow(sandbox, request_id)
    assert env["Health"] == "Red"
    assert any("ATTRIBUTE" in message for message in messages)


def test_update_refusals(make_sandbox: Any) -> None:
    sandbox: Sandbox = make_sandbox()
    eb = sandbox.client("elasticbeanstalk")
    with pytest.raises(
        ClientError,
        match=r"Namespace: 'aws:autoscaling:launchconfiguration', OptionName: 'ImageID'",
    ):
        eb.update_environment(
            EnvironmentName="prod",
            OptionSettings=[
                {
                    "Namespace": "aws:autoscaling:launchconfiguration",
                    "OptionName": "ImageID",
                    "Value": "x",
                }
            ],
        )
    update(sandbox, OptionSettings=[{**IMAGE_ID, "Value": bake(sandbox, ARTICLE_USER_DATA)}])
    with pytest.raises(
        ClientError, match=r"is in an invalid state for this operation\. Must be Ready\."
    ):
        eb.update_environment(EnvironmentName="prod", OptionsToRemove=[IMAGE_ID])


def test_a_missing_ami_fails_the_update_and_rolls_back(make_sandbox: Any) -> None:
    sandbox: Sandbox = make_sandbox()
    before = {i["InstanceId"] for i in instances_of(sandbox)}
    request_id = update(sandbox, OptionSettings=[{**IMAGE_ID, "Value": "ami-0123456789abcdef0"}])
    env, messages, _ = follow(sandbox, request_id)
    assert any("The image id '[ami-0123456789abcdef0]' does not exist" in m for m in messages)
    assert "Failed to deploy configuration." in messages
    assert {i["InstanceId"] for i in instances_of(sandbox)} == before
    assert configured_image(sandbox) == STOCK
    assert env["Status"] == "Ready"


def test_a_client_reading_only_events_sees_the_update_complete(make_sandbox: Any) -> None:
    sandbox: Sandbox = make_sandbox()
    eb = sandbox.client("elasticbeanstalk")
    request_id = update(sandbox, OptionSettings=[{**IMAGE_ID, "Value": AL2}])

    def completed() -> list[str] | None:
        newest_first = [e["Message"] for e in eb.describe_events(RequestId=request_id)["Events"]]
        return newest_first if newest_first and newest_first[0] == COMPLETED else None

    messages = list(reversed(wait_for(completed)))
    assert messages[0] == "Environment update is starting."
    assert "Successfully deployed new configuration to environment." in messages


def test_events_filter_and_page(make_sandbox: Any) -> None:
    sandbox: Sandbox = make_sandbox()
    eb = sandbox.client("elasticbeanstalk")
    everything = eb.describe_events()["Events"]
    staging = eb.describe_events(EnvironmentName="staging")["Events"]
    errors = eb.describe_events(Severity="ERROR")["Events"]
    assert {e["EnvironmentName"] for e in staging} == {"staging"}
    assert {e["Severity"] for e in errors} <= {"ERROR", "FATAL"}
    assert len(staging) < len(everything)
    first = eb.describe_events(MaxRecords=2)
    second = eb.describe_events(MaxRecords=2, NextToken=first["NextToken"])
    assert [e["Message"] for e in first["Events"] + second["Events"]] == [
        e["Message"] for e in everything[:4]
    ]
