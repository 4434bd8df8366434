"""How ecs-init and the ECS agent really read their configuration, and what drivers that yields.

ecs-init (`ecs-init/docker/docker.go`, `getEnvVars`, `LoadEnvVars`) reads `/var/lib/ecs/ecs.config`
(instance settings, only from ecs-init 1.25.0) and then `/etc/ecs/ecs.config` on top. Each file is
read as bytes, trimmed with Go's `strings.TrimSpace`, split on `\\n` only, each line trimmed again
and split on its first `=`; a line without `=` is skipped, the key is not trimmed again, there is
no quote or `export` handling, and a later line overrides an earlier one. ecs-init passes the
result to the agent as environment variables, over its own default for
`ECS_AVAILABLE_LOGGING_DRIVERS` (which depends on its version).

The agent (`agent/config/parse.go`, `parseAvailableLoggingDrivers`) decodes that variable with
Go's `json.NewDecoder(...).Decode` into a list of names: only the first JSON value is read, a
syntax error only logs a warning and yields no list, wrong-typed or `null` elements stay `""` in
place. An empty list falls through (`NewConfig`, `Merge` in `agent/config/config.go`) to
`/etc/ecs/ecs.config.json`, then to user data (JSON only), then to the agent's own default. Every
name is then checked (`validateAndOverrideBounds`): a name the agent does not know (`""`
included) is a configuration error and the agent does not start.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum

from ebami.image import gojson
from ebami.image.drivers import Version, agent_accepts, format_version, parse_version

DRIVERS_KEY = "ECS_AVAILABLE_LOGGING_DRIVERS"
INSTANCE_CONFIG_PATH = "/var/lib/ecs/ecs.config"
USER_CONFIG_PATH = "/etc/ecs/ecs.config"
JSON_CONFIG_PATH = "/etc/ecs/ecs.config.json"
# The field of the agent's Config struct that ecs.config.json sets (Go matches it ignoring case).
JSON_DRIVERS_FIELD = "AvailableLoggingDrivers"

# The bare agent's default (agent/config/config_linux.go) from agent 1.15.0; before, json-file.
AGENT_FALLBACK_DRIVERS: tuple[str, ...] = ("json-file", "none")
AGENT_FALLBACK_BEFORE_1_15: tuple[str, ...] = ("json-file",)
# ecs-init's default by version (ecs-init/docker/docker.go, getContainerConfig; CHANGELOG.md):
# 1.5.0-1 json-file+syslog, 1.9.0-1 adds awslogs, 1.15.0-4 adds none, 1.45.0-1 adds fluentd.
ECS_INIT_DEFAULTS: tuple[tuple[Version, tuple[str, ...]], ...] = (
    ((1, 45, 0), ("json-file", "syslog", "awslogs", "fluentd", "none")),
    ((1, 15, 0, 4), ("json-file", "syslog", "awslogs", "none")),
    ((1, 9, 0), ("json-file", "syslog", "awslogs")),
    ((1, 5, 0), ("json-file", "syslog")),
)
ECS_INIT_DEFAULT_DRIVERS: tuple[str, ...] = ECS_INIT_DEFAULTS[1][1]
ECS_INIT_1_45_DEFAULT_DRIVERS: tuple[str, ...] = ECS_INIT_DEFAULTS[0][1]
# ecs-init reads /var/lib/ecs/ecs.config from this version on (ecs-init CHANGELOG, 1.25.0-1).
INSTANCE_CONFIG_SINCE: Version = (1, 25, 0)

# unicode.IsSpace: Go's strings.TrimSpace set (not Python's: \x1c-\x1f are not in it).
GO_SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)

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
class ConfigLine:
    """One `KEY=value` line as ecs-init splits it."""

    path: str
    number: int
    text: str
    key: str
    value: str

    def __str__(self) -> str:
        return f"{self.path}:{self.number}: {_printable(self.text)}"


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
class EcsInitRules:
    """What an installed ecs-init version reads and defaults to (None: unknown version)."""

    version: str | None

    @property
    def parsed(self) -> Version | None:
        return parse_version(self.version)

    @property
    def reads_instance_config(self) -> bool:
        parsed = self.parsed
        return parsed is None or parsed >= INSTANCE_CONFIG_SINCE

    @property
    def default_drivers(self) -> tuple[str, ...] | None:
        """ecs-init's default; None when it sets none (before 1.5.0). Unknown versions get the
        pre-1.45 list, so that fluentd is never assumed without evidence."""
        parsed = self.parsed
        if parsed is None:
            return ECS_INIT_DEFAULT_DRIVERS
        for since, drivers in ECS_INIT_DEFAULTS:
            if parsed >= since:
                return drivers
        return None

    @property
    def agent_version(self) -> Version | None:
        """The agent ecs-init caches and starts: the same version ("Cache Agent version")."""
        parsed = self.parsed
        return parsed[:3] if parsed else None

    @property
    def agent_fallback(self) -> tuple[str, ...]:
        agent = self.agent_version
        if agent is not None and agent < (1, 15, 0):
            return AGENT_FALLBACK_BEFORE_1_15
        return AGENT_FALLBACK_DRIVERS


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


@dataclass(frozen=True)
class ConfigFile:
    """A config file's path and content (bytes as read, or text); None when it does not exist."""

    path: str
    text: bytes | str | None

    @property
    def data(self) -> bytes | None:
        if self.text is None or isinstance(self.text, bytes):
            return self.text
        try:
            return self.text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:  # a lone surrogate not from surrogateescape: invalid bytes
            return self.text.encode("utf-8", "surrogatepass")


# --- ecs-init's reading of one file --------------------------------------------------------


def go_trim_space(text: str) -> str:
    """Go's `strings.TrimSpace` on text decoded with surrogateescape (invalid bytes are not
    space, as Go's RuneError is not)."""
    start, end = 0, len(text)
    while start < end and text[start] in GO_SPACE:
        start += 1
    while end > start and text[end - 1] in GO_SPACE:
        end -= 1
    return text[start:end]


def split_config(data: bytes) -> list[tuple[str, str]]:
    """ecs-init's reading of one file: (key, value) pairs in file order, later wins.

    Keys and values are `str` decoded with surrogateescape, so any byte round-trips.
    """
    return [(line.key, line.value) for line in parse_lines(data, "")]


def parse_lines(data: bytes | str, path: str) -> list[ConfigLine]:
    """Split a file into lines exactly as ecs-init does (trim file, split on `\\n`, trim line,
    first `=`); `number` counts `\\n`-separated lines of the trimmed file."""
    text = data.decode("utf-8", "surrogateescape") if isinstance(data, bytes) else data
    lines: list[ConfigLine] = []
    for number, raw in enumerate(go_trim_space(text).split("\n"), start=1):
        stripped = go_trim_space(raw)
        key, sep, value = stripped.partition("=")
        if sep:
            lines.append(ConfigLine(path, number, stripped, key, value))
    return lines


def _names_of(value: object) -> tuple[str, ...]:
    """A decoded value stored into Go's `[]LoggingDriver`: an array's strings in place, any
    other element `""`; a non-array leaves the slice nil (a type error)."""
    if isinstance(value, list) and not isinstance(value, gojson.JsonObject):
        return tuple(item if isinstance(item, str) else "" for item in value)
    return ()


def decode_drivers_value(value: str) -> tuple[str, ...] | None:
    """What the agent's `json.NewDecoder(strings.NewReader(value)).Decode(&list)` leaves in the
    list: None when Decode fails on syntax (EOF, bad grammar, depth), the slice's names
    otherwise. Wrong-typed elements are `""` in place (Go reports an UnmarshalTypeError but
    keeps the rest); `null` or a non-array gives an empty tuple. Trailing data is ignored."""
    try:
        decoded = gojson.decode(value, whole=False)
    except gojson.GoJsonError:
        return None
    return _names_of(decoded)


def _decode_error(value: str) -> str:
    try:
        gojson.decode(value, whole=False)
    except gojson.GoJsonError as exc:
        return str(exc)
    return ""


# --- the effective drivers --------------------------------------------------------------


def effective_drivers(
    files: Sequence[ConfigFile],
    *,
    ecs_init_defaults: tuple[str, ...] | None = ECS_INIT_DEFAULT_DRIVERS,
    ecs_init: EcsInitRules | None = None,
    json_config: ConfigFile | None = None,
) -> DriversReport:
    """Read `files` in load order (instance config first) and return the effective drivers.

    With `ecs_init` (the installed version's rules), the files it does not read are skipped
    and its default, agent fallback and accepted names apply; without it, `ecs_init_defaults`
    is ecs-init's default (the pre-1.45 list, so that fluentd is never assumed without
    evidence) and the newest agent's names are accepted. `json_config` is
    `/etc/ecs/ecs.config.json`, consulted when the variable yields no driver.
    """
    rules = ecs_init or EcsInitRules(None)
    defaults = ecs_init.default_drivers if ecs_init is not None else ecs_init_defaults
    agent = rules.agent_version
    problems: list[Problem] = []
    setting: list[ConfigLine] = []
    for config in files:
        data = config.data
        if data is None:
            continue
        if config.path == INSTANCE_CONFIG_PATH and not rules.reads_instance_config:
            if DRIVERS_KEY.encode() in data:
                problems.append(
                    Problem(
                        Severity.WARNING,
                        f"ecs-init {rules.version} does not read {INSTANCE_CONFIG_PATH} (from "
                        f"{format_version(INSTANCE_CONFIG_SINCE)} on); its lines do not count",
                    )
                )
            continue
        for parsed in parse_lines(data, config.path):
            if parsed.key == DRIVERS_KEY:
                setting.append(parsed)
            elif _looks_like_drivers_key(parsed.key):
                problems.append(
                    Problem(
                        Severity.WARNING,
                        f"key {parsed.key!r} is not {DRIVERS_KEY}: ecs-init does not trim keys "
                        "or understand 'export', so the agent never sees this line",
                        (parsed,),
                    )
                )
    if ecs_init is not None and (rules.parsed or (9,)) < (1, 5, 0):
        problems.append(
            Problem(
                Severity.WARNING,
                f"ecs-init {rules.version} predates 1.5.0: it passes lines to Docker untrimmed; "
                "ebami reads them with 1.5.0's rules",
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

    json_names = _json_config_drivers(json_config, problems)
    line = setting[-1] if setting else None
    origin = DriversOrigin.CONFIG
    reason = None
    if line is not None:
        names, reason = _decode_line(line, problems)
    elif defaults is not None:
        names, origin = defaults, DriversOrigin.ECS_INIT_DEFAULT
    else:
        names = ()
    if not names:
        # The agent's next sources: ecs.config.json, user data (ebami's is cloud-config, not
        # JSON, so it sets nothing), then its own default.
        if json_names:
            names, origin = json_names, DriversOrigin.JSON_CONFIG
            where = f"{JSON_CONFIG_PATH}'s {json.dumps(list(names))}"
        else:
            names, origin = rules.agent_fallback, DriversOrigin.AGENT_FALLBACK
            where = json.dumps(list(names))
        if line is not None:
            problems.append(
                Problem(
                    Severity.ERROR,
                    f"{reason or 'the array names no driver:'} the agent falls back to {where}",
                    (line,),
                )
            )
    return _judge(names, origin, line, problems, agent)


def _decode_line(line: ConfigLine, problems: list[Problem]) -> tuple[tuple[str, ...], str | None]:
    """The names the line yields, and why none when it yields none."""
    value = line.value
    stripped = value.lstrip(" \t\r\n")
    decoded = decode_drivers_value(value)
    if decoded is None:
        if not stripped:
            return (), "the value is empty:"
        if stripped[0] == "'":
            return (), (
                "the value is quoted: ecs-init keeps the quotes, the agent cannot decode a JSON "
                "array and"
            )
        return (), f"the value is not JSON ({_decode_error(value)}):"
    if stripped[:1] == '"':
        return (), (
            "the value is quoted: ecs-init keeps the quotes, the agent decodes a JSON string, "
            "not an array, and"
        )
    if not stripped.startswith(("[", "null")):
        return (), "the value is not a JSON array:"
    end = _value_end(value)
    if value[end:].strip(" \t\r\n"):
        problems.append(
            Problem(Severity.WARNING, "text after the JSON array is ignored by the agent", (line,))
        )
    return decoded, None


def _value_end(value: str) -> int:
    """Where the first JSON value of a decodable `value` ends."""
    return gojson.value_end(value)


def _json_config_drivers(
    json_config: ConfigFile | None, problems: list[Problem]
) -> tuple[str, ...]:
    """The drivers `/etc/ecs/ecs.config.json` sets. The agent reads it with json.Unmarshal
    (`fileConfig`) whatever ecs.config says, and any error there stops it."""
    data = json_config.data if json_config is not None else None
    if data is None:
        return ()
    text = data.decode("utf-8", "surrogateescape")
    if not go_trim_space(text):
        return ()
    try:
        document = gojson.decode(text, whole=True)
    except gojson.GoJsonError as exc:
        problems.append(
            Problem(
                Severity.ERROR,
                f"{JSON_CONFIG_PATH} is not JSON ({exc}): {AGENT_STOPS}",
                stops_agent=True,
            )
        )
        return ()
    if not isinstance(document, gojson.JsonObject):
        problems.append(
            Problem(
                Severity.ERROR,
                f"{JSON_CONFIG_PATH} is not a JSON object: {AGENT_STOPS}",
                stops_agent=True,
            )
        )
        return ()
    # Go stores each matching key in turn (an exact name, else ignoring case): the last wins.
    values = [v for k, v in document if k.casefold() == JSON_DRIVERS_FIELD.casefold()]
    if not values:
        return ()
    value = values[-1]
    if value is None:
        return ()
    if (
        not isinstance(value, list)
        or isinstance(value, gojson.JsonObject)
        or not all(item is None or isinstance(item, str) for item in value)
    ):
        problems.append(
            Problem(
                Severity.ERROR,
                f"{JSON_CONFIG_PATH}: {JSON_DRIVERS_FIELD} is not a list of names: {AGENT_STOPS}",
                stops_agent=True,
            )
        )
    return _names_of(value)


def _judge(
    names: tuple[str, ...],
    origin: DriversOrigin,
    line: ConfigLine | None,
    problems: list[Problem],
    agent: Version | None,
) -> DriversReport:
    """The agent's name check: an unknown name stops it; otherwise the names are allowed."""
    # Agents before 1.5.0 have no such setting; their default is json-file.
    checked = max(agent, (1, 5, 0)) if agent is not None else None
    bad = [name for name in names if not agent_accepts(name, checked)]
    if bad:
        version = f"agent {format_version(agent)}" if agent else "the agent"
        shown = ", ".join(json.dumps(name) for name in bad)
        problems.append(
            Problem(
                Severity.ERROR,
                f"{version} does not know the log driver(s) {shown}: {AGENT_STOPS} "
                "(Invalid logging drivers)",
                (line,) if line is not None and origin is DriversOrigin.CONFIG else (),
                stops_agent=True,
            )
        )
    if any(problem.stops_agent for problem in problems):
        return DriversReport((), origin, line, tuple(problems), configured=names)
    return DriversReport(names, origin, line, tuple(problems), configured=names)


def _looks_like_drivers_key(key: str) -> bool:
    normalized = key.strip()
    if normalized.startswith("export "):
        normalized = normalized[len("export ") :].strip()
    return normalized == DRIVERS_KEY and key != DRIVERS_KEY


def ecs_init_default_drivers(ecs_init_version: str | None) -> tuple[str, ...] | None:
    """ecs-init's default drivers for an installed version (`1.16.0-1.amzn1`, `1.68.0`...);
    None before 1.5.0 (it sets none). Unknown versions get the pre-1.45 list."""
    return EcsInitRules(ecs_init_version).default_drivers


def _printable(text: str) -> str:
    """A line as evidence: control characters and undecodable bytes escaped."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)
