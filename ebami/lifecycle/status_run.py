"""`ebami status`'s reads: the estate of every region (`ebami.lifecycle.estate`), the build
verdict, each environment's drift (a few environments at a time, one drift checker per region
that its threads share: one platform description per version, the verified AMIs read once, an
AMI's details taken from the estate, the other AMIs read in a batch) and every region's channels;
then the view (`ebami.lifecycle.status`). Reads only."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from datetime import datetime, timezone

from ebami.core.errors import EbamiError, InputError
from ebami.image.bake import BuildVerdict
from ebami.lifecycle.drift import check_max_age
from ebami.lifecycle.estate import Estate, EstateScope
from ebami.lifecycle.inventory import EnvironmentFacts, Inventory
from ebami.lifecycle.status import EnvironmentStatus, RegionChannel, StatusReport

# Reading the estate has its own deadline; the drift and build checks after it read little.
CHECK_SECONDS = 300.0
# Environments whose drift is checked at once.
DRIFT_THREADS = 8


@dataclass(frozen=True)
class Wanted:
    """An environment `--env` names: its region when the settings configure one."""

    region: str | None
    name: str


def read_status(
    estate: Estate,
    scope: EstateScope,
    wanted: Sequence[Wanted],
    *,
    max_age: int,
    build: Callable[[], BuildVerdict | None],
    references: bool = False,
) -> StatusReport:
    """The estate at a glance; `build` gives the build verdict (None: none can be given);
    with `references`, what EC2 finds referencing each AMI is among its uses."""
    check_max_age(max_age)
    # The --env regions are read too (ignored with --all-regions, which reads every one).
    found = tuple(item.region for item in wanted if item.region)
    regions = estate.regions(replace(scope, environment_regions=scope.environment_regions + found))
    inventory = estate.read(regions)
    if references:
        inventory = inventory.with_uses(estate.references(inventory.images))
    with estate.home.bounded(CHECK_SECONDS):
        verdict = build()
    return StatusReport.of(
        inventory,
        build=verdict,
        drift=_drift(estate, inventory, wanted, max_age),
        channels=_channels(estate, regions),
        now=datetime.now(timezone.utc),
    )


def _drift(
    estate: Estate, inventory: Inventory, wanted: Sequence[Wanted], max_age: int
) -> list[EnvironmentStatus]:
    """Each environment's drift (all of them, or those `--env` names), one checker per region."""
    facts = list(inventory.environments)
    if wanted:
        chosen: dict[tuple[str, str], EnvironmentFacts] = {}
        for item in wanted:
            found = [
                facts_ for facts_ in facts
                if facts_.name == item.name and item.region in (None, facts_.region)
            ]  # fmt: skip
            if not found:
                where = item.region or ", ".join(part.region for part in inventory.regions)
                raise InputError(f"--env {item.name}: no such environment in {where}")
            chosen.update({(one.region, one.name): one for one in found})
        facts = list(chosen.values())
    # One checker per region, made here; the environments are checked a few at a time (each
    # thread's calls fit its own deadline).
    checkers = {
        region: estate.in_region(region).drift_checker(max_age)
        for region in dict.fromkeys(item.region for item in facts)
    }
    # The estate holds every managed AMI and the verified ones: only the other AMIs
    # environments run (not the platform's own; one not ebami's) are read, a region's in a batch.
    for region, checker in checkers.items():
        checker.know(inventory.region(region).images)
        checker.know_verified(inventory.region(region).verified)
        running = [(item.image_id, item.platform_arn) for item in facts if item.region == region]
        with estate.in_region(region).bounded(CHECK_SECONDS):
            try:
                checker.describe_running(running)
            except EbamiError as exc:
                # Each environment reads its own then, and shows why it cannot.
                estate.reporter.detail(
                    f"{region}: reading the AMIs environments run: {exc.message}"
                )

    def check(item: EnvironmentFacts) -> EnvironmentStatus:
        with estate.in_region(item.region).bounded(CHECK_SECONDS):
            try:
                # The inventory read its configuration already: only the platform and the AMI
                # are read (and the Dockerrun, where it decides whether a custom AMI is needed).
                drift = checkers[item.region].judge(
                    item.name,
                    item.image_id,
                    item.platform_arn,
                    deployed=(item.application, item.version_label),
                )
            except EbamiError as exc:
                # One environment that cannot be checked (its platform version or AMI
                # unreadable) is shown as such; the rest of the view stands.
                return EnvironmentStatus(item, None, note=exc.message)
            return EnvironmentStatus(item, drift)

    with ThreadPoolExecutor(max_workers=DRIFT_THREADS) as pool:
        return list(pool.map(check, facts))


def _channels(estate: Estate, regions: Sequence[str]) -> list[RegionChannel]:
    found = []
    for region in regions:
        services = estate.in_region(region)
        with services.bounded(CHECK_SECONDS):
            found += [RegionChannel(region, state) for state in services.channels().all()]
    return found
