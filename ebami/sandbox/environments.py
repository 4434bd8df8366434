"""Elastic Beanstalk environments in the sandbox: their options, instances, events and health.

An update that changes `aws:autoscaling:launchconfiguration/ImageId` replaces the instances in
steps (launch the new instances, remove the old ones and settle health, finish), one every
`UPDATE_STEP_SECONDS` of the sandbox's clock, with events worded like Elastic Beanstalk's. Every
event of an update carries the RequestId its UpdateEnvironment answered with; health transitions
carry none, as on AWS. Updates advance on the clock, not on polls: before the sandbox answers any
call, `catch_up` takes every update through the steps that are due, so a client sees the same
progress whether it polls DescribeEnvironments, DescribeEvents or DescribeEnvironmentHealth.

Health comes from the instances (`ebami.sandbox.health`).
"""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from moto.core.types import Base64EncodedString
from moto.ec2.models import ec2_backends

from ebami.sandbox import runtime
from ebami.sandbox.health import settle_health
from ebami.sandbox.world import EC2_ROLE, short_id

LAUNCH_CONFIGURATION = "aws:autoscaling:launchconfiguration"
IMAGE_ID = (LAUNCH_CONFIGURATION, "ImageId")
SEVERITIES = ("TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL")
# Seconds of the sandbox's clock between two steps of an update: an AMI change takes three.
UPDATE_STEP_SECONDS = 0.5

# The options the sandbox knows, with their defaults; others are refused like EB refuses them.
DEFAULT_OPTIONS: dict[tuple[str, str], str] = {
    (LAUNCH_CONFIGURATION, "InstanceType"): "t2.micro",
    (LAUNCH_CONFIGURATION, "IamInstanceProfile"): EC2_ROLE,
    (LAUNCH_CONFIGURATION, "EC2KeyName"): "",
    (LAUNCH_CONFIGURATION, "DisableIMDSv1"): "false",
    ("aws:autoscaling:asg", "MinSize"): "1",
    ("aws:autoscaling:asg", "MaxSize"): "4",
    ("aws:autoscaling:updatepolicy:rollingupdate", "RollingUpdateEnabled"): "true",
    ("aws:autoscaling:updatepolicy:rollingupdate", "RollingUpdateType"): "Health",
    ("aws:autoscaling:updatepolicy:rollingupdate", "MaxBatchSize"): "1",
    ("aws:autoscaling:updatepolicy:rollingupdate", "MinInstancesInService"): "1",
    ("aws:autoscaling:updatepolicy:rollingupdate", "Timeout"): "PT30M",
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


@dataclass
class Update:
    request_id: str
    image_id: str
    previous_image: str
    started: float  # on the sandbox's clock
    step: int = 0  # steps done
    new_instances: list[str] = field(default_factory=list)

    @property
    def next_step_at(self) -> float:
        return self.started + (self.step + 1) * UPDATE_STEP_SECONDS


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
    update: Update | None = None

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
            "AbortableOperationInProgress": self.update is not None,
            "Health": self.health,
            "HealthStatus": self.health_status,
            "Tier": {"Name": "WebServer", "Type": "Standard", "Version": "1.0"},
            "EnvironmentLinks": [],
            "EnvironmentArn": self.arn,
        }


@dataclass
class EbState:
    """What the sandbox adds to one moto Elastic Beanstalk backend (one account and region)."""

    account_id: str
    region: str
    platforms: list[dict[str, Any]] = field(default_factory=list)
    environments: dict[str, SandboxEnvironment] = field(default_factory=dict)
    events: list[Event] = field(default_factory=list)
    # (application, version label) -> (bucket, key) of the source bundle
    versions: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    _last_event: datetime | None = None

    def emit(
        self, env: SandboxEnvironment, message: str, severity: str = "INFO", request_id: str = ""
    ) -> None:
        now = datetime.now(timezone.utc)
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
            )
        )


def state_of(backend: Any) -> EbState:
    """The sandbox state attached to a moto EB backend (made on first use)."""
    state: EbState | None = getattr(backend, "ebami", None)
    if state is None:
        state = EbState(backend.account_id, backend.region_name)
        backend.ebami = state
        runtime.current().eb_states.append(state)
    return state


def catch_up(states: list[EbState], now: float) -> None:
    """Take every environment update through the steps due by `now` on the sandbox's clock."""
    for state in states:
        for env in state.environments.values():
            while env.update is not None and now >= env.update.next_step_at:
                advance(state, env)


def user_data_for(env: SandboxEnvironment) -> str:
    """What Elastic Beanstalk's bootstrap does to ecs.config on an ECS platform instance."""
    return (
        "#!/bin/bash\n"
        "# Elastic Beanstalk instance bootstrap (ebami sandbox): join the environment's cluster.\n"
        f"echo ECS_CLUSTER={env.cluster} >> /etc/ecs/ecs.config\n"
    )


def launch_instances(env: SandboxEnvironment, image_id: str, count: int) -> list[str]:
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
                "aws:autoscaling:groupName": env.auto_scaling_group,
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


def start_update(
    state: EbState,
    env: SandboxEnvironment,
    options: dict[tuple[str, str], str],
    removed: list[tuple[str, str]],
    now: float,
) -> str:
    """Apply option changes at `now` on the sandbox's clock; a changed AMI starts a rolling
    replacement. Returns the RequestId that every event of the update carries."""
    previous_image = env.image_id
    for key in removed:
        env.options.pop(key, None)
    env.options.update(options)
    env.updated = datetime.now(timezone.utc)
    request_id = str(uuid.uuid4())
    env.update = Update(request_id, env.image_id, previous_image, started=now)
    env.status = "Updating"
    state.emit(env, "Environment update is starting.", request_id=request_id)
    return request_id


def advance(state: EbState, env: SandboxEnvironment) -> None:
    """The next step of the environment's update."""
    update = env.update
    if update is None:
        return
    update.step += 1
    rid = update.request_id
    if update.image_id == update.previous_image:
        state.emit(env, "Successfully deployed new configuration to environment.", request_id=rid)
        _finish(state, env)
        return
    if update.step == 1:
        state.emit(
            env, f"Updating Auto Scaling group named: {env.auto_scaling_group}.", request_id=rid
        )
        try:
            update.new_instances = launch_instances(env, update.image_id, env.instance_count)
        except Exception as exc:  # moto's InvalidAMIID errors, whatever their class
            _failed_launch(state, env, update, exc)
            return
        for instance_id in update.new_instances:
            state.emit(env, f"Added instance [{instance_id}] to your environment.", request_id=rid)
        return
    if update.step == 2:
        old = [iid for iid in env.instance_ids if iid not in update.new_instances]
        terminate_instances(env, old)
        for instance_id in old:
            state.emit(
                env, f"Removed instance [{instance_id}] from your environment.", request_id=rid
            )
        env.instance_ids = list(update.new_instances)
        settle_health(state, env, request_id=rid)
        if env.health == "Red":
            state.emit(env, "Failed to deploy configuration.", "ERROR", request_id=rid)
        else:
            state.emit(
                env, "Successfully deployed new configuration to environment.", request_id=rid
            )
        return
    _finish(state, env)


def _finish(state: EbState, env: SandboxEnvironment) -> None:
    rid = env.update.request_id if env.update else ""
    env.update = None
    env.status = "Ready"
    env.updated = datetime.now(timezone.utc)
    if env.health == "Red":
        state.emit(env, "Environment update completed, but with errors.", "WARN", request_id=rid)
    else:
        state.emit(env, "Environment update completed successfully.", request_id=rid)


def _failed_launch(state: EbState, env: SandboxEnvironment, update: Update, exc: Exception) -> None:
    rid = update.request_id
    state.emit(
        env,
        f"Creating Auto Scaling launch configuration failed Reason: The image id "
        f"'[{update.image_id}]' does not exist ({type(exc).__name__})",
        "ERROR",
        request_id=rid,
    )
    state.emit(env, "Failed to deploy configuration.", "ERROR", request_id=rid)
    # Elastic Beanstalk rolls the configuration back when the launch configuration fails.
    if update.previous_image == env.stock_image:
        env.options.pop(IMAGE_ID, None)
    else:
        env.options[IMAGE_ID] = update.previous_image
    env.update = None
    env.status = "Ready"
    state.emit(
        env,
        "Environment update failed; the configuration was rolled back.",
        "ERROR",
        request_id=rid,
    )
