"""`ebami prune`: deregister old ebami AMIs and delete their snapshots, in every region ebami
builds for, never one that anything still uses. The plan alone unless `--yes`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ebami.cli.context import AppContext
from ebami.cli.estate import Estate, region_list
from ebami.core.errors import InputError, Interrupted, LeftBehind
from ebami.lifecycle.prune import (
    DEFAULT_KEEP,
    DEFAULT_OLDER_THAN_DAYS,
    MAX_KEEP,
    MAX_OLDER_THAN_DAYS,
)

# Why a failed read ends prune with nothing deleted.
NOTHING_DELETED = (
    "nothing was deleted: an AMI whose uses could not all be read is no AMI proved unused"
)

if TYPE_CHECKING:
    from ebami.cli.factory import Factory
    from ebami.cli.github import GithubOutputs
    from ebami.core.plan import Plan
    from ebami.lifecycle.deletion import PruneResult
    from ebami.lifecycle.prune import PruneRules, Selection


def prune(
    ctx: typer.Context,
    keep: Annotated[
        int,
        typer.Option(
            "--keep", help="Verified bakes to keep per platform and release (the newest)."
        ),
    ] = DEFAULT_KEEP,
    older_than: Annotated[
        int,
        typer.Option("--older-than", help="Days: a younger bake is kept whatever else holds."),
    ] = DEFAULT_OLDER_THAN_DAYS,
    regions: Annotated[
        str | None,
        typer.Option(
            "--regions",
            help="Comma-separated regions to prune too, beyond the home region, its copy_to "
            "regions and those of [environments.*].",
        ),
    ] = None,
    all_regions: Annotated[
        bool,
        typer.Option("--all-regions", help="Every region the account has enabled."),
    ] = False,
    yes: Annotated[
        bool, typer.Option("--yes", help="Delete (without it: show the plan, change nothing).")
    ] = False,
) -> None:
    """Deregister ebami AMIs beyond the newest verified ones, keeping every AMI in use."""
    from ebami.lifecycle.prune import PruneRules

    app = AppContext.of(ctx)
    if not 1 <= keep <= MAX_KEEP:
        raise InputError(
            f"--keep {keep} is out of range: give a number of bakes from 1 to {MAX_KEEP}"
        )
    if not 0 <= older_than <= MAX_OLDER_THAN_DAYS:
        raise InputError(
            f"--older-than {older_than} is out of range: give days from 0 to {MAX_OLDER_THAN_DAYS}"
        )
    extra = region_list(regions)
    if extra and all_regions:
        raise InputError("--regions and --all-regions exclude each other: give one of them")
    github = app.github  # refused before any AWS call when $GITHUB_OUTPUT is missing
    estate = Estate(app, app.settings())
    names = estate.regions(extra, all_regions=all_regions)
    selection, plan = _plan(estate, names, PruneRules(keep, older_than))
    if not yes:
        _show_plan(app, estate.home, plan, selection)
        if github is not None:
            _github(github, selection, [item.image.image_id for item in selection.deleted])
        return
    result = _execute(estate, names, plan, selection)
    _report(app, result)
    if github is not None:
        _github(github, selection, [item.image_id for item in result.deleted], result)
    _finish(app, result)


def _plan(estate: Estate, regions: list[str], rules: PruneRules) -> tuple[Selection, Plan]:
    from ebami.lifecycle.protect import protections
    from ebami.lifecycle.prune import prune_plan, select

    inventory = estate.read(regions, incomplete=NOTHING_DELETED, sharing=True)
    selection = select(inventory, protections(inventory), rules, inventory.read_at)
    return selection, prune_plan(selection, regions)


def _execute(estate: Estate, regions: list[str], plan: Plan, selection: Selection) -> PruneResult:
    from ebami.lifecycle.deletion import PruneActions, PruneResult, RegionTarget
    from ebami.lifecycle.protect import protections

    result = PruneResult(selection)
    targets = {
        region: RegionTarget(factory.ec2, factory.bounded, factory.session.cli)
        for region in {item.image.region for item in selection.deleted}
        for factory in [estate.factory(region)]
    }
    actions = PruneActions(
        targets=targets,
        reread=lambda: protections(estate.read(regions, incomplete=NOTHING_DELETED, sharing=True)),
        reporter=estate.app.terminal,
        result=result,
    )
    try:
        estate.home.executor(actions).execute(plan)
    except KeyboardInterrupt:
        result.interrupted = True
    return result


def _show_plan(app: AppContext, home: Factory, plan: Plan, selection: Selection) -> None:
    if app.json:
        app.terminal.out_json({"dry_run": True, **plan.to_json(), **selection.to_json()})
    else:
        home.display().execute(plan)
    count = len(selection.deleted)
    tail = "; run again with --yes to delete them" if count else ""
    app.terminal.success(f"dry run: {count} AMI(s) would be deleted, nothing changed{tail}")


def _report(app: AppContext, result: PruneResult) -> None:
    if app.json:
        app.terminal.out_json(result.to_json())
    else:
        app.terminal.out_table(result.rows())


def _finish(app: AppContext, result: PruneResult) -> None:
    if result.interrupted:
        raise Interrupted(
            f"stopped after {len(result.deleted)} AMI(s), none left half-deleted; run ebami "
            "prune again for the rest"
        )
    mine = [item for item in result.deleted if not item.already_gone]
    outcome = f"deleted {len(mine)} AMI(s)"
    if len(mine) < len(result.deleted):
        outcome += f" ({len(result.deleted) - len(mine)} more were deregistered already)"
    if result.left_behind:
        raise LeftBehind(result.left_behind, outcome=outcome)
    kept = f", kept {len(result.skipped)} used since the plan" if result.skipped else ""
    app.terminal.success(outcome + kept)


def _github(
    github: GithubOutputs,
    selection: Selection,
    deleted: list[str],
    result: PruneResult | None = None,
) -> None:
    """Step outputs (`deleted`: the AMI ids deleted, `deleted-count`; the dry run's
    `would-delete` and `would-delete-count` instead, with `dry-run=true`), a summary, and an
    error annotation for each thing left behind."""
    from ebami.core.tables import table

    if result is None:
        github.set(
            {
                "dry-run": "true",
                "would-delete": " ".join(deleted),
                "would-delete-count": str(len(deleted)),
                "deleted": "",
                "deleted-count": "0",
            }
        )
    else:
        github.set(
            {"dry-run": "false", "deleted": " ".join(deleted), "deleted-count": str(len(deleted))}
        )
    if result is None:
        heading = "## ebami prune (dry run: nothing deleted)"
        rows = [
            (f"{item.image.image_id} {item.image.region}", item.line())
            for item in selection.decisions
        ]
    else:
        heading = "## ebami prune"
        rows = result.rows()
    github.summary(f"{heading}\n\n{selection.counts()}\n\n" + table(("AMI", "Decision"), rows))
    for leftover in result.left_behind if result is not None else []:
        github.annotate("error", str(leftover), title="ebami prune: left behind")
