"""Prune asks who else may launch an AMI (DescribeImageAttribute launchPermission) only for the
AMIs it would delete, and a shared one among them is still never deleted."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any

import pytest

from ebami.aws.ec2_values import ImageReference
from ebami.aws.session import AwsCli
from ebami.core.errors import AwsError, GuardUnavailable
from ebami.core.plan import Executor
from ebami.image.managed import ManagedImage
from ebami.lifecycle.deletion import RegionTarget
from ebami.lifecycle.estate import Estate
from ebami.lifecycle.inventory import IncompleteInventory, Inventory, RegionSources, Use, UseKind
from ebami.lifecycle.prune import PruneRules, Verdict
from ebami.lifecycle.prune_run import execute_prune, plan_prune
from tests.fakes.prune import EAST, DeletingEc2, ami, estate, id_of
from tests.helpers import RecordingReporter

SHARED_WITH = "111122223333"


def unbounded(seconds: float) -> AbstractContextManager[object]:
    return nullcontext()


class Sharing:
    """EC2's launch permissions: `shared` AMIs are shared with another account; each call is
    kept in `asked`; EC2 finds no reference to any AMI."""

    def __init__(self, shared: set[str]) -> None:
        self.shared = shared
        self.asked: list[str] = []
        # The AMIs EC2's references were asked for (DescribeImageReferences).
        self.referenced: list[str] = []

    def launch_permissions(self, image_id: str) -> list[str]:
        self.asked.append(image_id)
        return [SHARED_WITH] if image_id in self.shared else []

    def image_references(self, image_ids: Sequence[str]) -> list[ImageReference]:
        self.referenced += image_ids
        return []


class Region:
    """One region of the estate, as the CLI's factory gives it (only what prune's reads use)."""

    def __init__(self, ec2: Sharing) -> None:
        self.region = EAST
        self.ec2 = ec2

    def bounded(self, seconds: float) -> AbstractContextManager[object]:
        return nullcontext()

    def estate_sources(self) -> RegionSources:
        other: Any = None
        return RegionSources(EAST, self.ec2, other, other, other, unbounded)  # type: ignore[arg-type]


class ReadEstate(Estate):
    """The real estate (its sharing reads included) over an inventory read already."""

    def __init__(self, inventory: Inventory, ec2: Sharing) -> None:
        region: Any = Region(ec2)
        super().__init__(
            region,
            lambda name: region,
            enabled_regions=lambda: [EAST],
            served_regions=lambda: {EAST},
            reporter=RecordingReporter(),
        )
        self.inventory = inventory
        self.reads = 0

    def read(self, regions: Sequence[str], *, incomplete: str = "") -> Inventory:
        self.reads += 1
        return self.inventory


def hundred_amis() -> list[ManagedImage]:
    """97 verified bakes under a week old and 3 a month old: with `--keep 3 --older-than 7`,
    the 3 old ones are the only candidates."""
    young = [ami(number, number / 20, bake=f"b{number}", verified=True) for number in range(1, 98)]
    old = [ami(number, 30 + number, bake=f"b{number}", verified=True) for number in (98, 99, 100)]
    return young + old


def test_only_the_candidates_launch_permissions_are_read() -> None:
    ec2 = Sharing(set())
    selection, _ = plan_prune(
        ReadEstate(estate(*hundred_amis()), ec2), [EAST], PruneRules(keep=3, older_than_days=7)
    )
    assert sorted(ec2.asked) == [id_of(98), id_of(99), id_of(100)]
    assert {item.image.image_id for item in selection.deleted} == set(ec2.asked)
    assert sorted(ec2.referenced) == sorted(ec2.asked)  # EC2's references: the candidates' too
    assert len(selection.decisions) == 100


def test_a_shared_candidate_is_protected_and_never_deleted() -> None:
    ec2 = Sharing({id_of(99)})
    found = ReadEstate(estate(*hundred_amis()), ec2)
    selection, plan = plan_prune(found, [EAST], PruneRules(keep=3, older_than_days=7))
    assert len(ec2.asked) == 3
    protected = selection.of(Verdict.PROTECTED)
    assert [item.image.image_id for item in protected] == [id_of(99)]
    assert protected[0].used_by == (f"launch permission for {SHARED_WITH}",)
    assert sorted(item.image.image_id for item in selection.deleted) == [id_of(98), id_of(100)]

    # Shared after the plan was made: the fresh read before deleting keeps it too, and it
    # asks again for the AMIs about to be deleted only.
    ec2.shared.add(id_of(100))
    ec2.asked.clear()
    deleting = DeletingEc2()
    reporter = RecordingReporter()
    result = execute_prune(
        found,
        [EAST],
        plan,
        selection,
        target=lambda region: RegionTarget(deleting, unbounded, AwsCli(region)),
        executor=lambda actions: Executor(actions, reporter),
    )
    assert sorted(ec2.asked) == [id_of(98), id_of(100)]
    assert [item.image_id for item in result.deleted] == [id_of(98)]
    assert f"deregister {id_of(100)}" not in deleting.calls
    assert found.reads == 2


class FailingSharing(Sharing):
    def launch_permissions(self, image_id: str) -> list[str]:
        if image_id == id_of(40):
            raise AwsError(f"ec2:DescribeImageAttribute {image_id} failed: InternalError")
        return super().launch_permissions(image_id)


def test_launch_permissions_read_a_few_at_once_come_back_in_the_amis_order() -> None:
    images = hundred_amis()
    shared = {id_of(number) for number in (3, 50, 97)}
    ec2 = Sharing(shared)
    uses = ReadEstate(estate(*images), ec2).sharing(images)
    assert sorted(ec2.asked) == sorted(image.image_id for image in images)  # each once
    assert [use.image_id for use in uses] == [id_of(number) for number in (3, 50, 97)]
    assert {use.where for use in uses} == {f"launch permission for {SHARED_WITH}"}


def test_a_failed_launch_permission_read_makes_the_estate_incomplete() -> None:
    images = hundred_amis()
    found = ReadEstate(estate(*images), FailingSharing(set()))
    with pytest.raises(IncompleteInventory) as failed:
        found.sharing(images, incomplete="nothing was deleted")
    assert failed.value.message == (
        f"reading the launch permissions in {EAST}: ec2:DescribeImageAttribute {id_of(40)} "
        "failed: InternalError; nothing was deleted"
    )


class Referencing(Sharing):
    """EC2 finds an Image Builder recipe referencing `recipe_of`, and a live instance (which
    ebami's own scan found too) referencing `instance_of`; or, with `unavailable`, the call
    cannot be used."""

    def __init__(self, recipe_of: str, instance_of: str, unavailable: str = "") -> None:
        super().__init__(set())
        self.recipe_of, self.instance_of, self.unavailable = recipe_of, instance_of, unavailable

    def image_references(self, image_ids: Sequence[str]) -> list[ImageReference]:
        if self.unavailable:
            raise GuardUnavailable(self.unavailable)
        recipe = f"arn:aws:imagebuilder:{EAST}:123456789012:image-recipe/web/1.0.0"
        instance = f"arn:aws:ec2:{EAST}:123456789012:instance/i-1"
        found = [
            ImageReference(self.recipe_of, "imagebuilder:ImageRecipe", recipe),
            ImageReference(self.instance_of, "ec2:Instance", instance),
        ]
        return [item for item in found if item.image_id in image_ids]


def test_a_candidate_ec2_finds_referenced_is_protected() -> None:
    ec2 = Referencing(recipe_of=id_of(99), instance_of="ami-none")
    selection, _ = plan_prune(ReadEstate(estate(*hundred_amis()), ec2), [EAST], PruneRules(3, 7))
    protected = {item.image.image_id: item.used_by for item in selection.of(Verdict.PROTECTED)}
    assert protected == {
        id_of(99): (
            f"imagebuilder:ImageRecipe arn:aws:imagebuilder:{EAST}:123456789012:image-recipe/"
            "web/1.0.0 (EC2 image references)",
        ),
    }
    assert sorted(item.image.image_id for item in selection.deleted) == [id_of(98), id_of(100)]


def test_ec2_s_reference_to_a_resource_ebami_found_is_the_same_use() -> None:
    instance = Use(UseKind.INSTANCE, id_of(100), EAST, "instance i-1 (running)", "i-1")
    inventory = estate(ami(100, 30, bake="b"), uses=(instance,))
    referenced = [
        Use(UseKind.REFERENCE, id_of(100), EAST, "ec2:Instance i-1 (EC2 image references)", "i-1"),
        Use(UseKind.REFERENCE, id_of(100), EAST, "ec2:LaunchTemplate lt-1 (EC2 ...)", "lt-1"),
    ]
    assert [use.where for use in inventory.with_uses(referenced).uses] == [
        "instance i-1 (running)",
        "ec2:LaunchTemplate lt-1 (EC2 ...)",
    ]


def test_where_ec2_s_references_cannot_be_read_one_warning_and_the_own_scan_stands() -> None:
    why = "DescribeImageReferences is unknown to the installed botocore 1.0 (it came with 1.40.18)"
    found = ReadEstate(estate(*hundred_amis()), Referencing(id_of(99), id_of(100), why))
    selection, _ = plan_prune(found, [EAST], PruneRules(3, 7))
    assert len(selection.deleted) == 3
    reporter = found.reporter
    assert isinstance(reporter, RecordingReporter)
    assert reporter.lines == [
        f"warning: EC2's image references not read ({why}): ebami's own scan of uses stands alone"
    ]
