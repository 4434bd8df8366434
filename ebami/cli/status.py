"""`ebami status`: the estate at a glance: ebami AMIs per platform, release and region, the
channels and uses of each, every environment's drift, and whether a build waits. Reads only."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ebami.cli.context import AppContext
from ebami.cli.estate import Estate, region_list
from ebami.cli.options import PlatformOption, ReleaseOption
from ebami.core.errors import EbamiError, InputError

if TYPE_CHECKING:
    from ebami.config.settings import Settings
    from ebami.lifecycle.drift import DriftChecker
    from ebami.lifecycle.inventory import EnvironmentFacts, Inventory
    from ebami.lifecycle.status import EnvironmentStatus, RegionChannel

# Reading the estate has its own deadline; the drift and build checks after it read little.
CHECK_SECONDS = 300.0
MAX_AGE_DAYS = 3650
# Environments whose drift is checked at once.
DRIFT_THREADS = 8


def status(
    ctx: typer.Context,
    platform: PlatformOption = None,
    release: ReleaseOption = None,
    env: Annotated[
        list[str] | None,
        typer.Option(
            "--env",
            help="Show only this environment (a configured [environments.NAME] or a name); "
            "repeat for several. Default: every environment of the regions read.",
        ),
    ] = None,
    regions: Annotated[
        str | None,
        typer.Option(
            "--regions",
            help="Comma-separated regions to read too, beyond the home region, its copy_to "
            "regions and those of [environments.*].",
        ),
    ] = None,
    all_regions: Annotated[
        bool, typer.Option("--all-regions", help="Every region the account has enabled.")
    ] = False,
    max_age: Annotated[
        int,
        typer.Option("--max-age", help="Days after which an environment's AMI is too old."),
    ] = 30,
) -> None:
    """The estate: ebami AMIs, channels, what uses each AMI, drift, and whether to build."""
    from datetime import datetime, timezone

    from ebami.build.options import BuildOptions
    from ebami.config.settings import named_once
    from ebami.lifecycle.status import StatusReport

    app = AppContext.of(ctx)
    if not 1 <= max_age <= MAX_AGE_DAYS:
        raise InputError(f"--max-age {max_age} is out of range: give days from 1 to {MAX_AGE_DAYS}")
    names = list(env or [])
    if any(not name.strip() for name in names):
        raise InputError("--env '' is empty: give an environment name or [environments.NAME]")
    names = named_once((name, "--env") for name in names)
    extra = region_list(regions)
    if extra and all_regions:
        raise InputError("--regions and --all-regions exclude each other: give one of them")
    github = app.github
    settings = app.settings(platform=platform, release=release)
    platform_ = settings.resolved_platform()
    # The build verdict needs the release an AL1 build pins; without one, the view goes on.
    can_check = settings.release is not None or not platform_.releases_pin_repositories
    options = BuildOptions.from_settings(settings) if can_check else None
    estate = Estate(app, settings)
    wanted = _wanted(settings, names)
    region_names = estate.regions(
        extra + [region for region, _ in wanted if region], all_regions=all_regions
    )
    inventory = estate.read(region_names)
    build = None
    if options is not None:
        with estate.home.bounded(CHECK_SECONDS):
            build = estate.home.check_build(options)
    else:
        app.terminal.warn(
            f"no build verdict: {platform_.alias} builds need a release (--release or the "
            "settings' release)"
        )
    environments = _drift(estate, inventory, wanted, max_age)
    channels = _channels(estate, region_names)
    report = StatusReport.of(
        inventory,
        build=build,
        drift=environments,
        channels=channels,
        now=datetime.now(timezone.utc),
    )
    if app.json:
        app.terminal.out_json(report.to_json())
    else:
        app.terminal.out_text(report.text())
    if github is not None:
        github.set(report.github_outputs())
        github.summary(report.markdown())
        for item in report.drifting:
            github.annotate("warning", f"{item.verdict}: {item.detail}",
                            title=f"ebami: {item.facts.name} drifts")  # fmt: skip
    app.terminal.success(report.summary())


def _wanted(settings: Settings, names: list[str]) -> list[tuple[str | None, str]]:
    """Each `--env` as (its region if configured, its environment name)."""
    wanted = []
    for name in names:
        target, _, env_name = settings.environment_target(name)
        configured = name in settings.environments
        wanted.append((target.region if configured else None, env_name))
    return wanted


def _drift(
    estate: Estate, inventory: Inventory, wanted: list[tuple[str | None, str]], max_age: int
) -> list[EnvironmentStatus]:
    """Each environment's drift (all of them, or those `--env` names), one checker per region."""

    from concurrent.futures import ThreadPoolExecutor

    facts = list(inventory.environments)
    if wanted:
        chosen: dict[tuple[str, str], EnvironmentFacts] = {}
        for region, name in wanted:
            found = [item for item in facts if item.name == name and region in (None, item.region)]
            if not found:
                where = region or ", ".join(part.region for part in inventory.regions)
                raise InputError(f"--env {name}: no such environment in {where}")
            chosen.update({(item.region, item.name): item for item in found})
        facts = list(chosen.values())
    # One checker per region, made here; the environments are checked a few at a time (each
    # thread's calls fit its own deadline).
    checkers = {
        region: estate.factory(region).drift_checker(max_age)
        for region in dict.fromkeys(item.region for item in facts)
    }

    def check(item: EnvironmentFacts) -> EnvironmentStatus:
        with estate.factory(item.region).bounded(CHECK_SECONDS):
            return _one(checkers[item.region], item)

    with ThreadPoolExecutor(max_workers=DRIFT_THREADS) as pool:
        return list(pool.map(check, facts))


def _one(checker: DriftChecker, facts: EnvironmentFacts) -> EnvironmentStatus:
    from ebami.lifecycle.status import EnvironmentStatus

    try:
        # The inventory read its configuration already: only the platform and the AMI are read.
        return EnvironmentStatus(
            facts, checker.judge(facts.name, facts.image_id, facts.platform_arn)
        )
    except EbamiError as exc:
        # One environment that cannot be checked (its platform version or AMI unreadable) is
        # shown as such; the rest of the view stands.
        return EnvironmentStatus(facts, None, note=exc.message)


def _channels(estate: Estate, regions: list[str]) -> list[RegionChannel]:
    from ebami.lifecycle.status import RegionChannel

    found = []
    for region in regions:
        factory = estate.factory(region)
        channels = factory.channels()
        with factory.bounded(CHECK_SECONDS):
            found += [RegionChannel(region, state) for state in channels.all()]
    return found
