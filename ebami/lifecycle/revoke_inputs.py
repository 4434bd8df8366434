"""What `ebami revoke` is given and when it deprecates: the reason's rules (it becomes an EC2
tag value) and the earliest deprecation time EC2 accepts.

DeprecateAt: EC2 rounds the seconds to the nearest minute and refuses a time in the past, so the
earliest time it surely accepts is the next whole minute at least a minute from now (a time in
the current minute could round into the past by the time EC2 checks it).
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from ebami.core.errors import InputError

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


def deprecation_time(now: datetime) -> datetime:
    """The earliest DeprecateAt EC2 accepts for a request made at `now`: the next whole
    minute at least one minute later."""
    later = now.astimezone(timezone.utc) + timedelta(minutes=1)
    whole = later.replace(second=0, microsecond=0)
    return whole if whole == later else whole + timedelta(minutes=1)
