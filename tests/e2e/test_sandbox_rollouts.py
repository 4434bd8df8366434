"""Update policies, EB's own rollback, aborts, application versions and tags, over HTTP.

One sandbox serves the module: every test leaves the environment it used Ready.
"""

from __future__ import annotations

import io
import json
import time
import zipfile
from typing import Any

import boto3
import pytest
from botocore.config import Config

from ebami.sandbox import world
from tests.sandbox_helpers import Sandbox, wait_for
from tests.support.environments import LATE_WINDOW

REGION = "us-east-1"
STOCK = world.ENVIRONMENT_PLATFORM.image_id(REGION)
GOOD = next(
    p for p in world.PLATFORMS if p.name == world.ECS_AL2 and p.version == "3.5.0"
).image_id(REGION)
BAD = world.PLATFORMS[0].image_id(REGION)  # Amazon Linux 2017.09 without fluentd
ROLLING = "aws:autoscaling:updatepolicy:rollingupdate"
IMAGE_ID = {"Namespace": "aws:autoscaling:launchconfiguration", "OptionName": "ImageId"}
COMPLETED = "Environment update completed successfully."
FAILED = "Failed to deploy configuration."
REVERTED = "The environment was reverted to the previous configuration setting."
WITH_ERRORS = (
    "Update environment operation is complete, but with errors. "
    "For more information, see troubleshooting documentation."
)


def update(sandbox: Sandbox, env: str, **options: str) -> str:
    settings = [
        {**IMAGE_ID, "Value": value}
        if name == "ImageId"
        else {"Namespace": ROLLING, "OptionName": name, "Value": value}
        for name, value in options.items()
    ]
    eb = sandbox.client("elasticbeanstalk")
    answer = eb.update_environment(EnvironmentName=env, OptionSettings=settings)
    return str(answer["ResponseMetadata"]["RequestId"])


def messages(sandbox: Sandbox, request_id: str) -> list[str]:
    events = sandbox.client("elasticbeanstalk").describe_events(RequestId=request_id)["Events"]
    assert {event["RequestId"] for event in events} <= {request_id}  # none yet: filed late
    return [event["Message"] for event in reversed(events)]


def finish(sandbox: Sandbox, env: str, request_id: str) -> tuple[dict[str, Any], list[str]]:
    """Follow the update by its RequestId to its last event; the environment then, and the
    update's messages."""

    def ended() -> list[str] | None:
        found = messages(sandbox, request_id)
        return found if found and found[-1] in (COMPLETED, WITH_ERRORS) else None

    wait_for(ended)
    time.sleep(LATE_WINDOW)  # the update's events filed late have shown by then
    eb = sandbox.client("elasticbeanstalk")
    env_now = eb.describe_environments(EnvironmentNames=[env])["Environments"][0]
    return env_now, messages(sandbox, request_id)


def images(sandbox: Sandbox, env: str) -> set[str]:
    eb = sandbox.client("elasticbeanstalk")
    resources = eb.describe_environment_resources(EnvironmentName=env)["EnvironmentResources"]
    ids = [instance["Id"] for instance in resources["Instances"]]
    assert len(ids) == world.ENVIRONMENTS[env]
    reservations = sandbox.client("ec2").describe_instances(InstanceIds=ids)["Reservations"]
    return {i["ImageId"] for r in reservations for i in r["Instances"]}


def configured_image(sandbox: Sandbox, env: str) -> str:
    settings = sandbox.client("elasticbeanstalk").describe_configuration_settings(
        ApplicationName=world.APPLICATION, EnvironmentName=env
    )["ConfigurationSettings"][0]["OptionSettings"]
    return str(next(o["Value"] for o in settings if o["OptionName"] == "ImageId"))


def test_a_health_based_update_that_fails_is_rolled_back_by_eb(sandbox: Sandbox) -> None:
    request_id = update(sandbox, "prod", ImageId=BAD)
    env, done = finish(sandbox, "prod", request_id)
    assert done.index(FAILED) < done.index(REVERTED)  # a rolling update back in between
    assert any(m.startswith("Rolling update initiated. Terminating 1") for m in done)
    assert done[-1] == WITH_ERRORS
    assert env["Status"] == "Ready"
    assert images(sandbox, "prod") == {STOCK}
    assert configured_image(sandbox, "prod") == STOCK


def test_abort_in_the_middle_restores_the_old_ami(sandbox: Sandbox) -> None:
    eb = sandbox.client("elasticbeanstalk")
    request_id = update(sandbox, "prod", ImageId=GOOD)
    # Abort once the first batch is replaced, before the second (half a second later).
    wait_for(
        lambda: any(m.startswith("Successfully terminated") for m in messages(sandbox, request_id)),
        interval=0.02,
    )
    eb.abort_environment_update(EnvironmentName="prod")
    env, done = finish(sandbox, "prod", request_id)
    assert "Aborting the environment update: rolling back to the previous configuration." in done
    assert done[-1] == WITH_ERRORS
    assert (env["Status"], env["AbortableOperationInProgress"]) == ("Ready", False)
    assert images(sandbox, "prod") == {STOCK}
    assert configured_image(sandbox, "prod") == STOCK


def test_an_immutable_update_succeeds(sandbox: Sandbox) -> None:
    finish(sandbox, "prod", update(sandbox, "prod", RollingUpdateType="Immutable"))
    env, done = finish(sandbox, "prod", update(sandbox, "prod", ImageId=GOOD))
    assert any(m.startswith("Created temporary auto scaling group") for m in done)
    assert done[-1] == COMPLETED
    assert (env["Status"], env["Health"]) == ("Ready", "Green")
    assert images(sandbox, "prod") == {GOOD}


def test_a_time_based_update_completes_then_the_environment_goes_red(sandbox: Sandbox) -> None:
    eb = sandbox.client("elasticbeanstalk")
    finish(sandbox, "staging", update(sandbox, "staging", RollingUpdateEnabled="true"))
    env, _ = finish(sandbox, "staging", update(sandbox, "staging", ImageId=GOOD))
    assert env["Health"] == "Green"
    env, done = finish(sandbox, "staging", update(sandbox, "staging", ImageId=BAD))
    assert done[-1] == COMPLETED
    # Health follows once the update is over, in an event of no request.
    assert env["Health"] == "Red"
    transition = eb.describe_events(EnvironmentName="staging", MaxRecords=1)["Events"][0]
    # Info while the update ran, enhanced health's word for an operation in progress.
    assert transition["Message"].startswith(
        "Environment health has transitioned from Info to Severe."
    )
    assert "RequestId" not in transition
    assert images(sandbox, "staging") == {BAD}


def test_application_version_bundle_is_readable_from_s3(
    sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch
) -> None:
    eb = sandbox.client("elasticbeanstalk")
    [version] = eb.describe_application_versions(
        ApplicationName=world.APPLICATION, VersionLabels=[world.APPLICATION_VERSION]
    )["ApplicationVersions"]
    assert version["Status"] == "PROCESSED"
    for name, value in sandbox.env().items():
        monkeypatch.setenv(name, value)
    s3 = boto3.client("s3", config=Config(s3={"addressing_style": "path"}))
    bundle = s3.get_object(
        Bucket=version["SourceBundle"]["S3Bucket"], Key=version["SourceBundle"]["S3Key"]
    )["Body"].read()
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        assert json.loads(archive.read("Dockerrun.aws.json")) == world.DOCKERRUN


def test_tags_of_the_seeded_environments(sandbox: Sandbox) -> None:
    eb = sandbox.client("elasticbeanstalk")
    for name in world.ENVIRONMENTS:
        arn = f"arn:aws:elasticbeanstalk:{REGION}:123456789012:environment/webapp/{name}"
        eb.update_tags_for_resource(ResourceArn=arn, TagsToAdd=[{"Key": "team", "Value": "web"}])
        tags = {
            t["Key"]: t["Value"] for t in eb.list_tags_for_resource(ResourceArn=arn)["ResourceTags"]
        }
        assert tags["team"] == "web"
        assert tags["elasticbeanstalk:environment-name"] == name
        with pytest.raises(eb.exceptions.ClientError, match="cannot start with 'aws:'"):
            eb.update_tags_for_resource(ResourceArn=arn, TagsToAdd=[{"Key": "aws:x", "Value": "y"}])


def test_a_stalled_update_is_aborted(make_sandbox: Any) -> None:
    stalled: Sandbox = make_sandbox(update_stalls=True)
    eb = stalled.client("elasticbeanstalk")
    request_id = update(stalled, "prod", ImageId=GOOD)
    # Shown at once, or after a while when it is filed late.
    assert wait_for(lambda: messages(stalled, request_id)) == ["Environment update is starting."]
    env = eb.describe_environments(EnvironmentNames=["prod"])["Environments"][0]
    assert (env["Status"], env["AbortableOperationInProgress"]) == ("Updating", True)
    eb.abort_environment_update(EnvironmentName="prod")
    env, done = finish(stalled, "prod", request_id)
    assert done[-2:] == [REVERTED, WITH_ERRORS]
    assert env["Status"] == "Ready"
    assert images(stalled, "prod") == {STOCK}
    assert configured_image(stalled, "prod") == STOCK
