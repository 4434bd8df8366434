"""Apply's fakes: an Elastic Beanstalk environment whose state follows a script on a fake clock
(the tests of following, applying and rolling back), the world the apply planner reads, and the
AMIs, planners and plans built over it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any

from ebami.apply.options import ApplyOptions
from ebami.apply.planner import ApplyPlan, ApplyPlanner
from ebami.apply.reads import SharedReads
from ebami.aws.eb_values import (
    DEPLOYED,
    IMAGE_ID,
    LAUNCH_CONFIGURATION,
    Configuration,
    ConfigurationSet,
    Environment,
    Event,
    Health,
    InstanceHealth,
)
from ebami.aws.ec2_values import Image, Instance
from ebami.core.errors import NotFoundError
from ebami.image import tags
from ebami.image.channels import Channels
from ebami.sandbox import world
from tests.fakes.channels import DEFAULT, ChannelSsm
from tests.fakes.clock import FakeClock

EPOCH = datetime(2026, 11, 22, tzinfo=timezone.utc)
ENVIRONMENT = Environment(
    name="prod",
    environment_id="e-123",
    application="webapp",
    status="Ready",
    health="Red",
    platform_arn="arn:aws:elasticbeanstalk:us-east-1::platform/Multi-container Docker running "
    "on 64bit Amazon Linux/2.8.4",
    health_status="Severe",
    version_label="v42",
    arn="arn:aws:elasticbeanstalk:us-east-1:123456789012:environment/webapp/prod",
)


@dataclass
class Change:
    at: float
    status: str | None = None
    health: tuple[str, str] | None = None
    image: str | None = None
    messages: tuple[tuple[str, str], ...] = ()  # (severity, message) of the request
    abortable: bool | None = None
    # The drafts DescribeConfigurationSettings shows beside the deployed set.
    drafts: tuple[ConfigurationSet, ...] | None = None
    causes: tuple[str, ...] | None = None
    # The AMI the instances run from now on (default: a change of `image` replaces them).
    running: str | None = None
    # The instances' own health (colour, status); default: the environment's.
    instances: tuple[str, str] | None = None
    # The change's events are dated this many seconds before it: they show late, after newer
    # ones were returned.
    late: float = 0.0


@dataclass
class ScriptedEb:
    """`refresh`, `events`, `configuration`, `health`, `instances_health`, `update_image`,
    `abort_update`, EC2's `describe_instances` and SSM's parameters (where rollback targets are
    recorded) over a script of changes; `calls` records the mutating ones."""

    clock: FakeClock
    image: str | None = "ami-0old"
    status: str = "Ready"
    state: tuple[str, str] = ("Red", "Severe")  # health colour and status
    abortable: bool = False
    drafts: tuple[ConfigurationSet, ...] = ()
    causes: tuple[str, ...] = ()
    request_id: str = "req-1"
    # The environment's instances: how many, the AMI they run (default: `image`), their own
    # health (default: the environment's).
    count: int = 2
    running: str | None = None
    instance_state: tuple[str, str] | None = None
    launched: dict[str, str] = field(default_factory=dict)
    # Instances EC2 does not show yet: a Describe naming one answers NotFound.
    unseen: set[str] = field(default_factory=set)
    script: list[Change] = field(default_factory=list)
    events_: list[Event] = field(default_factory=list)
    calls: list[tuple[str, Any]] = field(default_factory=list)
    tags: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, str] = field(default_factory=dict)
    # What UpdateEnvironment / AbortEnvironmentUpdate start: a script from the call's time.
    on_update: list[list[Change]] = field(default_factory=list)
    on_abort: list[Change] = field(default_factory=list)

    def __post_init__(self) -> None:
        if self.running is None:
            self.running = self.image

    def _catch_up(self) -> None:
        due = [change for change in self.script if change.at <= self.clock.now]
        self.script = [change for change in self.script if change.at > self.clock.now]
        for change in due:
            if change.status is not None:
                self.status = change.status
            if change.health is not None:
                self.state = change.health
            if change.image is not None:
                self.image = change.image
                self.running = change.image
            if change.running is not None:
                self.running = change.running
            if change.instances is not None:
                self.instance_state = change.instances
            if change.abortable is not None:
                self.abortable = change.abortable
            if change.drafts is not None:
                self.drafts = change.drafts
            if change.causes is not None:
                self.causes = change.causes
            for severity, message in change.messages:
                date = EPOCH + timedelta(
                    seconds=change.at - change.late, milliseconds=len(self.events_)
                )
                self.events_.append(Event(date, message, severity, self.request_id, "prod"))

    def _start(self, script: list[Change]) -> None:
        now = self.clock.now
        self.script = [replace(change, at=now + change.at) for change in script]
        self._catch_up()

    # reads
    def refresh(self, environment: Environment) -> Environment:
        self._catch_up()
        return replace(
            environment,
            status=self.status,
            health=self.state[0],
            health_status=self.state[1],
            abortable=self.abortable,
        )

    def events(
        self,
        environment: Environment,
        *,
        request_id: str | None = None,
        since: datetime | None = None,
        limit: int = 1000,
    ) -> list[Event]:
        self._catch_up()
        return [
            event
            for event in self.events_
            if (not request_id or event.request_id == request_id)
            and (since is None or event.date >= since)
        ][-limit:]

    def configuration(self, environment: Environment) -> Configuration:
        self._catch_up()
        options = {(LAUNCH_CONFIGURATION, IMAGE_ID): self.image} if self.image else {}
        return Configuration(options, (ConfigurationSet(DEPLOYED, self.image), *self.drafts))

    def health(self, environment: Environment) -> Health:
        self._catch_up()
        return Health(self.state[0], self.state[1], self.causes)

    def instances_health(self, environment: Environment) -> list[InstanceHealth]:
        self._catch_up()
        color, status = self.instance_state or self.state
        found = []
        for number in range(self.count):
            instance_id = f"i-{self.running}-{number}"
            self.launched[instance_id] = self.running or ""
            found.append(InstanceHealth(instance_id, color, status))
        return found

    # EC2
    def describe_instances(self, instance_ids: list[str]) -> list[Instance]:
        if self.unseen & set(instance_ids):
            raise NotFoundError(f"instances {sorted(self.unseen & set(instance_ids))} not found")
        return [
            Instance(iid, self.launched[iid], "running", "", "", "", "", "", {})
            for iid in instance_ids
        ]

    # changes
    def update_image(self, environment: Environment, image_id: str | None) -> str:
        self.calls.append(("update_image", image_id))
        self.request_id = f"req-{len([c for c in self.calls if c[0] == 'update_image'])}"
        self._start(self.on_update.pop(0) if self.on_update else [])
        return self.request_id

    def abort_update(self, environment: Environment) -> None:
        self.calls.append(("abort_update", None))
        self._start(self.on_abort)

    def put_value(self, name: str, value: str, *, description: str) -> int:
        self.calls.append(("put_value", (name, value)))
        self.parameters[name] = value
        return len(self.calls)

    def parameter_value(self, name: str) -> str | None:
        return self.parameters.get(name)

    def parameter_values(self, path: str) -> dict[str, str]:
        return {k: v for k, v in self.parameters.items() if k.startswith(path.rstrip("/") + "/")}


def success(image: str, *, after: float = 1.0) -> list[Change]:
    """An update to `image` that goes well: Updating, then Ready and Green."""
    return [
        Change(0, status="Updating", abortable=True,
               messages=(("INFO", "Environment update is starting."),)),
        Change(after, image=image, health=("Green", "Ok"),
               messages=(("INFO", "Successfully deployed new configuration to environment."),)),
        Change(after + 0.5, status="Ready", abortable=False,
               messages=(("INFO", "Environment update completed successfully."),)),
    ]  # fmt: skip


STOCK = "ami-0stock"
PLATFORM_DESCRIPTION = {
    "PlatformArn": ENVIRONMENT.platform_arn,
    "PlatformName": "Multi-container Docker running on 64bit Amazon Linux",
    "PlatformVersion": "2.8.4",
    "OperatingSystemVersion": "2017.09",
    "CustomAmiList": [
        {"VirtualizationType": "pv", "ImageId": "ami-0pv"},
        {"VirtualizationType": "hvm", "ImageId": STOCK},
    ],
}


@dataclass
class PlannerWorld:
    """What the planner reads: the environment, its configuration, platform, bundle, tags;
    the account's AMIs; the bundle's bytes. `reads` counts each call."""

    environment: Environment = ENVIRONMENT
    configured: str | None = None
    options: dict[tuple[str, str], str] = field(default_factory=dict)
    instances: int = 2
    bundle: bytes | None = None
    env_tags: dict[str, str] = field(default_factory=dict)
    # The causes of the environment's enhanced health.
    causes: tuple[str, ...] = ()
    images: dict[str, Any] = field(default_factory=dict)
    reads: list[str] = field(default_factory=list)
    # The scans of every verified AMI (`find_images_with_tag`): each a new choice of target.
    scans: int = 0

    # Elastic Beanstalk
    def get_environment(self, name: str, application: str | None = None) -> Environment:
        self.reads.append("DescribeEnvironments")
        if name != self.environment.name:
            from ebami.core.errors import NotFoundError

            raise NotFoundError(f"Elastic Beanstalk environment {name!r} does not exist")
        return self.environment

    def environments_named(
        self, names: Sequence[str], application: str | None = None
    ) -> dict[str, Environment]:
        self.reads.append("DescribeEnvironments")
        for name in names:
            if name != self.environment.name:
                from ebami.core.errors import NotFoundError

                raise NotFoundError(f"Elastic Beanstalk environment {name!r} does not exist")
        return dict.fromkeys(names, self.environment)

    def configuration(self, environment: Environment) -> Configuration:
        self.reads.append("DescribeConfigurationSettings")
        options = dict(self.options)
        options[(LAUNCH_CONFIGURATION, IMAGE_ID)] = self.configured or STOCK
        return Configuration(options, (ConfigurationSet(DEPLOYED, self.configured or STOCK),))

    def instance_ids(self, environment: Environment) -> list[str]:
        self.reads.append("DescribeEnvironmentResources")
        return [f"i-{n:017x}" for n in range(self.instances)]

    def describe_platform_version(self, platform_arn: str) -> Any:
        self.reads.append("DescribePlatformVersion")
        return PLATFORM_DESCRIPTION

    def source_bundle(self, application: str, version_label: str) -> tuple[str, str] | None:
        self.reads.append("DescribeApplicationVersions")
        return ("bucket", "webapp/v42.zip") if self.bundle is not None else None

    def tags(self, environment: Environment) -> dict[str, str]:
        self.reads.append("ListTagsForResource")
        return dict(self.env_tags)

    def health(self, environment: Environment) -> Health:
        self.reads.append("DescribeEnvironmentHealth")
        return Health(environment.health, environment.health_status, self.causes)

    def instances_health(self, environment: Environment) -> list[InstanceHealth]:
        self.reads.append("DescribeInstancesHealth")
        color, status = environment.health, environment.health_status
        return [InstanceHealth(f"i-{n:017x}", color, status) for n in range(self.instances)]

    # EC2
    def get_image(self, image_id: str) -> Any:
        self.reads.append("DescribeImages")
        if image_id not in self.images:
            from ebami.core.errors import NotFoundError

            raise NotFoundError(f"AMI {image_id} does not exist")
        return self.images[image_id]

    def images_by_id(self, image_ids: Sequence[str]) -> list[Any]:
        self.reads.append("DescribeImages")
        return [self.images[image_id] for image_id in image_ids if image_id in self.images]

    def find_images_with_tag(self, key: str) -> list[Any]:
        self.reads.append("DescribeImages")
        self.scans += 1
        found = [image for image in self.images.values() if key in image.tags]
        return sorted(found, key=lambda image: image.creation_date, reverse=True)

    # S3
    def read(self, bucket: str, key: str) -> bytes:
        self.reads.append("GetObject")
        assert self.bundle is not None
        return self.bundle


FLUENTD = "json-file syslog awslogs fluentd none"
# The follower's settle time in the tests that carry a plan out.
SETTLE = 5.0


def ami(image_id: str, created: str = "2026-11-01", **tagged: str) -> Image:
    """A verified ebami AMI of multicontainer-docker 2017.09 that allows fluentd, made (and
    verified) on `created`; `tagged` changes its tags (an empty value drops the tag)."""
    ours = {
        tags.MANAGED: "true",
        tags.PLATFORM: "multicontainer-docker",
        tags.PLATFORM_VERSION: "2.8.4",
        tags.RELEASE: "2017.09",
        tags.DRIVERS: FLUENTD,
        tags.VERIFIED: created + "T00:00:00Z",
    }
    merged = {key: value for key, value in {**ours, **tagged}.items() if value}
    return Image(image_id, image_id, "available", created + "T00:00:00.000Z", merged, ())


def world_with(*images: Image, **kwargs: object) -> PlannerWorld:
    """The seeded environment's world (the sandbox's Dockerrun bundle, the stock AMI) with
    `images` too; `kwargs` are more of PlannerWorld's fields."""
    stock = Image(STOCK, "stock", "available", "2018-01-18", {}, (), owner_alias="amazon")
    found = {image.image_id: image for image in (stock, *images)}
    return PlannerWorld(bundle=world.dockerrun_bundle(), images=found, **kwargs)  # type: ignore[arg-type]


class NamedPlanner:
    """The planner as the tests call it: by the environment's name, as found in `found` (a
    fleet finds its environments itself and gives the planner each one found)."""

    def __init__(self, found: PlannerWorld, channels: Callable[[], Channels] | None = None) -> None:
        self.found = found
        self.reads = SharedReads(eb=found, ec2=found, s3=lambda: found, region="us-east-1")
        self.planner = ApplyPlanner(eb=found, reads=self.reads, channels=channels)

    def plan(
        self, name: str, application: str | None, options: ApplyOptions, **kwargs: Any
    ) -> ApplyPlan:
        environment = self.found.get_environment(name, application)
        return self.planner.plan(environment, options, **kwargs)


def planner(found: PlannerWorld) -> NamedPlanner:
    return NamedPlanner(found)


def apply_planner(found: PlannerWorld, ssm: ChannelSsm) -> NamedPlanner:
    """An apply planner whose channels (the default pattern) are `ssm`'s parameters."""
    return NamedPlanner(found, channels=lambda: Channels(ssm, DEFAULT))


def plan_for(**options: object) -> ApplyPlan:
    """The plan of `apply --env prod --ami ami-0new` (with `options`) in a world that has it."""
    found = world_with(ami("ami-0new"))
    return planner(found).plan("prod", None, ApplyOptions(ami="ami-0new", **options))  # type: ignore[arg-type]
