"""How the ECS agent arrives at its logging drivers from what ecs-init passes it.

The agent (`agent/config/parse.go`, `parseAvailableLoggingDrivers`) decodes
`ECS_AVAILABLE_LOGGING_DRIVERS` with Go's `json.NewDecoder(...).Decode` into a list of names: only
the first JSON value is read, a syntax error only logs a warning and yields no list, wrong-typed or
`null` elements stay `""` in place. An empty list falls through (`NewConfig`, `Merge` in
`agent/config/config.go`) to `/etc/ecs/ecs.config.json`, then to user data (JSON only), then to the
agent's own default. Every name is then checked (`validateAndOverrideBounds`): a name the agent
does not know (`""` included) is a configuration error and the agent does not start.

The lines come from `ebami.image.ecsfiles` (ecs-init's reading of the files), the defaults from
`ebami.image.ecsinit` (by ecs-init version); the verdict is an `ebami.image.ecsreport`
`DriversReport`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from ebami.image import gojson
from ebami.image.drivers import Version, agent_accepts, format_version
from ebami.image.ecsfiles import (
    DRIVERS_KEY,
    INSTANCE_CONFIG_PATH,
    JSON_CONFIG_PATH,
    ConfigFile,
    ConfigLine,
    go_trim_space,
    parse_lines,
)
from ebami.image.ecsinit import ECS_INIT_DEFAULT_DRIVERS, INSTANCE_CONFIG_SINCE, EcsInitRules
from ebami.image.ecsreport import AGENT_STOPS, DriversOrigin, DriversReport, Problem, Severity

# The field of the agent's Config struct that ecs.config.json sets (Go matches it ignoring case).
JSON_DRIVERS_FIELD = "AvailableLoggingDrivers"


# --- the agent's decoding of the value ------------------------------------------------------


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
