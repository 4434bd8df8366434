"""Prune's choice and plan: keep N verified bakes, the awaiting and the young ones, never an AMI
in use, a foreign or an unmanaged one; snapshots only when nothing else holds them. Plus a
property test over random estates, and the actions that carry a plan out."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from datetime import timedelta

from hypothesis import example, given, settings
from hypothesis import strategies as st

from ebami.aws.session import AwsCli
from ebami.core.plan import Executor
from ebami.image.managed import ManagedImage
from ebami.lifecycle.deletion import PruneActions, PruneResult, RegionTarget
from ebami.lifecycle.inventory import Inventory, RegionInventory, Use, UseKind
from ebami.lifecycle.protect import Protections, protections
from ebami.lifecycle.prune import PruneRules, Selection, Verdict, prune_plan, select
from tests.fakes.images import ACCOUNT, managed_image
from tests.fakes.prune import (
    EAST,
    NOW,
    PLATFORM,
    WEST,
    DeletingEc2,
    ami,
    choose,
    estate,
    id_of,
    snap,
)
from tests.helpers import RecordingReporter


def verdicts(selection: Selection) -> dict[str, str]:
    return {item.image.image_id: item.verdict.value for item in selection.decisions}


def test_keeps_the_n_newest_verified_bakes_and_deletes_the_older() -> None:
    images = [ami(n, age=10 * n, bake=f"k{n}", verified=True) for n in range(1, 5)]
    chosen = choose(estate(*images), keep=2)
    assert verdicts(chosen) == {
        id_of(1): "keep",
        id_of(2): "keep",
        id_of(3): "delete",
        id_of(4): "delete",
    }
    reasons = {item.image.image_id: item.reasons[0] for item in chosen.decisions}
    assert reasons[id_of(1)] == f"verified bake 1 of the 2 kept for {PLATFORM} 2018.03"
    assert reasons[id_of(3)] == (
        f"older than the 2 newest verified bake(s) of {PLATFORM} 2018.03, 30.0 day(s) old"
    )


def test_copies_in_other_regions_share_their_bake() -> None:
    images = [
        ami(1, age=1, bake="new", verified=True),
        ami(2, age=1, bake="new", region=WEST),  # the copy carries no verified tag
        ami(3, age=20, bake="old", verified=True),
        ami(4, age=20, bake="old", region=WEST),
    ]
    chosen = choose(estate(*images), keep=1)
    assert verdicts(chosen) == {
        id_of(1): "keep",
        id_of(2): "keep",
        id_of(3): "delete",
        id_of(4): "delete",
    }
    west = [item for item in chosen.deleted if item.image.region == WEST]
    assert [item.snapshots for item in west] == [(f"snap-{4:017x}",)]


def test_a_bake_is_as_new_as_its_newest_image() -> None:
    # `build --force` made a second image of bake "rebuilt" yesterday; its first is 30 days old.
    images = [
        ami(1, age=30, bake="rebuilt", verified=True),
        ami(2, age=1, bake="rebuilt", verified=True),
        ami(3, age=10, bake="other", verified=True),
    ]
    assert verdicts(choose(estate(*images), keep=1)) == {
        id_of(1): "keep",
        id_of(2): "keep",
        id_of(3): "delete",
    }


def test_a_forced_rebuild_is_a_bake_of_its_own() -> None:
    # One bake key, built three times (`build --force`), each run verified; run-c was copied.
    images = [
        ami(1, age=30, bake="key", run="run-a", verified=True),
        ami(2, age=20, bake="key", run="run-b", verified=True),
        ami(3, age=10, bake="key", run="run-c", verified=True),
        ami(4, age=10, bake="key", run="run-c", region=WEST),
    ]
    chosen = choose(estate(*images), keep=1)
    assert verdicts(chosen) == {
        id_of(1): "delete",
        id_of(2): "delete",
        id_of(3): "keep",
        id_of(4): "keep",
    }
    kept = next(item for item in chosen.decisions if item.image.image_id == id_of(3))
    assert kept.reasons == (f"verified bake 1 of the 1 kept for {PLATFORM} 2018.03",)


def test_a_pending_bake_is_never_the_verified_one_kept() -> None:
    # Two verified bakes made in the same second; the one whose id sorts last is still pending.
    images = [
        ami(1, age=10, bake="bake-1", verified=True),
        ami(2, age=10, bake="bake-2", verified=True, state="pending"),
        ami(3, age=40, bake="bake-0", verified=True),
    ]
    assert verdicts(choose(estate(*images), keep=1)) == {
        id_of(1): "keep",
        id_of(2): "keep",
        id_of(3): "delete",
    }


def test_bakes_made_at_the_same_time_order_by_their_id() -> None:
    images = [
        ami(1, age=10, bake="bake-b", verified=True),
        ami(2, age=10, bake="bake-a", verified=True),
    ]
    assert verdicts(choose(estate(*images), keep=1)) == {id_of(1): "keep", id_of(2): "delete"}


def test_each_platform_and_release_keeps_its_own() -> None:
    images = [
        ami(1, age=5, bake="a1", verified=True, release="2018.03"),
        ami(2, age=9, bake="a2", verified=True, release="2018.03"),
        ami(3, age=30, bake="b1", verified=True, release="2017.09"),
    ]
    assert verdicts(choose(estate(*images), keep=1)) == {
        id_of(1): "keep",
        id_of(2): "delete",
        id_of(3): "keep",
    }


def test_an_unverified_bake_newer_than_the_newest_verified_awaits_verify() -> None:
    images = [
        ami(1, age=2, bake="new"),
        ami(2, age=5, bake="good", verified=True),
        ami(3, age=8, bake="stale"),  # unverified and older than the verified one
    ]
    chosen = choose(estate(*images), keep=1)
    assert verdicts(chosen) == {id_of(1): "keep", id_of(2): "keep", id_of(3): "delete"}
    awaiting = next(item for item in chosen.decisions if item.image.image_id == id_of(1))
    assert "awaiting ebami verify" in awaiting.reasons[0]


def test_without_any_verified_bake_nothing_is_deleted() -> None:
    images = [ami(n, age=100 + n, bake=f"k{n}") for n in range(3)]
    assert set(verdicts(choose(estate(*images), keep=1)).values()) == {"keep"}


def test_bakes_younger_than_older_than_stay() -> None:
    images = [
        ami(1, age=1, bake="k1", verified=True),
        ami(2, age=3, bake="k2", verified=True),
        ami(3, age=8, bake="k3", verified=True),
    ]
    assert verdicts(choose(estate(*images), keep=1, older_than=7)) == {
        id_of(1): "keep",
        id_of(2): "keep",
        id_of(3): "delete",
    }
    assert verdicts(choose(estate(*images), keep=1, older_than=0))[id_of(2)] == "delete"


def test_a_revoked_bake_counts_for_nothing_and_goes() -> None:
    images = [
        ami(1, age=2, bake="bad", verified=True, revoked=True),
        ami(2, age=5, bake="good", verified=True),
        ami(3, age=9, bake="older", verified=True),
    ]
    chosen = choose(estate(*images), keep=1)
    assert verdicts(chosen) == {id_of(1): "delete", id_of(2): "keep", id_of(3): "delete"}
    revoked = next(item for item in chosen.decisions if item.image.image_id == id_of(1))
    assert revoked.reasons == ("revoked, 2.0 day(s) old",)


def test_an_untagged_managed_ami_is_a_bake_of_its_own() -> None:
    images = [ami(1, age=2, verified=True), ami(2, age=5, verified=True), ami(3, age=9)]
    assert verdicts(choose(estate(*images), keep=1)) == {
        id_of(1): "keep",
        id_of(2): "delete",
        id_of(3): "delete",
    }


def test_a_used_candidate_is_protected_with_its_uses() -> None:
    images = [ami(1, age=1, bake="new", verified=True), ami(2, age=9, bake="old", verified=True)]
    uses = (
        Use(UseKind.ENVIRONMENT, id_of(2), EAST, "environment prod (Updating) ImageId"),
        Use(UseKind.SSM_PARAMETER, id_of(2), WEST, "SSM parameter /ebami/x/stable version 1"),
    )
    chosen = choose(estate(*images, uses=uses), keep=1)
    protected = next(item for item in chosen.decisions if item.image.image_id == id_of(2))
    assert protected.verdict is Verdict.PROTECTED
    assert protected.line() == (
        "protected: environment prod (Updating) ImageId; "
        "SSM parameter /ebami/x/stable version 1 in us-west-2"
    )
    assert chosen.deleted == ()


def test_foreign_unmanaged_pending_and_undated_amis_are_never_deleted() -> None:
    images = [
        ami(1, age=1, bake="new", verified=True),
        ami(2, age=50, bake="b2", verified=True, owner="999999999999"),
        ami(3, age=50, bake="b3", verified=True, managed=False),
        ami(4, age=50, bake="b4", verified=True, state="pending"),
    ]
    undated = managed_image(
        EAST, id_of(5), "x", "available", "yesterday", ACCOUNT, {"ebami:managed": "true"}
    )
    chosen = choose(estate(*images, undated), keep=1)
    assert chosen.deleted == ()
    reasons = {item.image.image_id: item.reasons[0] for item in chosen.decisions}
    assert reasons[id_of(2)] == "owned by account 999999999999, not by this one"
    assert reasons[id_of(3)] == "not ebami-managed (no ebami:managed=true tag)"
    assert reasons[id_of(4)] == "pending (being made)"
    assert reasons[id_of(5)] == "creation time 'yesterday' unreadable"


def test_snapshots_go_only_when_owned_and_used_by_nothing_that_stays() -> None:
    shared = "snap-shared"
    images = [
        ami(1, age=1, bake="new", verified=True, snapshots=(shared,)),
        ami(2, age=9, bake="old", verified=True, snapshots=(shared, "snap-own", "snap-foreign")),
        ami(3, age=12, bake="older", verified=True, snapshots=("snap-pair",)),
        ami(4, age=13, bake="oldest", verified=True, snapshots=("snap-pair",)),
    ]
    inventory = estate(*images)
    region = inventory.regions[0]
    owned = region.owned_snapshots - {"snap-foreign"}
    inventory = Inventory(
        (RegionInventory(EAST, region.images, (), (), owned, region.snapshot_users),),
        ACCOUNT,
        NOW,
    )
    chosen = choose(inventory, keep=1)
    by_id = {item.image.image_id: item for item in chosen.deleted}
    assert by_id[id_of(2)].snapshots == ("snap-own",)
    assert dict(by_id[id_of(2)].snapshots_kept) == {
        shared: f"also used by {id_of(1)}",
        "snap-foreign": "not owned by this account",
    }
    # A snapshot two deleted AMIs share goes after the second of them (the plan's order).
    order = [item.image.image_id for item in chosen.deleted]
    last, first = sorted([id_of(3), id_of(4)], key=order.index)[::-1]
    assert by_id[last].snapshots == ("snap-pair",)
    assert by_id[first].snapshots == ()


def test_the_plan_rechecks_then_deletes_region_by_region() -> None:
    images = [
        ami(1, age=1, bake="new", verified=True),
        ami(2, age=9, bake="old", verified=True),
        ami(3, age=9, bake="old", region=WEST),
    ]
    plan = prune_plan(choose(estate(*images), keep=1), [EAST, WEST])
    assert [(item.action, dict(item.params)) for item in plan.instructions] == [
        ("recheck", {}),
        ("delete_image", {"region": EAST, "image_id": id_of(2), "snapshot_ids": [snap(2)],
                          "unprotect": False, "every_snapshot": True}),
        ("delete_image", {"region": WEST, "image_id": id_of(3), "snapshot_ids": [snap(3)],
                          "unprotect": False, "every_snapshot": True}),
    ]  # fmt: skip
    assert plan.facts["AMIs"] == "3 ebami AMI(s): 2 to delete, 1 kept, 0 protected"
    assert plan.facts[f"{id_of(1)} {EAST}"].startswith("keep: verified bake 1 of the 1 kept")
    assert prune_plan(choose(estate(ami(1, age=1)), keep=1), [EAST]).instructions == ()


# --- the property test -----------------------------------------------------------------------

_KINDS = list(UseKind)


@st.composite
def estates(draw: st.DrawFn) -> tuple[Inventory, int]:
    """Random AMIs (bakes copied across regions, verified or not, revoked, of several ages,
    some foreign, unmanaged or pending, some without a bake key) and random uses of every kind,
    some naming ids of another region or no AMI at all."""
    images: list[ManagedImage] = []
    number = 0
    for bake in range(draw(st.integers(0, 8))):
        release = draw(st.sampled_from(["2017.09", "2018.03"]))
        # Whole days sometimes, so that two bakes may be made at the same time.
        age = draw(st.floats(0, 60) | st.integers(0, 60).map(float))
        regions = draw(st.lists(st.sampled_from([EAST, WEST]), min_size=1, max_size=2, unique=True))
        key = None if draw(st.integers(0, 5)) == 0 else f"bake-{draw(st.integers(0, 3))}"
        # A rebuild (`build --force`) has its key and a run of its own; old AMIs have no run.
        run = draw(st.none() | st.sampled_from([f"run-{bake}", "run-x"]))
        for region in regions if key else regions[:1]:
            number += 1
            images.append(
                ami(
                    number,
                    age + draw(st.sampled_from([0.0, 0.005]) | st.floats(0, 0.01)),
                    bake=key,
                    run=run,
                    region=region,
                    verified=draw(st.booleans()),
                    revoked=draw(st.integers(0, 6)) == 0,
                    release=release,
                    managed=draw(st.integers(0, 8)) != 0,
                    owner=ACCOUNT if draw(st.integers(0, 8)) != 0 else "999999999999",
                    state="pending" if draw(st.integers(0, 10)) == 0 else "available",
                    snapshots=tuple(
                        draw(
                            st.lists(
                                st.sampled_from(["snap-a", "snap-b", f"snap-{number}"]),
                                max_size=2,
                                unique=True,
                            )
                        )
                    ),
                )
            )
    ids = [image.image_id for image in images] + ["ami-00000000000000fff"]
    uses = tuple(
        Use(kind, image_id, region, f"{kind.value} {i}")
        for i, (kind, image_id, region) in enumerate(
            draw(
                st.lists(
                    st.tuples(
                        st.sampled_from(_KINDS), st.sampled_from(ids), st.sampled_from([EAST, WEST])
                    ),
                    max_size=8,
                )
            )
        )
    )
    return estate(*images, uses=uses), draw(st.integers(1, 3))


def newest_verified_bakes(inventory: Inventory, keep: int) -> set[str]:
    """The images of the `keep` newest verified, unrevoked bakes of each platform/release,
    counting only what may be deleted at all. The rules, written out apart from the code: a
    bake is one build run of one bake key (no key: the AMI alone); it is verified when one of
    its available AMIs is; it is as new as its newest AMI; equal times: the greater bake id
    (`key/run`, or `region/ami-...`) first."""
    bakes: dict[tuple[str, str], dict[str, list[ManagedImage]]] = {}
    for image in inventory.images:
        if image.managed and image.owner_id == ACCOUNT and image.created_at is not None:
            key = image.tags.get("ebami:bake-key")
            run = image.tags.get("ebami:build-run")
            name = (f"{key}/{run}" if run else key) if key else f"{image.region}/{image.image_id}"
            group = bakes.setdefault((image.platform_alias, image.release), {})
            group.setdefault(name, []).append(image)
    kept: set[str] = set()
    for group in bakes.values():
        good = [
            (max(i.created_at for i in images if i.created_at), name, images)
            for name, images in group.items()
            if any(i.verified and i.state == "available" for i in images)
            and not any(i.revoked for i in images)
        ]
        good.sort(key=lambda item: (item[0], item[1]), reverse=True)
        kept |= {image.image_id for _, _, images in good[:keep] for image in images}
    return kept


@settings(max_examples=300, deadline=None)
@given(estates(), st.integers(0, 30))
# Found in a fresh clone: two verified bakes made at the same time, the one whose id sorts last
# still pending; the pending one was kept as the newest verified bake and the available one went.
@example(
    (
        estate(
            ami(1, 10, bake="bake-1", verified=True),
            ami(2, 10, bake="bake-2", verified=True, state="pending"),
        ),
        1,
    ),
    0,
)
# A forced rebuild is a bake of its own: the older run of the same key is not kept with it.
@example(
    (
        estate(
            ami(1, 20, bake="bake-1", run="run-a", verified=True),
            ami(2, 10, bake="bake-1", run="run-b", verified=True),
        ),
        1,
    ),
    0,
)
def test_prune_never_deletes_what_it_must_keep(drawn: tuple[Inventory, int], older: int) -> None:
    inventory, keep = drawn
    protected = protections(inventory)
    chosen = select(inventory, protected, PruneRules(keep, older), NOW)
    deleted = {(item.image.region, item.image.image_id) for item in chosen.deleted}
    named = {use.image_id for use in inventory.uses}
    for region, image_id in deleted:
        image = next(i for i in inventory.region(region).images if i.image_id == image_id)
        assert image_id not in named  # no AMI that anything uses, wherever the use is
        assert (region, image_id) not in protected
        assert image.managed
        assert image.owner_id == ACCOUNT
        assert image.state != "pending"
        assert NOW - image.created_at >= timedelta(days=older)  # type: ignore[operator]
    assert not {image_id for _, image_id in deleted} & newest_verified_bakes(inventory, keep)
    # Every AMI is decided once; the same estate gives the same choice.
    assert len(chosen.decisions) == len(inventory.images)
    assert select(inventory, protected, PruneRules(keep, older), NOW) == chosen
    # A snapshot goes only with a deleted AMI, owned, and used by no AMI that stays.
    staying = {
        (item.image.region, snapshot)
        for item in chosen.decisions
        if item.verdict is not Verdict.DELETE
        for snapshot in item.image.snapshot_ids
    }
    for item in chosen.deleted:
        for snapshot in item.snapshots:
            assert snapshot in item.image.snapshot_ids
            assert (item.image.region, snapshot) not in staying
            assert snapshot in inventory.region(item.image.region).owned_snapshots


# --- carrying a plan out ---------------------------------------------------------------------


def unbounded(seconds: float) -> AbstractContextManager[object]:
    return nullcontext()


def run(
    inventory: Inventory, ec2: DeletingEc2, reread: Protections | None = None
) -> tuple[PruneResult, RecordingReporter]:
    selection = choose(inventory, keep=1)
    result = PruneResult(selection)
    reporter = RecordingReporter()
    actions = PruneActions(
        targets={EAST: RegionTarget(ec2, unbounded, AwsCli(EAST))},
        reread=lambda: reread if reread is not None else protections(inventory),
        reporter=reporter,
        result=result,
    )
    Executor(actions, reporter).execute(prune_plan(selection, [EAST]))
    return result, reporter


def three_bakes() -> Inventory:
    return estate(
        ami(1, age=1, bake="k1", verified=True),
        ami(2, age=5, bake="k2", verified=True),
        ami(3, age=9, bake="k3", verified=True),
    )


def test_each_ami_is_deregistered_then_its_snapshots_deleted() -> None:
    ec2 = DeletingEc2()
    result, reporter = run(three_bakes(), ec2)
    # Oldest first.
    assert ec2.calls == [
        f"deregister {id_of(3)}", f"delete snap-{3:017x}",
        f"deregister {id_of(2)}", f"delete snap-{2:017x}",
    ]  # fmt: skip
    assert [item.image_id for item in result.deleted] == [id_of(3), id_of(2)]
    assert reporter.lines[0].startswith("reading the estate again")


def test_an_ami_used_since_the_plan_is_skipped() -> None:
    ec2 = DeletingEc2()
    result, reporter = run(
        three_bakes(), ec2, reread={(EAST, id_of(2)): ["instance i-1 (running)"]}
    )
    assert ec2.calls == [f"deregister {id_of(3)}", f"delete snap-{3:017x}"]
    assert [(item.image_id, item.used_by) for item in result.skipped] == [
        (id_of(2), ("instance i-1 (running)",))
    ]
    warning = f"warning: us-east-1: {id_of(2)} is used since the plan was made "
    assert warning + "(instance i-1 (running)): kept" in reporter.lines


def test_a_failed_delete_is_left_behind_with_its_command_and_the_rest_goes_on() -> None:
    ec2 = DeletingEc2(failing=frozenset({snap(3), id_of(2)}))
    result, _ = run(three_bakes(), ec2)
    assert ec2.calls == [f"deregister {id_of(3)}", f"delete {snap(3)}", f"deregister {id_of(2)}"]
    assert [str(item) for item in result.left_behind] == [
        f"snapshot {snap(3)} of the deregistered AMI {id_of(3)} in us-east-1 (not deleted: "
        f"ec2:DeleteSnapshot {snap(3)} failed: InternalError: x); remove it with: "
        f"aws ec2 delete-snapshot --snapshot-id {snap(3)} --region us-east-1",
        f"AMI {id_of(2)} in us-east-1 (not deregistered: ec2:DeregisterImage {id_of(2)} failed: "
        f"InternalError: boom); remove it with: aws ec2 deregister-image --image-id {id_of(2)} "
        f"--region us-east-1; then aws ec2 delete-snapshot --snapshot-id {snap(2)} "
        "--region us-east-1",
    ]
    assert [(item.image_id, item.snapshot_ids) for item in result.deleted] == [(id_of(3), ())]
    assert result.rows()[1] == (f"{id_of(2)} us-east-1", "not deleted: see left behind")


def test_a_snapshot_another_ami_still_uses_stays_and_is_no_failure() -> None:
    # The AMI that shared it was kept at the re-read (or registered since): EC2 says InUse.
    ec2 = DeletingEc2(in_use=frozenset({snap(3)}))
    result, reporter = run(three_bakes(), ec2)
    assert result.left_behind == []
    assert [(item.image_id, item.snapshot_ids) for item in result.deleted] == [
        (id_of(3), ()),
        (id_of(2), (snap(2),)),
    ]
    assert (
        f"warning: us-east-1: snapshot {snap(3)} of {id_of(3)} kept: another AMI still uses it"
        in reporter.lines
    )


def test_an_ami_gone_already_still_has_its_snapshots_deleted() -> None:
    ec2 = DeletingEc2(gone=frozenset({id_of(3)}))
    result, _ = run(three_bakes(), ec2)
    assert result.deleted[0].already_gone
    assert f"delete {snap(3)}" in ec2.calls
    assert result.deleted[0].snapshot_ids == (snap(3),)


def test_what_another_run_deleted_first_is_not_claimed() -> None:
    # A concurrent prune deregistered the AMI and deleted its snapshot first.
    ec2 = DeletingEc2(gone=frozenset({id_of(3), snap(3)}))
    result, _ = run(three_bakes(), ec2)
    assert (result.deleted[0].already_gone, result.deleted[0].snapshot_ids) == (True, ())
    assert result.deleted[1].snapshot_ids == (snap(2),)


def test_ctrl_c_during_a_deletion_finishes_that_ami_and_stops() -> None:
    import os
    import signal

    class Interrupting(DeletingEc2):
        def deregister_image(self, image_id: str) -> bool:
            os.kill(os.getpid(), signal.SIGINT)  # arrives inside the unit: held until its end
            return super().deregister_image(image_id)

    ec2 = Interrupting()
    selection = choose(three_bakes(), keep=1)
    result = PruneResult(selection)
    actions = PruneActions(
        targets={EAST: RegionTarget(ec2, unbounded, AwsCli(EAST))},
        reread=dict,
        reporter=RecordingReporter(),
        result=result,
    )
    interrupted = False
    try:
        Executor(actions, RecordingReporter()).execute(prune_plan(selection, [EAST]))
    except KeyboardInterrupt:
        interrupted = True
    assert interrupted
    assert ec2.calls == [f"deregister {id_of(3)}", f"delete snap-{3:017x}"]
    assert [item.image_id for item in result.deleted] == [id_of(3)]
