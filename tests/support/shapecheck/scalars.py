"""Scalar values against their shapes: the types botocore's model names (string, integer, long,
boolean, float, double, timestamp, blob) as XML text or JSON values, and string enums.

Timestamps follow the shape's `timestampFormat`, else the protocol's default (iso8601 in XML
bodies, epoch seconds in JSON bodies), as botocore's serializers and AWS's protocols define them.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

from botocore.model import Shape

from .findings import ENUM, TYPE

JSON_PROTOCOLS = frozenset({"json", "rest-json"})
_INTEGER = re.compile(r"-?\d+")
_ISO8601 = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})")
_RANGES = {"integer": (-(2**31), 2**31 - 1), "long": (-(2**63), 2**63 - 1)}
_NUMBER = re.compile(r"-?\d+(\.\d+)?([eE][+-]?\d+)?")
SCALARS = frozenset(
    {"string", "character", "integer", "long", "boolean", "float", "double", "timestamp", "blob"}
)


def timestamp_format(shape: Shape, protocol: str) -> str:
    default = "unixTimestamp" if protocol in JSON_PROTOCOLS else "iso8601"
    return str(shape.serialization.get("timestampFormat", default))


def enum_problem(shape: Shape, value: str) -> str | None:
    allowed = list(getattr(shape, "enum", []) or [])
    if allowed and value not in allowed:
        return f"{value!r} is not one of {shape.name}'s values ({', '.join(allowed)})"
    return None


def _iso8601_problem(text: str) -> str | None:
    if not _ISO8601.fullmatch(text):
        return f"{text!r} is not an ISO 8601 date-time with a zone (2024-01-31T12:00:00.000Z)"
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return f"{text!r} is not a real date-time"
    return None


def _timestamp_text_problem(text: str, form: str) -> str | None:
    if form == "iso8601":
        return _iso8601_problem(text)
    if form == "rfc822":
        try:
            parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return f"{text!r} is not an RFC 822 date"
        return None
    if not _NUMBER.fullmatch(text):
        return f"{text!r} is not epoch seconds"
    return None


def _integer_problem(type_name: str, number: int) -> str | None:
    low, high = _RANGES[type_name]
    if not low <= number <= high:
        return f"{number} is outside a {type_name}'s range"
    return None


def _blob_problem(text: str) -> str | None:
    try:
        base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return f"{text[:40]!r} is not base64"
    return None


def text_problem(shape: Shape, text: str, protocol: str) -> tuple[str, str] | None:
    """What is wrong with XML text `text` as a value of `shape`: (kind, detail), or None:
    kind is TYPE or ENUM."""
    kind = shape.type_name
    if kind in ("string", "character"):
        problem = enum_problem(shape, text)
        return (ENUM, problem) if problem else None
    if kind in ("integer", "long"):
        if not _INTEGER.fullmatch(text):
            return TYPE, f"{text!r} is not an {kind}"
        problem = _integer_problem(kind, int(text))
    elif kind == "boolean":
        problem = None if text in ("true", "false") else f"{text!r} is not true or false"
    elif kind in ("float", "double"):
        problem = None if _NUMBER.fullmatch(text) else f"{text!r} is not a {kind}"
    elif kind == "timestamp":
        problem = _timestamp_text_problem(text, timestamp_format(shape, protocol))
    elif kind == "blob":
        problem = _blob_problem(text)
    else:
        problem = f"a {kind} shape where a scalar is expected"
    return (TYPE, problem) if problem else None


def json_problem(shape: Shape, value: Any, protocol: str) -> tuple[str, str] | None:
    """What is wrong with JSON value `value` as a value of `shape`: (kind, detail), or None."""
    kind = shape.type_name
    if kind in ("string", "character"):
        if not isinstance(value, str):
            return TYPE, f"{value!r} is not a string"
        problem = enum_problem(shape, value)
        return (ENUM, problem) if problem else None
    if kind in ("integer", "long"):
        if isinstance(value, bool) or not isinstance(value, int):
            return TYPE, f"{value!r} is not an {kind}"
        problem = _integer_problem(kind, value)
    elif kind == "boolean":
        problem = None if isinstance(value, bool) else f"{value!r} is not true or false"
    elif kind in ("float", "double"):
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        problem = None if number and math.isfinite(value) else f"{value!r} is not a {kind}"
    elif kind == "timestamp":
        problem = _json_timestamp_problem(value, timestamp_format(shape, protocol))
    elif kind == "blob":
        problem = _blob_problem(value) if isinstance(value, str) else f"{value!r} is not base64"
    else:
        problem = f"a {kind} shape where a scalar is expected"
    return (TYPE, problem) if problem else None


def _json_timestamp_problem(value: Any, form: str) -> str | None:
    if form == "unixTimestamp":
        number = isinstance(value, (int, float)) and not isinstance(value, bool)
        return None if number else f"{value!r} is not epoch seconds (a JSON number)"
    if not isinstance(value, str):
        return f"{value!r} is not a {form} string"
    return _timestamp_text_problem(value, form)
