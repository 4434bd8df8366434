"""`ebami prune --yes`: the actions the executor calls for a prune plan, and what they did.

Each AMI is one unit: deregister it, then delete its snapshots. Ctrl-C and SIGTERM wait for the
unit under way to end (the executor then stops before the next one), so no AMI is left
deregistered with its snapshots forgotten. A failure to delete one AMI or snapshot is reported
and the rest goes on; what was not removed is listed with the AWS CLI command that finishes
the job. Each unit's calls fit a deadline of their own, throttling retried until it passes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from ebami.core.errors import AwsError, GuardUnavailable, Leftover, NotFoundError
from ebami.core.interrupts import stoppable
from ebami.core.reporting import OnceEach, Reporter
from ebami.image.protection import HOLDING
from ebami.lifecycle.prune import Selection, Verdict

if TYPE_CHECKING:
    from ebami.aws.session import AwsCli
    from ebami.lifecycle.protect import Protections

# One AMI and its snapshots, throttling included.
DELETE_SECONDS = 120.0


class DeletingEc2(Protocol):
    def deregister_image(self, image_id: str) -> bool: ...
    def deregister_with_snapshots(self, image_id: str) -> dict[str, str]: ...
    def delete_snapshot(self, snapshot_id: str) -> bool: ...
    def unprotect_image(self, image_id: str) -> str: ...


@dataclass(frozen=True)
class RegionTarget:
    """Where one region's deletions go, how they fit a deadline, and the CLI's commands."""

    ec2: DeletingEc2
    bounded: Callable[[float], AbstractContextManager[object]]
    cli: AwsCli


@dataclass(frozen=True)
class Deleted:
    region: str
    image_id: str
    snapshot_ids: tuple[str, ...]
    # Deregistered by someone else between the plan and now.
    already_gone: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "image_id": self.image_id,
            "snapshot_ids": list(self.snapshot_ids),
            "already_gone": self.already_gone,
        }


@dataclass(frozen=True)
class Skipped:
    """Chosen by the plan, found in use when the estate was read again."""

    region: str
    image_id: str
    used_by: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"region": self.region, "image_id": self.image_id, "used_by": list(self.used_by)}


@dataclass
class PruneResult:
    selection: Selection
    deleted: list[Deleted] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)
    left_behind: list[Leftover] = field(default_factory=list)
    interrupted: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "dry_run": False,
            "deleted": [item.to_json() for item in self.deleted],
            "skipped_in_use": [item.to_json() for item in self.skipped],
            "left_behind": [item.to_json() for item in self.left_behind],
            "interrupted": self.interrupted,
            **self.selection.to_json(),
        }

    def rows(self) -> list[tuple[str, str]]:
        """One row per AMI (`ami-... us-east-1`, what became of it), then what was left behind."""
        deleted = {(item.region, item.image_id): item for item in self.deleted}
        skipped = {(item.region, item.image_id): item for item in self.skipped}
        rows: list[tuple[str, str]] = []
        for decision in self.selection.decisions:
            label = f"{decision.image.image_id} {decision.image.region}"
            if decision.key in deleted:
                rows.append((label, _deleted_line(deleted[decision.key])))
            elif decision.key in skipped:
                used_by = "; ".join(skipped[decision.key].used_by)
                rows.append((label, f"kept: used since the plan was made: {used_by}"))
            elif decision.verdict is Verdict.DELETE:
                why = "the run stopped before it" if self.interrupted else "see left behind"
                rows.append((label, f"not deleted: {why}"))
            else:
                rows.append((label, decision.line()))
        rows += [("left behind", str(leftover)) for leftover in self.left_behind]
        return rows or [("Nothing to do", "no ebami AMI in these regions")]


def _deleted_line(item: Deleted) -> str:
    snapshots = f" and its snapshot(s) {', '.join(item.snapshot_ids)}" if item.snapshot_ids else ""
    gone = " (someone had deregistered it already)" if item.already_gone else ""
    return f"deleted: deregistered{gone}{snapshots}"


# EC2's error code for a snapshot a registered AMI still uses.
SNAPSHOT_IN_USE = "InvalidSnapshot.InUse"


class PruneActions:
    """The methods a prune plan's instructions name, for `Executor`."""

    def __init__(
        self,
        *,
        targets: Mapping[str, RegionTarget],
        reread: Callable[[], Protections],
        reporter: Reporter,
        result: PruneResult,
        seconds: float = DELETE_SECONDS,
    ) -> None:
        self._targets = targets
        self._reread = reread
        self._reporter = reporter
        self._seconds = seconds
        self.result = result
        self._protected: Protections = {}
        self._once = OnceEach(reporter)

    def recheck(self) -> None:
        """Read every use again: an AMI used since the plan was made is kept (IncompleteInventory
        stops the run before any deletion)."""
        self._protected = self._reread()

    def delete_image(
        self,
        region: str,
        image_id: str,
        snapshot_ids: list[str],
        unprotect: bool = False,
        every_snapshot: bool = False,
    ) -> None:
        """`unprotect`: ebami turned the AMI's deregistration protection on, and turns it off
        first (nothing uses the AMI any more). `every_snapshot`: the plan deletes every
        snapshot of the AMI, so that EC2 may delete them with it (DeleteAssociatedSnapshots)
        and delete nothing the plan keeps."""
        used_by = self._protected.get((region, image_id))
        if used_by:
            self.result.skipped.append(Skipped(region, image_id, tuple(used_by)))
            self._reporter.warn(
                f"{region}: {image_id} is used since the plan was made ({'; '.join(used_by)}): kept"
            )
            return
        target = self._targets[region]
        # Signals wait for the unit: the executor stops before the next AMI, not inside one.
        with stoppable() as stop, stop.holding(), target.bounded(self._seconds):
            if unprotect and not self._unprotect(region, image_id, snapshot_ids, target):
                return
            self._delete(region, image_id, snapshot_ids, target, every_snapshot)

    def _unprotect(
        self, region: str, image_id: str, snapshot_ids: list[str], target: RegionTarget
    ) -> bool:
        """Turn off the deregistration protection ebami turned on; False (and a leftover) when
        it still holds: refused, or a cooldown runs."""
        command = target.cli.command(
            "ec2", "disable-image-deregistration-protection", "--image-id", image_id
        )
        finish = self._finish(image_id, snapshot_ids, target)
        try:
            shown = target.ec2.unprotect_image(image_id)
        except NotFoundError:
            return True  # deregistered by someone else: _delete records it as gone
        except AwsError as exc:
            why = f"deregistration protection not turned off: {exc.message}"
            self._leave(Leftover(f"AMI {image_id} in {region}", why, f"{command}; then {finish}"))
            return False
        if shown.startswith(HOLDING):  # EC2's answer is `disabled` (or "true") once released
            why = f"deregistration protection turned off, but it holds ({shown})"
            self._leave(
                Leftover(f"AMI {image_id} in {region}", f"{why}; a later prune deletes it", finish)
            )
            return False
        return True

    def _finish(self, image_id: str, snapshot_ids: list[str], target: RegionTarget) -> str:
        """The AWS CLI commands that deregister the AMI and delete its snapshots."""
        then = "".join(
            "; then " + target.cli.command("ec2", "delete-snapshot", "--snapshot-id", snapshot)
            for snapshot in snapshot_ids
        )
        return target.cli.command("ec2", "deregister-image", "--image-id", image_id) + then

    def _delete(
        self,
        region: str,
        image_id: str,
        snapshot_ids: list[str],
        target: RegionTarget,
        every_snapshot: bool,
    ) -> None:
        results: dict[str, str] = {}
        try:
            if snapshot_ids and every_snapshot:
                # One call where EC2 and botocore can: EC2 deletes the snapshots no other AMI
                # uses, and says what became of each; the others are deleted one by one.
                registered, results = self._deregister_with_snapshots(image_id, target)
            else:
                registered = target.ec2.deregister_image(image_id)
        except AwsError as exc:
            finish = self._finish(image_id, snapshot_ids, target)
            why = f"not deregistered: {exc.message}"
            self._leave(Leftover(f"AMI {image_id} in {region}", why, finish))
            return
        deleted: list[str] = []
        for snapshot_id in snapshot_ids:
            code = results.get(snapshot_id)
            if code == "success":
                deleted.append(snapshot_id)
            elif code == "skipped":
                self._kept_in_use(region, image_id, snapshot_id)
            elif self._delete_snapshot(region, image_id, snapshot_id, target):
                deleted.append(snapshot_id)
        extra = sorted(
            key for key, code in results.items() if code == "success" and key not in snapshot_ids
        )
        if extra:
            self._reporter.warn(
                f"{region}: EC2 deleted snapshot(s) {', '.join(extra)} of {image_id} with it, "
                "beyond those the plan named"
            )
        self.result.deleted.append(
            Deleted(region, image_id, tuple(deleted + extra), already_gone=not registered)
        )

    def _deregister_with_snapshots(
        self, image_id: str, target: RegionTarget
    ) -> tuple[bool, dict[str, str]]:
        """Deregister with DeleteAssociatedSnapshots: (registered until now, each snapshot's
        result); where that cannot be used, one warning and a plain deregistration."""
        try:
            return True, target.ec2.deregister_with_snapshots(image_id)
        except GuardUnavailable as exc:
            self._once.warn(
                f"deleting snapshots with their AMI ({exc.message}): one call per snapshot"
            )
        except NotFoundError:
            return False, {}
        return target.ec2.deregister_image(image_id), {}

    def _kept_in_use(self, region: str, image_id: str, snapshot_id: str) -> None:
        # Another AMI still uses it (one kept at the re-read, or registered since): it must
        # stay, which is no failure.
        self._reporter.warn(
            f"{region}: snapshot {snapshot_id} of {image_id} kept: another AMI still uses it"
        )

    def _delete_snapshot(
        self, region: str, image_id: str, snapshot_id: str, target: RegionTarget
    ) -> bool:
        """Delete one snapshot of the deregistered AMI: whether this run deleted it."""
        try:
            return target.ec2.delete_snapshot(snapshot_id)  # False: deleted by someone else
        except AwsError as exc:
            if SNAPSHOT_IN_USE in exc.message:
                self._kept_in_use(region, image_id, snapshot_id)
                return False
            self._leave(
                Leftover(
                    f"snapshot {snapshot_id} of the deregistered AMI {image_id} in {region}",
                    f"not deleted: {exc.message}",
                    target.cli.command("ec2", "delete-snapshot", "--snapshot-id", snapshot_id),
                )
            )
            return False

    def _leave(self, leftover: Leftover) -> None:
        self.result.left_behind.append(leftover)
        self._reporter.warn(f"left behind: {leftover}")
