"""The values ebami reads from Elastic Beanstalk: environments, configuration sets, events,
health; `ebami.aws.elasticbeanstalk` makes the calls that return them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

LAUNCH_CONFIGURATION = "aws:autoscaling:launchconfiguration"
IMAGE_ID = "ImageId"
# The console's page of an environment, for messages that send a person to look.
CONSOLE_URL = (
    "https://{region}.console.aws.amazon.com/elasticbeanstalk/home?region={region}"
    "#/environment/dashboard?environmentId={environment_id}"
)


@dataclass(frozen=True)
class Environment:
    name: str
    environment_id: str
    application: str
    status: str
    health: str
    platform_arn: str
    health_status: str = ""
    version_label: str = ""
    arn: str = ""
    abortable: bool = False
    # When the environment last changed (`DateUpdated`: an update of its configuration or its
    # version moves it); None when not reported.
    updated: datetime | None = None

    def console_url(self, region: str) -> str:
        return CONSOLE_URL.format(region=region, environment_id=self.environment_id)


# `ConfigurationSettingsDescription.DeploymentStatus`: the set deployed to the environment; a
# draft being deployed (while an update runs); a draft that failed to deploy (it stays until
# the next update). A saved configuration's set has none.
DEPLOYED = "deployed"
PENDING = "pending"
FAILED = "failed"


@dataclass(frozen=True)
class ConfigurationSet:
    """One configuration set `DescribeConfigurationSettings` returned: its deployment status
    and the `ImageId` it names (None: the option is not set)."""

    status: str
    image_id: str | None

    def to_json(self) -> dict[str, str | None]:
        return {"deployment_status": self.status, "image_id": self.image_id}


@dataclass(frozen=True)
class Configuration:
    """An environment's option settings, `(namespace, option) -> value`, as deployed (or a
    saved configuration's), and every configuration set Elastic Beanstalk returned: while an
    update runs, the `deployed` set and a `pending` draft; after a draft failed to deploy, the
    `deployed` set and the `failed` draft."""

    options: Mapping[tuple[str, str], str]
    sets: tuple[ConfigurationSet, ...] = ()

    def value(self, namespace: str, option: str) -> str | None:
        return self.options.get((namespace, option))

    @property
    def image_id(self) -> str | None:
        """The AMI the deployed configuration names (never a draft's)."""
        return self.value(LAUNCH_CONFIGURATION, IMAGE_ID) or None

    @property
    def deployment_statuses(self) -> tuple[str, ...]:
        return tuple(item.status for item in self.sets)

    @property
    def image_ids(self) -> tuple[str, ...]:
        """The `ImageId` of every set, drafts too, each once, in the order returned."""
        return tuple(dict.fromkeys(item.image_id for item in self.sets if item.image_id))

    def drafts(self, status: str) -> tuple[ConfigurationSet, ...]:
        """The sets of deployment status `status` (`PENDING` or `FAILED`)."""
        return tuple(item for item in self.sets if item.status == status)


@dataclass(frozen=True)
class SavedConfiguration:
    """A saved configuration (configuration template) of an application."""

    application: str
    name: str


@dataclass(frozen=True)
class Event:
    date: datetime
    message: str
    severity: str
    request_id: str = ""
    # The environment the event is about (none for an application's own events).
    environment: str = ""

    @property
    def identity(self) -> tuple[datetime, str, str, str, str]:
        """What tells one event from another: `DescribeEvents` gives events no id, and two
        events of one date may differ in any of these."""
        return (self.date, self.message, self.severity, self.request_id, self.environment)

    def to_json(self) -> dict[str, str]:
        return {
            "date": self.date.isoformat(),
            "severity": self.severity,
            "message": self.message,
            "request_id": self.request_id,
        }


@dataclass(frozen=True)
class Health:
    """`DescribeEnvironmentHealth`: enhanced health's colour, status and causes."""

    color: str
    status: str
    causes: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"color": self.color, "status": self.status, "causes": list(self.causes)}


@dataclass(frozen=True)
class InstanceHealth:
    """One instance of `DescribeInstancesHealth`: its enhanced health, when it was launched and
    its latest deployment (`Deployment.Status`: In Progress, Deployed or Failed)."""

    instance_id: str
    color: str
    status: str
    causes: tuple[str, ...] = ()
    launched_at: datetime | None = None
    deployment_status: str = ""
    deployment_id: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "color": self.color,
            "status": self.status,
            "causes": list(self.causes),
            "launched_at": self.launched_at.isoformat() if self.launched_at else None,
            "deployment_status": self.deployment_status,
            "deployment_id": self.deployment_id,
        }


# What ebami reads of each instance (`DescribeInstancesHealth` returns only the attributes
# asked for; without any, only the instance ids).
INSTANCE_HEALTH_ATTRIBUTES = ("HealthStatus", "Color", "Causes", "LaunchedAt", "Deployment")
