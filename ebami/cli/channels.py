"""`ebami promote` and `ebami revoke`: point a channel (an SSM parameter per platform and release)
at a verified AMI or back at its previous value, and take an AMI out of service."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ebami.cli.context import AppContext
from ebami.cli.options import DryRunOption
from ebami.cli.present import present
from ebami.cli.verify import check_target
from ebami.core.errors import InputError

if TYPE_CHECKING:
    from ebami.config.settings import Settings
    from ebami.image.platforms import Platform

# Planning reads a handful of things; throttling may stretch it, nothing should more.
PLAN_SECONDS = 300.0


def promote(
    ctx: typer.Context,
    channel: Annotated[
        str, typer.Option("--channel", help="The channel to point, such as stable.")
    ],
    ami: Annotated[
        str | None,
        typer.Option(
            "--ami",
            help="A verified ebami AMI of this account; its platform and release pick the "
            "channel's parameter.",
        ),
    ] = None,
    previous: Annotated[
        bool,
        typer.Option(
            "--previous",
            help="Step the channel back to its previous value (the newest earlier one that is "
            "usable).",
        ),
    ] = False,
    platform: Annotated[
        str | None,
        typer.Option(
            "--platform", help="With --previous: the channel's platform (default: settings)."
        ),
    ] = None,
    release: Annotated[
        str | None,
        typer.Option(
            "--release", help="With --previous: the channel's release (default: settings)."
        ),
    ] = None,
    dry_run: DryRunOption = False,
) -> None:
    """Point a channel at an AMI (or back at its previous value); SSM keeps the history."""
    from ebami.cli.factory import Factory
    from ebami.cli.lifecycle_views import promote_view
    from ebami.cli.views import dry_run_view
    from ebami.lifecycle.promote import run_promote

    app = AppContext.of(ctx)
    _check_promote(channel, ami, previous=previous, platform=platform, release=release)
    settings = app.settings(platform=platform, release=release)
    target = settings.resolved_platform()
    release_of_channel = _release(settings, target) if previous else ""
    factory = Factory(app, settings)
    with factory.bounded(PLAN_SECONDS):
        planner = factory.promote_planner()
        if ami is not None:
            plan = planner.plan(ami, channel)
        else:
            plan = planner.plan_previous(target, release_of_channel, channel)
    if dry_run:
        present(app, dry_run_view([plan.steps], {"dry_run": True, **plan.steps.to_json()}))
        return
    executor = factory.executor(factory.channel_actions())
    promoted = run_promote(plan, planner, executor, bounded=factory.bounded, warn=app.terminal.warn)
    present(app, promote_view(promoted))


def revoke(
    ctx: typer.Context,
    ami: Annotated[str, typer.Option("--ami", help="The ebami AMI of this account to revoke.")],
    reason: Annotated[
        str, typer.Option("--reason", help="Why (tagged on the AMI; up to 256 characters).")
    ],
    deprecate: Annotated[
        bool,
        typer.Option(
            "--deprecate", help="Also deprecate the AMI in EC2 (at the earliest time EC2 allows)."
        ),
    ] = False,
    disable: Annotated[
        bool,
        typer.Option(
            "--disable",
            help="Also disable the AMI in EC2: no launch from it, no launch permission "
            "(EnableImage undoes it).",
        ),
    ] = False,
    dry_run: DryRunOption = False,
) -> None:
    """Revoke an AMI: tag it, move every channel naming it back, optionally deprecate or
    disable it."""
    from ebami.cli.factory import Factory
    from ebami.cli.lifecycle_views import revoke_view
    from ebami.cli.views import dry_run_view
    from ebami.lifecycle.revoke_actions import run_revoke
    from ebami.lifecycle.revoke_inputs import check_reason

    app = AppContext.of(ctx)
    check_target(ami, None, None)
    check_reason(reason)
    factory = Factory(app, app.settings())
    with factory.bounded(PLAN_SECONDS):
        planner = factory.revoke_planner()
        plan = planner.plan(ami, reason, deprecate=deprecate, disable=disable)
    if dry_run:
        present(app, dry_run_view([plan.steps], {"dry_run": True, **plan.steps.to_json()}))
        return
    executor = factory.executor(factory.revoke_actions())
    stale = run_revoke(plan, planner, executor, bounded=factory.bounded, warn=app.terminal.warn)
    present(app, revoke_view(plan, stale))


def _check_promote(
    channel: str,
    ami: str | None,
    *,
    previous: bool,
    platform: str | None,
    release: str | None,
) -> None:
    """One of --ami and --previous; --platform and --release go with --previous only."""
    from ebami.image.channels import check_channel_name

    check_channel_name(channel)
    if (ami is None) == (not previous):
        raise InputError("give one of --ami AMI and --previous")
    if ami is not None:
        check_target(ami, None, None)
        for flag, value in (("--platform", platform), ("--release", release)):
            if value is not None:
                raise InputError(
                    f"{flag} goes with --previous only: with --ami, the AMI's tags name the "
                    "channel's platform and release"
                )


def _release(settings: Settings, platform: Platform) -> str:
    """The release of `promote --previous`: --release or the settings', else the platform's
    only one."""
    release = settings.resolved_release(platform)
    if release is not None:
        return release
    if len(platform.releases) == 1:
        return platform.releases[0]
    raise InputError(
        f"{platform.alias} has several releases: pass --release, one of "
        f"{', '.join(platform.releases)}"
    )
