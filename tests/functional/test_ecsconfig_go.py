"""ebami's reading of ecs.config against Go's standard library itself.

ecs-init reads the files with `strings.TrimSpace`, `strings.Split` and `strings.SplitN`; the
agent decodes ECS_AVAILABLE_LOGGING_DRIVERS with `encoding/json`'s Decoder. `tests/go/ecsconfig`
(ebami's own small Go program) applies exactly those functions; Hypothesis generates files and
values with the inputs where Go and Python differ (white space sets, `\\r`, control characters,
invalid UTF-8, JSON edge cases, deep nesting), and every split and every decoded list must agree.
Skipped, visibly, only where `go` is not installed (scripts/system-deps installs it).
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ebami.image.ecsconfig import decode_drivers_value
from ebami.image.ecsfiles import split_config

PROGRAM = Path(__file__).resolve().parents[1] / "go" / "ecsconfig" / "main.go"


class GoProgram:
    """The compiled program, kept running: one request line in, one answer line out."""

    def __init__(self, binary: Path) -> None:
        self._process = subprocess.Popen(
            [str(binary)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )

    def ask(self, request: dict[str, str]) -> dict[str, Any]:
        assert self._process.stdin is not None
        assert self._process.stdout is not None
        self._process.stdin.write(json.dumps(request) + "\n")
        self._process.stdin.flush()
        answer: dict[str, Any] = json.loads(self._process.stdout.readline())
        return answer

    def close(self) -> None:
        if self._process.stdin is not None:
            self._process.stdin.close()
        self._process.wait(timeout=10)


@pytest.fixture(scope="module")
def go_program(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GoProgram]:
    go = shutil.which("go")
    if go is None:
        pytest.skip("go is not installed (scripts/system-deps installs golang-go)")
    folder = tmp_path_factory.mktemp("go")
    binary = folder / "ecsconfig"
    env = {**os.environ, "GOCACHE": str(folder / "cache"), "GO111MODULE": "off",
           "GOPATH": str(folder / "gopath"), "GOFLAGS": ""}  # fmt: skip
    subprocess.run([go, "build", "-o", str(binary), str(PROGRAM)], check=True, env=env,
                   cwd=PROGRAM.parent, capture_output=True)  # fmt: skip
    program = GoProgram(binary)
    yield program
    program.close()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text)


def raw(text: str) -> bytes:
    """How a `str` from ebami's parser stands for the bytes it was read from."""
    return text.encode("utf-8", "surrogateescape")


# --- inputs -------------------------------------------------------------------------------

# White space as Go and Python see it differently: \x1c-\x1f (Python only), \x85 and \xa0 as
# UTF-8 (both), \u2028, \u3000, a lone \r (a line break for Python's splitlines, not for Go).
SPACES = [b" ", b"\t", b"\r", b"\x0b", b"\x0c", b"\x1c", b"\x1d", b"\x1e", b"\x1f",
          "\u0085".encode(), "\u00a0".encode(), "\u2028".encode(), "\u3000".encode(), b"\x85",
          b"\xa0", b""]  # fmt: skip
KEYS = [b"ECS_AVAILABLE_LOGGING_DRIVERS", b"export ECS_AVAILABLE_LOGGING_DRIVERS",
        b"ECS_AVAILABLE_LOGGING_DRIVERS ", b"ECS_CLUSTER", b"", b"=",
        b"ECS_ENABLE_TASK_IAM_ROLE"]  # fmt: skip
NAMES = [b'"json-file"', b'"fluentd"', b'"none"', b'"local"', b'"awslogs"', b'""', b"null",
         b"1", b"true", b"[]", b"{}", b'"flu\\u0065ntd"', b'"\xff"', b'"\\x"',
         b'"a\\"b"']  # fmt: skip
SCALARS = [b"NaN", b"Infinity", b"-Infinity", b"01", b"1.", b".5", b"+1", b"-0", b"1e5",
           b"1E-2", b"null", b"true", b"false", b"'fluentd'", b'"fluentd"']  # fmt: skip


@st.composite
def values(draw: st.DrawFn) -> bytes:
    space = st.sampled_from(SPACES)
    kind = draw(st.integers(0, 5))
    if kind == 0:  # an array of names, with odd white space and separators
        items = draw(st.lists(st.sampled_from(NAMES), max_size=5))
        inner = b",".join(draw(space) + item + draw(space) for item in items)
        text = b"[" + inner + draw(st.sampled_from([b"]", b"", b",]", b"]]", b"] x", b"][]"]))
    elif kind == 1:
        text = draw(st.sampled_from(SCALARS))
    elif kind == 2:  # nesting around the limit
        depth = draw(st.sampled_from([1, 2, 50, 9_999, 10_000, 10_001, 20_000]))
        text = b"[" * depth + b'"fluentd"' + b"]" * depth
    elif kind == 3:  # quoted as a shell would, which ecs-init keeps
        text = (
            draw(st.sampled_from([b"'", b'"']))
            + b'["fluentd"]'
            + draw(st.sampled_from([b"'", b'"']))
        )
    elif kind == 4:
        text = draw(st.binary(max_size=40))
    else:
        text = b'{"a": ["fluentd"]}'
    return draw(space) + text + draw(space)


@st.composite
def files(draw: st.DrawFn) -> bytes:
    lines = []
    for _ in range(draw(st.integers(0, 6))):
        key = draw(st.sampled_from(KEYS))
        sep = draw(st.sampled_from([b"=", b" = ", b"", b"=="]))
        value = draw(values())
        lines.append(draw(st.sampled_from(SPACES)) + key + sep + value)
    breaks = draw(st.sampled_from([b"\n", b"\r\n", b"\r", b"\n\n"]))
    return draw(st.sampled_from(SPACES)) + breaks.join(lines) + draw(st.sampled_from(SPACES))


# --- the differential tests ----------------------------------------------------------------

COMMON = settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_split_agrees(go: GoProgram, data: bytes) -> None:
    answer = go.ask({"file": b64(data)})
    expected = [(unb64(key), unb64(value)) for key, value in answer["pairs"]]
    assert [(raw(key), raw(value)) for key, value in split_config(data)] == expected, data


def assert_decode_agrees(go: GoProgram, value: bytes) -> None:
    answer = go.ask({"value": b64(value)})
    expected = tuple(unb64(name) for name in answer["names"] or ())
    decoded = decode_drivers_value(value.decode("utf-8", "surrogateescape"))
    assert tuple(raw(name) for name in decoded or ()) == expected, value
    if not answer["syntax_ok"]:
        assert decoded is None, value  # Decode failed: the agent has no list from it


@COMMON
@given(data=files())
def test_files_split_as_ecs_init_splits_them(go_program: GoProgram, data: bytes) -> None:
    assert_split_agrees(go_program, data)


@COMMON
@given(value=values())
def test_values_decode_as_the_agent_decodes_them(go_program: GoProgram, value: bytes) -> None:
    assert_decode_agrees(go_program, value)


@pytest.mark.parametrize(
    "data",
    [b"\x1cECS_AVAILABLE_LOGGING_DRIVERS=[]\x1f", b'A=1\rECS_AVAILABLE_LOGGING_DRIVERS=["x"]',
     "\u00a0A=1\u00a0".encode(), "\u2028A = 1".encode(), b"\x85A=1", b"A==1", b"=1", b""],
    ids=["control characters Python strips", "lone carriage return", "no-break space",
         "line separator", "a lone 0x85 byte", "second equals sign", "empty key", "empty file"],
)  # fmt: skip
def test_split_classes(go_program: GoProgram, data: bytes) -> None:
    assert_split_agrees(go_program, data)


@pytest.mark.parametrize(
    "value",
    [b"[NaN]", b'["fluentd",null]', b'["fluentd", 1, true, {}]', b'["fluentd"] ["x"]',
     b"[" * 10_000 + b"]" * 10_000, b"[" * 10_001 + b"]" * 10_001, b'["\xff"]', b"",
     b" \t\r\n", b"\x0b[]", b"null", b'{"a": 1}', b"'[\"fluentd\"]'", b'["\\u00e9"]',
     b'["\\ud800"]', b"[01]", b"[1.]"],
    ids=["NaN", "null element", "wrong-typed elements", "trailing data", "depth 10000",
         "depth 10001", "invalid UTF-8", "empty", "JSON white space only", "vertical tab",
         "top-level null", "an object", "shell quotes", "escaped letter", "lone surrogate",
         "leading zero", "trailing dot"],
)  # fmt: skip
def test_decode_classes(go_program: GoProgram, value: bytes) -> None:
    assert_decode_agrees(go_program, value)
