"""The files ecs-init reads, and how it splits them into `KEY=value` lines.

ecs-init (`ecs-init/docker/docker.go`, `getEnvVars`, `LoadEnvVars`) reads `/var/lib/ecs/ecs.config`
(instance settings, only from ecs-init 1.25.0: `ebami.image.ecsinit`) and then `/etc/ecs/ecs.config`
on top. Each file is read as bytes, trimmed with Go's `strings.TrimSpace`, split on `\\n` only, each
line trimmed again and split on its first `=`; a line without `=` is skipped, the key is not trimmed
again, there is no quote or `export` handling, and a later line overrides an earlier one. ecs-init
passes the result to the agent as environment variables, over its own default for
`ECS_AVAILABLE_LOGGING_DRIVERS` (which depends on its version). What the agent makes of them is in
`ebami.image.ecsconfig`.
"""

from __future__ import annotations

from dataclasses import dataclass

DRIVERS_KEY = "ECS_AVAILABLE_LOGGING_DRIVERS"
INSTANCE_CONFIG_PATH = "/var/lib/ecs/ecs.config"
USER_CONFIG_PATH = "/etc/ecs/ecs.config"
# The agent's own file (read with json.Unmarshal, not by ecs-init): `ebami.image.ecsconfig`.
JSON_CONFIG_PATH = "/etc/ecs/ecs.config.json"

# unicode.IsSpace: Go's strings.TrimSpace set (not Python's: \x1c-\x1f are not in it).
GO_SPACE = frozenset(
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009"
    "\u200a\u2028\u2029\u202f\u205f\u3000"
)


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


def _printable(text: str) -> str:
    """A line as evidence: control characters and undecodable bytes escaped."""
    if text.isprintable():
        return text
    return "".join(char if char.isprintable() else ascii(char)[1:-1] for char in text)
