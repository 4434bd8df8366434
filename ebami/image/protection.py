"""An AMI's EC2 deregistration protection as ebami reads it: off, on (turned on by ebami, which
records why in `ebami:protected-for`, or by someone else), or off but still holding through its
24-hour cooldown.

EC2 words it `disabled`, `enabled-with-cooldown`, `enabled-without-cooldown` and, while a cooldown
runs, `disabled-until TIME`. A word ebami does not know counts as protection on: prune deletes
nothing it cannot read as unprotected.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ebami.core.times import parse_utc_timestamp

OFF = "disabled"
WITH_COOLDOWN = "enabled-with-cooldown"
WITHOUT_COOLDOWN = "enabled-without-cooldown"
COOLING = "disabled-until"


@dataclass(frozen=True)
class Protection:
    """`shown`: EC2's word ("" where EC2 said nothing: an older API or botocore);
    `protected_for`: the `ebami:protected-for` tag, when ebami turned it on."""

    shown: str = ""
    protected_for: str | None = None

    @property
    def on(self) -> bool:
        """Whether it is on (a word ebami does not know included)."""
        return self.shown not in ("", OFF) and not self.shown.startswith(COOLING)

    @property
    def by_ebami(self) -> bool:
        return self.on and self.protected_for is not None

    def cooling_until(self, now: datetime) -> datetime | None:
        """When a running cooldown ends (None: none runs at `now`)."""
        if not self.shown.startswith(COOLING):
            return None
        until = parse_utc_timestamp(self.shown.removeprefix(COOLING).strip())
        return until if until is not None and until > now else None

    def __str__(self) -> str:
        if not self.shown:
            return "unknown"
        if self.by_ebami:
            return f"{self.shown} (ebami: {self.protected_for})"
        return self.shown + (" (not by ebami)" if self.on else "")
