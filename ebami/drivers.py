"""Docker log driver names: which ones ebami accepts and how a list of them is read.

Names are checked against Docker's built-in log drivers plus ECS's `awsfirelens`. Anything else
(a typo, a quoted name, shell characters) is refused before it can reach the user data.
"""

from __future__ import annotations

from collections.abc import Iterable

from ebami.errors import InputError

# Docker's built-in log drivers, and awsfirelens, which the ECS agent accepts for FireLens.
KNOWN_DRIVERS: tuple[str, ...] = (
    "json-file", "local", "syslog", "journald", "gelf", "fluentd", "awslogs", "splunk",
    "etwlogs", "gcplogs", "logentries", "none", "awsfirelens",
)  # fmt: skip

# What the source procedure sets: the AL1 ecs-init defaults plus fluentd.
DEFAULT_DRIVERS: tuple[str, ...] = ("json-file", "syslog", "awslogs", "fluentd", "none")


def parse_drivers(value: str | Iterable[str]) -> tuple[str, ...]:
    """Validate driver names (a comma-separated string or a list); keep order, drop repeats."""
    items = value.split(",") if isinstance(value, str) else list(value)
    names: list[str] = []
    for item in items:
        name = item.strip() if isinstance(value, str) else item
        if name not in KNOWN_DRIVERS:
            raise InputError(
                f"log driver {name!r} is not accepted; accepted: {', '.join(KNOWN_DRIVERS)}"
            )
        if name not in names:
            names.append(name)
    if not names:
        raise InputError(f"name at least one log driver, e.g. {','.join(DEFAULT_DRIVERS)}")
    return tuple(names)
