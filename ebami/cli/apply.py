"""`ebami apply`: switch Elastic Beanstalk environments to a custom AMI, follow each update,
roll back on failure; several environments in waves (`ebami.apply.orchestrator`)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ebami.apply.waves import DEFAULT_CANARY, DEFAULT_CONCURRENCY, MAX_CONCURRENCY
from ebami.cli.context import AppContext
from ebami.cli.options import DryRunOption, EnvsOption, RecordOption
from ebami.cli.present import fail, present
from ebami.cli.verify import check_target
from ebami.core.errors import EbamiError, InputError

if TYPE_CHECKING:
    from ebami.apply.orchestrator import FleetApply


def apply(
    ctx: typer.Context,
    env: EnvsOption = None,
    group: Annotated[
        list[str] | None,
        typer.Option(
            "--group",
            help="A [groups] entry of the settings: its environments, after those of --env; "
            "repeatable.",
        ),
    ] = None,
    canary: Annotated[
        int,
        typer.Option(
            "--canary",
            help="How many environments (the first ones) go alone, as the first wave (0 to "
            "--concurrency).",
        ),
    ] = DEFAULT_CANARY,
    concurrency: Annotated[
        int,
        typer.Option(
            "--concurrency",
            help=f"How many environments each later wave switches at once (1 to "
            f"{MAX_CONCURRENCY}).",
        ),
    ] = DEFAULT_CONCURRENCY,
    ami: Annotated[
        str | None,
        typer.Option(
            "--ami",
            help="The AMI to switch to (default: the newest verified ebami AMI that fits).",
        ),
    ] = None,
    channel: Annotated[
        str | None,
        typer.Option("--channel", help="Switch to the AMI this channel (ebami promote) names."),
    ] = None,
    rollback: Annotated[
        bool,
        typer.Option("--rollback", help="Switch back to the AMI the last apply replaced."),
    ] = False,
    stock: Annotated[
        bool,
        typer.Option(
            "--stock",
            help="Switch back to the platform's own AMI (removes ImageId), once ebami verify "
            "--stock found that it allows the drivers.",
        ),
    ] = False,
    allow_unverified: Annotated[
        bool,
        typer.Option("--allow-unverified", help="Accept an AMI ebami verify has not passed."),
    ] = False,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            help="Seconds each update may take (default: what its update policy allows).",
        ),
    ] = None,
    settle: Annotated[
        float | None,
        typer.Option(
            "--settle", help="Seconds health must hold Green after an update (default 60)."
        ),
    ] = None,
    verify: Annotated[
        bool,
        typer.Option("--verify", help="Then run ebami verify --env on the new instances."),
    ] = False,
    record: RecordOption = None,
    dry_run: DryRunOption = False,
) -> None:
    """Plan, gate, perform and follow the switch of each environment's ImageId. Several
    environments are switched in waves (--canary, --concurrency), stopping after the first
    wave with a failure."""
    from ebami.apply.options import ApplyOptions
    from ebami.apply.waves import check_sizes, expand_groups, plan_waves
    from ebami.cli.factory import Factory
    from ebami.core.files import require_folder

    app = AppContext.of(ctx)
    names = _environment_names(env or [], group or [])
    if ami is not None:
        check_target(ami, None, None)
    check_sizes(canary, concurrency)
    options = ApplyOptions(ami, rollback, allow_unverified, timeout, channel, stock=stock)
    settings = app.settings(settle=settle)
    names = expand_groups(names, group or [], settings.groups)
    for name in names:  # a name no environment can have: refused before any AWS call
        settings.environment_target(name)
    waves = plan_waves(names, canary=canary, concurrency=concurrency)
    if record is not None:
        require_folder(record, "--record")
    fleet = Factory(app, settings).fleet_apply(
        waves, options, record=record, concurrency=concurrency, verify=verify
    )
    _run(app, fleet, dry_run=dry_run)


def _run(app: AppContext, fleet: FleetApply, *, dry_run: bool) -> None:
    """The dry run, or the run; on an error, the results so far are shown before it."""
    from ebami.apply.orchestrator import Preflight
    from ebami.cli.views import apply_dry_run_view, apply_view

    if dry_run:
        present(app, apply_dry_run_view(fleet.dry_run()))
        return
    try:  # every environment found (and, with several, planned) before the first change
        fleet.prepare()
    except Preflight as stop:
        fail(app, apply_view(fleet.results, error=stop.error, done=False))
    try:
        fleet.apply()
    except EbamiError as exc:  # what was done before the failure is still the result
        fail(app, apply_view(fleet.results, error=exc, done=False))
    present(app, apply_view(fleet.results, error=fleet.outcome(), done=True))


def _environment_names(envs: list[str], groups: list[str]) -> list[str]:
    for name in envs:
        if not name.strip():
            raise InputError(
                "--env '' is empty: give an environment name or a configured [environments.NAME]"
            )
    if not envs and not groups:
        raise InputError(
            "Missing option '--env': give --env NAME (repeat it for several) or --group NAME"
        )
    return envs
