"""How much like AWS the sandbox behaves when AWS is slow or inconsistent.

Real AWS answers before it has finished: a configuration change shows as a `pending` draft, an
`aws:ec2:image` parameter is validated after PutParameter returns, events are filed late, and EC2
answers `NotFound` for a while after a create. The sandbox does all of this by default (the quick
start and the end-to-end tests meet it), each behaviour behind a switch of its own, so that a test
can turn one off or exaggerate it. So a client that reads back what it has just written must do
here what it must do against AWS: wait until SSM shows a new `aws:ec2:image` parameter version,
and retry EC2's NotFound for an instance or AMI it has just made.

The switches are given as one text, by `ebami sandbox start|run --realism SPEC` or
`EBAMI_SANDBOX_REALISM=SPEC`: `aws` (the default), `off` (none of it), or either followed by
`KEY=VALUE` items, comma-separated, that change one behaviour: `off,late-events=5` or
`parameter-validation=10`. Seconds are on the sandbox's clock; 0 or `off` turns a behaviour
off; `on`/`off` set a switch.

The server carries the switches inside `ebami.sandbox.faults.Faults` (its JSON), so the state file
and `ebami sandbox status` show them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from ebami.core.errors import InputError

ENV_REALISM = "EBAMI_SANDBOX_REALISM"
_ON = ("on", "true", "yes", "1")
_OFF = ("off", "false", "no", "0")


@dataclass(frozen=True)
class Realism:
    """One field per behaviour; the defaults are the sandbox's AWS-like self.

    configuration_drafts: during an update DescribeConfigurationSettings answers the `deployed`
        set and a `pending` draft; a draft that failed to deploy stays `failed` until the next
        update.
    health_vocabulary: enhanced health speaks all of AWS's words: Grey/Pending/Info while an
        update runs, Info and then Ok after it.
    late_events: seconds an event may stay invisible after it happened (so it shows after newer
        ones, out of order).
    parameter_validation: seconds before a new version of an `aws:ec2:image` parameter is
        visible (a value AWS would reject never becomes a version;
        `ebami.sandbox.parameter_validation`).
    ec2_not_found: seconds during which a new instance or image answers `NotFound` to
        Describe and CreateTags calls naming it (`ebami.sandbox.ec2_consistency`).
    """

    configuration_drafts: bool = True
    health_vocabulary: bool = True
    late_events: float = 1.5
    parameter_validation: float = 1.0
    ec2_not_found: float = 1.0

    def __post_init__(self) -> None:
        for item in fields(self):
            value = getattr(self, item.name)
            if item.type == "float" and (not math.isfinite(value) or value < 0):
                raise InputError(
                    f"realism {_key(item.name)}={value} is out of range: give seconds, 0 or more"
                )

    @classmethod
    def off(cls) -> Realism:
        """A sandbox that answers at once and consistently."""
        return cls(**{item.name: _nothing(item.type) for item in fields(cls)})

    @property
    def active(self) -> list[str]:
        """One phrase per behaviour turned on, for `ebami sandbox status`."""
        phrases = []
        if self.configuration_drafts:
            phrases.append("pending/failed configuration drafts")
        if self.health_vocabulary:
            phrases.append("enhanced health's whole vocabulary")
        if self.late_events:
            phrases.append(f"events up to {self.late_events:g} s late")
        if self.parameter_validation:
            seconds = self.parameter_validation
            phrases.append(f"aws:ec2:image parameters validated after {seconds:g} s")
        if self.ec2_not_found:
            phrases.append(f"EC2 NotFound for {self.ec2_not_found:g} s after a create")
        return phrases

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Realism:
        return cls(**{item.name: data[item.name] for item in fields(cls) if item.name in data})

    @classmethod
    def parse(cls, spec: str, *, given_as: str = "--realism") -> Realism:
        """`aws`, `off`, or either followed by `KEY=VALUE` items (see the module's docstring)."""
        items = [item.strip() for item in spec.split(",") if item.strip()]
        realism = cls()
        if items and items[0].lower() in ("aws", "off"):
            realism = cls() if items.pop(0).lower() == "aws" else cls.off()
        known = {_key(item.name): item for item in fields(cls)}
        changes: dict[str, Any] = {}
        for item in items:
            key, equals, raw = item.partition("=")
            field = known.get(key.strip().lower())
            if not equals or field is None:
                raise InputError(
                    f"{given_as} item {item!r} is not known: give 'aws' or 'off', then "
                    f"KEY=VALUE items with KEY one of {', '.join(known)}"
                )
            changes[field.name] = _value(field.type, raw.strip(), f"{given_as} {key.strip()}")
        return replace(realism, **changes)

    @classmethod
    def from_sources(cls, environ: Mapping[str, str], spec: str | None = None) -> Realism:
        """The `--realism` flag wins over the environment variable; unset means AWS-like."""
        if spec is not None:
            return cls.parse(spec)
        raw = environ.get(ENV_REALISM, "").strip()
        return cls.parse(raw, given_as=ENV_REALISM) if raw else cls()


def _key(name: str) -> str:
    return name.replace("_", "-")


def _nothing(kind: object) -> Any:
    return False if kind == "bool" else 0.0


def _value(kind: object, raw: str, given_as: str) -> Any:
    if kind == "bool":
        if raw.lower() in _ON:
            return True
        if raw.lower() in _OFF:
            return False
        raise InputError(f"{given_as}={raw!r} is not a switch: give on or off")
    if raw.lower() in _OFF:
        return 0.0
    try:
        seconds = float(raw)
    except ValueError:
        raise InputError(
            f"{given_as}={raw!r} is not a number of seconds: give 0 or more, or off"
        ) from None
    if not math.isfinite(seconds) or seconds < 0:
        raise InputError(f"{given_as}={raw!r} is out of range: give seconds, 0 or more, or off")
    return seconds
