"""Log driver names: the ones the ECS agent accepts, by agent version, and how a list is read.

The agent checks every name in ECS_AVAILABLE_LOGGING_DRIVERS against its own table of logging
drivers (`agent/dockerclient/logging_drivers.go`, checked in `validateAndOverrideBounds` of
`agent/config/config.go`); a name outside it is a configuration error, the agent exits and
ecs-init restarts it forever. Docker drivers the agent does not list (`local`, `gcplogs`,
`etwlogs`...) are therefore refused here, before they can reach the user data, and so is anything
else (a typo, a quoted name, shell characters).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from ebami.core.errors import InputError

Version = tuple[int, ...]

# The first ECS agent version that accepts each name (the tag that first contains the name in
# the agent's driver table; `awsfirelens` is exempted from the check from 1.50.0 on).
AGENT_DRIVER_SINCE: dict[str, Version] = {
    "json-file": (1, 5, 0),
    "syslog": (1, 5, 0),
    "journald": (1, 5, 0),
    "gelf": (1, 5, 0),
    "fluentd": (1, 5, 0),
    "awslogs": (1, 9, 0),
    "splunk": (1, 11, 0),
    "logentries": (1, 14, 4),
    "sumologic": (1, 14, 5),
    "none": (1, 15, 0),
    "awsfirelens": (1, 50, 0),
}

# Every name some agent version accepts.
KNOWN_DRIVERS: tuple[str, ...] = tuple(AGENT_DRIVER_SINCE)

# What the source procedure sets: the AL1 ecs-init defaults plus fluentd.
DEFAULT_DRIVERS: tuple[str, ...] = ("json-file", "syslog", "awslogs", "fluentd", "none")


def parse_version(text: str | None) -> Version | None:
    """`1.15.0-4.amzn1` -> (1, 15, 0, 4); `1.68.0` -> (1, 68, 0); None if it is not a version."""
    match = re.match(r"\s*(\d+)\.(\d+)(?:\.(\d+))?(?:-(\d+))?", text or "")
    if match is None:
        return None
    return tuple(int(part) for part in match.groups() if part is not None)


def format_version(version: Version) -> str:
    text = ".".join(str(part) for part in version[:3])
    return f"{text}-{version[3]}" if len(version) > 3 else text


def agent_accepts(name: str, agent_version: Version | None) -> bool:
    """Whether an agent of `agent_version` (None: unknown, judged as the newest) accepts `name`."""
    since = AGENT_DRIVER_SINCE.get(name)
    if since is None:
        return False
    return agent_version is None or agent_version >= since


@dataclass(frozen=True)
class AgentVersions:
    """The ECS agent versions a platform's instances may run: at least `minimum`, and below
    `below` when set; `basis` says how ebami knows."""

    minimum: Version
    below: Version | None
    basis: str

    def accepts(self, name: str) -> bool:
        """Whether every agent in the range accepts `name` (the agent never drops a name)."""
        return agent_accepts(name, self.minimum)

    @property
    def accepted(self) -> tuple[str, ...]:
        return tuple(name for name in KNOWN_DRIVERS if self.accepts(name))

    def describe(self) -> str:
        low = f"{format_version(self.minimum)} or newer"
        if self.below is None:
            return f"ECS agent {low}"
        return f"ECS agent {low}, older than {format_version(self.below)}"


def parse_drivers(
    value: str | Iterable[str],
    *,
    agent: AgentVersions | None = None,
    target: str = "",
) -> tuple[str, ...]:
    """Validate driver names (a comma-separated string or a list); keep order, drop repeats.

    Without `agent`, a name is accepted if some ECS agent accepts it; with it, only if every
    agent `target` may run accepts it.
    """
    items = value.split(",") if isinstance(value, str) else list(value)
    names: list[str] = []
    for item in items:
        name = item.strip() if isinstance(value, str) else item
        if name not in KNOWN_DRIVERS:
            raise InputError(
                f"log driver {name!r} is not accepted: the ECS agent does not know it and would "
                f"not start; accepted: {', '.join(KNOWN_DRIVERS)}"
            )
        if agent is not None and not agent.accepts(name):
            where = f" on {target}" if target else ""
            raise InputError(
                f"log driver {name!r} is not accepted{where}: it needs ECS agent "
                f"{format_version(AGENT_DRIVER_SINCE[name])} or newer, {target or 'the target'} "
                f"runs {agent.describe()} ({agent.basis}), which would not start; accepted "
                f"there: {', '.join(agent.accepted)}"
            )
        if name not in names:
            names.append(name)
    if not names:
        raise InputError(f"name at least one log driver, e.g. {','.join(DEFAULT_DRIVERS)}")
    return tuple(names)
