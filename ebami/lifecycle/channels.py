"""Channels: a name (`stable`, `canary`...) per platform and release that points at one AMI, kept
as an SSM parameter of data type `aws:ec2:image` (`channel_parameter`, by default
`/ebami/{platform}/{release}/{channel}`).

Why SSM Parameter Store: it keeps every version of a parameter (the last 100), which is the
history `ebami promote --previous` and `ebami revoke` step back through; with `aws:ec2:image`
it checks that the value is an AMI the account can use; and launch templates and CloudFormation
can name it (`resolve:ssm:NAME`) as well as `ebami apply --channel`.

"The previous value" of a channel is the newest earlier version whose value differs from the
current one and names an AMI `ebami promote --ami` would accept for that channel: an
`ebami:managed` AMI of this account, available, verified, not revoked, of the channel's platform
and release. The others (values written outside ebami, say with `aws ssm put-parameter`) are
skipped, and each is named with why. Stepping back twice therefore toggles between the last
two values, as `cd -` does: the history records each step, and no version is ever rewritten.

`ebami promote` is planned here as every changing command is (reads only, then a `Plan` the
executor or `--dry-run` runs): it refuses, with the reason and before any write, an AMI that
is not an `ebami:managed` AMI of this account, not available, not verified or revoked.

The checks are made when planning; another promote or revoke may write between the plan and the
write. So after writing, promote reads the channel back and the tags of the AMI it names: a
channel left naming a revoked AMI (the AMI was revoked meanwhile) is reported with the command
that moves it off (`ebami revoke` again, which is idempotent), and the run ends with exit code
9, "a person must look": the channel was written, and what it names is unsafe until that runs.
Moving it back here instead would be one more write racing the same revoke, with the step-back
rules of revoke copied; revoke owns them.
"""

from __future__ import annotations

import re
import shlex
import string
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from ebami.config.formats import check_channel_parameter_name
from ebami.core.errors import InputError, NeedsAttention, NotFoundError, Refused
from ebami.core.plan import Instruction, Plan
from ebami.image import tags
from ebami.image.platforms import Platform, resolve_platform
from ebami.image.provenance import parse_utc_timestamp

if TYPE_CHECKING:
    from ebami.aws.ec2 import Image
    from ebami.aws.ssm import ParameterVersion

# What a channel name may be: it becomes one level of an SSM parameter name, whose characters
# are a-zA-Z0-9_.- (and / between levels); not dots alone, which make a level that reads as a
# relative path (`..`: the level above).
CHANNEL_NAME = re.compile(r"(?!\.+\Z)[A-Za-z0-9_.-]{1,64}")
# What platform and release values may be in a parameter name (one level each).
_LEVEL = "[A-Za-z0-9_.-]+"
# SSM refuses to change a parameter to or from this data type.
IMAGE_DATA_TYPE = "aws:ec2:image"


def check_channel_name(name: str, option: str = "--channel") -> str:
    if name and not name.strip("."):
        raise InputError(
            f"{option} {name!r} is not a channel name: dots alone make a parameter level that "
            "reads as a relative path; use letters or digits too (such as stable)"
        )
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
    history: Sequence[ParameterVersion], refusal: Callable[[str], str | None]
) -> Previous:
    """The newest version before the last (`history` oldest first) whose value differs from the
    last one and that `refusal` accepts (None: usable; else why not)."""
    if not history:
        return Previous(None)
    current = history[-1].value
    skipped: list[Skipped] = []
    seen: dict[str, str | None] = {}
    for version in reversed(history[:-1]):
        if version.value == current:
            continue
        if version.value not in seen:
            seen[version.value] = refusal(version.value)
        reason = seen[version.value]
        if reason is None:
            return Previous(version, tuple(skipped))
        skipped.append(Skipped(version.version, version.value, reason))
    return Previous(None, tuple(skipped))


class Candidates:
    """Judges the values a channel may step back to as `ebami promote --ami` judges an AMI (an
    `ebami:managed` AMI of this account, available, verified, not revoked) and, beyond it, by
    the channel: the AMI must be of the channel's platform and release. This account's ebami
    AMIs are read once (one DescribeImages call), whatever the number of values judged."""

    def __init__(self, ec2: PromoteEc2) -> None:
        self._ec2 = ec2
        self._own: dict[str, Image] | None = None

    def own(self) -> dict[str, Image]:
        """This account's `ebami:managed` AMIs, by id."""
        if self._own is None:
            found = self._ec2.find_own_images_by_tag(tags.MANAGED, "true")
            self._own = {image.image_id: image for image in found}
        return self._own

    def refusal(self, image_id: str, key: ChannelKey) -> str | None:
        """Why channel `key` may not name `image_id` (short, for a list of skipped values);
        None when it may."""
        image = self.own().get(image_id)
        if image is None:
            return self._not_own(image_id)
        if image.state != "available":
            return image.state
        if image.tags.get(tags.REVOKED):
            return "revoked"
        if not image.tags.get(tags.VERIFIED):
            return "not verified"
        return _other_channel(image, key)

    def _not_own(self, image_id: str) -> str:
        try:
            image = self._ec2.get_image(image_id)
        except NotFoundError:
            return "no longer exists"
        if image.tags.get(tags.MANAGED) != "true":
            return "not an ebami AMI"
        return "another account's AMI"


def _other_channel(image: Image, key: ChannelKey) -> str | None:
    """Why an ebami AMI belongs to another platform or release than channel `key` (None: it
    does not); the parts the parameter pattern does not name are not compared."""
    if key.platform is None and key.release is None:
        return None
    try:
        platform = resolve_platform(image.tags.get(tags.PLATFORM) or "")
    except InputError:
        return f"no {tags.PLATFORM} tag ebami knows"
    if key.platform is not None and platform.alias != key.platform:
        return f"an AMI of {platform.alias}"
    if key.release is None:
        return None
    try:
        release = image_release(image, platform)
    except Refused:
        return f"no {tags.RELEASE} tag"
    return None if release == key.release else f"an AMI of release {release}"


class ChannelsSsm(Protocol):
    def parameter_value(self, name: str) -> str | None: ...
    def parameter_values(self, path: str) -> dict[str, str]: ...
    def history(self, name: str) -> list[ParameterVersion]: ...


class Channels:
    """The channels under a parameter name pattern (`channel_parameter`, which `setting` names
    in errors) in `region`."""

    def __init__(
        self,
        ssm: ChannelsSsm,
        pattern: str,
        *,
        setting: str = "channel_parameter",
        region: str | None = None,
    ) -> None:
        self._ssm = ssm
        self.pattern = pattern
        self._setting = setting
        self._region = region
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
        """The parameter of channel `key`, refused before any call when SSM would refuse the
        name (a channel or a platform that puts aws first, a name too long in the region)."""
        name = self.pattern.format(
            platform=key.platform or "", release=key.release or "", channel=key.channel
        )
        try:
            return check_channel_parameter_name(name, self._region)
        except ValueError as exc:
            raise InputError(f"{self._setting}: channel {key}: {exc}") from None

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
        image = own_managed_image(
            self._ec2, image_id, self._region, refuse=Refused, own=Candidates(self._ec2).own()
        )
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
        candidates = Candidates(self._ec2)
        previous = previous_value(history, lambda value: candidates.refusal(value, key))
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

    def written(self, plan: PromotePlan) -> PromoteCheck:
        """What the channel names after the write, read back (a concurrent promote or revoke
        may have written since the plan): raises `NeedsAttention` when it names a revoked
        AMI."""
        now = self._channels.current(plan.key)
        if now is None:
            return PromoteCheck(None)
        stale = revoked_channels(
            [ChannelState(plan.key, plan.parameter, now)], image_tags_reader(self._ec2)
        )
        if stale:
            raise NeedsAttention(f"after this promote, {stale[0]}")
        return PromoteCheck(now)


@dataclass(frozen=True)
class PromoteCheck:
    """The channel's value read back after the write (None: it has none any more)."""

    now: str | None


@dataclass(frozen=True)
class RevokedChannel:
    """A channel that names a revoked AMI, found when reading back what was written, and the
    command that moves it off."""

    state: ChannelState
    revoked: str
    command: str

    def __str__(self) -> str:
        state = self.state
        return (
            f"channel {state.key} ({state.parameter}) names {state.image_id}, which was "
            f"{self.revoked} (another command wrote meanwhile); move it off with: {self.command}"
        )


def revoke_command(image_id: str, image_tags: Mapping[str, str], region: str | None = None) -> str:
    """The `ebami revoke` that moves every channel off a revoked AMI (revoking again keeps the
    first reason; `--reason` is required all the same). `region`: when not the settings'."""
    reason = image_tags.get(tags.REVOKED_REASON) or "revoked"
    where = f" --region {region}" if region else ""
    return f"ebami{where} revoke --ami {image_id} --reason {shlex.quote(reason)}"


def revoked_channels(
    states: Sequence[ChannelState],
    tags_of: Callable[[str], Mapping[str, str] | None],
    command: Callable[[str, Mapping[str, str]], str] = revoke_command,
) -> list[RevokedChannel]:
    """The channels among `states` whose AMI is revoked, each with the command (`command`,
    given the AMI and its tags) that moves it off; `tags_of` gives an AMI's tags (None when it
    does not exist)."""
    found = []
    for state in states:
        image_tags = tags_of(state.image_id)
        revoked = revoked_text(image_tags) if image_tags is not None else None
        if image_tags is not None and revoked:
            found.append(RevokedChannel(state, revoked, command(state.image_id, image_tags)))
    return found


def image_tags_reader(ec2: PromoteEc2) -> Callable[[str], Mapping[str, str] | None]:
    """An AMI's tags as they are now (None: it does not exist), each AMI read once."""
    read: dict[str, Mapping[str, str] | None] = {}

    def tags_of(image_id: str) -> Mapping[str, str] | None:
        if image_id not in read:
            try:
                read[image_id] = ec2.get_image(image_id).tags
            except NotFoundError:
                read[image_id] = None
        return read[image_id]

    return tags_of


def own_managed_image(
    ec2: PromoteEc2,
    image_id: str,
    region: str,
    *,
    refuse: type[Exception],
    own: Mapping[str, Image] | None = None,
) -> Image:
    """The AMI `image_id` if it is an `ebami:managed` AMI of this account (any state); else
    `refuse` with the reason. Tags on a shared AMI are the tagging account's own, so a tag
    alone proves nothing: the AMI must be among this account's own (`Owners=self`). `own`:
    this account's ebami AMIs when already read (`Candidates.own`)."""
    if own is None:
        own = Candidates(ec2).own()
    if image_id in own:
        return own[image_id]
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
    def parameter_value(self, name: str) -> str | None: ...
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

    def delete_channel(self, parameter: str, image_id: str) -> bool:
        """Deletes the channel only while it still names `image_id`, read just before: deleting
        takes the whole history with it, and a value promoted since the plan must not go so."""
        if self.ssm.parameter_value(parameter) != image_id:
            return False
        return self.ssm.delete_parameter(parameter)

    def tag_revoked(self, image_id: str, tags: dict[str, str]) -> None:
        self.ec2.tag_resources([image_id], tags)

    def deprecate(self, image_id: str, when: str) -> None:
        """`when`: ISO 8601 UTC, as the plan shows it."""
        self.ec2.deprecate_image(image_id, parse_utc(when))


def parse_utc(text: str) -> datetime:
    """An ISO 8601 time as EC2 writes them (`2026-11-22T10:02:00.000Z`); ValueError when it is
    not one."""
    moment = parse_utc_timestamp(text)
    if moment is None:
        raise ValueError(f"{text!r} is not a time with its zone")
    return moment
