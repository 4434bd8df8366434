"""`ebami prune`'s choice: which ebami AMIs to deregister (and which snapshots to delete with
them) and which to keep, each with its reasons. A pure function of the inventory, the
protections, the rules and the time; then the plan that carries it out.

The choice is made per bake (`ebami.image.bake`: one build run of one bake key, which its
copies in other regions share; a `--force` rebuild is a bake of its own, and so is a managed AMI
without a bake key) within each platform and release, the bakes newest first by the stated rule
(a bake is as new as its newest AMI; equal times: the greater bake id first):

- the `keep` newest verified bakes stay (verified: one of its available AMIs carries
  `ebami:verified`, so a bake still pending is never the one kept in place of an available one;
  a revoked bake does not count, since nothing may use it any more);
- so does an unverified bake newer than the newest verified one (it awaits `ebami verify`),
  and any bake younger than `older_than_days`;
- the AMIs of every other bake are deleted, except one that anything still uses (see
  `ebami.lifecycle.protect`), which is kept and listed with the uses; also kept: one that is
  still pending, and one whose creation time cannot be read.

Only `ebami:managed` AMIs owned by the account are ever deleted. A snapshot goes with its AMI
only when this account owns it and no AMI that stays registered uses it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import TYPE_CHECKING, Any

from ebami.core.errors import InputError
from ebami.core.plan import Instruction, Plan, Step
from ebami.image import tags
from ebami.image.bake import Bake, bakes_of
from ebami.image.managed import ManagedImage, order_key

if TYPE_CHECKING:
    from ebami.lifecycle.inventory import Inventory
    from ebami.lifecycle.protect import Protections


class PruneStep(Step):
    """The instructions of its plans: each is performed by the method of that name of
    `ebami.lifecycle.deletion.PruneActions`."""

    RECHECK = "recheck"
    DELETE_IMAGE = "delete_image"


DEFAULT_KEEP = 3
# A week: a bake younger than that may still be on its way through verify and staging.
DEFAULT_OLDER_THAN_DAYS = 7
MAX_KEEP = 1000
MAX_OLDER_THAN_DAYS = 3650


@dataclass(frozen=True)
class PruneRules:
    keep: int = DEFAULT_KEEP
    older_than_days: int = DEFAULT_OLDER_THAN_DAYS
    # Keep an AMI an instance was launched from within this many days (EC2's LastLaunchedTime).
    unused_for_days: int | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.keep <= MAX_KEEP:
            raise InputError(
                f"--keep {self.keep} is out of range: give a number of bakes from 1 to {MAX_KEEP}"
            )
        if not 0 <= self.older_than_days <= MAX_OLDER_THAN_DAYS:
            raise InputError(
                f"--older-than {self.older_than_days} is out of range: give days from 0 to "
                f"{MAX_OLDER_THAN_DAYS}"
            )
        if self.unused_for_days is not None and not (
            1 <= self.unused_for_days <= MAX_OLDER_THAN_DAYS
        ):
            raise InputError(
                f"--unused-for {self.unused_for_days} is out of range: give days from 1 to "
                f"{MAX_OLDER_THAN_DAYS}"
            )

    def describe(self) -> str:
        return (
            f"per platform and release: the {self.keep} newest verified bake(s), unverified "
            f"bakes newer than those, bakes under {self.older_than_days} day(s) old, and every "
            "AMI in use"
        )


class Verdict(str, Enum):
    DELETE = "delete"
    KEEP = "keep"
    # Chosen for deletion by the rules, kept because something uses it.
    PROTECTED = "protected"


@dataclass(frozen=True)
class Decision:
    image: ManagedImage
    verdict: Verdict
    # Why the rules keep or delete its bake (a protected AMI's: why it was a candidate).
    reasons: tuple[str, ...]
    # What uses it (protections), kept or not.
    used_by: tuple[str, ...] = ()
    # Deleted with the AMI; and those of its snapshots that stay, with why.
    snapshots: tuple[str, ...] = ()
    snapshots_kept: tuple[tuple[str, str], ...] = ()

    @property
    def key(self) -> tuple[str, str]:
        return (self.image.region, self.image.image_id)

    def line(self) -> str:
        """`delete: older than ...`, `protected: environment prod (Ready) ImageId; ...`."""
        if self.verdict is Verdict.PROTECTED:
            return "protected: " + "; ".join(self.used_by)
        used = f"; used by {'; '.join(self.used_by)}" if self.used_by else ""
        return f"{self.verdict.value}: {'; '.join(self.reasons)}{used}"

    def to_json(self) -> dict[str, Any]:
        return {
            **self.image.to_json(),
            "verdict": self.verdict.value,
            "reasons": list(self.reasons),
            "used_by": list(self.used_by),
            "snapshots_deleted_with_it": list(self.snapshots),
            "snapshots_kept": [
                {"snapshot_id": snapshot_id, "reason": why}
                for snapshot_id, why in self.snapshots_kept
            ],
        }


@dataclass(frozen=True)
class Selection:
    rules: PruneRules
    decisions: tuple[Decision, ...] = ()

    def of(self, verdict: Verdict) -> tuple[Decision, ...]:
        return tuple(item for item in self.decisions if item.verdict is verdict)

    @property
    def deleted(self) -> tuple[Decision, ...]:
        return self.of(Verdict.DELETE)

    def counts(self) -> str:
        return (
            f"{len(self.decisions)} ebami AMI(s): {len(self.deleted)} to delete, "
            f"{len(self.of(Verdict.KEEP))} kept, {len(self.of(Verdict.PROTECTED))} protected"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "rules": {
                "keep": self.rules.keep,
                "older_than_days": self.rules.older_than_days,
                "unused_for_days": self.rules.unused_for_days,
            },
            "amis": [item.to_json() for item in self.decisions],
        }


def select(
    inventory: Inventory, protected: Protections, rules: PruneRules, now: datetime
) -> Selection:
    decisions: dict[tuple[str, str], Decision] = {}
    groups: dict[tuple[str, str], list[ManagedImage]] = {}
    for image in inventory.images:
        refusal = _never_deleted(image, inventory.account_id)
        if refusal is not None:
            decisions[(image.region, image.image_id)] = Decision(
                image, Verdict.KEEP, (refusal,), tuple(protected.get(_key(image), ()))
            )
            continue
        groups.setdefault((image.platform_alias, image.release), []).append(image)

    for (platform, release), images in groups.items():
        label = " ".join(part for part in (platform or "(no platform tag)", release) if part)
        for bake, verdict, why in _judge(bakes_of(images), rules, now, label):
            for image in bake.images:
                used_by = tuple(protected.get(_key(image), ()))
                held = _held(image, rules, now) if verdict is Verdict.DELETE else None
                if verdict is Verdict.DELETE and used_by:
                    decision = Decision(image, Verdict.PROTECTED, (why,), used_by)
                elif held is not None:
                    decision = Decision(image, Verdict.KEEP, (held,), used_by)
                else:
                    decision = Decision(image, verdict, (why,), used_by)
                decisions[_key(image)] = decision

    ordered = sorted(decisions.values(), key=_order)
    return Selection(rules, tuple(_with_snapshots(ordered, inventory)))


def _key(image: ManagedImage) -> tuple[str, str]:
    return (image.region, image.image_id)


def _order(decision: Decision) -> tuple[str, str, str, datetime, str]:
    image = decision.image
    return (image.region, image.platform_alias, image.release, *order_key(image))


def _never_deleted(image: ManagedImage, account_id: str) -> str | None:
    """Why the image is no candidate whatever the rules say, if it is none."""
    if not image.managed:
        return "not ebami-managed (no ebami:managed=true tag)"
    if not account_id or image.owner_id != account_id:
        return f"owned by account {image.owner_id or '(unknown)'}, not by this one"
    if image.created_at is None:
        return f"creation time {image.created!r} unreadable"
    return None


def _held(image: ManagedImage, rules: PruneRules, now: datetime) -> str | None:
    """Why an AMI the rules would delete stays after all, if it does: it is pending, EC2's
    deregistration protection holds it (turned on outside ebami, or cooling down), or it was
    launched within `--unused-for` days."""
    if image.state == "pending":
        return "pending (being made)"
    protection = image.protection
    if protection.on and not protection.by_ebami:
        return (
            f"deregistration protection {protection.shown}, turned on outside ebami (no "
            f"{tags.PROTECTED_FOR} tag): turn it off to let prune delete it"
        )
    cooling = protection.cooling_until(now)
    if cooling is not None:
        return f"deregistration protection cooling down until {cooling:%Y-%m-%dT%H:%M:%SZ}"
    launched = image.last_launched_at
    if rules.unused_for_days is not None and launched is not None:
        days = (now - launched).total_seconds() / 86400
        if days < rules.unused_for_days:
            return (
                f"last launched {days:.1f} day(s) ago (EC2's LastLaunchedTime), within "
                f"--unused-for {rules.unused_for_days}"
            )
    return None


def _judge(
    ordered: list[Bake], rules: PruneRules, now: datetime, label: str
) -> list[tuple[Bake, Verdict, str]]:
    """`ordered`: the bakes of one platform and release, newest first (`bakes_of`)."""
    good = [bake for bake in ordered if bake.verified and not bake.revoked]
    rank = {bake.id: number for number, bake in enumerate(good[: rules.keep], 1)}
    newest_verified = good[0].newest if good else None
    young = timedelta(days=rules.older_than_days)
    judged: list[tuple[Bake, Verdict, str]] = []
    for bake in ordered:
        age = (now - bake.newest).total_seconds() / 86400
        if bake.id in rank:
            why = f"verified bake {rank[bake.id]} of the {rules.keep} kept for {label}"
            judged.append((bake, Verdict.KEEP, why))
        elif (
            not bake.verified
            and not bake.revoked
            and (newest_verified is None or bake.newest > newest_verified)
        ):
            judged.append(
                (
                    bake,
                    Verdict.KEEP,
                    f"unverified, newer than any verified bake of {label}: awaiting ebami verify",
                )
            )
        elif now - bake.newest < young:
            judged.append(
                (bake, Verdict.KEEP, f"{age:.1f} day(s) old, younger than {rules.older_than_days}")
            )
        elif bake.revoked:
            judged.append((bake, Verdict.DELETE, f"revoked, {age:.1f} day(s) old"))
        elif bake.verified:
            judged.append(
                (
                    bake,
                    Verdict.DELETE,
                    f"older than the {rules.keep} newest verified bake(s) of {label}, "
                    f"{age:.1f} day(s) old",
                )
            )
        else:
            judged.append(
                (
                    bake,
                    Verdict.DELETE,
                    f"unverified, older than the newest verified bake of {label}, "
                    f"{age:.1f} day(s) old",
                )
            )
    return judged


def _with_snapshots(decisions: list[Decision], inventory: Inventory) -> list[Decision]:
    """Each deleted AMI with the snapshots deleted after it: owned by this account and used by
    no AMI that stays registered. A snapshot two deleted AMIs share goes with the later one
    (in the order of the plan), once neither AMI is registered."""
    deleted = {item.key for item in decisions if item.verdict is Verdict.DELETE}
    last_user: dict[tuple[str, str], tuple[str, str]] = {}
    for item in decisions:
        if item.verdict is Verdict.DELETE:
            for snapshot_id in item.image.snapshot_ids:
                last_user[(item.image.region, snapshot_id)] = item.key
    result: list[Decision] = []
    for item in decisions:
        if item.verdict is not Verdict.DELETE:
            result.append(item)
            continue
        region = inventory.region(item.image.region)
        going: list[str] = []
        staying: list[tuple[str, str]] = []
        for snapshot_id in item.image.snapshot_ids:
            others = [
                image_id
                for image_id in region.snapshot_users.get(snapshot_id, ())
                if image_id != item.image.image_id
            ]
            staying_users = [
                image_id for image_id in others if (region.region, image_id) not in deleted
            ]
            if snapshot_id not in region.owned_snapshots:
                staying.append((snapshot_id, "not owned by this account"))
            elif staying_users:
                staying.append((snapshot_id, f"also used by {', '.join(staying_users)}"))
            elif last_user[(region.region, snapshot_id)] != item.key:
                staying.append((snapshot_id, f"also used by {', '.join(others)}; deleted after it"))
            else:
                going.append(snapshot_id)
        result.append(
            Decision(
                item.image,
                item.verdict,
                item.reasons,
                item.used_by,
                tuple(going),
                tuple(staying),
            )
        )
    return result


# --- the plan --------------------------------------------------------------------------------


def prune_plan(selection: Selection, regions: Sequence[str]) -> Plan:
    """Deregister each chosen AMI and delete its snapshots, region by region, after a fresh
    read of the estate (anything used since this plan was made is skipped)."""
    facts: dict[str, Any] = {
        "Regions": ", ".join(regions),
        "Rules": selection.rules.describe(),
        "AMIs": selection.counts(),
    }
    for decision in selection.decisions:
        facts[f"{decision.image.image_id} {decision.image.region}"] = decision.line()
    deleted = selection.deleted
    if not deleted:
        return Plan("prune", facts)
    instructions = [
        Instruction(
            PruneStep.RECHECK,
            "reading the estate again: an AMI used since this plan was made is kept",
        )
    ]
    for decision in deleted:
        image = decision.image
        snapshots = (
            f" and delete its snapshot(s) {', '.join(decision.snapshots)}"
            if decision.snapshots
            else ""
        )
        unprotect = image.protection.by_ebami
        first = "turn off the deregistration protection ebami turned on, " if unprotect else ""
        instructions.append(
            Instruction(
                PruneStep.DELETE_IMAGE,
                f"{image.region}: {first}deregister {image.image_id} ({image.name}){snapshots}",
                {
                    "region": image.region,
                    "image_id": image.image_id,
                    "snapshot_ids": list(decision.snapshots),
                    "unprotect": unprotect,
                    "every_snapshot": not decision.snapshots_kept,
                },
            )
        )
    return Plan("prune", facts, tuple(instructions))
