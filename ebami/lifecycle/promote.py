"""`ebami promote`: point a channel (`ebami.image.channels`) at a verified AMI, or back at its
previous value (`ebami.lifecycle.stepback`).

Planned as every changing command is (reads only, then a `Plan` the executor or `--dry-run`
runs): it refuses, with the reason and before any write, an AMI that is not an `ebami:managed`
AMI of this account, not available, not verified or revoked (`ManagedImage.promotion_refusal`).

After writing, promote reads the channel back and the AMI it names (`ebami.lifecycle.readback`):
a channel left naming a revoked AMI (the AMI was revoked meanwhile) is reported with the command
that moves it off, and the run ends with exit code 9. Moving it back here instead would be one
more write racing the same revoke, with the step-back rules of revoke copied; revoke owns them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from ebami.core.errors import NeedsAttention, Refused
from ebami.core.plan import Executor, Instruction, Plan, Step
from ebami.image import tags
from ebami.image.channels import (
    IMAGE_DATA_TYPE,
    ChannelKey,
    Channels,
    ChannelState,
    ParameterVersion,
    check_channel_name,
)
from ebami.image.managed import ManagedImage
from ebami.image.platforms import Platform
from ebami.lifecycle.readback import image_reader, revoked_channels
from ebami.lifecycle.stepback import (
    Candidates,
    ImagesEc2,
    Previous,
    own_managed_image,
    previous_value,
)

# Reading the channel back reads a handful of things; throttling may stretch it.
READBACK_SECONDS = 300.0


class PromoteStep(Step):
    """The instructions of its plans: each is performed by the method of that name of
    `ebami.lifecycle.channel_actions.ChannelActions`."""

    PROTECT = "protect"
    PUBLISH = "publish"


@dataclass(frozen=True)
class PromotePlan:
    key: ChannelKey
    parameter: str
    # The AMI the channel will name, and the one it names now.
    image_id: str
    current: str | None
    # The parameter's version now (None: no parameter yet).
    current_version: int | None
    steps: Plan
    # `--previous`: the value stepped back to, and what was skipped.
    previous: Previous | None = None

    @property
    def unchanged(self) -> bool:
        return self.current == self.image_id

    def to_json(self) -> dict[str, Any]:
        return {
            **ChannelState(self.key, self.parameter, self.image_id).to_json(),
            "was": self.current,
            "unchanged": self.unchanged,
            **({"previous": self.previous.to_json()} if self.previous else {}),
        }


class PromotePlanner:
    """Reads the AMI and the channel; returns the plan that points the channel at the AMI."""

    def __init__(self, *, ec2: ImagesEc2, channels: Channels, region: str) -> None:
        self._ec2 = ec2
        self._channels = channels
        self._region = region

    def plan(self, image_id: str, channel: str) -> PromotePlan:
        """`ebami promote --ami ID --channel NAME`."""
        check_channel_name(channel)
        image = own_managed_image(
            self._ec2, image_id, self._region, refuse=Refused, own=Candidates(self._ec2).own()
        )
        refusal = image.promotion_refusal()
        if refusal:
            raise Refused(f"{image_id} cannot be promoted: {refusal}")
        platform, release = channel_of(image)
        key = self._channels.key(platform, release, channel)
        return self._plan(
            key, image_id, self._channels.history(key), protect=not image.protection.on
        )

    def plan_previous(self, platform: Platform, release: str, channel: str) -> PromotePlan:
        """`ebami promote --channel NAME --previous`: back to the channel's previous value."""
        key = self._channels.key(platform, release, channel)
        parameter = self._channels.parameter(key)
        history = self._channels.history(key)
        if not history:
            raise Refused(
                f"channel {key} has no value ({parameter} does not exist): nothing to step back "
                f"to; promote an AMI first: ebami promote --ami AMI --channel {channel}"
            )
        candidates = Candidates(self._ec2)
        previous = previous_value(history, candidates.judge(key))
        if previous.version is None:
            skipped = f" ({previous.skipped_text()})" if previous.skipped else ""
            raise Refused(
                f"channel {key} has no earlier usable value in {parameter}'s history{skipped}; "
                f"promote an AMI instead: ebami promote --ami AMI --channel {channel}"
            )
        earlier = candidates.own().get(previous.version.value)
        protect = earlier is not None and not earlier.protection.on
        return self._plan(key, previous.version.value, history, previous, protect=protect)

    def _plan(
        self,
        key: ChannelKey,
        image_id: str,
        history: Sequence[ParameterVersion],
        previous: Previous | None = None,
        *,
        protect: bool,
    ) -> PromotePlan:
        """`protect`: turn on the AMI's deregistration protection before the channel names
        it (`ebami.image.protection`)."""
        parameter = self._channels.parameter(key)
        last = history[-1] if history else None
        if last is not None and last.data_type != IMAGE_DATA_TYPE:
            raise Refused(
                f"{parameter} exists with data type {last.data_type}, and SSM cannot change a "
                f"parameter to {IMAGE_DATA_TYPE}: delete it (aws ssm delete-parameter --name "
                f"{parameter}) or set channel_parameter to other names"
            )
        current = last.value if last else None
        facts: dict[str, Any] = {
            "Channel": str(key),
            "Parameter": parameter,
            "Now": f"{current} (version {last.version})" if last else "no value yet",
            "Target AMI": image_id,
        }
        notes: list[str] = []
        if previous is not None and previous.version is not None:
            facts["Previous"] = f"{image_id} (version {previous.version.version})"
            if previous.skipped:
                notes.append(previous.skipped_text())
        instructions: tuple[Instruction, ...] = ()
        if current == image_id:
            notes.append(f"channel {key} already names {image_id}: nothing to do")
        else:
            guard = (
                Instruction(
                    PromoteStep.PROTECT,
                    f"turning on the deregistration protection of {image_id}",
                    {"image_id": image_id, "why": f"channel {key.channel}"},
                ),
            )
            instructions = guard if protect else ()
            instructions += (
                Instruction(
                    PromoteStep.PUBLISH,
                    f"pointing channel {key} ({parameter}) at {image_id}",
                    {"parameter": parameter, "image_id": image_id},
                    output="version",
                ),
            )
        steps = Plan("promote", facts, instructions, notes=tuple(notes))
        return PromotePlan(
            key, parameter, image_id, current, last.version if last else None, steps, previous
        )

    def written(self, plan: PromotePlan) -> PromoteCheck:
        """What the channel names after the write, read back (a concurrent promote or revoke
        may have written since the plan): raises `NeedsAttention` when it names a revoked
        AMI."""
        now = self._channels.current(plan.key)
        if now is None:
            return PromoteCheck(None)
        stale = revoked_channels(
            [ChannelState(plan.key, plan.parameter, now)], image_reader(self._ec2)
        )
        if stale:
            raise NeedsAttention(f"after this promote, {stale[0]}")
        return PromoteCheck(now)


@dataclass(frozen=True)
class PromoteCheck:
    """The channel's value read back after the write (None: it has none any more)."""

    now: str | None


def channel_of(image: ManagedImage) -> tuple[Platform, str]:
    """The platform and release whose channels may name the AMI: its tags' (Amazon Linux 2 and
    2023 builds record no release: their platform has one)."""
    platform = image.platform
    if platform is None:
        raise Refused(
            f"{image.image_id} has no {tags.PLATFORM} tag ebami knows: which channel it belongs "
            "to is unknown"
        )
    release = image.release_for(platform)
    if release is None:
        raise Refused(
            f"{image.image_id} has no {tags.RELEASE} tag and {platform.alias} has several "
            "releases: which channel it belongs to is unknown"
        )
    return platform, release


@dataclass(frozen=True)
class Promoted:
    """A promote that ran: its plan, and the channel parameter's version now."""

    plan: PromotePlan
    version: int | None


def run_promote(
    plan: PromotePlan,
    planner: PromotePlanner,
    executor: Executor,
    *,
    bounded: Callable[[float], AbstractContextManager[Any]],
    warn: Callable[[str], None],
) -> Promoted:
    """Write the channel (nothing when it names the AMI already), then read it back: another
    promote or revoke may have written since the plan (a revoked AMI there is `NeedsAttention`;
    another value is a warning)."""
    if plan.unchanged:
        return Promoted(plan, plan.current_version)
    version = executor.execute(plan.steps)["version"]
    with bounded(READBACK_SECONDS):
        now = planner.written(plan).now
    if now != plan.image_id:
        warn(
            f"channel {plan.key} "
            + (f"names {now} now" if now else "has no value now")
            + f", not {plan.image_id}: another promote or revoke wrote it since this one"
        )
    return Promoted(plan, version)
