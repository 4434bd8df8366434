"""`ebami status`: the estate at a glance: ebami AMIs per platform, release and region, the
channels and uses of each, every environment's drift, and whether a build waits. Reads only
(`ebami.lifecycle.status_run`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ebami.cli.context import AppContext
from ebami.cli.options import (
    AllRegionsOption,
    EnvsOption,
    MaxAgeOption,
    PlatformOption,
    RegionsOption,
    ReleaseOption,
    environment_names,
    region_list,
)
from ebami.cli.present import present

if TYPE_CHECKING:
    from collections.abc import Callable

    from ebami.cli.factory import Factory
    from ebami.config.settings import Settings
    from ebami.image.bake import BuildVerdict
    from ebami.lifecycle.status_run import Wanted


def status(
    ctx: typer.Context,
    platform: PlatformOption = None,
    release: ReleaseOption = None,
    env: EnvsOption = None,
    regions: RegionsOption = None,
    all_regions: AllRegionsOption = False,
    max_age: MaxAgeOption = 30,
    references: Annotated[
        bool,
        typer.Option(
            "--references",
            help="Also ask EC2 what references each AMI (DescribeImageReferences: a call per "
            "10 AMIs; prune always asks, for what it would delete).",
        ),
    ] = False,
) -> None:
    """The estate: ebami AMIs, channels, what uses each AMI, drift, and whether to build.
    Without --env, every environment of the regions read."""
    from ebami.cli.factory import Factory
    from ebami.cli.lifecycle_views import status_view
    from ebami.lifecycle.drift import check_max_age
    from ebami.lifecycle.status_run import read_status

    app = AppContext.of(ctx)
    check_max_age(max_age)
    names = environment_names(env)
    extra = region_list(regions, all_regions=all_regions)
    app.github  # noqa: B018 - -o github is refused before any AWS call without $GITHUB_OUTPUT
    settings = app.settings(platform=platform, release=release)
    factory = Factory(app, settings)
    report = read_status(
        factory.estate(),
        factory.estate_scope(extra, all_regions=all_regions),
        _wanted(settings, names),
        max_age=max_age,
        build=_build_verdict(factory),
        references=references,
    )
    present(app, status_view(report))


def _wanted(settings: Settings, names: list[str]) -> list[Wanted]:
    """Each `--env` as its region (when configured) and its environment name."""
    from ebami.lifecycle.status_run import Wanted

    wanted = []
    for name in names:
        target, _, env_name = settings.environment_target(name)
        configured = name in settings.environments
        wanted.append(Wanted(target.region if configured else None, env_name))
    return wanted


def _build_verdict(factory: Factory) -> Callable[[], BuildVerdict | None]:
    """The settings' build verdict, as `ebami check` gives it; none, with a warning, when an
    Amazon Linux 1 platform has no release to build for."""
    from ebami.build.options import BuildOptions

    settings = factory.settings
    platform = settings.resolved_platform()
    if settings.release is None and platform.releases_pin_repositories:

        def none() -> None:
            factory.app.terminal.warn(
                f"no build verdict: {platform.alias} builds need a release (--release or the "
                "settings' release)"
            )

        return none
    options = BuildOptions.from_settings(settings)
    return lambda: factory.check_build(options)
