"""The verdict on a set of ECS config files: the drivers the agent will allow, where they came
from, and the problems found, each with its severity and the lines behind it.

`ebami.image.ecsconfig` makes it; `verify`, the bake-time check and the sandbox read it.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from ebami.image.ecsfiles import DRIVERS_KEY, ConfigLine

AGENT_STOPS = "the agent will not start"


class DriversOrigin(str, Enum):
    """Where the effective list of drivers came from."""

    CONFIG = "config"
    JSON_CONFIG = "ecs.config.json"
    ECS_INIT_DEFAULT = "ecs-init-default"
    AGENT_FALLBACK = "agent-fallback"


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class Problem:
    """Something in the files that does not do what its author probably meant.

    `stops_agent`: the agent exits with a configuration error (ecs-init restarts it forever).
    """

    severity: Severity
    message: str
    lines: tuple[ConfigLine, ...] = ()
    stops_agent: bool = False


@dataclass(frozen=True)
class DriversReport:
    """The drivers the agent will allow, where that came from, and the problems found.

    When the agent does not start, `drivers` is empty (no instance capability is registered)
    and `configured` holds the list it refused.
    """

    drivers: tuple[str, ...]
    origin: DriversOrigin
    line: ConfigLine | None
    problems: tuple[Problem, ...]
    configured: tuple[str, ...] = field(default=())

    @property
    def agent_starts(self) -> bool:
        return not any(problem.stops_agent for problem in self.problems)

    def missing(self, required: Sequence[str]) -> tuple[str, ...]:
        return tuple(name for name in required if name not in self.drivers)

    def failures(self, required: Sequence[str]) -> list[str]:
        """Why these files do not do what ebami's user data meant; empty when they do.

        They must set the drivers line themselves (a default depends on the ecs-init version),
        with no error-level problem, and allow every `required` driver.
        """
        reasons: list[str] = []
        if self.origin is DriversOrigin.ECS_INIT_DEFAULT:
            reasons.append(f"no line sets {DRIVERS_KEY}; ecs-init's default applies")
        reasons.extend(
            problem.message for problem in self.problems if problem.severity is Severity.ERROR
        )
        missing = self.missing(required)
        if missing and self.agent_starts:
            reasons.append(
                f"the agent allows {json.dumps(list(self.drivers))}, without {', '.join(missing)}"
            )
        return reasons
