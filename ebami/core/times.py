"""Times as ebami writes them into records and tags, and reads them back from AWS."""

from __future__ import annotations

from datetime import datetime, timezone


def utc_timestamp(moment: datetime) -> str:
    """`2026-11-21T09:30:00Z`: the form of every time ebami writes into records and tags."""
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def parse_utc_timestamp(text: str) -> datetime | None:
    """A time as AWS and `utc_timestamp` write it (`Z` or an offset, fractions allowed); None
    when it is not one, or names no zone. Python 3.10's `fromisoformat` knows no `Z`."""
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None
