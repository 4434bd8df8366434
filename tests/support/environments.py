"""The Elastic Beanstalk environments of a sandbox as the end-to-end tests read and change
them: their configured AMI, their instances' AMIs, their tags and update policy, the events an
update printed, an update started and followed to Ready."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from ebami.sandbox import world
from ebami.sandbox.realism import Realism
from tests.sandbox_helpers import Sandbox, wait_for

# The first and the last event of an update that goes well.
STARTING = "Environment update is starting."
COMPLETED = "Environment update completed successfully."
# The environment tag apply writes: the AMI it switched from.
PREVIOUS = "ebami:previous-image-id"
# The AMI the seeded environments run (the stock AMI of their platform version).
STOCK = world.ENVIRONMENT_PLATFORM.image_id("us-east-1")
# A sandbox files some events up to this late (`ebami.sandbox.late_events`, the default realism).
LATE_WINDOW = Realism().late_events
# The option that names an environment's AMI (add "Value" to set it).
IMAGE_ID = {"Namespace": "aws:autoscaling:launchconfiguration", "OptionName": "ImageId"}


def client(sandbox: Sandbox, service: str) -> Any:
    """A boto3 client for the sandbox with attempts enough for a throttling one."""
    return sandbox.client(service, attempts=10)


def environment(sandbox: Sandbox, name: str) -> dict[str, Any]:
    eb = client(sandbox, "elasticbeanstalk")
    found: dict[str, Any] = eb.describe_environments(EnvironmentNames=[name])["Environments"][0]
    return found


def configured_image(sandbox: Sandbox, name: str) -> str | None:
    """The ImageId option of the environment's deployed configuration."""
    sets = client(sandbox, "elasticbeanstalk").describe_configuration_settings(
        ApplicationName=world.APPLICATION, EnvironmentName=name
    )["ConfigurationSettings"]
    (deployed,) = [s for s in sets if s.get("DeploymentStatus", "deployed") == "deployed"]
    return next(
        (
            str(option["Value"])
            for option in deployed["OptionSettings"]
            if option["Namespace"] == "aws:autoscaling:launchconfiguration"
            and option["OptionName"] == "ImageId"
        ),
        None,
    )


def instance_images(sandbox: Sandbox, name: str) -> list[str]:
    """The AMIs of the instances behind the environment now."""
    resources = client(sandbox, "elasticbeanstalk").describe_environment_resources(
        EnvironmentName=name
    )["EnvironmentResources"]
    ids = [instance["Id"] for instance in resources["Instances"]]
    reservations = client(sandbox, "ec2").describe_instances(InstanceIds=ids)["Reservations"]
    return sorted(i["ImageId"] for r in reservations for i in r["Instances"])


def rollback_target(sandbox: Sandbox, name: str) -> str | None:
    """The AMI ebami recorded as the environment's rollback target (its SSM parameter)."""
    parameter = f"/ebami/rollback-target/{environment(sandbox, name)['EnvironmentId']}"
    try:
        found = client(sandbox, "ssm").get_parameter(Name=parameter)["Parameter"]["Value"]
    except ClientError as exc:
        if exc.response["Error"]["Code"] == "ParameterNotFound":
            return None
        raise
    return str(found)


def environment_tags(sandbox: Sandbox, name: str) -> dict[str, str]:
    eb = client(sandbox, "elasticbeanstalk")
    arn = environment(sandbox, name)["EnvironmentArn"]
    tags = eb.list_tags_for_resource(ResourceArn=arn)["ResourceTags"]
    return {tag["Key"]: tag["Value"] for tag in tags}


def event_lines(stderr: str) -> list[str]:
    """The messages of the Elastic Beanstalk events printed on stderr, oldest first
    (`2026-01-01 00:00:00 INFO  message`)."""
    found = []
    for line in stderr.splitlines():
        parts = line.split(None, 3)
        if len(parts) == 4 and parts[2] in ("INFO", "WARN", "ERROR", "FATAL", "DEBUG", "TRACE"):
            try:
                datetime.strptime(f"{parts[0]} {parts[1]}", "%Y-%m-%d %H:%M:%S")
            except ValueError:
                continue
            found.append(parts[3])
    return found


def set_update_policy(sandbox: Sandbox, name: str, **options: str) -> None:
    """Set `aws:autoscaling:updatepolicy:rollingupdate` options of the environment (when they
    differ) and wait until it is Ready again."""
    eb = client(sandbox, "elasticbeanstalk")
    namespace = "aws:autoscaling:updatepolicy:rollingupdate"
    sets = eb.describe_configuration_settings(
        ApplicationName=world.APPLICATION, EnvironmentName=name
    )["ConfigurationSettings"]
    now = {
        o["OptionName"]: o.get("Value")
        for o in sets[0]["OptionSettings"]
        if o["Namespace"] == namespace
    }
    wanted = [
        {"Namespace": namespace, "OptionName": key, "Value": value}
        for key, value in options.items()
        if now.get(key) != value
    ]
    if not wanted:
        return
    eb.update_environment(EnvironmentName=name, OptionSettings=wanted)
    wait_for(lambda: environment(sandbox, name)["Status"] == "Ready")


def update(sandbox: Sandbox, env_name: str = "prod", **kwargs: Any) -> str:
    """Start an update of an environment (prod: health-based rolling updates; staging: rolling
    updates disabled); its RequestId, as UpdateEnvironment answered it."""
    eb = sandbox.client("elasticbeanstalk")
    result = eb.update_environment(EnvironmentName=env_name, **kwargs)
    assert result["Status"] == "Updating"
    return str(result["ResponseMetadata"]["RequestId"])


def follow(
    sandbox: Sandbox, request_id: str, env_name: str = "prod"
) -> tuple[dict[str, Any], list[str], list[dict[str, Any]]]:
    """Poll until the environment is Ready and events filed late have shown; return it, and the
    update's events (their messages, and the events themselves), oldest first."""
    eb = sandbox.client("elasticbeanstalk")

    def ready() -> dict[str, Any] | None:
        env = eb.describe_environments(EnvironmentNames=[env_name])["Environments"][0]
        return env if env["Status"] == "Ready" else None

    env: dict[str, Any] = wait_for(ready)
    time.sleep(LATE_WINDOW)  # the events filed late have shown by then
    events = list(reversed(eb.describe_events(RequestId=request_id)["Events"]))
    return env, [event["Message"] for event in events], events
