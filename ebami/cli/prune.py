"""`ebami prune`: deregister old ebami AMIs and delete their snapshots, in every region ebami
builds for, never one that anything still uses. The plan alone unless `--yes`
(`ebami.lifecycle.prune_run`)."""

from __future__ import annotations

from typing import Annotated

import typer

from ebami.cli.context import AppContext
from ebami.cli.options import AllRegionsOption, RegionsOption, region_list
from ebami.cli.present import present
from ebami.lifecycle.prune import DEFAULT_KEEP, DEFAULT_OLDER_THAN_DAYS


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
    unused_for: Annotated[
        int | None,
        typer.Option(
            "--unused-for",
            help="Days: an AMI an instance was launched from within that many days is kept "
            "(EC2's LastLaunchedTime, which AWS reports up to 24 hours late).",
        ),
    ] = None,
    regions: RegionsOption = None,
    all_regions: AllRegionsOption = False,
    yes: Annotated[
        bool, typer.Option("--yes", help="Delete (without it: show the plan, change nothing).")
    ] = False,
) -> None:
    """Deregister ebami AMIs beyond the newest verified ones, keeping every AMI in use."""
    from ebami.cli.factory import Factory
    from ebami.cli.lifecycle_views import prune_plan_view, prune_result_view
    from ebami.lifecycle.prune import PruneRules
    from ebami.lifecycle.prune_run import execute_prune, plan_prune

    app = AppContext.of(ctx)
    rules = PruneRules(keep, older_than, unused_for)
    extra = region_list(regions, all_regions=all_regions)
    app.github  # noqa: B018 - -o github is refused before any AWS call without $GITHUB_OUTPUT
    factory = Factory(app, app.settings())
    estate = factory.estate()
    names = estate.regions(factory.estate_scope(extra, all_regions=all_regions))
    selection, plan = plan_prune(estate, names, rules)
    if not yes:
        present(app, prune_plan_view(plan, selection))
        return
    result = execute_prune(
        estate, names, plan, selection, target=factory.deletion_target, executor=factory.executor
    )
    present(app, prune_result_view(result))
