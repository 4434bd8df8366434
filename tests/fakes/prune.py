"""Prune's fakes: an estate of AMIs built from a few facts each (age, bake, verified...), the
selection prune makes of it, and an EC2 that deregisters and deletes (or fails to)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta, timezone

from ebami.core.errors import AwsError, GuardUnavailable, NotFoundError
from ebami.image.managed import ManagedImage
from ebami.lifecycle.inventory import Inventory, RegionInventory, Use
from ebami.lifecycle.protect import protections
from ebami.lifecycle.prune import PruneRules, Selection, select
from tests.fakes.images import ACCOUNT, managed_image

NOW = datetime(2026, 11, 21, 12, tzinfo=timezone.utc)
EAST = "us-east-1"
WEST = "us-west-2"
PLATFORM = "Multi-container Docker running on 64bit Amazon Linux"


def days_ago(days: float) -> str:
    return (NOW - timedelta(days=days)).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def id_of(number: int) -> str:
    """The id of `ami(number, ...)`."""
    return f"ami-{number:017x}"


def snap(number: int) -> str:
    """The id of the snapshot of `ami(number, ...)` (unless given others)."""
    return f"snap-{number:017x}"


def ami(
    number: int,
    age: float,
    *,
    bake: str | None = None,
    run: str | None = None,
    region: str = EAST,
    verified: bool = False,
    revoked: bool = False,
    release: str = "2018.03",
    managed: bool = True,
    owner: str = ACCOUNT,
    state: str = "available",
    snapshots: tuple[str, ...] | None = None,
    protection: str = "",
    protected_for: str | None = None,
    launched: float | None = None,
) -> ManagedImage:
    """AMI `number` of `PLATFORM`, made `age` days before `NOW`, with one snapshot of its own;
    EC2's deregistration `protection` (ebami's when `protected_for`), its last launch
    `launched` days before `NOW`."""
    tags = {"ebami:platform": PLATFORM, "ebami:release": release}
    if managed:
        tags["ebami:managed"] = "true"
    if bake is not None:
        tags["ebami:bake-key"] = bake
    if run is not None:
        tags["ebami:build-run"] = run
    if verified:
        tags["ebami:verified"] = "2026-01-01T00:00:00Z"
    if revoked:
        tags["ebami:revoked"] = "true"
    if protected_for is not None:
        tags["ebami:protected-for"] = protected_for
    return managed_image(
        region=region,
        image_id=f"ami-{number:017x}",
        name=f"ebami-{number}",
        state=state,
        created=days_ago(age),
        owner_id=owner,
        tags=tags,
        snapshot_ids=snapshots if snapshots is not None else (f"snap-{number:017x}",),
        deregistration_protection=protection,
        last_launched_time=days_ago(launched) if launched is not None else "",
    )


def estate(*images: ManagedImage, uses: tuple[Use, ...] = ()) -> Inventory:
    """The inventory of `images` and `uses`, region by region, as of `NOW`."""
    regions = sorted({image.region for image in images} | {use.region for use in uses})
    found = []
    for region in regions:
        mine = tuple(image for image in images if image.region == region)
        users: dict[str, list[str]] = {}
        for image in mine:
            for snapshot in image.snapshot_ids:
                users.setdefault(snapshot, []).append(image.image_id)
        found.append(
            RegionInventory(
                region,
                images=mine,
                uses=tuple(use for use in uses if use.region == region),
                owned_snapshots=frozenset(s for image in mine for s in image.snapshot_ids),
                snapshot_users={key: tuple(value) for key, value in users.items()},
            )
        )
    return Inventory(tuple(found), ACCOUNT, NOW)


def choose(inventory: Inventory, keep: int = 1, older_than: int = 0) -> Selection:
    """Prune's selection of `inventory`: keep `keep` verified bakes, none younger than
    `older_than` days."""
    return select(inventory, protections(inventory), PruneRules(keep, older_than), NOW)


class DeletingEc2:
    """Deregisters AMIs and deletes snapshots, each call kept in `calls`: those in `failing`
    fail, those in `gone` were deleted already, snapshots `in_use` belong to another AMI.
    `associated`: AMI id -> what DeregisterImage(DeleteAssociatedSnapshots) answers for its
    snapshots; for another AMI that call is unavailable (an older botocore). `protection`:
    what turning an AMI's protection off answers (`disabled` where not named)."""

    def __init__(
        self,
        failing: frozenset[str] = frozenset(),
        gone: frozenset[str] = frozenset(),
        in_use: frozenset[str] = frozenset(),
        associated: Mapping[str, Mapping[str, str]] | None = None,
        protection: Mapping[str, str] | None = None,
    ) -> None:
        self.calls: list[str] = []
        self._failing = failing
        self._gone = gone
        self._in_use = in_use
        self._associated = associated or {}
        self._protection = protection or {}

    def deregister_with_snapshots(self, image_id: str) -> dict[str, str]:
        if image_id in self._gone:
            raise NotFoundError(f"AMI {image_id} is deregistered already")
        if image_id not in self._associated:
            raise GuardUnavailable(
                "DeregisterImage with DeleteAssociatedSnapshots is unknown to the installed "
                "botocore 1.0.0 (it came with 1.38.25)"
            )
        self.calls.append(f"deregister {image_id} with its snapshots")
        return dict(self._associated[image_id])

    def unprotect_image(self, image_id: str) -> str:
        self.calls.append(f"unprotect {image_id}")
        if image_id in self._gone:
            raise NotFoundError(f"AMI {image_id} is deregistered already")
        if image_id in self._failing:
            raise AwsError(f"ec2:DisableImageDeregistrationProtection {image_id} failed: x")
        return self._protection.get(image_id, "disabled")

    def deregister_image(self, image_id: str) -> bool:
        self.calls.append(f"deregister {image_id}")
        if image_id in self._failing:
            raise AwsError(f"ec2:DeregisterImage {image_id} failed: InternalError: boom")
        return image_id not in self._gone

    def delete_snapshot(self, snapshot_id: str) -> bool:
        self.calls.append(f"delete {snapshot_id}")
        if snapshot_id in self._failing:
            raise AwsError(f"ec2:DeleteSnapshot {snapshot_id} failed: InternalError: x")
        if snapshot_id in self._in_use:
            raise AwsError(f"ec2:DeleteSnapshot {snapshot_id} failed: InvalidSnapshot.InUse: x")
        return snapshot_id not in self._gone
