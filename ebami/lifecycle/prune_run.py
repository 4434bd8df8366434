"""`ebami prune` from reading the estate to the last deletion: the plan (`ebami.lifecycle.prune`),
then, with `--yes`, the deletions (`ebami.lifecycle.deletion`) after a fresh read of every use.
A read that fails deletes nothing."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from ebami.core.plan import Executor, Plan
from ebami.lifecycle.deletion import PruneActions, PruneResult, RegionTarget
from ebami.lifecycle.estate import Estate
from ebami.lifecycle.inventory import Use
from ebami.lifecycle.protect import Protections, protections
from ebami.lifecycle.prune import PruneRules, Selection, prune_plan, select

# Why a failed read ends prune with nothing deleted.
NOTHING_DELETED = (
    "nothing was deleted: an AMI whose uses could not all be read is no AMI proved unused"
)


def plan_prune(estate: Estate, regions: Sequence[str], rules: PruneRules) -> tuple[Selection, Plan]:
    """What prune would delete and keep, with why, as the plan `--yes` executes."""
    selection = _select(estate, regions, rules)
    return selection, prune_plan(selection, regions)


def _select(estate: Estate, regions: Sequence[str], rules: PruneRules) -> Selection:
    """The rules choose the candidates from the estate; then only the candidates' launch
    permissions and EC2's references to them are read: a candidate another account may launch,
    or that EC2 finds referenced, is protected. A use only ever turns a candidate into a kept
    AMI (the rules choose bakes without looking at uses), so the AMIs that are no candidates
    need no such read."""
    inventory = estate.read(regions, incomplete=NOTHING_DELETED)
    first = select(inventory, protections(inventory), rules, inventory.read_at)
    inventory = inventory.with_uses(_candidates_uses(estate, first))
    return select(inventory, protections(inventory), rules, inventory.read_at)


def _candidates_uses(estate: Estate, selection: Selection) -> list[Use]:
    """Who else may launch each AMI about to be deleted, and what EC2 finds referencing it."""
    images = [item.image for item in selection.deleted]
    return [
        *estate.sharing(images, incomplete=NOTHING_DELETED),
        *estate.references(images, incomplete=NOTHING_DELETED),
    ]


def execute_prune(
    estate: Estate,
    regions: Sequence[str],
    plan: Plan,
    selection: Selection,
    *,
    target: Callable[[str], RegionTarget],
    executor: Callable[[PruneActions], Executor],
) -> PruneResult:
    """Read every use again, then delete AMI by AMI (`target(region)`: where a region's
    deletions go); Ctrl-C stops between AMIs."""
    result = PruneResult(selection)
    targets = {name: target(name) for name in {item.image.region for item in selection.deleted}}
    actions = PruneActions(
        targets=targets,
        reread=lambda: _reread(estate, regions, selection),
        reporter=estate.reporter,
        result=result,
    )
    try:
        executor(actions).execute(plan)
    except KeyboardInterrupt:
        result.interrupted = True
    return result


def _reread(estate: Estate, regions: Sequence[str], selection: Selection) -> Protections:
    """Every use again, and who may launch or references each AMI about to be deleted (those
    only)."""
    inventory = estate.read(regions, incomplete=NOTHING_DELETED)
    return protections(inventory.with_uses(_candidates_uses(estate, selection)))
