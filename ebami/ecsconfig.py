"""How the ECS agent's configuration files are really read, and what drivers that yields.

ecs-init reads `/var/lib/ecs/ecs.config` (instance settings) and then `/etc/ecs/ecs.config`
(user settings) on top. Each file is trimmed, split into lines, each line trimmed and split on
its first `=`; a line without `=` is skipped, the key is *not* trimmed again, there is no quote
or `export` handling, and a later line overrides an earlier one. ecs-init passes the result to
the agent as environment variables, adding its own default for `ECS_AVAILABLE_LOGGING_DRIVERS`
when neither file sets it.

The agent then decodes that variable as one JSON array of strings (anything after the first
JSON value is ignored). An empty value silently yields the agent's fallback; a value that does
not decode only logs a warning and yields the same fallback, `["json-file","none"]`. That is how
fluentd disappears without an error, and why this module exists: verification must read the
files with these rules, not grep for "fluentd".
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from ebami.drivers import KNOWN_DRIVERS

DRIVERS_KEY = "ECS_AVAILABLE_LOGGING_DRIVERS"
INSTANCE_CONFIG_PATH = "/var/lib/ecs/ecs.config"
USER_CONFIG_PATH = "/etc/ecs/ecs.config"

# The bare agent's fallback when the variable is empty or does not decode.
AGENT_FALLBACK_DRIVERS: tuple[str, ...] = ("json-file", "none")
# ecs-init's default when no file sets the variable: the Amazon Linux 1 era (2017-10 on) ...
ECS_INIT_DEFAULT_DRIVERS: tuple[str, ...] = ("json-file", "syslog", "awslogs", "none")
# ... and from ecs-init 1.45 (2020-09), which added fluentd.
ECS_INIT_1_45_DEFAULT_DRIVERS: tuple[str, ...] = (
    "json-file", "syslog", "awslogs", "fluentd", "none",
)  # fmt: skip


class DriversOrigin(str, Enum):
    """Where the effective list of drivers came from."""

    CONFIG = "config"
    ECS_INIT_DEFAULT = "ecs-init-default"
    AGENT_FALLBACK = "agent-fallback"


class Severity(str, Enum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True)
class ConfigLine:
    """One `KEY=value` line as ecs-init splits it."""

    path: str
    number: int
    text: str
    key: str
    value: str

    def __str__(self) -> str:
        return f"{self.path}:{self.number}: {self.text}"


@dataclass(frozen=True)
class Problem:
    """Something in the files that does not do what its author probably meant."""

    severity: Severity
    message: str
    lines: tuple[ConfigLine, ...] = ()


@dataclass(frozen=True)
class DriversReport:
    """The drivers the agent will allow, where that came from, and the problems found."""

    drivers: tuple[str, ...]
    origin: DriversOrigin
    line: ConfigLine | None
    problems: tuple[Problem, ...]

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
        if missing:
            reasons.append(
                f"the agent allows {json.dumps(list(self.drivers))}, without {', '.join(missing)}"
            )
        return reasons


@dataclass(frozen=True)
class ConfigFile:
    """A config file's path and text; `text` is None when the file does not exist."""

    path: str
    text: str | None


def parse_lines(text: str, path: str) -> list[ConfigLine]:
    """Split a file into lines exactly as ecs-init does (trim file, trim line, first `=`)."""
    lines: list[ConfigLine] = []
    # Go's strings.TrimSpace, like str.strip(), removes ASCII and Unicode white space.
    for number, raw in enumerate(text.strip().split("\n"), start=1):
        stripped = raw.strip()
        key, sep, value = stripped.partition("=")
        if sep:
            lines.append(ConfigLine(path, number, stripped, key, value))
    return lines


def effective_drivers(
    files: Sequence[ConfigFile],
    *,
    ecs_init_defaults: tuple[str, ...] = ECS_INIT_DEFAULT_DRIVERS,
) -> DriversReport:
    """Read `files` in load order (instance config first) and return the effective drivers.

    `ecs_init_defaults` is what ecs-init supplies when no file sets the variable; the default is
    the pre-1.45 list without fluentd, so that fluentd is never assumed without evidence.
    """
    problems: list[Problem] = []
    setting: list[ConfigLine] = []
    for config in files:
        if config.text is None:
            continue
        for line in parse_lines(config.text, config.path):
            if line.key == DRIVERS_KEY:
                setting.append(line)
            elif _looks_like_drivers_key(line.key):
                problems.append(
                    Problem(
                        Severity.ERROR,
                        f"key {line.key!r} is not {DRIVERS_KEY}: ecs-init does not trim keys or "
                        "understand 'export', so the agent never sees this line",
                        (line,),
                    )
                )

    if len(setting) > 1:
        problems.append(
            Problem(
                Severity.WARNING,
                f"{DRIVERS_KEY} is set {len(setting)} times; only the last line counts",
                tuple(setting),
            )
        )
    if not setting:
        return DriversReport(
            ecs_init_defaults, DriversOrigin.ECS_INIT_DEFAULT, None, tuple(problems)
        )

    line = setting[-1]
    drivers, value_problems = decode_drivers(line)
    problems.extend(value_problems)
    if drivers is None:
        return DriversReport(
            AGENT_FALLBACK_DRIVERS, DriversOrigin.AGENT_FALLBACK, line, tuple(problems)
        )
    return DriversReport(drivers, DriversOrigin.CONFIG, line, tuple(problems))


def decode_drivers(line: ConfigLine) -> tuple[tuple[str, ...] | None, list[Problem]]:
    """Decode a drivers value the way the agent does; None means the agent falls back.

    The agent uses Go's json.Decoder on the value: leading white space is skipped, only the
    first JSON value is read, `null` or a non-array yields nothing, and an element that is not a
    string becomes an empty name while the others are kept.
    """
    fallback = f"the agent falls back to {json.dumps(list(AGENT_FALLBACK_DRIVERS))}"
    value = line.value.lstrip()
    if not value:
        return None, [Problem(Severity.ERROR, f"the value is empty: {fallback}", (line,))]
    if value[0] in "'\"":
        return None, [
            Problem(
                Severity.ERROR,
                "the value is quoted: ecs-init keeps the quotes, the agent cannot decode a JSON "
                f"array and {fallback}",
                (line,),
            )
        ]
    try:
        decoded, end = json.JSONDecoder().raw_decode(value)
    except json.JSONDecodeError as exc:
        return None, [
            Problem(Severity.ERROR, f"the value is not JSON ({exc.msg}): {fallback}", (line,))
        ]
    if not isinstance(decoded, list):
        return None, [
            Problem(Severity.ERROR, f"the value is not a JSON array: {fallback}", (line,))
        ]
    problems: list[Problem] = []
    if value[end:].strip():
        problems.append(
            Problem(Severity.WARNING, "text after the JSON array is ignored by the agent", (line,))
        )
    if not all(isinstance(item, str) for item in decoded):
        problems.append(
            Problem(
                Severity.ERROR,
                "elements that are not strings are dropped by the agent",
                (line,),
            )
        )
    names = tuple(item for item in decoded if isinstance(item, str) and item)
    if not names:
        problems.append(Problem(Severity.ERROR, f"the array names no driver: {fallback}", (line,)))
        return None, problems
    unknown = [name for name in names if name not in KNOWN_DRIVERS]
    if unknown:
        problems.append(
            Problem(
                Severity.WARNING,
                f"unknown log driver(s) {', '.join(unknown)}: the agent registers no capability "
                "for them",
                (line,),
            )
        )
    return names, problems


def _looks_like_drivers_key(key: str) -> bool:
    normalized = key.strip()
    if normalized.startswith("export "):
        normalized = normalized[len("export ") :].strip()
    return normalized == DRIVERS_KEY and key != DRIVERS_KEY


def ecs_init_default_drivers(ecs_init_version: str | None) -> tuple[str, ...]:
    """ecs-init's default drivers for an installed version (`1.16.0-1.amzn1`, `1.68.0`...).

    Unknown or unreadable versions get the pre-1.45 list, so that fluentd is never assumed.
    """
    match = re.match(r"\s*(\d+)\.(\d+)", ecs_init_version or "")
    if match and (int(match.group(1)), int(match.group(2))) >= (1, 45):
        return ECS_INIT_1_45_DEFAULT_DRIVERS
    return ECS_INIT_DEFAULT_DRIVERS
