"""Update policies, EB's own rollback, AbortEnvironmentUpdate and the stall fault, step by step.

The sandbox runs in this process with a fake clock, so each step's events are exact. Instance
ids and Auto Scaling group names are dynamic: `story` writes them as `old1`, `new1`, ... (in the
order they first appear) and `<asg>`/`<temporary asg>`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from ebami.sandbox import world
from ebami.sandbox.environments import UPDATE_STEP_SECONDS
from ebami.sandbox.faults import Faults
from ebami.sandbox.realism import Realism
from tests.fakes.clock import FakeClock
from tests.sandbox_helpers import sandbox_in_process

REGION = "us-east-1"
STOCK = world.ENVIRONMENT_PLATFORM.image_id(REGION)
# ecs-init 1.89 allows fluentd: the application's task starts, health is Green.
GOOD = next(
    p for p in world.PLATFORMS if p.name == world.ECS_AL2 and p.version == "3.5.0"
).image_id(REGION)
# Another Amazon Linux 2017.09 base AMI: its ecs-init lacks fluentd, the task fails (ATTRIBUTE).
BAD = world.PLATFORMS[0].image_id(REGION)
ROLLING = "aws:autoscaling:updatepolicy:rollingupdate"
IMAGE_ID = {"Namespace": "aws:autoscaling:launchconfiguration", "OptionName": "ImageId"}
STARTING = "Environment update is starting."
DEPLOYED = "Successfully deployed new configuration to environment."
COMPLETED = "Environment update completed successfully."
FAILED = "Failed to deploy configuration."
REVERTED = "The environment was reverted to the previous configuration setting."
WITH_ERRORS = (
    "Update environment operation is complete, but with errors. "
    "For more information, see troubleshooting documentation."
)
ABORTED = "Aborting the environment update: rolling back to the previous configuration."
ROLLING_2 = (
    "Rolling update initiated. Terminating 2 obsolete instance(s) in batches of 1, while keeping "
    "at least 1 instance(s) in service."
)
ROLLING_1 = ROLLING_2.replace("Terminating 2", "Terminating 1")
ATTRIBUTE = (
    'Encountered error starting new ECS task: { "failures": [ { "reason": "ATTRIBUTE", "arn": '
    '"arn:aws:ecs:us-east-1:123456789012:container-instance/{id}" } ], "tasks": [] }'
)
RETRIED = "Failed to start ECS task after retrying 2 times."


# These tests read each update's whole story as it happens: no event is filed late (late events
# have tests of their own, tests/functional/test_sandbox_eb_realism.py).
ON_TIME = Realism(late_events=0)


@pytest.fixture
def eb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> Iterator[Any]:
    faults = Faults(realism=ON_TIME)
    with sandbox_in_process(tmp_path, monkeypatch, clock=clock, region=REGION, faults=faults):
        yield boto3.client("elasticbeanstalk", region_name=REGION)


@pytest.fixture
def stalling(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> Iterator[Any]:
    faults = Faults(update_stalls=True, realism=ON_TIME)
    with sandbox_in_process(tmp_path, monkeypatch, clock=clock, region=REGION, faults=faults):
        yield boto3.client("elasticbeanstalk", region_name=REGION)


def update(eb: Any, env: str = "prod", **options: str) -> str:
    """UpdateEnvironment with rolling-update options (and ImageId=...); its RequestId."""
    settings = [
        {**IMAGE_ID, "Value": value}
        if name == "ImageId"
        else {"Namespace": ROLLING, "OptionName": name, "Value": value}
        for name, value in options.items()
    ]
    answer = eb.update_environment(EnvironmentName=env, OptionSettings=settings)
    return str(answer["ResponseMetadata"]["RequestId"])


def settle_options(eb: Any, clock: FakeClock, env: str = "prod", **options: str) -> None:
    """An options-only update, taken to its end (one step)."""
    request_id = update(eb, env, **options)
    clock.advance(UPDATE_STEP_SECONDS)
    assert messages(eb, request_id) == [STARTING, DEPLOYED, COMPLETED]


def messages(eb: Any, request_id: str) -> list[str]:
    """The request's event messages, oldest first."""
    return [e["Message"] for e in reversed(eb.describe_events(RequestId=request_id)["Events"])]


def instances(eb: Any, env: str = "prod") -> list[str]:
    resources = eb.describe_environment_resources(EnvironmentName=env)["EnvironmentResources"]
    return [instance["Id"] for instance in resources["Instances"]]


def story(lines: list[str], old: list[str]) -> list[str]:
    """`lines` with instance ids named old1.. (the given ones) and new1.. (the others, in the
    order they appear), and Auto Scaling group names replaced by placeholders."""
    names = {iid: f"old{n}" for n, iid in enumerate(old, 1)}

    def name(match: re.Match[str]) -> str:
        if match.group(0) not in names:
            names[match.group(0)] = f"new{len(names) - len(old) + 1}"
        return names[match.group(0)]

    named = [re.sub(r"i-[0-9a-f]{17}", name, line) for line in lines]
    named = [
        re.sub(r"awseb-e-\w+-immutable-stack-AWSEBAutoScalingGroup-\w+", "<temporary asg>", line)
        for line in named
    ]
    return [re.sub(r"awseb-e-\w+-stack-AWSEBAutoScalingGroup-\w+", "<asg>", line) for line in named]


def attribute(instance: str) -> str:
    return ATTRIBUTE.replace("{id}", instance)


def environment(eb: Any, env: str = "prod") -> dict[str, Any]:
    return dict(eb.describe_environments(EnvironmentNames=[env])["Environments"][0])


def configured(eb: Any, name: str, env: str = "prod") -> str:
    settings = eb.describe_configuration_settings(
        ApplicationName=world.APPLICATION, EnvironmentName=env
    )
    [value] = [
        o["Value"]
        for o in settings["ConfigurationSettings"][0]["OptionSettings"]
        if o["OptionName"] == name
    ]
    return str(value)


def image_of(instance_ids: list[str]) -> set[str]:
    ec2 = boto3.client("ec2", region_name=REGION)
    reservations = ec2.describe_instances(InstanceIds=instance_ids)["Reservations"]
    return {i["ImageId"] for r in reservations for i in r["Instances"]}


def run(clock: FakeClock, steps: int) -> None:
    for _ in range(steps):
        clock.advance(UPDATE_STEP_SECONDS)


# --- Health: batches gated on health, EB's own rollback --------------------------------------


def test_a_health_based_update_that_fails_rolls_back_by_itself(eb: Any, clock: FakeClock) -> None:
    old = instances(eb)
    request_id = update(eb, ImageId=BAD)
    run(clock, 1)
    # The first batch's new instance fails: one new Red instance beside one old one (Red too),
    # though enhanced health shows it Pending while it initializes.
    health = eb.describe_environment_health(EnvironmentName="prod", AttributeNames=["All"])
    assert (health["InstancesHealth"]["Pending"], health["InstancesHealth"]["Severe"]) == (1, 1)
    assert story(messages(eb, request_id), old) == [
        STARTING,
        ROLLING_2,
        "Terminating instance(s) [old1]; replacing with 1 new instance(s).",
        "Added instance [new1] to your environment.",
        "Removed instance [old1] from your environment.",
        "Successfully terminated instance(s) [old1] (Progress 50%).",
        attribute("new1"),
        RETRIED,
        FAILED,
    ]
    assert environment(eb)["Status"] == "Updating"
    assert environment(eb)["AbortableOperationInProgress"] is False  # EB is rolling back
    run(clock, 2)
    assert story(messages(eb, request_id), old)[9:] == [
        ROLLING_1,
        "Terminating instance(s) [new1]; replacing with 1 new instance(s).",
        "Added instance [new2] to your environment.",
        "Removed instance [new1] from your environment.",
        REVERTED,
        attribute("new2"),
        RETRIED,
        WITH_ERRORS,
    ]
    assert environment(eb)["Status"] == "Ready"
    assert image_of(instances(eb)) == {STOCK}
    assert len(instances(eb)) == world.ENVIRONMENTS["prod"]
    assert configured(eb, "ImageId") == STOCK  # the option removed again: the stock AMI


def test_a_health_based_update_of_a_good_ami_replaces_one_instance_per_batch(
    eb: Any, clock: FakeClock
) -> None:
    old = instances(eb)
    request_id = update(eb, ImageId=GOOD)
    run(clock, 1)
    health = eb.describe_environment_health(EnvironmentName="prod", AttributeNames=["All"])
    # The new instance initializes (Pending); the old one is Red.
    assert (health["InstancesHealth"]["Pending"], health["InstancesHealth"]["Severe"]) == (1, 1)
    assert health["Causes"] == [
        "ECS task placement failed on 1 out of 2 instances: they do not allow the log driver(s) "
        "fluentd (ATTRIBUTE)."
    ]
    run(clock, 2)
    assert story(messages(eb, request_id), old) == [
        STARTING,
        ROLLING_2,
        "Terminating instance(s) [old1]; replacing with 1 new instance(s).",
        "Added instance [new1] to your environment.",
        "Removed instance [old1] from your environment.",
        "Successfully terminated instance(s) [old1] (Progress 50%).",
        "Terminating instance(s) [old2]; replacing with 1 new instance(s).",
        "Added instance [new2] to your environment.",
        "Removed instance [old2] from your environment.",
        "Successfully terminated instance(s) [old2] (Progress 100%).",
        DEPLOYED,
        COMPLETED,
    ]
    env = environment(eb)
    assert (env["Status"], env["Health"]) == ("Ready", "Green")
    assert image_of(instances(eb)) == {GOOD}


# --- Time: no gating, Red after a "successful" update ----------------------------------------


def test_a_time_based_update_completes_and_health_turns_red_afterwards(
    eb: Any, clock: FakeClock
) -> None:
    settle_options(eb, clock, RollingUpdateType="Time")
    update(eb, ImageId=GOOD)
    run(clock, 3)
    assert environment(eb)["Health"] == "Green"
    old = instances(eb)
    request_id = update(eb, ImageId=BAD)
    run(clock, 3)
    assert story(messages(eb, request_id), old)[-4:] == [
        "Removed instance [old2] from your environment.",
        "Successfully terminated instance(s) [old2] (Progress 100%).",
        DEPLOYED,
        COMPLETED,
    ]
    env = environment(eb)
    assert (env["Status"], env["Health"]) == ("Ready", "Red")
    # Health settled after the update: its events carry no RequestId.
    events = eb.describe_events(EnvironmentName="prod", MaxRecords=3)["Events"]
    # Info while the update ran (enhanced health's word for an operation in progress).
    assert events[0]["Message"].startswith(
        "Environment health has transitioned from Info to Severe."
    )
    assert all("RequestId" not in event for event in events)
    assert configured(eb, "ImageId") == BAD


# --- Immutable -------------------------------------------------------------------------------


def test_an_immutable_update_moves_healthy_instances_into_the_environment(
    eb: Any, clock: FakeClock
) -> None:
    settle_options(eb, clock, RollingUpdateType="Immutable")
    old = instances(eb)
    request_id = update(eb, ImageId=GOOD)
    run(clock, 1)
    groups = eb.describe_environment_resources(EnvironmentName="prod")["EnvironmentResources"][
        "AutoScalingGroups"
    ]
    assert len(groups) == 2  # the permanent group and the temporary one
    run(clock, 2)
    assert story(messages(eb, request_id), old) == [
        STARTING,
        "Immutable deployment policy enabled. Launching one instance with the new settings to "
        "verify health.",
        "Created temporary auto scaling group <temporary asg>.",
        "Added instance [new1] to your environment.",
        "Test instance passed health checks. Launching remaining new instances.",
        "Added instances [new2] to your environment.",
        "Successfully launched all instances.",
        "Detached new instance(s) from temporary auto scaling group <temporary asg>.",
        "Attached new instance(s) to the permanent auto scaling group <asg>.",
        "Deployment succeeded. Terminating old instances and temporary Auto Scaling group.",
        "Removed instance [old1] from your environment.",
        "Removed instance [old2] from your environment.",
        DEPLOYED,
        COMPLETED,
    ]
    assert (environment(eb)["Status"], environment(eb)["Health"]) == ("Ready", "Green")
    assert image_of(instances(eb)) == {GOOD}


def test_a_failing_immutable_update_drops_its_temporary_group(eb: Any, clock: FakeClock) -> None:
    settle_options(eb, clock, RollingUpdateType="Immutable")
    old = instances(eb)
    request_id = update(eb, ImageId=BAD)
    run(clock, 4)
    assert story(messages(eb, request_id), old) == [
        STARTING,
        "Immutable deployment policy enabled. Launching one instance with the new settings to "
        "verify health.",
        "Created temporary auto scaling group <temporary asg>.",
        "Added instance [new1] to your environment.",
        attribute("new1"),
        RETRIED,
        FAILED,
        "Removed instance [new1] from your environment.",
        REVERTED,
        WITH_ERRORS,
    ]
    assert instances(eb) == old  # the old instances untouched
    assert configured(eb, "ImageId") == STOCK


# --- AbortEnvironmentUpdate and the stall fault ----------------------------------------------


def test_abort_in_the_middle_restores_the_old_ami(eb: Any, clock: FakeClock) -> None:
    old = instances(eb)
    request_id = update(eb, ImageId=GOOD)
    run(clock, 1)
    assert environment(eb)["AbortableOperationInProgress"] is True
    eb.abort_environment_update(EnvironmentName="prod")
    assert environment(eb)["AbortableOperationInProgress"] is False
    run(clock, 2)  # the abort's rollback: one batch back, then the configuration
    assert story(messages(eb, request_id), old)[6:] == [
        ABORTED,
        ROLLING_1,
        "Terminating instance(s) [new1]; replacing with 1 new instance(s).",
        "Added instance [new2] to your environment.",
        "Removed instance [new1] from your environment.",
        REVERTED,
        attribute("new2"),
        RETRIED,
        WITH_ERRORS,
    ]
    assert environment(eb)["Status"] == "Ready"
    assert image_of(instances(eb)) == {STOCK}
    assert len(instances(eb)) == world.ENVIRONMENTS["prod"]
    assert configured(eb, "ImageId") == STOCK


def test_abort_is_refused_without_an_update_in_progress(eb: Any, clock: FakeClock) -> None:
    with pytest.raises(ClientError) as refused:
        eb.abort_environment_update(EnvironmentName="prod")
    error = refused.value.response["Error"]
    assert (error["Code"], error["Message"]) == (
        "InvalidParameterValue",
        "Environment named prod is in an invalid state for this operation. Must be pending "
        "deployment.",
    )
    update(eb, ImageId=BAD)
    run(clock, 1)  # EB's own rollback has begun: nothing left to abort
    env_id = environment(eb)["EnvironmentId"]
    with pytest.raises(ClientError, match="Must be pending deployment"):
        eb.abort_environment_update(EnvironmentId=env_id)


def test_a_stalled_update_waits_until_it_is_aborted(stalling: Any, clock: FakeClock) -> None:
    eb = stalling
    old = instances(eb)
    request_id = update(eb, ImageId=GOOD)
    run(clock, 20)
    assert messages(eb, request_id) == [STARTING]
    assert (environment(eb)["Status"], instances(eb)) == ("Updating", old)
    eb.abort_environment_update(EnvironmentName="prod")
    run(clock, 1)
    assert messages(eb, request_id) == [STARTING, ABORTED, REVERTED, WITH_ERRORS]
    assert (environment(eb)["Status"], instances(eb)) == ("Ready", old)
    assert configured(eb, "ImageId") == STOCK
    # Options alone still go through.
    settle_options(eb, clock, MaxBatchSize="2")


# --- policies: options, seeds, refusals ------------------------------------------------------


def test_seeded_policies(eb: Any) -> None:
    assert configured(eb, "RollingUpdateEnabled", "staging") == "false"
    assert [configured(eb, name) for name in ("RollingUpdateEnabled", "RollingUpdateType")] == [
        "true",
        "Health",
    ]
    assert [configured(eb, name) for name in ("MaxBatchSize", "MinInstancesInService")] == [
        "1",
        "1",
    ]


def test_staging_replaces_its_instance_all_at_once(eb: Any, clock: FakeClock) -> None:
    old = instances(eb, "staging")
    request_id = update(eb, "staging", ImageId=GOOD)
    run(clock, 3)
    assert story(messages(eb, request_id), old) == [
        STARTING,
        "Updating Auto Scaling group named: <asg>.",
        "Added instance [new1] to your environment.",
        "Removed instance [old1] from your environment.",
        DEPLOYED,
        COMPLETED,
    ]


# moto warns that EB's service model has no shape for ConfigurationValidationException; AWS
# answers it all the same (the code reaches botocore's ClientError).
@pytest.mark.filterwarnings("ignore:Exception\\(ConfigurationValidationException\\):UserWarning")
@pytest.mark.parametrize(
    ("options", "code", "message"),
    [
        (
            {"EnvironmentType": "SingleInstance"},
            "ConfigurationValidationException",
            "Configuration validation exception: Invalid option value: 'Health' (Namespace: "
            "'aws:autoscaling:updatepolicy:rollingupdate', OptionName: 'RollingUpdateType'): "
            "You can't enable rolling updates for a single-instance environment.",
        ),
        (
            {"SystemType": "basic", "RollingUpdateType": "Immutable"},
            "ConfigurationValidationException",
            "Configuration validation exception: Invalid option specification (Namespace: "
            "'aws:autoscaling:updatepolicy:rollingupdate', OptionName: 'RollingUpdateType'): "
            "Immutable updates require enhanced health reporting (option SystemType in namespace "
            "aws:elasticbeanstalk:healthreporting:system).",
        ),
        (
            {"PauseTime": "5 minutes"},
            "InvalidParameterValue",
            "Invalid option value: '5 minutes' (Namespace: "
            "'aws:autoscaling:updatepolicy:rollingupdate', OptionName: 'PauseTime'): Give an ISO "
            "8601 duration such as PT5M.",
        ),
        (
            {"RollingUpdateType": "Rolling"},
            "InvalidParameterValue",
            "Invalid option value: 'Rolling' (Namespace: "
            "'aws:autoscaling:updatepolicy:rollingupdate', OptionName: 'RollingUpdateType'): "
            "Accepted values: Time, Health, Immutable.",
        ),
    ],
)
def test_policy_refusals(eb: Any, options: dict[str, str], code: str, message: str) -> None:
    namespaces = {
        "EnvironmentType": "aws:elasticbeanstalk:environment",
        "SystemType": "aws:elasticbeanstalk:healthreporting:system",
    }
    settings = [
        {"Namespace": namespaces.get(name, ROLLING), "OptionName": name, "Value": value}
        for name, value in options.items()
    ]
    with pytest.raises(ClientError) as refused:
        eb.update_environment(EnvironmentName="prod", OptionSettings=settings)
    error = refused.value.response["Error"]
    assert (error["Code"], error["Message"]) == (code, message)
    assert environment(eb)["Status"] == "Ready"  # nothing changed
    assert configured(eb, "RollingUpdateType") == "Health"


def test_single_instance_environments_take_immutable_updates(eb: Any, clock: FakeClock) -> None:
    eb.update_environment(
        EnvironmentName="staging",
        OptionSettings=[
            {
                "Namespace": "aws:elasticbeanstalk:environment",
                "OptionName": "EnvironmentType",
                "Value": "SingleInstance",
            },
            {"Namespace": ROLLING, "OptionName": "RollingUpdateType", "Value": "Immutable"},
            {"Namespace": ROLLING, "OptionName": "PauseTime", "Value": "PT1M30S"},
        ],
    )
    run(clock, 1)
    request_id = update(eb, "staging", ImageId=GOOD)
    run(clock, 3)
    assert messages(eb, request_id)[-1] == COMPLETED
    assert image_of(instances(eb, "staging")) == {GOOD}


# --- application versions and tags -----------------------------------------------------------


def test_describe_application_versions(eb: Any) -> None:
    versions = eb.describe_application_versions(
        ApplicationName=world.APPLICATION, VersionLabels=[world.APPLICATION_VERSION]
    )["ApplicationVersions"]
    assert len(versions) == 1
    version = versions[0]
    assert version["SourceBundle"] == {
        "S3Bucket": world.storage_bucket(REGION, "123456789012"),
        "S3Key": f"{world.APPLICATION}/{world.APPLICATION_VERSION}-dockerrun.zip",
    }
    assert version["Status"] == "PROCESSED"
    assert version["ApplicationVersionArn"] == (
        "arn:aws:elasticbeanstalk:us-east-1:123456789012:applicationversion/webapp/v42"
    )
    assert version["DateCreated"] == version["DateUpdated"]
    assert eb.describe_application_versions(VersionLabels=["v1"])["ApplicationVersions"] == []
    assert eb.describe_application_versions(ApplicationName="other")["ApplicationVersions"] == []


def test_tags_of_a_seeded_environment(eb: Any) -> None:
    arn = environment(eb)["EnvironmentArn"]
    assert arn == "arn:aws:elasticbeanstalk:us-east-1:123456789012:environment/webapp/prod"
    eb.update_tags_for_resource(
        ResourceArn=arn, TagsToAdd=[{"Key": "team", "Value": "web"}], TagsToRemove=["absent"]
    )
    tags = {
        t["Key"]: t["Value"] for t in eb.list_tags_for_resource(ResourceArn=arn)["ResourceTags"]
    }
    assert tags == {
        "elasticbeanstalk:environment-name": "prod",
        "elasticbeanstalk:environment-id": environment(eb)["EnvironmentId"],
        "team": "web",
    }
    for key, prefix in (
        ("aws:owner", "aws:"),
        ("elasticbeanstalk:environment-name", "elasticbeanstalk:"),
    ):
        with pytest.raises(ClientError) as refused:
            eb.update_tags_for_resource(ResourceArn=arn, TagsToRemove=[key])
        error = refused.value.response["Error"]
        assert (error["Code"], error["Message"]) == (
            "InvalidParameterValue",
            f"Tag key '{key}' cannot start with '{prefix}'",
        )
    eb.update_tags_for_resource(ResourceArn=arn, TagsToRemove=["team"])
    after = eb.list_tags_for_resource(ResourceArn=arn)["ResourceTags"]
    assert "team" not in {t["Key"] for t in after}
    with pytest.raises(ClientError) as missing:
        eb.list_tags_for_resource(ResourceArn=arn.replace("/prod", "/nope"))
    assert missing.value.response["Error"]["Code"] == "ResourceNotFoundException"
