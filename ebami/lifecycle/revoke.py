"""`ebami revoke`: take an AMI out of service. It is tagged `ebami:revoked` (with the reason and
the time, ISO 8601 UTC), every channel that names it steps back to its previous value, with
`--deprecate` EC2 deprecates it too, and with `--disable` EC2 disables it (DisableImage: no
instance launches from it, its launch permissions are removed, listings hide it; EnableImage
undoes it). Its deregistration protection stays: prune turns it off once nothing uses the AMI.

The order is the safety: the tag comes first, because `ebami apply` and `ebami promote` refuse a
revoked AMI from the moment the tag is there, so nothing can move onto the AMI while its
channels are being moved off it. Then the channels (any platform and release under the
parameter pattern's prefix), then the deprecation, which only hides the AMI from listings.

A channel with no usable earlier value (every earlier one is the same AMI, revoked, gone or not
available) is deleted rather than left naming the revoked AMI: a launch template or stack that
resolves the parameter (`resolve:ssm:NAME`) would keep launching the revoked AMI without a word,
where a missing parameter fails loudly, and `ebami apply --channel` then says to promote an AMI.
Deleting a parameter removes its history too; that history held nothing usable.

Copies: the AMIs of this account with the same `ebami:bake-key` in the settings' `copy_to`
regions (where `ebami build` copies to) are revoked with it, in the same plan: tagged the same
way (the same reason and time), their channels in those regions moved the same way, deprecated
too with `--deprecate`. All tags are written before any channel moves.

Concurrent writers: the checks are made when planning, and another revoke or promote may write
between the plan and the writes (two revokes planning their moves back onto each other's AMI;
a promote of the AMI as it is being revoked). So after the writes, every channel moved and
every channel naming a revoked AMI is read back, with the tags of what it names; a channel left
naming a revoked AMI is named with the command that moves it off, and the run ends with exit
code 9 ("a person must look": what was written stands, and that channel is unsafe until the
command runs). Deleting a channel reads it just before, and leaves it alone when it no longer
names the AMI (deleting takes the history with it).

A run cut short (a write refused, Ctrl-C) says what is done and what is left, and that running
the same revoke again finishes the job.

Revoking again is idempotent: the first revocation's reason and time are kept (no tag is
written), the channels that still name the AMI (say a run cut short, or a channel set by hand)
are moved off it again, and a deprecation time already set no later than the one `--deprecate`
would set is kept (a later one is brought forward).

"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ebami.core.errors import Refused
from ebami.core.plan import Instruction, Plan, Step
from ebami.core.times import utc_timestamp
from ebami.image import tags
from ebami.image.channels import Channels, ChannelState
from ebami.image.managed import ManagedImage
from ebami.lifecycle.channel_actions import parse_utc
from ebami.lifecycle.readback import (
    RevokedChannel,
    image_reader,
    revoke_command,
    revoked_channels,
)
from ebami.lifecycle.revoke_inputs import check_reason, deprecation_time
from ebami.lifecycle.stepback import (
    Candidates,
    ImagesEc2,
    Previous,
    own_managed_image,
    previous_value,
)


class RevokeStep(Step):
    """The instructions of its plans: each is performed by the method of that name of
    `RevokeActions`."""

    TAG_REVOKED = "tag_revoked"
    PUBLISH = "publish"
    DELETE_CHANNEL = "delete_channel"
    DEPRECATE = "deprecate"
    DISABLE = "disable"


@dataclass(frozen=True)
class RevokeRegion:
    """A region revoke reads and writes in: its EC2 and its channels."""

    region: str
    ec2: ImagesEc2
    channels: Channels


@dataclass(frozen=True)
class ChannelMove:
    """A channel that names the revoked AMI, and where it goes (None: it is deleted)."""

    state: ChannelState
    previous: Previous
    region: str
    # Whether `region` is not the settings' (said in the progress message).
    remote: bool = False

    @property
    def step(self) -> Instruction:
        state, previous = self.state, self.previous
        where = f" in {self.region}" if self.remote else ""
        if previous.version is None:
            return Instruction(
                RevokeStep.DELETE_CHANNEL,
                f"deleting channel {state.key} ({state.parameter}){where}: no earlier value is "
                "usable",
                {"region": self.region, "parameter": state.parameter, "image_id": state.image_id},
            )
        return Instruction(
            RevokeStep.PUBLISH,
            f"moving channel {state.key} ({state.parameter}){where} back from {state.image_id} "
            f"to {previous.version.value} (its version {previous.version.version})",
            {
                "region": self.region,
                "parameter": state.parameter,
                "image_id": previous.version.value,
                # Written only while the channel still names the revoked AMI (read just
                # before): a value promoted since the plan stays.
                "replacing": state.image_id,
            },
        )

    def to_json(self) -> dict[str, Any]:
        return {
            **self.state.to_json(),
            "region": self.region,
            "to": self.previous.image_id,
            "deleted": self.previous.image_id is None,
            "skipped": self.previous.to_json()["skipped"],
        }


@dataclass(frozen=True)
class RevokedImage:
    """One AMI the revocation takes out of service: the one named, or a copy of it."""

    region: str
    image_id: str
    # Tagged before: no tag is written.
    already: bool
    moves: tuple[ChannelMove, ...]
    # The deprecation time this run sets (None: none), and the one the AMI has already.
    deprecate_at: datetime | None
    deprecated_at: datetime | None
    tag_step: Instruction | None
    deprecate_step: Instruction | None
    disable_step: Instruction | None = None

    @property
    def deprecation(self) -> datetime | None:
        """When EC2 deprecates the AMI once the plan ran."""
        return self.deprecate_at or self.deprecated_at

    def to_json(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "ami_id": self.image_id,
            "already_revoked": self.already,
            "channels": [move.to_json() for move in self.moves],
            "deprecate_at": utc_timestamp(self.deprecation) if self.deprecation else None,
            "disable": self.disable_step is not None,
        }


@dataclass(frozen=True)
class RevokePlan:
    image_id: str
    # The reason given, and the one the AMI keeps (the first one when revoked before).
    given_reason: str
    reason: str
    revoked_at: str
    # The AMI named first, then its copies in other regions.
    targets: tuple[RevokedImage, ...]
    steps: Plan
    deprecate: bool = False
    disable: bool = False

    @property
    def already(self) -> bool:
        """Revoked before: its first reason and time stand."""
        return self.targets[0].already

    @property
    def moves(self) -> tuple[ChannelMove, ...]:
        return tuple(move for target in self.targets for move in target.moves)

    @property
    def deprecate_at(self) -> datetime | None:
        """When EC2 deprecates the AMI named (this run's time, or the one it had)."""
        return self.targets[0].deprecation

    @property
    def copies(self) -> tuple[RevokedImage, ...]:
        return self.targets[1:]

    def command(self) -> str:
        """The command that does this revocation (again)."""
        return (
            f"ebami revoke --ami {self.image_id} --reason {shlex.quote(self.given_reason)}"
            + (" --deprecate" if self.deprecate else "")
            + (" --disable" if self.disable else "")
        )

    def to_json(self) -> dict[str, Any]:
        home = self.targets[0].to_json()
        return {
            "ami_id": self.image_id,
            "reason": self.reason,
            "revoked_at": self.revoked_at,
            "already_revoked": self.already,
            "channels": home["channels"],
            "deprecate_at": home["deprecate_at"],
            "copies": [copy.to_json() for copy in self.copies],
        }


class RevokePlanner:
    """Reads the AMI, its copies in `copies`' regions and every channel there; returns the plan
    that revokes them."""

    def __init__(
        self,
        *,
        ec2: ImagesEc2,
        channels: Channels,
        region: str,
        now: Callable[[], datetime],
        copies: Sequence[RevokeRegion] = (),
    ) -> None:
        self._home = RevokeRegion(region, ec2, channels)
        self._copies = tuple(place for place in copies if place.region != region)
        self._now = now

    def plan(
        self, image_id: str, reason: str, *, deprecate: bool, disable: bool = False
    ) -> RevokePlan:
        reason = check_reason(reason)
        home = self._home
        candidates = Candidates(home.ec2)
        image = own_managed_image(
            home.ec2, image_id, home.region, refuse=Refused, own=candidates.own()
        )
        now = self._now()
        revocation = image.revocation
        revoked_at = (revocation.at or "") if revocation else utc_timestamp(now)
        kept_reason = (revocation.reason or "") if revocation else reason
        notes: list[str] = []
        if revocation is not None:
            notes.append(f"{image_id} was {revocation}: that reason and time are kept")
        found = [(home, image, candidates), *self._find_copies(image, notes)]
        revoke_tags = {
            tags.REVOKED: "true",
            tags.REVOKED_REASON: kept_reason,
            tags.REVOKED_AT: revoked_at,
        }
        deprecate_at = deprecation_time(now) if deprecate else None
        targets = tuple(
            self._target(place, found_image, judge, revoke_tags, deprecate_at, notes, disable)
            for place, found_image, judge in found
        )
        # Disabled last: its channels are off it by then.
        instructions = [
            *(target.tag_step for target in targets if target.tag_step),
            *(move.step for target in targets for move in target.moves),
            *(target.deprecate_step for target in targets if target.deprecate_step),
            *(target.disable_step for target in targets if target.disable_step),
        ]
        moves = [move for target in targets for move in target.moves]
        facts: dict[str, Any] = {
            "AMI": f"{image_id} ({image.name})",
            "Reason": kept_reason,
            "Revoked at": revoked_at,
            "Channels naming it": ", ".join(
                move.state.parameter + (f" ({move.region})" if move.remote else "")
                for move in moves
            )
            or "none",
        }
        if self._copies:
            facts["Copies"] = ", ".join(
                f"{target.image_id} ({target.region})" for target in targets[1:]
            ) or "none in " + ", ".join(place.region for place in self._copies)
        steps = Plan("revoke", facts, tuple(instructions), notes=tuple(notes))
        return RevokePlan(
            image_id,
            reason,
            kept_reason,
            revoked_at,
            targets,
            steps,
            deprecate=deprecate,
            disable=disable,
        )

    def _find_copies(
        self, image: ManagedImage, notes: list[str]
    ) -> list[tuple[RevokeRegion, ManagedImage, Candidates]]:
        """This account's ebami AMIs of the AMI's bake (bake key and build run) in the copy
        regions: that build's copies (a forced rebuild has the same key, not the same run)."""
        if not self._copies:
            return []
        if image.bake is None:
            notes.append(
                f"{image.image_id} has no {tags.BAKE_KEY} tag: its copies in "
                f"{', '.join(place.region for place in self._copies)} cannot be found"
            )
            return []
        found = []
        for place in self._copies:
            candidates = Candidates(place.ec2)
            copies = sorted(
                (copy for copy in candidates.own().values() if copy.same_bake(image)),
                key=lambda copy: copy.image_id,
            )
            found += [(place, copy, candidates) for copy in copies]
        return found

    def _target(
        self,
        place: RevokeRegion,
        image: ManagedImage,
        candidates: Candidates,
        revoke_tags: Mapping[str, str],
        deprecate_at: datetime | None,
        notes: list[str],
        disable: bool = False,
    ) -> RevokedImage:
        remote = place is not self._home
        where = f" in {place.region}" if remote else ""
        image_id = image.image_id
        already = image.revoked
        tag_step = None
        if not already:
            tag_step = Instruction(
                RevokeStep.TAG_REVOKED,
                f"tagging {image_id}{where} {tags.REVOKED}=true (apply and promote refuse it "
                "from now on)",
                {"region": place.region, "image_id": image_id, "tags": dict(revoke_tags)},
            )
        elif remote:
            notes.append(f"copy {image_id}{where} was {image.revocation}: kept")
        moves = tuple(
            ChannelMove(
                state,
                previous_value(place.channels.history(state.key), candidates.judge(state.key)),
                place.region,
                remote,
            )
            for state in place.channels.pointing_at(image_id)
        )
        for move in moves:
            if move.previous.skipped:
                notes.append(f"channel {move.state.key}{where}: {move.previous.skipped_text()}")
        if not moves:
            notes.append(f"no channel under {place.channels.prefix}{where} names {image_id}")
        deprecated = _deprecation(image)
        planned = deprecate_at
        if planned is not None and deprecated is not None and deprecated <= planned:
            notes.append(
                f"{image_id}{where} is deprecated already, at {utc_timestamp(deprecated)}: kept"
            )
            planned = None
        deprecate_step = None
        if planned is not None:
            when = utc_timestamp(planned)
            deprecate_step = Instruction(
                RevokeStep.DEPRECATE,
                f"deprecating {image_id}{where} at {when} (EnableImageDeprecation)",
                {"region": place.region, "image_id": image_id, "when": when},
            )
        disable_step = None
        if disable and image.state == "disabled":
            notes.append(f"{image_id}{where} is disabled already")
        elif disable:
            disable_step = Instruction(
                RevokeStep.DISABLE,
                f"disabling {image_id}{where} (DisableImage: no launch from it, no launch "
                "permission, hidden from listings)",
                {"region": place.region, "image_id": image_id},
            )
        return RevokedImage(
            place.region,
            image_id,
            already,
            moves,
            planned,
            deprecated,
            tag_step,
            deprecate_step,
            disable_step,
        )

    def written(self, plan: RevokePlan) -> list[RevokedChannel]:
        """The channels left naming a revoked AMI after the writes, read back: each channel
        moved, and each naming one of the revoked AMIs (a promote that got in meanwhile)."""
        ours = {target.image_id for target in plan.targets}
        found: list[RevokedChannel] = []
        for target in plan.targets:
            place = self._place(target.region)
            moved = {move.state.parameter for move in target.moves}
            states = [
                state
                for state in place.channels.all()
                if state.parameter in moved or state.image_id in ours
            ]
            remote = place.region if place is not self._home else None

            def command(image: ManagedImage, remote: str | None = remote) -> str:
                if image.image_id in ours:
                    return plan.command()
                return revoke_command(image, remote)

            found += revoked_channels(states, image_reader(place.ec2), command)
        return found

    def _place(self, region: str) -> RevokeRegion:
        return next((place for place in self._copies if place.region == region), self._home)


def _deprecation(image: ManagedImage) -> datetime | None:
    """When EC2 deprecates (or deprecated) the AMI; None when no time is set."""
    return parse_utc(image.deprecation_time) if image.deprecation_time else None
