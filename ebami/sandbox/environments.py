"""Elastic Beanstalk environments in the sandbox: their options, instances, events and health.

This module owns the state: environments, their events, the update in progress, and the
launching and terminating of their instances. How an update advances, step by step, as the
environment's update policy says, is `ebami.sandbox.rollout`; health comes from the instances
(`ebami.sandbox.health`).
"""

from __future__ import annotations

import base64
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from moto.core.types import Base64EncodedString
from moto.ec2.models import ec2_backends

from ebami.sandbox.world import EC2_ROLE, short_id

LAUNCH_CONFIGURATION = "aws:autoscaling:launchconfiguration"
ROLLING_UPDATE = "aws:autoscaling:updatepolicy:rollingupdate"
IMAGE_ID = (LAUNCH_CONFIGURATION, "ImageId")
SEVERITIES = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
# Every sandbox environment is a web server environment.
WEB_SERVER_TIER = {"Name": "WebServer", "Type": "Standard", "Version": "1.0"}
# Seconds of the sandbox's clock between two steps of an update.
UPDATE_STEP_SECONDS = 0.5

# The options the sandbox knows, with their defaults; others are refused like EB refuses them.
DEFAULT_OPTIONS: dict[tuple[str, str], str] = {
    (LAUNCH_CONFIGURATION, "InstanceType"): "t2.micro",
    (LAUNCH_CONFIGURATION, "IamInstanceProfile"): EC2_ROLE,
    (LAUNCH_CONFIGURATION, "EC2KeyName"): "",
    (LAUNCH_CONFIGURATION, "DisableIMDSv1"): "false",
    ("aws:autoscaling:asg", "MinSize"): "1",
    ("aws:autoscaling:asg", "MaxSize"): "4",
    # Elastic Beanstalk's documented defaults: rolling updates off, time-based, 30 minutes.
    # (Without a value EB computes PauseTime from the instance type; the sandbox never waits.)
    (ROLLING_UPDATE, "RollingUpdateEnabled"): "false",
    (ROLLING_UPDATE, "RollingUpdateType"): "Time",
    (ROLLING_UPDATE, "MaxBatchSize"): "1",
    (ROLLING_UPDATE, "MinInstancesInService"): "1",
    (ROLLING_UPDATE, "PauseTime"): "",
    (ROLLING_UPDATE, "Timeout"): "PT30M",
    ("aws:elasticbeanstalk:command", "DeploymentPolicy"): "AllAtOnce",
    ("aws:elasticbeanstalk:command", "Timeout"): "600",
    ("aws:elasticbeanstalk:healthreporting:system", "SystemType"): "enhanced",
    ("aws:elasticbeanstalk:environment", "EnvironmentType"): "LoadBalanced",
}


@dataclass(frozen=True)
class Event:
    date: datetime
    message: str
    severity: str
    application: str
    environment: str
    request_id: str
    version_label: str
    platform_arn: str
    # On the sandbox's clock: when it happened, and its place in its backend's sequence (which
    # `ebami.sandbox.late_events` reads to file some events late).
    happened: float = 0.0
    sequence: int = 0

    def to_api(self) -> dict[str, Any]:
        event = {
            "EventDate": self.date,
            "Message": self.message,
            "ApplicationName": self.application,
            "EnvironmentName": self.environment,
            "VersionLabel": self.version_label,
            "PlatformArn": self.platform_arn,
            "Severity": self.severity,
        }
        if self.request_id:  # health transitions (and the seeded world's events) have none
            event["RequestId"] = self.request_id
        return event


# One step of an update: it acts on the environment and may replace the steps still to come.
Step = Callable[["EbState", "SandboxEnvironment", "Update"], None]


@dataclass
class Update:
    """An update in progress: what it changes, what it replaced so far, the steps to come."""

    request_id: str
    image_id: str
    previous_image: str
    previous_options: dict[tuple[str, str], str]  # restored when the update is rolled back
    old_instances: list[str]  # the environment's instances when the update started
    started: float  # on the sandbox's clock; steps come every UPDATE_STEP_SECONDS after it
    steps: deque[Step] = field(default_factory=deque)  # none left: the update stalls
    step: int = 0  # steps done since `started`
    new_instances: list[str] = field(default_factory=list)  # launched by the update, alive
    temporary_group: str = ""  # an immutable update's temporary Auto Scaling group
    temporary_instances: list[str] = field(default_factory=list)
    abortable: bool = True  # false once a rollback runs
    # The draft the update deploys (the options after the change; `ebami.sandbox.drafts`).
    draft_options: dict[tuple[str, str], str] = field(default_factory=dict)
    requested: datetime | None = None  # when UpdateEnvironment was called
    previous_updated: datetime | None = None  # the deployed configuration's last change
    failed: bool = False  # the draft failed to deploy (health, a launch, an abort)
    reverting: bool = False  # a rollback to the previous configuration runs
    began: float = 0.0  # `started` before any abort moved it

    @property
    def next_step_at(self) -> float:
        return self.started + (self.step + 1) * UPDATE_STEP_SECONDS

    def reschedule(self, steps: list[Step], now: float | None = None) -> None:
        """Replace the steps to come; with `now`, the first of them is due one step after it."""
        self.steps = deque(steps)
        if now is not None:
            self.started, self.step = now, 0


@dataclass(frozen=True)
class Launch:
    """An instance an update launched: when (on the sandbox's clock) and for which deployment."""

    at: float
    deployment: int


@dataclass(frozen=True)
class Draft:
    """A configuration set that is not (or not yet) the deployed one."""

    options: dict[tuple[str, str], str]
    image_id: str
    updated: datetime


@dataclass
class SandboxEnvironment:
    name: str
    env_id: str
    application: str
    account_id: str
    region: str
    platform_arn: str
    solution_stack: str
    stock_image: str
    version_label: str
    instance_count: int
    options: dict[tuple[str, str], str]
    created: datetime
    updated: datetime
    status: str = "Ready"
    health: str = "Green"
    health_status: str = "Ok"
    causes: list[str] = field(default_factory=list)
    instance_ids: list[str] = field(default_factory=list)
    # Each serving instance's health ("Ok" or "Severe"), as last settled.
    instance_health: dict[str, str] = field(default_factory=dict)
    instance_causes: dict[str, str] = field(default_factory=dict)  # why one is Severe
    update: Update | None = None
    # What enhanced health reports on the clock (`ebami.sandbox.health_report`): the instances
    # updates launched, the last update's start and end, and the status last announced.
    launches: dict[str, Launch] = field(default_factory=dict)
    deployment_id: int = 1  # one more for each update
    last_update: tuple[float, float] | None = None
    announced: str = "Ok"
    # A draft that failed to deploy, kept until the next update (`ebami.sandbox.drafts`).
    failed_draft: Draft | None = None

    @property
    def arn(self) -> str:
        return (
            f"arn:aws:elasticbeanstalk:{self.region}:{self.account_id}:environment/"
            f"{self.application}/{self.name}"
        )

    @property
    def image_id(self) -> str:
        return self.options.get(IMAGE_ID) or self.stock_image

    @property
    def serving_instances(self) -> list[str]:
        """The instances behind the environment: its own and an immutable update's new ones."""
        temporary = self.update.temporary_instances if self.update else []
        return [*self.instance_ids, *temporary]

    @property
    def stack_name(self) -> str:
        return f"awseb-{self.env_id}-stack"

    @property
    def auto_scaling_group(self) -> str:
        suffix = short_id(self.env_id, "asg", length=12).upper()
        return f"{self.stack_name}-AWSEBAutoScalingGroup-{suffix}"

    @property
    def launch_configuration(self) -> str:
        suffix = short_id(self.env_id, "lc", length=12).upper()
        return f"{self.stack_name}-AWSEBAutoScalingLaunchConfiguration-{suffix}"

    @property
    def temporary_auto_scaling_group(self) -> str:
        suffix = short_id(self.env_id, "immutable-asg", length=12).upper()
        return f"awseb-{self.env_id}-immutable-stack-AWSEBAutoScalingGroup-{suffix}"

    @property
    def load_balancer(self) -> str:
        return f"awseb-{self.env_id}-{short_id(self.env_id, 'elb', length=8)}"

    @property
    def cname(self) -> str:
        unique = short_id(self.env_id, "cname", length=10)
        return f"{self.name}.{unique}.{self.region}.elasticbeanstalk.com"

    @property
    def cluster(self) -> str:
        return f"awseb-{self.name}-{short_id(self.env_id, 'cluster', length=10)}"

    def option_value(self, namespace: str, name: str) -> str:
        if (namespace, name) == IMAGE_ID:
            return self.image_id
        return self.options.get((namespace, name), DEFAULT_OPTIONS.get((namespace, name), ""))

    def to_api(self) -> dict[str, Any]:
        return {
            "EnvironmentName": self.name,
            "EnvironmentId": self.env_id,
            "ApplicationName": self.application,
            "VersionLabel": self.version_label,
            "SolutionStackName": self.solution_stack,
            "PlatformArn": self.platform_arn,
            "Description": f"{self.name} environment of {self.application}",
            "EndpointURL": f"{self.load_balancer}.{self.region}.elb.amazonaws.com",
            "CNAME": self.cname,
            "DateCreated": self.created,
            "DateUpdated": self.updated,
            "Status": self.status,
            "AbortableOperationInProgress": self.update is not None and self.update.abortable,
            "Health": self.health,
            "HealthStatus": self.health_status,
            "Tier": dict(WEB_SERVER_TIER),
            "EnvironmentLinks": [],
            "EnvironmentArn": self.arn,
        }


@dataclass(frozen=True)
class ApplicationVersion:
    """An application version: its source bundle in S3 and when it was made."""

    application: str
    label: str
    bucket: str
    key: str
    created: datetime
    description: str = ""

    def to_api(self, region: str, account_id: str) -> dict[str, Any]:
        return {
            "ApplicationVersionArn": (
                f"arn:aws:elasticbeanstalk:{region}:{account_id}:applicationversion/"
                f"{self.application}/{self.label}"
            ),
            "ApplicationName": self.application,
            "Description": self.description,
            "VersionLabel": self.label,
            "SourceBundle": {"S3Bucket": self.bucket, "S3Key": self.key},
            "DateCreated": self.created,
            "DateUpdated": self.created,
            "Status": "PROCESSED",
        }


@dataclass
class SavedConfiguration:
    """A saved configuration (configuration template): a platform and option values, the AMI
    among them when the source named one."""

    application: str
    name: str
    description: str
    solution_stack: str
    platform_arn: str
    stock_image: str  # the platform's AMI, in effect when no ImageId is set
    options: dict[tuple[str, str], str]
    created: datetime
    updated: datetime

    @property
    def image_id(self) -> str:
        return self.options.get(IMAGE_ID) or self.stock_image


@dataclass
class EbState:
    """What the sandbox adds to one moto Elastic Beanstalk backend (one account and region);
    `ebami.sandbox.runtime.state_of` attaches it."""

    account_id: str
    region: str
    platforms: list[dict[str, Any]] = field(default_factory=list)
    environments: dict[str, SandboxEnvironment] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    # (application, version label) -> the application version
    versions: dict[tuple[str, str], ApplicationVersion] = field(default_factory=dict)
    # (application, template name) -> a saved configuration (ebami.sandbox.saved_configurations)
    templates: dict[tuple[str, str], SavedConfiguration] = field(default_factory=dict)
    # The sandbox's clock (`ebami.sandbox.runtime.state_of` sets the running sandbox's).
    clock: Callable[[], float] = time.monotonic
    # While an update's step runs late (`ebami.sandbox.rollout.catch_up`), the time it was due.
    step_due: float | None = None
    _last_event: datetime | None = None

    def now(self) -> float:
        """The sandbox's time of what happens now: a step's due time while it runs."""
        return self.clock() if self.step_due is None else self.step_due

    def emit(
        self, env: SandboxEnvironment, message: str, severity: str = "INFO", request_id: str = ""
    ) -> None:
        happened = self.now()
        # Dated when it happened: a step run late (by a later call) is dated when it was due.
        now = datetime.now(timezone.utc) - timedelta(seconds=max(self.clock() - happened, 0.0))
        if self._last_event is not None and now <= self._last_event:
            now = self._last_event + timedelta(milliseconds=1)  # keep events strictly ordered
        self._last_event = now
        self.events.append(
            Event(
                now,
                message,
                severity,
                env.application,
                env.name,
                request_id,
                env.version_label,
                env.platform_arn,
                happened=happened,
                sequence=len(self.events),
            )
        )


def user_data_for(env: SandboxEnvironment) -> str:
    """What Elastic Beanstalk's bootstrap does to ecs.config on an ECS platform instance."""
    return (
        "#!/bin/bash\n"
        "# Elastic Beanstalk instance bootstrap (ebami sandbox): join the environment's cluster.\n"
        f"echo ECS_CLUSTER={env.cluster} >> /etc/ecs/ecs.config\n"
    )


def launch_instances(
    env: SandboxEnvironment, image_id: str, count: int, group: str = ""
) -> list[str]:
    """Launch `count` instances of `image_id` into the environment's Auto Scaling group (or
    into `group`, an immutable update's temporary one)."""
    backend = ec2_backends[env.account_id][env.region]
    # The sandbox turns on moto's AMI validation: InvalidAMIID.NotFound when the image is gone.
    user_data = Base64EncodedString(base64.b64encode(user_data_for(env).encode()).decode())
    # Keywords throughout, so that a moto rename fails loudly (the contract tests bind them).
    reservation = backend.run_instances(
        image_id=image_id,
        count=count,
        user_data=user_data,
        security_group_names=[],
        instance_type=env.option_value(LAUNCH_CONFIGURATION, "InstanceType"),
        is_instance_type_default=False,
        tags={
            "instance": {
                "Name": env.name,
                "elasticbeanstalk:environment-name": env.name,
                "elasticbeanstalk:environment-id": env.env_id,
                "aws:autoscaling:groupName": group or env.auto_scaling_group,
                "aws:cloudformation:stack-name": env.stack_name,
            }
        },
    )
    ids = []
    for instance in reservation.instances:
        backend.associate_iam_instance_profile(
            instance_id=instance.id,
            iam_instance_profile_name=env.option_value(LAUNCH_CONFIGURATION, "IamInstanceProfile"),
        )
        ids.append(instance.id)
    return ids


def terminate_instances(env: SandboxEnvironment, instance_ids: list[str]) -> None:
    if instance_ids:
        ec2_backends[env.account_id][env.region].terminate_instances(instance_ids=instance_ids)
