"""`ebami check`: whether a build is needed (by the build planner itself) and whether each
environment runs the newest verified AMI; for people, shells (`--exit-code`) and GitHub."""

from __future__ import annotations

from typing import Annotated

import typer

from ebami.cli.context import AppContext
from ebami.cli.options import PlatformOption, ReleaseOption, comma_list
from ebami.core.errors import ActionNeeded, InputError

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
    env: Annotated[
        list[str] | None,
        typer.Option(
            "--env", help="Also report this environment's drift from the newest verified AMI."
        ),
    ] = None,
    max_age: Annotated[
        int,
        typer.Option("--max-age", help="Days after which an environment's AMI is too old."),
    ] = 30,
    exit_code: Annotated[
        bool,
        typer.Option(
            "--exit-code",
            help="Exit 10 when a build or a verify is needed or an environment drifts.",
        ),
    ] = False,
) -> None:
    """Is a build needed for the settings' platform and release? Do environments drift?"""
    from ebami.build.options import BuildOptions
    from ebami.cli.factory import Factory
    from ebami.config.settings import named_once
    from ebami.lifecycle.check import CheckReport

    app = AppContext.of(ctx)
    if not 1 <= max_age <= 3650:
        raise InputError(f"--max-age {max_age} is out of range: give days from 1 to 3650")
    names = list(env or [])
    if any(not name.strip() for name in names):
        raise InputError("--env '' is empty: give an environment name or [environments.NAME]")
    names = named_once((name, "--env") for name in names)
    github = app.github
    settings = app.settings(
        platform=platform, release=release, drivers=comma_list(drivers), ssm_agent=ssm_agent
    )
    # Each --env as (settings, application, name), refused before any AWS call if no
    # environment can have its name.
    targets = [settings.environment_target(name) for name in names]
    # The very options `ebami build` would bake with: the same bake key.
    options = BuildOptions.from_settings(settings, platform_version=platform_version)
    factory = Factory(app, settings)
    with factory.bounded(CHECK_SECONDS):
        build = factory.check_build(options)
        drift = []
        # One checker per region (an [environments.NAME] may name its own), made once.
        checkers = {settings.region: factory.drift_checker(max_age)}
        for env_settings, application, env_name in targets:
            if env_settings.region not in checkers:
                checkers[env_settings.region] = factory.in_region(
                    env_settings.region
                ).drift_checker(max_age)
            drift.append(checkers[env_settings.region].check(env_name, application))
    report = CheckReport(build, tuple(drift))
    if app.json:
        app.terminal.out_json(report.to_json())
    else:
        app.terminal.out_table(report.rows())
    if github is not None:
        github.set(report.github_outputs())
        github.summary(report.markdown())
        for item in report.drifting:
            github.annotate("warning", item.line, title=f"ebami: {item.environment} drifts")
        if build.needed or build.verify_needed:
            github.annotate("notice", build.summary, title="ebami: action needed")
    if report.action_needed and exit_code:
        what = [build.summary] if build.needed or build.verify_needed else []
        what += [item.line for item in report.drifting]
        raise ActionNeeded("; ".join(what))
    drifting = f"; {len(report.drifting)} environment(s) drift" if report.drifting else ""
    app.terminal.success(build.summary + drifting)
