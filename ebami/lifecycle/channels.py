"""Channels: a name (`stable`, `canary`...) per platform and release that points at one AMI, kept
as an SSM parameter of data type `aws:ec2:image` (`channel_parameter`, by default
`/ebami/{platform}/{release}/{channel}`).

Why SSM Parameter Store: it keeps every version of a parameter (the last 100), which is the
history `ebami promote --previous` and `ebami revoke` step back through; with `aws:ec2:image`
it checks that the value is an AMI the account can use; and launch templates and CloudFormation
can name it (`resolve:ssm:NAME`) as well as `ebami apply --channel`.

"The previous value" of a channel is the newest earlier version whose value differs from the
current one and names an AMI that still exists, is `available` and is not revoked: the others
are skipped, and said so. Stepping back twice therefore toggles between the last two values,
as `cd -` does: the history records each step, and no version is ever rewritten.

`ebami promote` is planned here as every changing command is (reads only, then a `Plan` the
executor or `--dry-run` runs): it refuses, with the reason and before any write, an AMI that
is not an `ebami:managed` AMI of this account, not available, not verified or revoked.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from ebami import tags
from ebami.errors import InputError, NotFoundError, Refused
from ebami.plan import Instruction, Plan
from ebami.platforms import Platform, resolve_platform

if TYPE_CHECKING:
    from ebami.aws.ec2 import Image
    from ebami.aws.ssm import ParameterVersion

# What a channel name may be: it becomes one level of an SSM parameter name, whose characters
# are a-zA-Z0-9_.- (and / between levels).
CHANNEL_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
# What platform and release values may be in a parameter name (one level each).
_LEVEL = "[A-Za-z0-9_.-]+"
# SSM refuses to change a parameter to or from this data type.
IMAGE_DATA_TYPE = "aws:ec2:image"


def check_channel_name(name: str, option: str = "--channel") -> str:
    if not CHANNEL_NAME.fullmatch(name):
        raise InputError(
            f"{option} {name!r} is not a channel name; use 1 to 64 letters, digits, '_', '.' "
            "or '-' (such as stable)"
        )
    return name


@dataclass(frozen=True)
class ChannelKey:
    """Which channel: its name, and the platform alias and release it is for (None where the
    parameter pattern does not name them)."""

    platform: str | None
    release: str | None
    channel: str

    def __str__(self) -> str:
        scope = " ".join(part for part in (self.platform, self.release) if part)
        return f"{self.channel} ({scope})" if scope else self.channel


@dataclass(frozen=True)
class ChannelState:
    """A channel as it stands: its parameter and the AMI it names now."""

    key: ChannelKey
    parameter: str
    image_id: str

    def to_json(self) -> dict[str, Any]:
        return {
            "channel": self.key.channel,
            "platform": self.key.platform,
            "release": self.key.release,
            "parameter": self.parameter,
            "ami_id": self.image_id,
        }


@dataclass(frozen=True)
class Skipped:
    """An earlier value the step back passed over, and why."""

    version: int
    image_id: str
    reason: str

    def __str__(self) -> str:
        return f"version {self.version} {self.image_id} ({self.reason})"


@dataclass(frozen=True)
class Previous:
    """The value a channel steps back to (None: no earlier value is usable) and what was
    skipped on the way."""

    version: ParameterVersion | None
    skipped: tuple[Skipped, ...] = ()

    @property
    def image_id(self) -> str | None:
        return self.version.value if self.version else None

    def skipped_text(self) -> str:
        return "skipped " + "; ".join(str(item) for item in self.skipped) if self.skipped else ""

    def to_json(self) -> dict[str, Any]:
        return {
            "ami_id": self.image_id,
            "version": self.version.version if self.version else None,
            "skipped": [
                {"version": item.version, "ami_id": item.image_id, "reason": item.reason}
                for item in self.skipped
            ],
        }


def previous_value(
    history: Sequence[ParameterVersion], image_of: Callable[[str], Image | None]
) -> Previous:
    """The newest version before the last (`history` oldest first) whose value differs from the
    last one and names an AMI that exists, is available and is not revoked; `image_of` gives
    the AMI of a value (None when it does not exist)."""
    if not history:
        return Previous(None)
    current = history[-1].value
    skipped: list[Skipped] = []
    seen: dict[str, str | None] = {}
    for version in reversed(history[:-1]):
        if version.value == current:
            continue
        if version.value not in seen:
            seen[version.value] = _unusable(image_of(version.value))
        reason = seen[version.value]
        if reason is None:
            return Previous(version, tuple(skipped))
        skipped.append(Skipped(version.version, version.value, reason))
    return Previous(None, tuple(skipped))


def _unusable(image: Image | None) -> str | None:
    if image is None:
        return "no longer exists"
    if image.state != "available":
        return image.state
    if image.tags.get(tags.REVOKED):
        return "revoked"
    return None


class ChannelsSsm(Protocol):
    def parameter_value(self, name: str) -> str | None: ...
    def parameter_values(self, path: str) -> dict[str, str]: ...
    def history(self, name: str) -> list[ParameterVersion]: ...


class Channels:
    """The channels under a parameter name pattern (`channel_parameter`)."""

    def __init__(self, ssm: ChannelsSsm, pattern: str) -> None:
        self._ssm = ssm
        self.pattern = pattern
        parts = list(string.Formatter().parse(pattern))
        regex, named = "", set()
        for literal, name, _, _ in parts:
            regex += re.escape(literal)
            if name is None:
                continue
            regex += f"(?P={name})" if name in named else f"(?P<{name}>{_LEVEL})"
            named.add(name)
        self._regex = re.compile(regex)
        self._named = frozenset(named)
        fixed = parts[0][0] if parts else pattern
        # The levels before the first placeholder: every channel parameter lives under it.
        self.prefix = fixed[: fixed.rfind("/")] or "/"

    def parameter(self, key: ChannelKey) -> str:
        return self.pattern.format(
            platform=key.platform or "", release=key.release or "", channel=key.channel
        )

    def key_of(self, parameter: str) -> ChannelKey | None:
        """The channel a parameter name is for; None when it does not fit the pattern."""
        match = self._regex.fullmatch(parameter)
        if match is None:
            return None
        found = match.groupdict()
        if not CHANNEL_NAME.fullmatch(found["channel"]):
            return None
        return ChannelKey(found.get("platform"), found.get("release"), found["channel"])

    def key(self, platform: Platform, release: str, channel: str) -> ChannelKey:
        """The key of `channel` for a platform and release, with the parts the pattern does
        not name left out (so that two keys of one parameter are equal)."""
        return ChannelKey(
            platform.alias if "platform" in self._named else None,
            release if "release" in self._named else None,
            check_channel_name(channel),
        )

    def current(self, key: ChannelKey) -> str | None:
        """The AMI the channel names now; None when it has none."""
        return self._ssm.parameter_value(self.parameter(key)) or None

    def history(self, key: ChannelKey) -> list[ParameterVersion]:
        return self._ssm.history(self.parameter(key))

    def all(self) -> list[ChannelState]:
        """Every channel parameter under the pattern's prefix, any platform and release."""
        found = []
        for name, value in sorted(self._ssm.parameter_values(self.prefix).items()):
            key = self.key_of(name)
            if key is not None and value:
                found.append(ChannelState(key, name, value))
        return found

    def pointing_at(self, image_id: str) -> list[ChannelState]:
        return [state for state in self.all() if state.image_id == image_id]


def image_release(image: Image, platform: Platform) -> str:
    """The release an ebami AMI was baked for: its `ebami:release` tag, or the platform's only
    release (Amazon Linux 2 and 2023 builds record none)."""
    release = image.tags.get(tags.RELEASE)
    if release:
        return release
    if len(platform.releases) == 1:
        return platform.releases[0]
    raise Refused(
        f"{image.image_id} has no {tags.RELEASE} tag and {platform.alias} has several releases: "
        "which channel it belongs to is unknown"
    )


def environment_release(platform: Platform, os_version: str) -> str | None:
    """The release of `platform` an environment's OS version (DescribePlatformVersion's
    `OperatingSystemVersion`) belongs to; None when none does."""
    return next(
        (
            release
            for release in platform.releases
            if platform.os_version_matches(release, os_version)
        ),
        None,
    )


# --- ebami promote ---------------------------------------------------------------------------


class PromoteEc2(Protocol):
    def get_image(self, image_id: str) -> Image: ...
    def find_own_images_by_tag(self, key: str, value: str) -> list[Image]: ...


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
            "channel": self.key.channel,
            "platform": self.key.platform,
            "release": self.key.release,
            "parameter": self.parameter,
            "ami_id": self.image_id,
            "was": self.current,
            "unchanged": self.unchanged,
            **({"previous": self.previous.to_json()} if self.previous else {}),
        }


class PromotePlanner:
    """Reads the AMI and the channel; returns the plan that points the channel at the AMI."""

    def __init__(self, *, ec2: PromoteEc2, channels: Channels, region: str) -> None:
        self._ec2 = ec2
        self._channels = channels
        self._region = region

    def plan(self, image_id: str, channel: str) -> PromotePlan:
        """`ebami promote --ami ID --channel NAME`."""
        check_channel_name(channel)
        image = own_managed_image(self._ec2, image_id, self._region, refuse=Refused)
        refusal = promotion_refusal(image)
        if refusal:
            raise Refused(f"{image_id} cannot be promoted: {refusal}")
        platform = _image_platform(image)
        key = self._channels.key(platform, image_release(image, platform), channel)
        return self._plan(key, image_id, self._channels.history(key))

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
        previous = previous_value(history, self._image_or_none)
        if previous.version is None:
            skipped = f" ({previous.skipped_text()})" if previous.skipped else ""
            raise Refused(
                f"channel {key} has no earlier usable value in {parameter}'s history{skipped}; "
                f"promote an AMI instead: ebami promote --ami AMI --channel {channel}"
            )
        return self._plan(key, previous.version.value, history, previous)

    def _plan(
        self,
        key: ChannelKey,
        image_id: str,
        history: list[ParameterVersion],
        previous: Previous | None = None,
    ) -> PromotePlan:
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
            instructions = (
                Instruction(
                    "publish",
                    f"pointing channel {key} ({parameter}) at {image_id}",
                    {"parameter": parameter, "image_id": image_id},
                    output="version",
                ),
            )
        steps = Plan("promote", facts, instructions, notes=tuple(notes))
        return PromotePlan(
            key, parameter, image_id, current, last.version if last else None, steps, previous
        )

    def _image_or_none(self, image_id: str) -> Image | None:
        try:
            return self._ec2.get_image(image_id)
        except NotFoundError:
            return None


def own_managed_image(
    ec2: PromoteEc2, image_id: str, region: str, *, refuse: type[Exception]
) -> Image:
    """The AMI `image_id` if it is an `ebami:managed` AMI of this account (any state); else
    `refuse` with the reason. Tags on a shared AMI are the tagging account's own, so a tag
    alone proves nothing: the AMI must be among this account's own (`Owners=self`)."""
    for image in ec2.find_own_images_by_tag(tags.MANAGED, "true"):
        if image.image_id == image_id:
            return image
    try:
        image = ec2.get_image(image_id)
    except NotFoundError:
        raise refuse(
            f"{image_id} does not exist in {region} or is not shared with this account"
        ) from None
    if image.tags.get(tags.MANAGED) != "true":
        raise refuse(f"{image_id} is not an AMI ebami made (no {tags.MANAGED}=true tag)")
    raise refuse(f"{image_id} belongs to another account: only this account's AMIs qualify")


def promotion_refusal(image: Image) -> str | None:
    """Why the AMI may not be promoted (None: it may)."""
    if image.state != "available":
        return f"it is {image.state}, not available"
    revoked = revoked_text(image.tags)
    if revoked:
        return f"{revoked}; promote a verified AMI that is not revoked"
    if not image.tags.get(tags.VERIFIED):
        return (
            f"it is not verified (no {tags.VERIFIED} tag): run ebami verify --ami {image.image_id}"
        )
    return None


def revoked_text(image_tags: Mapping[str, str]) -> str | None:
    """'revoked at T: REASON' for a revoked AMI's tags (the tag itself when revoked by hand,
    without a time or reason); None when it is not revoked."""
    revoked = image_tags.get(tags.REVOKED)
    if not revoked:
        return None
    at = image_tags.get(tags.REVOKED_AT)
    reason = image_tags.get(tags.REVOKED_REASON)
    if not at and not reason:
        return f"revoked ({tags.REVOKED}={revoked})"
    return "revoked" + (f" at {at}" if at else "") + (f": {reason}" if reason else "")


def _image_platform(image: Image) -> Platform:
    try:
        return resolve_platform(image.tags.get(tags.PLATFORM) or "")
    except InputError:
        raise Refused(
            f"{image.image_id} has no {tags.PLATFORM} tag ebami knows: which channel it belongs "
            "to is unknown"
        ) from None


# --- the changes -----------------------------------------------------------------------------


class ChannelsActionsEc2(Protocol):
    def tag_resources(self, resource_ids: list[str], tags: dict[str, str]) -> None: ...
    def deprecate_image(self, image_id: str, when: datetime) -> None: ...


class ChannelsActionsSsm(Protocol):
    def publish_image_id(self, name: str, image_id: str) -> int: ...
    def delete_parameter(self, name: str) -> bool: ...


@dataclass
class ChannelActions:
    """What promote and revoke change, one method per plan instruction."""

    ec2: ChannelsActionsEc2
    ssm: ChannelsActionsSsm
    published: dict[str, int] = field(default_factory=dict)

    def publish(self, parameter: str, image_id: str) -> int:
        version = self.ssm.publish_image_id(parameter, image_id)
        self.published[parameter] = version
        return version

    def delete_channel(self, parameter: str) -> bool:
        return self.ssm.delete_parameter(parameter)

    def tag_revoked(self, image_id: str, tags: dict[str, str]) -> None:
        self.ec2.tag_resources([image_id], tags)

    def deprecate(self, image_id: str, when: str) -> None:
        """`when`: ISO 8601 UTC, as the plan shows it."""
        self.ec2.deprecate_image(image_id, parse_utc(when))


def parse_utc(text: str) -> datetime:
    """An ISO 8601 time as EC2 writes them (`2026-11-22T10:02:00.000Z`); Python 3.10's
    `fromisoformat` knows no `Z`."""
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
