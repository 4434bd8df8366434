"""`ebami check`: whether a build is needed (by the build planner itself) and whether each
environment runs the newest verified AMI; for people, shells (`--exit-code`) and GitHub
(`ebami.lifecycle.check`)."""

from __future__ import annotations

from contextlib import ExitStack
from typing import TYPE_CHECKING, Annotated

import typer

from ebami.cli.context import AppContext
from ebami.cli.options import (
    EnvsOption,
    MaxAgeOption,
    PlatformOption,
    ReleaseOption,
    comma_list,
    environment_names,
)
from ebami.cli.present import present

if TYPE_CHECKING:
    from ebami.config.settings import Settings
    from ebami.lifecycle.check import Watched

# Planning reads a few things; throttling may stretch it, nothing should more.
CHECK_SECONDS = 300.0


def check(
    ctx: typer.Context,
    platform: PlatformOption = None,
    release: ReleaseOption = None,
    platform_version: Annotated[
        str | None,
        typer.Option("--platform-version", help="Compare with this platform version's AMI."),
    ] = None,
    drivers: Annotated[
        str | None,
        typer.Option("--drivers", help="Comma-separated log drivers (as build takes them)."),
    ] = None,
    ssm_agent: Annotated[
        bool | None,
        typer.Option("--ssm-agent/--no-ssm-agent", help="As build takes it.", show_default=False),
    ] = None,
    env: EnvsOption = None,
    max_age: MaxAgeOption = 30,
    exit_code: Annotated[
        bool,
        typer.Option(
            "--exit-code",
            help="Exit 10 when a build or a verify is needed or an environment drifts.",
        ),
    ] = False,
) -> None:
    """Is a build needed for the settings' platform and release? Does each --env drift from
    the newest verified AMI?"""
    from ebami.build.options import BuildOptions
    from ebami.cli.factory import Factory
    from ebami.cli.lifecycle_views import check_view
    from ebami.lifecycle.check import run_check
    from ebami.lifecycle.drift import check_max_age

    app = AppContext.of(ctx)
    check_max_age(max_age)
    names = environment_names(env)
    app.github  # noqa: B018 - -o github is refused before any AWS call without $GITHUB_OUTPUT
    settings = app.settings(
        platform=platform, release=release, drivers=comma_list(drivers), ssm_agent=ssm_agent
    )
    # Every --env resolved (a name no environment can have refused) before any AWS call.
    watched = [_watched(settings, name) for name in names]
    # The very options `ebami build` would bake with: the same bake key.
    options = BuildOptions.from_settings(settings, platform_version=platform_version)
    factory = Factory(app, settings)
    with ExitStack() as bounds:
        # Every region's calls fit the deadline (throttled ones retried until it), the home
        # region's and each --env region's, whose calls go through its own session.
        for region in dict.fromkeys([None, *(item.region for item in watched)]):
            bounds.enter_context(factory.in_region(region).bounded(CHECK_SECONDS))
        report = run_check(
            lambda: factory.check_build(options),
            watched,
            lambda region: factory.in_region(region).drift_checker(max_age),
            lambda verdict: factory.base_need(verdict),
        )
    present(app, check_view(report, exit_code=exit_code))


def _watched(settings: Settings, name: str) -> Watched:
    from ebami.lifecycle.check import Watched

    target, application, environment = settings.environment_target(name)
    return Watched(target.region, application, environment)
