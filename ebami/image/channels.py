"""Channels: a name (`stable`, `canary`...) per platform and release that points at one AMI,
kept as an SSM parameter of data type `aws:ec2:image` (`channel_parameter`, by default
`/ebami/{platform}/{release}/{channel}`).

Why SSM Parameter Store: it keeps every version of a parameter (the last 100), which is the
history `ebami promote --previous` and `ebami revoke` step back through; with `aws:ec2:image`
it checks that the value is an AMI the account can use; and launch templates and CloudFormation
can name it (`resolve:ssm:NAME`) as well as `ebami apply --channel`.

This module is the store: a channel's key, its parameter name under the pattern, and what it
names now (through a small SSM protocol; no AWS call of its own). What may stand on a channel
is `ebami.image.managed.ManagedImage.channel_refusal`'s to say.
"""

from __future__ import annotations

import re
import string
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from ebami.core.errors import InputError
from ebami.image.platforms import Platform

# What a channel name may be: it becomes one level of an SSM parameter name, whose characters
# are a-zA-Z0-9_.- (and / between levels); not dots alone, which make a level that reads as a
# relative path (`..`: the level above).
CHANNEL_NAME = re.compile(r"(?!\.+\Z)[A-Za-z0-9_.-]{1,64}")
# What platform and release values may be in a parameter name (one level each).
_LEVEL = "[A-Za-z0-9_.-]+"
# SSM refuses to change a parameter to or from this data type.
IMAGE_DATA_TYPE = "aws:ec2:image"
# The levels under the channels' prefix that hold ebami's other parameters, where no channel
# parameter is: the environments' rollback targets (`ebami.image.rollback`) and the verdicts on
# the platforms' own AMIs (`ebami.image.stock`).
ROLLBACK_FOLDER = "rollback-target"
STOCK_FOLDER = "stock-ami"
RESERVED_FOLDERS = (ROLLBACK_FOLDER, STOCK_FOLDER)


def rollback_folder(prefix: str) -> str:
    """Where the rollback targets are, under the channels' folder `prefix`."""
    return f"{prefix.rstrip('/')}/{ROLLBACK_FOLDER}"


def stock_folder(prefix: str) -> str:
    """Where the verdicts on the platforms' own AMIs are, under the channels' folder `prefix`."""
    return f"{prefix.rstrip('/')}/{STOCK_FOLDER}"


def reserved(prefix: str, parameter: str) -> bool:
    """Whether `parameter` is one of ebami's other parameters under the channels' folder."""
    return any(
        parameter.startswith(f"{prefix.rstrip('/')}/{folder}/") for folder in RESERVED_FOLDERS
    )


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


class ParameterVersion(Protocol):
    """One version of a channel's parameter, as GetParameterHistory keeps it
    (`ebami.aws.ssm.ParameterVersion` has these)."""

    @property
    def version(self) -> int: ...
    @property
    def value(self) -> str: ...
    @property
    def data_type(self) -> str: ...


class ChannelsSsm(Protocol):
    def parameter_value(self, name: str) -> str | None: ...
    def parameter_values(self, path: str) -> dict[str, str]: ...
    def history(self, name: str) -> Sequence[ParameterVersion]: ...


class Channels:
    """The channels under a parameter name pattern (`channel_parameter`). `check(key, name)`
    refuses, before any call, a parameter name SSM would refuse (given by the caller: the
    rules of SSM's names are the settings' to know)."""

    def __init__(
        self,
        ssm: ChannelsSsm,
        pattern: str,
        *,
        check: Callable[[object, str], str] = lambda key, name: name,
    ) -> None:
        self._ssm = ssm
        self.pattern = pattern
        self._check = check
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
        """The parameter of channel `key` (refused before any call when SSM would refuse it)."""
        name = self.pattern.format(
            platform=key.platform or "", release=key.release or "", channel=key.channel
        )
        return self._check(key, name)

    def key_of(self, parameter: str) -> ChannelKey | None:
        """The channel a parameter name is for; None when it does not fit the pattern."""
        match = self._regex.fullmatch(parameter)
        if match is None or reserved(self.prefix, parameter):
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

    def history(self, key: ChannelKey) -> Sequence[ParameterVersion]:
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
