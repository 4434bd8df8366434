"""How msgspec's validation errors of the settings become ebami's one-line errors.

msgspec reports the first error with the path to it (`- at `$.key[0]``); this module finds the
key (naming a table's key, which msgspec writes `[...]`), where its value came from, and says
what is wrong in the words the settings' messages have always used.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable, Mapping
from typing import Any

import msgspec

from ebami.core.errors import ConfigError


class FormatError(ValueError):
    """A value of `key` not in its format. Raised by `__post_init__`, which msgspec reports as a
    ValidationError at the struct, with this error as its cause: the key is named from here."""

    def __init__(self, key: str, problem: str) -> None:
        super().__init__(problem)
        self.key = key
        self.problem = problem


def names_one_key(source: str) -> bool:
    """Whether `source` (a variable or a flag) sets one key, so that naming it names the key;
    a file's name needs the key after it."""
    return source.startswith(("EBAMI_", "--"))


# msgspec's message, then " - at `$.key[0]...`" unless the error is at the top; a table's key
# (a dict's) is written `[...]`.
_AT = " - at `"
_STEP = re.compile(r"\.(\w+)|\[(\d+)\]|\[\.\.\.\]")
_UNKNOWN = re.compile(r"Object contains unknown field `(.*)`")
_MISSING = re.compile(r"Object missing required field `(.*)`")
_EXPECTED = re.compile(r"Expected `([^`]+)`, got `[^`]+`")
# msgspec's names of the types expected, as the messages have always named them.
_TYPE_WORDS = {
    "str": "string",
    "array": "list",
    "object": "dictionary",
    "bool": "boolean",
    "float": "number",
    "int": "integer",
}


def _locate(
    error: msgspec.ValidationError, data: Any, type_: Any
) -> tuple[list[str], msgspec.ValidationError]:
    """The keys that lead to where `error` arose converting `data` to `type_`, and the error
    there. msgspec names no table key (`[...]`): it stops at the table's first entry that fails,
    so each entry is converted again up to that one, to name its key and the error inside it."""
    location: list[str] = []
    for name, index in _STEP.findall(_split(error)[1]):
        type_ = _without_none(type_)
        if name:  # a struct's field
            type_ = {field.name: field.type for field in msgspec.structs.fields(type_)}[name]
            data = data[name]
            location.append(name)
        elif index:  # a list's item
            type_ = typing.get_args(type_)[0]
            data = data[int(index)]
            location.append(index)
        else:  # a table's entry
            item_type = typing.get_args(type_)[1]
            for key, item in data.items():
                try:
                    msgspec.convert(item, item_type, strict=True)
                except msgspec.ValidationError as inner:
                    keys, inner = _locate(inner, item, item_type)
                    return [*location, str(key), *keys], inner
            break  # pragma: no cover - msgspec stopped at an entry that fails
    return location, error


def _split(error: msgspec.ValidationError) -> tuple[str, str]:
    """msgspec's message and the path after it (`$.key[0]`; empty at the top)."""
    message, at, path = str(error).rpartition(_AT)
    return (message, path.rstrip("`")) if at else (str(error), "")


def _without_none(type_: Any) -> Any:
    """`X` of `X | None`; any other type as it is."""
    args = typing.get_args(type_)
    return next(arg for arg in args if arg is not type(None)) if type(None) in args else type_


def config_error(
    exc: msgspec.ValidationError,
    data: dict[str, Any],
    type_: Any,
    source_of: Callable[[str], str],
) -> ConfigError:
    """The error line for msgspec's `exc` converting `data` to `type_` (a Struct), naming the
    key and where its value came from (`source_of(top-level key)`)."""
    location, error = _locate(exc, data, type_)
    message = _split(error)[0]
    cause = error.__cause__
    unknown = _UNKNOWN.fullmatch(message)
    missing = _MISSING.fullmatch(message)
    if isinstance(cause, FormatError):
        location = [*location, cause.key]
    elif field := unknown or missing:
        location = [*location, field[1]]
    source = source_of(location[0]) if location else "settings"
    key = ".".join(location)
    if unknown:
        known = ", ".join(type_.__struct_fields__)
        return ConfigError(f"{source}: unknown key {key!r}; known keys: {known}")
    if missing:
        return ConfigError(f"{source}: missing key {key!r}")
    expected = _EXPECTED.fullmatch(message)
    if isinstance(cause, FormatError):
        problem = cause.problem
    elif expected:
        value: Any = data
        for step in location:
            value = value[step] if isinstance(value, Mapping) else value[int(step)]
        types = [name for name in expected[1].split(" | ") if name != "null"]
        wanted = " or ".join(_TYPE_WORDS.get(name, name) for name in types)
        hint = ""
        if types == ["str"] and isinstance(value, (int, float)):
            hint = f'; write it in quotes: {location[-1]} = "{value}"'
        problem = f"input should be a valid {wanted} (got {type(value).__name__} {value!r}){hint}"
    else:  # pragma: no cover - these fields give rise to no other error of msgspec's
        problem = message
    where = source if names_one_key(source) else f"{source}: key {key!r}"
    return ConfigError(f"{where}: {problem}")
