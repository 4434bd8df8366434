"""`ebami revoke`: take an AMI out of service. It is tagged `ebami:revoked` (with the reason and
the time, ISO 8601 UTC), every channel that names it steps back to its previous value, and
with `--deprecate` EC2 deprecates it too.

The order is the safety: the tag comes first, because `ebami apply` and `ebami promote` refuse a
revoked AMI from the moment the tag is there, so nothing can move onto the AMI while its
channels are being moved off it. Then the channels (any platform and release under the
parameter pattern's prefix), then the deprecation, which only hides the AMI from listings.

A channel with no usable earlier value (every earlier one is the same AMI, revoked, gone or not
available) is deleted rather than left naming the revoked AMI: a launch template or stack that
resolves the parameter (`resolve:ssm:NAME`) would keep launching the revoked AMI without a word,
where a missing parameter fails loudly, and `ebami apply --channel` then says to promote an AMI.
Deleting a parameter removes its history too; that history held nothing usable.

Revoking again is idempotent: the first revocation's reason and time are kept (no tag is
written), the channels that still name the AMI (say a run cut short, or a channel set by hand)
are moved off it again, and a deprecation time already set no later than the one `--deprecate`
would set is kept (a later one is brought forward).

DeprecateAt: EC2 rounds the seconds to the nearest minute and refuses a time in the past, so the
earliest time it surely accepts is the next whole minute at least a minute from now (a time in
the current minute could round into the past by the time EC2 checks it).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from ebami import tags
from ebami.errors import InputError, NotFoundError, Refused
from ebami.lifecycle.channels import (
    Channels,
    ChannelState,
    Previous,
    PromoteEc2,
    own_managed_image,
    parse_utc,
    previous_value,
    revoked_text,
)
from ebami.plan import Instruction, Plan

if TYPE_CHECKING:
    from ebami.aws.ec2 import Image

# EC2 tag values hold at most 256 Unicode characters.
MAX_REASON = 256


def check_reason(reason: str) -> str:
    """The reason as it will be tagged: one line of 1 to 256 characters."""
    text = reason.strip()
    if not text:
        raise InputError(
            f"--reason is empty: say why the AMI is revoked, in 1 to {MAX_REASON} characters"
        )
    if len(text) > MAX_REASON:
        raise InputError(
            f"--reason has {len(text)} characters: an EC2 tag value holds at most {MAX_REASON}"
        )
    if not text.isprintable():
        raise InputError("--reason has a control character (a line break?): write it on one line")
    return text


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def deprecation_time(now: datetime) -> datetime:
    """The earliest DeprecateAt EC2 accepts for a request made at `now`: the next whole
    minute at least one minute later."""
    later = now.astimezone(timezone.utc) + timedelta(minutes=1)
    whole = later.replace(second=0, microsecond=0)
    return whole if whole == later else whole + timedelta(minutes=1)


@dataclass(frozen=True)
class ChannelMove:
    """A channel that names the revoked AMI, and where it goes (None: it is deleted)."""

    state: ChannelState
    previous: Previous

    def to_json(self) -> dict[str, Any]:
        return {
            **self.state.to_json(),
            "to": self.previous.image_id,
            "deleted": self.previous.image_id is None,
            "skipped": self.previous.to_json()["skipped"],
        }


@dataclass(frozen=True)
class RevokePlan:
    image_id: str
    reason: str
    revoked_at: str
    # Revoked before: its first reason and time stand, no tag is written.
    already: bool
    moves: tuple[ChannelMove, ...]
    deprecate_at: datetime | None
    steps: Plan

    def to_json(self) -> dict[str, Any]:
        return {
            "ami_id": self.image_id,
            "reason": self.reason,
            "revoked_at": self.revoked_at,
            "already_revoked": self.already,
            "channels": [move.to_json() for move in self.moves],
            "deprecate_at": iso_utc(self.deprecate_at) if self.deprecate_at else None,
        }


class RevokePlanner:
    """Reads the AMI and every channel; returns the plan that revokes the AMI."""

    def __init__(
        self,
        *,
        ec2: PromoteEc2,
        channels: Channels,
        region: str,
        now: Callable[[], datetime],
    ) -> None:
        self._ec2 = ec2
        self._channels = channels
        self._region = region
        self._now = now

    def plan(self, image_id: str, reason: str, *, deprecate: bool) -> RevokePlan:
        reason = check_reason(reason)
        image = own_managed_image(self._ec2, image_id, self._region, refuse=Refused)
        now = self._now()
        already = bool(image.tags.get(tags.REVOKED))
        revoked_at = image.tags.get(tags.REVOKED_AT, "") if already else iso_utc(now)
        kept_reason = image.tags.get(tags.REVOKED_REASON, "") if already else reason
        instructions: list[Instruction] = []
        notes: list[str] = []
        if already:
            notes.append(
                f"{image_id} was {revoked_text(image.tags)}: that reason and time are kept"
            )
        else:
            instructions.append(
                Instruction(
                    "tag_revoked",
                    f"tagging {image_id} {tags.REVOKED}=true (apply and promote refuse it from "
                    "now on)",
                    {
                        "image_id": image_id,
                        "tags": {
                            tags.REVOKED: "true",
                            tags.REVOKED_REASON: reason,
                            tags.REVOKED_AT: revoked_at,
                        },
                    },
                )
            )
        moves = tuple(
            ChannelMove(state, previous_value(self._channels.history(state.key), self._image))
            for state in self._channels.pointing_at(image_id)
        )
        for move in moves:
            instructions.append(_move(move))
            if move.previous.skipped:
                notes.append(f"channel {move.state.key}: {move.previous.skipped_text()}")
        if not moves:
            notes.append(f"no channel under {self._channels.prefix} names {image_id}")
        deprecate_at = deprecation_time(now) if deprecate else None
        deprecated = _deprecation(image)
        if deprecate_at is not None and deprecated is not None and deprecated <= deprecate_at:
            notes.append(f"{image_id} is deprecated already, at {iso_utc(deprecated)}: kept")
            deprecate_at = None
        if deprecate_at is not None:
            instructions.append(
                Instruction(
                    "deprecate",
                    f"deprecating {image_id} at {iso_utc(deprecate_at)} (EnableImageDeprecation)",
                    {"image_id": image_id, "when": iso_utc(deprecate_at)},
                )
            )
        facts = {
            "AMI": f"{image_id} ({image.name})",
            "Reason": kept_reason,
            "Revoked at": revoked_at,
            "Channels naming it": ", ".join(move.state.parameter for move in moves) or "none",
        }
        steps = Plan("revoke", facts, tuple(instructions), notes=tuple(notes))
        return RevokePlan(image_id, kept_reason, revoked_at, already, moves, deprecate_at, steps)

    def _image(self, image_id: str) -> Image | None:
        try:
            return self._ec2.get_image(image_id)
        except NotFoundError:
            return None


def _deprecation(image: Image) -> datetime | None:
    """When EC2 deprecates (or deprecated) the AMI; None when no time is set."""
    return parse_utc(image.deprecation_time) if image.deprecation_time else None


def _move(move: ChannelMove) -> Instruction:
    state, previous = move.state, move.previous
    if previous.version is None:
        return Instruction(
            "delete_channel",
            f"deleting channel {state.key} ({state.parameter}): no earlier value is usable",
            {"parameter": state.parameter},
        )
    return Instruction(
        "publish",
        f"moving channel {state.key} ({state.parameter}) back from {state.image_id} to "
        f"{previous.version.value} (its version {previous.version.version})",
        {"parameter": state.parameter, "image_id": previous.version.value},
    )
