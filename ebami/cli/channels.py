"""`ebami promote` and `ebami revoke`: point a channel (an SSM parameter per platform and release)
at a verified AMI or back at its previous value, and take an AMI out of service."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ebami.cli.context import AppContext
from ebami.core.errors import InputError

if TYPE_CHECKING:
    from ebami.cli.factory import Factory
    from ebami.config.settings import Settings
    from ebami.image.channels import Channels
    from ebami.image.platforms import Platform
    from ebami.lifecycle.promote import PromotePlan
    from ebami.lifecycle.revoke import RevokePlan

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
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan; change nothing.")
    ] = False,
) -> None:
    """Point a channel at an AMI (or back at its previous value); SSM keeps the history."""
    from ebami.cli.verify import check_target
    from ebami.image.channels import check_channel_name
    from ebami.lifecycle.channel_actions import ChannelActions
    from ebami.lifecycle.promote import PromotePlanner

    app = AppContext.of(ctx)
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
    settings = app.settings(platform=platform, release=release)
    target = settings.resolved_platform()
    release_of_channel = _release(settings, target) if previous else ""
    factory = _factory(app, settings)
    with factory.bounded(PLAN_SECONDS):
        planner = PromotePlanner(
            ec2=factory.ec2, channels=_channels(factory), region=factory.session.region
        )
        if ami is not None:
            plan = planner.plan(ami, channel)
        else:
            plan = planner.plan_previous(target, release_of_channel, channel)
    if dry_run:
        factory.display().execute(plan.steps)
        return
    version = plan.current_version
    if not plan.unchanged:
        outputs = factory.executor(ChannelActions(factory.ec2, factory.ssm)).execute(plan.steps)
        version = outputs["version"]
        # Another promote or revoke may have written since the plan: read the channel back.
        with factory.bounded(PLAN_SECONDS):
            now = planner.written(plan).now
        if now != plan.image_id:
            app.terminal.warn(
                f"channel {plan.key} "
                + (f"names {now} now" if now else "has no value now")
                + f", not {plan.image_id}: another promote or revoke wrote it since this one"
            )
    _report_promote(app, plan, version)


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
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan; change nothing.")
    ] = False,
) -> None:
    """Revoke an AMI: tag it, move every channel naming it back, optionally deprecate it."""
    from datetime import datetime, timezone

    from ebami.cli.verify import check_target
    from ebami.lifecycle.channel_actions import ChannelActions
    from ebami.lifecycle.readback import needs_attention
    from ebami.lifecycle.revoke import (
        RevokeActions,
        RevokePlanner,
        RevokeRegion,
        check_reason,
        execute_revoke,
    )

    app = AppContext.of(ctx)
    check_target(ami, None, None)
    check_reason(reason)
    settings = app.settings()
    factory = _factory(app, settings)
    home = factory.session.region
    # The AMI's copies are looked for where `ebami build` copies to (each region a factory).
    factories = {region: factory.in_region(region) for region in [home, *settings.copy_to]}
    with factory.bounded(PLAN_SECONDS):
        planner = RevokePlanner(
            ec2=factory.ec2,
            channels=_channels(factory),
            region=home,
            now=lambda: datetime.now(timezone.utc),
            copies=[
                RevokeRegion(region, copy.ec2, _channels(copy))
                for region, copy in factories.items()
                if region != home
            ],
        )
        plan = planner.plan(ami, reason, deprecate=deprecate)
    if dry_run:
        factory.display().execute(plan.steps)
        return
    actions = RevokeActions(
        {region: ChannelActions(each.ec2, each.ssm) for region, each in factories.items()},
        warn=app.terminal.warn,
    )
    execute_revoke(plan, factory.executor(actions), warn=app.terminal.warn)
    # Another revoke or promote may have written since the plan: read the channels back.
    with factory.bounded(PLAN_SECONDS):
        stale = planner.written(plan)
    _report_revoke(app, plan)
    if stale:
        raise needs_attention(stale, "revoke")


def _factory(app: AppContext, settings: Settings) -> Factory:
    from ebami.cli.factory import Factory

    return Factory(app, settings)


def _channels(factory: Factory) -> Channels:
    return factory.channels()


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


def _report_promote(app: AppContext, plan: PromotePlan, version: int | None) -> None:
    if app.json:
        app.terminal.out_json({**plan.to_json(), "version": version})
    else:
        app.terminal.out_text(f"{plan.parameter}  {plan.image_id}  version {version}\n")
    github = app.github
    if github is not None:
        github.set(
            {
                "channel": plan.key.channel,
                "ami-id": plan.image_id,
                "version": str(version),
            }
        )
        github.summary(
            f"## ebami promote\n\nChannel {plan.key} (`{plan.parameter}`): {plan.image_id}, "
            f"version {version}" + (" (unchanged)" if plan.unchanged else "") + "\n"
        )
    if plan.unchanged:
        app.terminal.success(f"unchanged: channel {plan.key} already names {plan.image_id}")
    else:
        app.terminal.success(
            f"channel {plan.key} now names {plan.image_id} (was {plan.current or 'unset'})"
        )


def _report_revoke(app: AppContext, plan: RevokePlan) -> None:
    lines = [
        f"{move.state.parameter}{f' ({move.region})' if move.remote else ''}  "
        f"{move.state.image_id} -> "
        + (move.previous.image_id or "deleted (no earlier usable value)")
        for move in plan.moves
    ]
    revoked = [f"revoked {plan.image_id}"] + [
        f"revoked copy {copy.image_id} ({copy.region})" for copy in plan.copies
    ]
    if app.json:
        app.terminal.out_json(plan.to_json())
    else:
        app.terminal.out_text("".join(line + "\n" for line in [*revoked, *lines]))
    github = app.github
    if github is not None:
        github.set({"ami-id": plan.image_id, "channels": "\n".join(lines)})
        body = "\n".join(f"- `{line}`" for line in lines) or "No channel named it."
        github.summary(f"## ebami revoke\n\n{plan.image_id}: {plan.reason}\n\n{body}\n")
    moved = f"; {len(plan.moves)} channel(s) moved off it" if plan.moves else ""
    copies = f"; {len(plan.copies)} copy(ies) in other regions too" if plan.copies else ""
    deprecated = f"; deprecated at {plan.to_json()['deprecate_at']}" if plan.deprecate_at else ""
    if plan.already:
        if plan.given_reason != plan.reason:
            app.terminal.warn(
                f"the reason given ({plan.given_reason}) is not recorded: {plan.image_id} keeps "
                "the first one"
            )
        app.terminal.success(
            f"{plan.image_id} already revoked on {plan.revoked_at}: {plan.reason}"
            f"{moved}{copies}{deprecated}"
        )
    else:
        app.terminal.success(f"{plan.image_id} revoked ({plan.reason}){moved}{copies}{deprecated}")
