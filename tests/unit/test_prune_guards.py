"""Prune with EC2's own AMI guards: deregistration protection (ebami's is turned off for an AMI
nothing uses; another's, or a running cooldown, keeps the AMI), `--unused-for` on EC2's
LastLaunchedTime, and DeregisterImage(DeleteAssociatedSnapshots) with each snapshot's result,
falling back to one call per snapshot, with one warning, where it cannot be used."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext

import pytest

from ebami.aws.session import AwsCli
from ebami.core.errors import InputError
from ebami.core.plan import Executor
from ebami.lifecycle.deletion import PruneActions, PruneResult, RegionTarget
from ebami.lifecycle.protect import protections
from ebami.lifecycle.prune import PruneRules, Selection, prune_plan, select
from tests.fakes.prune import EAST, NOW, DeletingEc2, ami, estate, id_of, snap
from tests.helpers import RecordingReporter


def unbounded(seconds: float) -> AbstractContextManager[object]:
    return nullcontext()


def choose(*images: object, unused_for: int | None = None) -> Selection:
    inventory = estate(*images)  # type: ignore[arg-type]
    rules = PruneRules(keep=1, older_than_days=0, unused_for_days=unused_for)
    return select(inventory, protections(inventory), rules, NOW)


def verdicts(selection: Selection) -> dict[str, tuple[str, str]]:
    return {
        item.image.image_id: (item.verdict.value, "; ".join(item.reasons))
        for item in selection.decisions
    }


def run(selection: Selection, ec2: DeletingEc2) -> tuple[PruneResult, RecordingReporter]:
    result = PruneResult(selection)
    reporter = RecordingReporter()
    actions = PruneActions(
        targets={EAST: RegionTarget(ec2, unbounded, AwsCli(EAST))},
        reread=dict,
        reporter=reporter,
        result=result,
    )
    Executor(actions, reporter).execute(prune_plan(selection, [EAST]))
    return result, reporter


def newest_and(*older: object) -> Selection:
    """The newest verified bake (kept) and `older` AMIs, which the rules would delete."""
    return choose(ami(1, age=1, bake="k1", verified=True), *older)


# --- the choice ---------------------------------------------------------------------------------


def test_protection_turned_on_outside_ebami_keeps_the_ami() -> None:
    selection = newest_and(
        ami(2, age=9, bake="k2", verified=True, protection="enabled-with-cooldown")
    )
    verdict, why = verdicts(selection)[id_of(2)]
    assert verdict == "keep"
    assert why.startswith("deregistration protection enabled-with-cooldown, turned on outside")
    assert "no ebami:protected-for tag" in why


def test_ebami_s_own_protection_is_turned_off_first() -> None:
    image = ami(
        2, age=9, bake="k2", verified=True, protection="enabled-without-cooldown",
        protected_for="environment prod",
    )  # fmt: skip
    selection = newest_and(image)
    assert verdicts(selection)[id_of(2)][0] == "delete"
    [step] = prune_plan(selection, [EAST]).instructions[1:]
    assert step.params["unprotect"] is True
    assert "turn off the deregistration protection ebami turned on" in step.message


def test_a_running_cooldown_keeps_the_ami_until_it_ends() -> None:
    cooling = ami(
        2, age=9, bake="k2", verified=True, protection="disabled-until 2026-11-22T09:00:00.000Z"
    )
    ended = ami(
        3, age=9, bake="k3", verified=True, protection="disabled-until 2026-11-20T09:00:00.000Z"
    )
    found = verdicts(newest_and(cooling, ended))
    assert found[id_of(2)] == (
        "keep",
        "deregistration protection cooling down until 2026-11-22T09:00:00Z",
    )
    assert found[id_of(3)][0] == "delete"


def test_unused_for_keeps_an_ami_launched_within_the_days() -> None:
    images = (
        ami(1, age=1, bake="k1", verified=True),
        ami(2, age=90, bake="k2", verified=True, launched=3.5),
        ami(3, age=90, bake="k3", verified=True, launched=45),
        ami(4, age=90, bake="k4", verified=True),  # never launched
    )
    found = verdicts(choose(*images, unused_for=30))
    assert found[id_of(2)] == (
        "keep",
        "last launched 3.5 day(s) ago (EC2's LastLaunchedTime), within --unused-for 30",
    )
    assert found[id_of(3)][0] == "delete"
    assert found[id_of(4)][0] == "delete"
    assert verdicts(choose(*images))[id_of(2)][0] == "delete"  # without the option


@pytest.mark.parametrize("days", [0, 3651])
def test_unused_for_out_of_range_is_one_line(days: int) -> None:
    with pytest.raises(InputError, match=f"--unused-for {days} is out of range: give days from 1"):
        PruneRules(unused_for_days=days)


# --- the deletions --------------------------------------------------------------------------------


def test_snapshots_go_with_their_ami_in_one_call_and_each_result_is_read() -> None:
    selection = newest_and(
        ami(2, age=9, bake="k2", verified=True, snapshots=(snap(2), snap(22), snap(23))),
    )
    ec2 = DeletingEc2(
        associated={id_of(2): {snap(2): "success", snap(22): "skipped", snap(23): "client-error"}}
    )
    result, reporter = run(selection, ec2)
    # The one the call could not delete is deleted on its own (today's path).
    assert ec2.calls == [f"deregister {id_of(2)} with its snapshots", f"delete {snap(23)}"]
    [deleted] = result.deleted
    assert deleted.snapshot_ids == (snap(2), snap(23))
    assert (
        f"warning: {EAST}: snapshot {snap(22)} of {id_of(2)} kept: another AMI still uses it"
        in (reporter.lines)
    )


def test_where_the_call_is_unavailable_one_warning_and_one_call_per_snapshot() -> None:
    selection = newest_and(
        ami(2, age=9, bake="k2", verified=True), ami(3, age=12, bake="k3", verified=True)
    )
    ec2 = DeletingEc2()
    result, reporter = run(selection, ec2)
    assert ec2.calls == [
        f"deregister {id_of(3)}", f"delete {snap(3)}",
        f"deregister {id_of(2)}", f"delete {snap(2)}",
    ]  # fmt: skip
    warnings = [line for line in reporter.lines if "DeleteAssociatedSnapshots" in line]
    assert warnings == [
        "warning: deleting snapshots with their AMI (DeregisterImage with "
        "DeleteAssociatedSnapshots is unknown to the installed botocore 1.0.0 (it came with "
        "1.38.25)): one call per snapshot"
    ]
    assert [item.image_id for item in result.deleted] == [id_of(3), id_of(2)]


def test_protection_is_turned_off_then_the_ami_deleted() -> None:
    image = ami(
        2,
        age=9,
        bake="k2",
        verified=True,
        protection="enabled-without-cooldown",
        protected_for="channel stable",
    )
    ec2 = DeletingEc2(associated={id_of(2): {snap(2): "success"}})
    result, _ = run(newest_and(image), ec2)
    assert ec2.calls == [f"unprotect {id_of(2)}", f"deregister {id_of(2)} with its snapshots"]
    assert [item.image_id for item in result.deleted] == [id_of(2)]


def test_a_cooldown_after_turning_protection_off_leaves_the_ami_for_a_later_prune() -> None:
    image = ami(
        2,
        age=9,
        bake="k2",
        verified=True,
        protection="enabled-with-cooldown",
        protected_for="environment prod",
    )
    ec2 = DeletingEc2(protection={id_of(2): "disabled-until 2026-11-22T12:00:00.000Z"})
    result, _ = run(newest_and(image), ec2)
    assert ec2.calls == [f"unprotect {id_of(2)}"]
    assert result.deleted == []
    [left] = result.left_behind
    assert "it holds (disabled-until 2026-11-22T12:00:00.000Z); a later prune deletes it" in str(
        left
    )
    assert f"aws ec2 deregister-image --image-id {id_of(2)}" in str(left)


def test_protection_that_cannot_be_turned_off_leaves_the_ami_with_the_commands() -> None:
    image = ami(
        2,
        age=9,
        bake="k2",
        verified=True,
        protection="enabled-without-cooldown",
        protected_for="environment prod",
    )
    ec2 = DeletingEc2(failing=frozenset({id_of(2)}))
    result, _ = run(newest_and(image), ec2)
    assert ec2.calls == [f"unprotect {id_of(2)}"]
    [left] = result.left_behind
    assert "deregistration protection not turned off" in str(left)
    assert "disable-image-deregistration-protection" in str(left)
    assert result.deleted == []


def test_an_ami_with_a_snapshot_the_plan_keeps_is_deleted_without_its_snapshots_call() -> None:
    """DeleteAssociatedSnapshots only where the plan deletes every snapshot of the AMI: EC2
    then deletes nothing the plan keeps (here, one a later AMI still uses)."""
    shared = snap(9)
    selection = choose(
        ami(3, age=1, bake="k3", verified=True, snapshots=(shared,)),  # the newest: kept
        ami(2, age=9, bake="k2", verified=True, snapshots=(snap(2), shared)),
    )
    [step] = [i for i in prune_plan(selection, [EAST]).instructions if i.action == "delete_image"]
    assert (step.params["snapshot_ids"], step.params["every_snapshot"]) == ([snap(2)], False)
    ec2 = DeletingEc2(associated={id_of(2): {snap(2): "success", shared: "skipped"}})
    result, _ = run(selection, ec2)
    assert ec2.calls == [f"deregister {id_of(2)}", f"delete {snap(2)}"]
    assert [item.snapshot_ids for item in result.deleted] == [(snap(2),)]


def test_an_ami_gone_before_its_protection_was_turned_off_is_recorded_as_gone() -> None:
    image = ami(2, age=9, bake="k2", verified=True, protection="enabled-without-cooldown",
                protected_for="apply prod")  # fmt: skip
    ec2 = DeletingEc2(gone=frozenset({id_of(2)}))
    result, _ = run(newest_and(image), ec2)
    assert result.left_behind == []
    [deleted] = result.deleted
    assert (deleted.image_id, deleted.already_gone) == (id_of(2), True)


def test_ec2_answering_true_to_turning_protection_off_is_released() -> None:
    """The API reference documents `Return` as true on success; the CLI shows `disabled`."""
    image = ami(2, age=9, bake="k2", verified=True, protection="enabled-without-cooldown",
                protected_for="apply prod")  # fmt: skip
    ec2 = DeletingEc2(associated={id_of(2): {snap(2): "success"}}, protection={id_of(2): "true"})
    result, _ = run(newest_and(image), ec2)
    assert [item.image_id for item in result.deleted] == [id_of(2)]
