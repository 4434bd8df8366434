"""The estate: this account's ebami AMIs in each region and every use of an AMI id, read-only.

A use is anything that would break, or lose its way back, if the AMI it names were
deregistered: an environment's `ImageId` (whatever its status, Updating included), a saved
configuration's, an instance that is not terminated (a stopped one included: a replacement
needs the AMI), any version of a launch template, a launch configuration, any version of an
SSM parameter (channels and their history) and an environment's rollback target (the current
value of its parameter, `ebami.image.rollback`, else its `ebami:previous-image-id` tag: an
environment's tags are read only then). `ebami prune` deletes nothing such a use names, and
`ebami status` shows the same facts. Who else may launch an AMI (its launch permissions, a call
per AMI) and what EC2 finds referencing it (a call per 10 AMIs) are read apart (`read_sharing`,
`Estate.references`), for the AMIs prune would delete only (and by `status --references`).

Only Describe, List and Get calls, every page of each. The regions are read at once, a thread
each, every call of a region within that region's deadline; when any read fails the inventory
is incomplete and `read_inventory` raises (`IncompleteInventory`, naming the call): an AMI
that could not be looked for is no AMI proved unused.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol, cast

from ebami.config.formats import ami_ids_in
from ebami.core.errors import AwsError, EbamiError
from ebami.image import tags
from ebami.image.channels import reserved, rollback_folder
from ebami.image.managed import ManagedImage, managed_images, newest_first, rollback_target
from ebami.image.rollback import recorded

if TYPE_CHECKING:
    from ebami.aws.autoscaling import LaunchConfiguration
    from ebami.aws.eb_values import Configuration, Environment, SavedConfiguration
    from ebami.aws.ec2_values import Image, ImageReference, Instance, LaunchTemplateVersion
    from ebami.aws.ssm import ParameterVersion

# How long reading one region may take, throttling included.
READ_SECONDS = 600.0


class UseKind(str, Enum):
    ENVIRONMENT = "environment"
    SAVED_CONFIGURATION = "saved-configuration"
    INSTANCE = "instance"
    LAUNCH_TEMPLATE = "launch-template"
    LAUNCH_CONFIGURATION = "launch-configuration"
    SSM_PARAMETER = "ssm-parameter"
    ROLLBACK_TARGET = "rollback-target"
    # Another account (or everyone) may launch it: its uses there are not this account's to see.
    SHARED = "launch-permission"
    # EC2's DescribeImageReferences found one that ebami's own scan did not (an Image Builder
    # recipe, say).
    REFERENCE = "ec2-image-reference"


@dataclass(frozen=True)
class Use:
    """One place that names an AMI id: its kind, the region it is in, and where, for people."""

    kind: UseKind
    image_id: str
    region: str
    where: str
    # The resource's own id or name where it has one (`i-...`, `lt-...`, a parameter's name
    # without its leading `/`): what tells one use from EC2's reference to the same resource.
    resource: str = ""


@dataclass(frozen=True)
class EnvironmentFacts:
    """An Elastic Beanstalk environment as `ebami status` shows it."""

    region: str
    application: str
    name: str
    environment_id: str
    status: str
    health: str
    platform_arn: str
    # Every ImageId its configuration sets name (two while a deployment failed), if any.
    image_ids: tuple[str, ...] = ()
    previous_image_id: str | None = None
    # The ImageId in force (the deployed set's, as `ElasticBeanstalk.configuration` reads it).
    image_id: str | None = None
    # The application version deployed ("" for none).
    version_label: str = ""


@dataclass(frozen=True)
class RegionInventory:
    region: str
    # This account's ebami-managed AMIs in the region.
    images: tuple[ManagedImage, ...] = ()
    uses: tuple[Use, ...] = ()
    environments: tuple[EnvironmentFacts, ...] = ()
    # Of the managed AMIs' snapshots, those this account owns.
    owned_snapshots: frozenset[str] = frozenset()
    # Snapshot id -> every registered AMI of this account using it, managed or not.
    snapshot_users: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    # This account's available AMIs tagged verified, managed or not, newest first (what drift
    # compares environments with).
    verified: tuple[ManagedImage, ...] = ()


@dataclass(frozen=True)
class Inventory:
    regions: tuple[RegionInventory, ...]
    # The account the AMIs were read as their owner's (`Owners=self`).
    account_id: str
    read_at: datetime

    @property
    def images(self) -> tuple[ManagedImage, ...]:
        return tuple(image for region in self.regions for image in region.images)

    @property
    def uses(self) -> tuple[Use, ...]:
        return tuple(use for region in self.regions for use in region.uses)

    @property
    def environments(self) -> tuple[EnvironmentFacts, ...]:
        return tuple(env for region in self.regions for env in region.environments)

    def region(self, name: str) -> RegionInventory:
        return next(item for item in self.regions if item.region == name)

    def with_uses(self, uses: Sequence[Use]) -> Inventory:
        """This inventory with `uses` (read apart: launch permissions, EC2's references) added
        to their regions; one that names a resource already among the uses of its AMI is the
        same use, and left out."""
        known = {(use.image_id, use.resource) for use in self.uses if use.resource}
        regions = []
        for region in self.regions:
            added = [
                use
                for use in uses
                if use.region == region.region and (use.image_id, use.resource) not in known
            ]
            regions.append(
                replace(region, uses=_ordered([*region.uses, *added])) if added else region
            )
        return replace(self, regions=tuple(regions))


class IncompleteInventory(AwsError):
    """A read of the estate failed: what it would have found is unknown."""


# --- what the reader needs of each service --------------------------------------------------


class EstateEc2(Protocol):
    def own_images(self) -> list[Image]: ...
    def own_snapshot_ids(self, snapshot_ids: Sequence[str]) -> set[str]: ...
    def instances_of_images(self, image_ids: Sequence[str]) -> list[Instance]: ...
    def launch_template_versions(self) -> list[LaunchTemplateVersion]: ...
    def launch_permissions(self, image_id: str) -> list[str]: ...
    def image_references(self, image_ids: Sequence[str]) -> list[ImageReference]: ...


class EstateEb(Protocol):
    def environments(self) -> list[Environment]: ...
    def saved_configurations(self) -> list[SavedConfiguration]: ...
    def image_ids(
        self,
        application: str,
        *,
        environment: str | None = None,
        saved_configuration: str | None = None,
    ) -> tuple[str, ...]: ...
    def tags(self, environment: Environment) -> dict[str, str]: ...
    def configuration(self, environment: Environment) -> Configuration: ...


class EstateSsm(Protocol):
    def parameter_names(self, path: str | None = None) -> list[str]: ...
    def parameter_values(self, path: str) -> dict[str, str]: ...
    def history(self, name: str) -> list[ParameterVersion]: ...


class EstateAutoScaling(Protocol):
    def launch_configurations(self) -> list[LaunchConfiguration]: ...


@dataclass(frozen=True)
class RegionSources:
    """The readers of one region and what makes its calls fit a deadline."""

    region: str
    ec2: EstateEc2
    eb: EstateEb
    ssm: EstateSsm
    autoscaling: EstateAutoScaling
    bounded: Callable[[float], AbstractContextManager[object]]
    # The channels' folder, under which ebami keeps the environments' rollback targets
    # (`ebami.image.rollback`) and the verdicts on the platforms' own AMIs (`ebami.image.stock`).
    channel_prefix: str = "/ebami"


def read_inventory(
    sources: Sequence[RegionSources],
    *,
    now: datetime,
    seconds: float = READ_SECONDS,
    report: Callable[[str], None] | None = None,
) -> Inventory:
    """Read every region of `sources` at once; IncompleteInventory when any read failed."""

    def read(source: RegionSources) -> RegionInventory:
        with source.bounded(seconds):
            found = read_region(source)
        if report is not None:
            report(
                f"{source.region}: {len(found.images)} ebami AMI(s), {len(found.uses)} use(s) "
                f"of AMI ids, {len(found.environments)} environment(s)"
            )
        return found

    # Once the run stops (Ctrl-C, or a region failed), the other regions' readers stop at
    # their next call instead of reading on: nothing waits for what nobody will use.
    stopped = threading.Event()
    pool = ThreadPoolExecutor(max_workers=max(1, len(sources)))
    try:
        futures = [
            (source.region, pool.submit(read, _stoppable(source, stopped))) for source in sources
        ]
        # The first failure, whichever region it comes from, stops the others at once.
        done, _ = wait([future for _, future in futures], return_when=FIRST_EXCEPTION)
        for region, future in futures:
            if future in done and future.exception() is not None:
                try:
                    future.result()
                except EbamiError as exc:
                    message = f"reading the estate in {region}: {exc.message}"
                    raise IncompleteInventory(message) from exc
        results = [future.result() for _, future in futures]
    except BaseException:
        stopped.set()
        pool.shutdown(wait=False, cancel_futures=True)
        raise
    pool.shutdown()
    owners = sorted({image.owner_id for item in results for image in item.images})
    return Inventory(tuple(results), owners[0] if len(owners) == 1 else "", now)


class ReadStopped(Exception):
    """Raised in a region's reader once the run no longer wants what it reads."""


class _Guard:
    """A reader whose every method first checks that the run still wants its answer."""

    def __init__(self, reader: object, stopped: threading.Event) -> None:
        self._reader = reader
        self._stopped = stopped

    def __getattr__(self, name: str) -> Any:
        method = getattr(self._reader, name)

        def guarded(*args: Any, **kwargs: Any) -> Any:
            if self._stopped.is_set():
                raise ReadStopped(name)
            return method(*args, **kwargs)

        return guarded


def _stoppable(source: RegionSources, stopped: threading.Event) -> RegionSources:
    return replace(
        source,
        ec2=cast("EstateEc2", _Guard(source.ec2, stopped)),
        eb=cast("EstateEb", _Guard(source.eb, stopped)),
        ssm=cast("EstateSsm", _Guard(source.ssm, stopped)),
        autoscaling=cast("EstateAutoScaling", _Guard(source.autoscaling, stopped)),
    )


def read_region(source: RegionSources) -> RegionInventory:
    """One region's managed AMIs, uses and environments (the calls in the module docstring)."""
    region = source.region
    own = [image for image in source.ec2.own_images() if image.state != "deregistered"]
    # Oldest first, in the stated order of AMIs (`ebami.image.managed.newest_first`).
    managed = managed_images(own, region)[::-1]
    users: dict[str, list[str]] = {}
    for image in own:
        for snapshot_id in image.snapshot_ids:
            users.setdefault(snapshot_id, []).append(image.image_id)
    snapshots = [snapshot_id for image in managed for snapshot_id in image.snapshot_ids]
    owned = source.ec2.own_snapshot_ids(snapshots) if snapshots else set()

    uses: list[Use] = []
    targets = recorded(source.ssm, rollback_folder(source.channel_prefix))
    environments = _environments(source, uses, targets)
    for saved in source.eb.saved_configurations():
        for value in source.eb.image_ids(saved.application, saved_configuration=saved.name):
            uses += _uses(
                UseKind.SAVED_CONFIGURATION,
                value,
                region,
                f"saved configuration {saved.application}/{saved.name}",
            )
    if managed:
        for instance in source.ec2.instances_of_images([image.image_id for image in managed]):
            uses += _uses(
                UseKind.INSTANCE,
                instance.image_id,
                region,
                f"instance {instance.instance_id} ({instance.state})",
                instance.instance_id,
            )
    for template in source.ec2.launch_template_versions():
        uses += _uses(
            UseKind.LAUNCH_TEMPLATE,
            template.image_id,
            region,
            f"launch template {template.template_id} ({template.template_name}) "
            f"version {template.version}",
            template.template_id,
        )
    for configuration in source.autoscaling.launch_configurations():
        uses += _uses(
            UseKind.LAUNCH_CONFIGURATION,
            configuration.image_id,
            region,
            f"launch configuration {configuration.name}",
        )
    for name in source.ssm.parameter_names():
        if reserved(source.channel_prefix, name):
            # Rollback targets: only their current versions, read above, name one. Verdicts on
            # the platforms' own AMIs: Amazon's, which no prune deletes.
            continue
        history = source.ssm.history(name)
        for version in history:
            current = " (current)" if version is history[-1] else ""
            uses += _uses(
                UseKind.SSM_PARAMETER,
                version.value,
                region,
                f"SSM parameter {name} version {version.version}{current}",
                name.removeprefix("/"),
            )
    return RegionInventory(
        region=region,
        images=tuple(managed),
        uses=_ordered(uses),
        environments=tuple(environments),
        owned_snapshots=frozenset(owned),
        snapshot_users={key: tuple(value) for key, value in sorted(users.items())},
        verified=tuple(
            newest_first(
                ManagedImage.of(image, region)
                for image in own
                if image.state == "available" and tags.VERIFIED in image.tags
            )
        ),
    )


def read_sharing(ec2: EstateEc2, region: str, image_ids: Sequence[str]) -> list[Use]:
    """Who else may launch each AMI of `image_ids` (of `region`): a call per AMI."""
    return [
        Use(UseKind.SHARED, image_id, region, f"launch permission for {grantee}")
        for image_id in dict.fromkeys(image_ids)
        for grantee in ec2.launch_permissions(image_id)
    ]


def _ordered(uses: Sequence[Use]) -> tuple[Use, ...]:
    return tuple(sorted(uses, key=lambda use: (list(UseKind).index(use.kind), use.where)))


def _environments(
    source: RegionSources, uses: list[Use], targets: Mapping[str, str]
) -> list[EnvironmentFacts]:
    """Each environment, its ImageId and its rollback target (`targets`: those recorded in
    SSM, by environment id; an environment without one has its tags read, for the tag earlier
    versions of ebami wrote)."""
    found: list[EnvironmentFacts] = []
    region = source.region
    for environment in sorted(
        source.eb.environments(), key=lambda item: (item.application, item.name)
    ):
        configuration = source.eb.configuration(environment)
        image_ids = configuration.image_ids
        for value in image_ids:
            uses += _uses(
                UseKind.ENVIRONMENT,
                value,
                region,
                f"environment {environment.name} ({environment.status}) ImageId",
            )
        previous = targets.get(environment.environment_id) or rollback_target(
            source.eb.tags(environment)
        )
        if previous is not None:
            uses += _uses(
                UseKind.ROLLBACK_TARGET,
                previous,
                region,
                f"rollback target of environment {environment.name}",
            )
        found.append(
            EnvironmentFacts(
                region=region,
                application=environment.application,
                name=environment.name,
                environment_id=environment.environment_id,
                status=environment.status,
                health=environment.health,
                platform_arn=environment.platform_arn,
                image_ids=image_ids,
                previous_image_id=previous,
                image_id=configuration.image_id,
                version_label=environment.version_label,
            )
        )
    return found


def _uses(kind: UseKind, value: str, region: str, where: str, resource: str = "") -> list[Use]:
    return [Use(kind, image_id, region, where, resource) for image_id in ami_ids_in(value)]
