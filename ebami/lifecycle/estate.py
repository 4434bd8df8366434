"""The estate a lifecycle command reads (`ebami status`, `ebami prune`): which regions, and the
inventory of them all (`ebami.lifecycle.inventory`), each region read through its own services
(the CLI's factory per region; all of them share one API call counter)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol

from ebami.core.errors import EbamiError, GuardUnavailable, InputError
from ebami.core.reporting import OnceEach, Reporter
from ebami.core.waiting import Deadline
from ebami.image.channels import Channels
from ebami.image.managed import ManagedImage
from ebami.lifecycle.drift import DriftChecker
from ebami.lifecycle.inventory import (
    READ_SECONDS,
    EstateEc2,
    IncompleteInventory,
    Inventory,
    RegionSources,
    Use,
    UseKind,
    read_inventory,
    read_sharing,
)

# Launch permissions are read a call per AMI: this many at once (over all regions).
SHARING_THREADS = 8


class EstateRegion(Protocol):
    """What reading the estate needs of one region (the CLI's factory for it is one)."""

    @property
    def region(self) -> str: ...
    def bounded(self, seconds: float) -> AbstractContextManager[Deadline]: ...
    def estate_sources(self) -> RegionSources: ...
    def drift_checker(self, max_age_days: int) -> DriftChecker: ...
    def channels(self) -> Channels: ...


@dataclass(frozen=True)
class EstateScope:
    """Which regions a lifecycle command reads beyond the home region: the settings' copy and
    environment regions and `--regions`, or every enabled one (`--all-regions`)."""

    copy_to: tuple[str, ...] = ()
    environment_regions: tuple[str, ...] = ()
    extra: tuple[str, ...] = ()
    all_regions: bool = False

    def __post_init__(self) -> None:
        if self.extra and self.all_regions:
            raise InputError("--regions and --all-regions exclude each other: give one of them")


class Estate:
    """The regions of one run, each read through its own services."""

    def __init__(
        self,
        home: EstateRegion,
        in_region: Callable[[str], EstateRegion],
        *,
        enabled_regions: Callable[[], list[str]],
        served_regions: Callable[[], set[str]],
        reporter: Reporter,
    ) -> None:
        """`enabled_regions`: the regions the account has enabled (an EC2 call);
        `served_regions`: those with an Elastic Beanstalk endpoint (botocore's data)."""
        self.home = home
        self.in_region = in_region
        self._enabled = enabled_regions
        self._served = served_regions
        self.reporter = reporter
        # Each warning once per run, whichever region met it.
        self.once = OnceEach(reporter)

    def regions(self, scope: EstateScope) -> list[str]:
        """The home region first, then its copy regions, those of [environments.*] and
        `--regions` (or every enabled region), each once."""
        home = self.home.region
        if scope.all_regions:
            with self.home.bounded(READ_SECONDS):
                enabled = self._enabled()
            # A region without Elastic Beanstalk (botocore's endpoint data) has no environment
            # to read, and its endpoint would answer nothing readable.
            served = self._served()
            skipped = [region for region in enabled if region not in served and region != home]
            if skipped:
                self.reporter.detail(
                    f"not read: {', '.join(skipped)} (no Elastic Beanstalk endpoint there)"
                )
            return list(dict.fromkeys([home, *(r for r in enabled if r not in skipped)]))
        return list(dict.fromkeys([home, *scope.copy_to, *scope.environment_regions, *scope.extra]))

    def read(self, regions: Sequence[str], *, incomplete: str = "") -> Inventory:
        """The inventory of `regions`; `incomplete` is appended to the error when a read
        fails (what that means for the command)."""
        # Each region's readers are made here (clients made on this thread, used on others).
        sources = [self.in_region(region).estate_sources() for region in regions]
        self.reporter.progress(f"reading the estate in {', '.join(regions)}")
        try:
            return read_inventory(
                sources,
                now=datetime.now(timezone.utc),
                report=self.reporter.detail,
            )
        except IncompleteInventory as exc:
            if not incomplete:
                raise
            raise IncompleteInventory(f"{exc.message}; {incomplete}") from exc

    def references(self, images: Sequence[ManagedImage], *, incomplete: str = "") -> list[Use]:
        """What EC2 finds referencing each of `images` (DescribeImageReferences: a call per
        10 AMIs of a region), as uses; the ones ebami's own scan found too are dropped by
        `Inventory.with_uses`. Where botocore or AWS cannot tell (`GuardUnavailable`), one
        warning and none: ebami's own scan stands alone. Another failure is an
        IncompleteInventory (`incomplete` appended, as `read` does)."""
        found: list[Use] = []
        for region in dict.fromkeys(image.region for image in images):
            services = self.in_region(region)
            ids = [image.image_id for image in images if image.region == region]
            try:
                with services.bounded(READ_SECONDS):
                    references = services.estate_sources().ec2.image_references(ids)
            except GuardUnavailable as exc:
                self.once.warn(
                    f"EC2's image references not read ({exc.message}): ebami's own scan of "
                    "uses stands alone"
                )
                continue
            except EbamiError as exc:
                message = f"reading EC2's image references in {region}: {exc.message}"
                raise IncompleteInventory(
                    f"{message}; {incomplete}" if incomplete else message
                ) from exc
            found += [
                Use(
                    UseKind.REFERENCE,
                    reference.image_id,
                    region,
                    f"{reference.resource_type} {reference.resource} (EC2 image references)",
                    reference.resource,
                )
                for reference in references
            ]
        return found

    def sharing(self, images: Sequence[ManagedImage], *, incomplete: str = "") -> list[Use]:
        """Who else may launch each of `images` (a call per AMI, in its own region, a few
        at once); IncompleteInventory when a read fails (`incomplete` appended, as `read`
        does)."""
        parts: list[tuple[str, EstateRegion, EstateEc2, list[str]]] = []
        for region in dict.fromkeys(image.region for image in images):
            services = self.in_region(region)
            # Made on this thread, used on the readers' (boto3's clients are thread-safe).
            ec2 = services.estate_sources().ec2
            ids = list(dict.fromkeys(image.image_id for image in images if image.region == region))
            size = -(-len(ids) // SHARING_THREADS)
            parts += [
                (region, services, ec2, ids[at : at + size]) for at in range(0, len(ids), size)
            ]

        def read(part: tuple[str, EstateRegion, EstateEc2, list[str]]) -> list[Use]:
            region, services, ec2, ids = part
            try:
                with services.bounded(READ_SECONDS):  # each reader's calls, its own deadline
                    return read_sharing(ec2, region, ids)
            except EbamiError as exc:
                message = f"reading the launch permissions in {region}: {exc.message}"
                raise IncompleteInventory(
                    f"{message}; {incomplete}" if incomplete else message
                ) from exc

        pool = ThreadPoolExecutor(max_workers=SHARING_THREADS)
        try:
            found = list(pool.map(read, parts))
        except BaseException:
            # The first failure (or Ctrl-C) ends the reads not started yet.
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
        return [use for uses in found for use in uses]
