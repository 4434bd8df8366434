"""Go's `encoding/json` grammar and values, as far as the ECS agent relies on them.

What differs from Python's `json`: only SP, HT, CR and LF are white space; `NaN`, `Infinity`,
`+1`, `.5`, `1.` and leading zeros are syntax errors; invalid UTF-8 inside a string becomes
U+FFFD; nesting deeper than Go's limit (10000) is an error; the parser is a loop, so no input
raises RecursionError. `ebami.image.ecsconfig` builds the agent's semantics on top.
"""

from __future__ import annotations

# Go's encoding/json scanner refuses deeper nesting (maxNestingDepth).
MAX_JSON_DEPTH = 10000
# encoding/json's white space.
JSON_SPACE = frozenset(" \t\r\n")


class GoJsonError(ValueError):
    """What Go's decoder reports as a syntax error (or EOF), with Go's wording."""


class _Other:
    """A JSON value that is neither a string, an array, an object nor null."""

    def __init__(self, kind: str) -> None:
        self.kind = kind


class JsonObject(list):  # type: ignore[type-arg]
    """A JSON object: (key, value) pairs in order (Go lets the last duplicate win)."""


def decode(text: str, *, whole: bool) -> object:
    """Decode the first JSON value of `text` with Go's grammar; `whole` refuses trailing data
    (json.Unmarshal) where the Decoder ignores it. Raises GoJsonError."""
    pos = _skip_space(text, 0)
    if pos == len(text):
        raise GoJsonError("EOF")
    value, pos = _parse(text, pos)
    if whole and _skip_space(text, pos) != len(text):
        raise GoJsonError("invalid character after top-level value")
    return value


def _skip_space(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] in JSON_SPACE:
        pos += 1
    return pos


def _parse(text: str, pos: int) -> tuple[object, int]:
    """Iterative (no recursion): a stack of open containers, Go's depth limit."""
    stack: list[tuple[list[object] | JsonObject, str | None]] = []
    while True:
        pos = _skip_space(text, pos)
        if pos >= len(text):
            raise GoJsonError("unexpected EOF")
        char = text[pos]
        value: object
        if char in "[{":
            if len(stack) + 1 > MAX_JSON_DEPTH:
                raise GoJsonError("exceeded max depth")
            container: list[object] | JsonObject = [] if char == "[" else JsonObject()
            close = "]" if char == "[" else "}"
            pos = _skip_space(text, pos + 1)
            if pos < len(text) and text[pos] == close:
                value, pos = container, pos + 1
            else:
                key = None
                if close == "}":
                    key, pos = _object_key(text, pos)
                stack.append((container, key))
                continue
        elif char == '"':
            value, pos = _string(text, pos)
        elif char == "-" or "0" <= char <= "9":
            pos = _number(text, pos)
            value = _Other("number")
        else:
            for literal, literal_value in (("true", True), ("false", False), ("null", None)):
                if text.startswith(literal, pos):
                    value, pos = (
                        (_Other("bool") if literal_value is not None else None),
                        pos + len(literal),
                    )
                    break
                if literal.startswith(text[pos : pos + len(literal)]) and pos + len(literal) > len(
                    text
                ):
                    raise GoJsonError("unexpected EOF")
            else:
                raise GoJsonError(f"invalid character {char!r} looking for beginning of value")
        # Close containers as far as the value completes them.
        while True:
            if not stack:
                return value, pos
            container, key = stack[-1]
            if isinstance(container, JsonObject):
                container.append((key or "", value))
                close = "}"
            else:
                container.append(value)
                close = "]"
            pos = _skip_space(text, pos)
            if pos >= len(text):
                raise GoJsonError("unexpected EOF")
            if text[pos] == ",":
                pos += 1
                if close == "}":
                    key, pos = _object_key(text, _skip_space(text, pos))
                    stack[-1] = (container, key)
                break
            if text[pos] != close:
                raise GoJsonError(f"invalid character {text[pos]!r} after element")
            stack.pop()
            value, pos = container, pos + 1


def _object_key(text: str, pos: int) -> tuple[str, int]:
    if pos >= len(text):
        raise GoJsonError("unexpected EOF")
    if text[pos] != '"':
        raise GoJsonError(f"invalid character {text[pos]!r} looking for beginning of object key")
    key, pos = _string(text, pos)
    pos = _skip_space(text, pos)
    if pos >= len(text):
        raise GoJsonError("unexpected EOF")
    if text[pos] != ":":
        raise GoJsonError(f"invalid character {text[pos]!r} after object key")
    return key, pos + 1


_ESCAPES = {'"': '"', "\\": "\\", "/": "/", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}
_HEX = frozenset("0123456789abcdefABCDEF")


def _u4(text: str, pos: int) -> int:
    """The code unit of `\\uXXXX` at `pos`, or -1 (Go's getu4)."""
    chunk = text[pos : pos + 6]
    if len(chunk) == 6 and chunk[:2] == "\\u" and all(c in _HEX for c in chunk[2:]):
        return int(chunk[2:], 16)
    return -1


def _string(text: str, pos: int) -> tuple[str, int]:
    """A JSON string at `pos` (the opening quote), unquoted as Go does: invalid UTF-8 (here
    surrogate escapes) and unpaired surrogates become U+FFFD."""
    out: list[str] = []
    pos += 1
    while True:
        if pos >= len(text):
            raise GoJsonError("unexpected EOF")
        char = text[pos]
        if char == '"':
            return "".join(out), pos + 1
        if char < " ":
            raise GoJsonError(f"invalid character {char!r} in string literal")
        if char == "\\":
            if pos + 1 >= len(text):
                raise GoJsonError("unexpected EOF")
            kind = text[pos + 1]
            if kind in _ESCAPES:
                out.append(_ESCAPES[kind])
                pos += 2
                continue
            if kind != "u":
                raise GoJsonError(f"invalid character {kind!r} in string escape code")
            for offset in range(2, 6):
                if pos + offset >= len(text):
                    raise GoJsonError("unexpected EOF")
                if text[pos + offset] not in _HEX:
                    raise GoJsonError(f"invalid character {text[pos + offset]!r} in \\u escape")
            unit = int(text[pos + 2 : pos + 6], 16)
            pos += 6
            if 0xD800 <= unit < 0xE000:
                low = _u4(text, pos)
                if 0xD800 <= unit < 0xDC00 and 0xDC00 <= low < 0xE000:
                    out.append(chr(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)))
                    pos += 6
                else:
                    out.append("\ufffd")
            else:
                out.append(chr(unit))
            continue
        out.append("\ufffd" if "\ud800" <= char <= "\udfff" else char)
        pos += 1


def _number(text: str, pos: int) -> int:
    """Go's number grammar: -?(0|[1-9]d*)(.d+)?([eE][+-]?d+)?; returns the end."""

    def digits(at: int) -> int:
        start = at
        while at < len(text) and "0" <= text[at] <= "9":
            at += 1
        if at == start:
            if at >= len(text):
                raise GoJsonError("unexpected EOF")
            raise GoJsonError(f"invalid character {text[at]!r} in numeric literal")
        return at

    if text[pos] == "-":
        pos += 1
    if pos >= len(text):
        raise GoJsonError("unexpected EOF")
    pos = pos + 1 if text[pos] == "0" else digits(pos)
    if pos < len(text) and text[pos] == ".":
        pos = digits(pos + 1)
    if pos < len(text) and text[pos] in "eE":
        pos += 1
        if pos < len(text) and text[pos] in "+-":
            pos += 1
        pos = digits(pos)
    return pos


def value_end(text: str) -> int:
    """Where the first JSON value of `text` ends (white space before it skipped)."""
    return _parse(text, _skip_space(text, 0))[1]
