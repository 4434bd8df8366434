"""One pinned verdict per class of input where Go and Python differ, with the upstream reason."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ebami.image.ecsconfig import decode_drivers_value, effective_drivers
from ebami.image.ecsfiles import (
    INSTANCE_CONFIG_PATH,
    JSON_CONFIG_PATH,
    USER_CONFIG_PATH,
    ConfigFile,
    split_config,
)
from ebami.image.ecsinit import AGENT_FALLBACK_BEFORE_1_15, EcsInitRules
from ebami.image.ecsreport import DriversOrigin


# ecs-init's getEnvVars: strings.TrimSpace, Split on "\n", TrimSpace, SplitN(line, "=", 2).
@pytest.mark.parametrize(
    ("data", "pairs"),
    [
        (b"\x1cA=1\x1f", [("\x1cA", "1\x1f")]),  # \x1c-\x1f are not unicode.IsSpace
        (b"A=1\rB=2", [("A", "1\rB=2")]),  # a lone \r is no line break for ecs-init
        (b"A=1\r\nB=2", [("A", "1"), ("B", "2")]),  # \r at a line's end is trimmed
        ("\u00a0A=1\u2028".encode(), [("A", "1")]),  # U+00A0 and U+2028 are Go space
        (b"\x85A=1", [("\udc85A", "1")]),  # a lone 0x85 byte is invalid UTF-8, not space
        (b"A = 1", [("A ", " 1")]),  # the key is not trimmed again
        (b"noequals\n=x\nA==b", [("", "x"), ("A", "=b")]),  # no "=": skipped; first "=" splits
        (b"\v\fA=1\v", [("A", "1")]),
    ],
    ids=["ascii-separators", "lone-cr", "crlf", "unicode-space", "invalid-byte", "spaced-key",
         "equals", "vt-ff"],
)  # fmt: skip
def test_files_split_as_ecs_init_splits_them(data: bytes, pairs: list[tuple[str, str]]) -> None:
    assert split_config(data) == pairs


# parseAvailableLoggingDrivers: json.NewDecoder(...).Decode(&[]LoggingDriver).
@pytest.mark.parametrize(
    ("value", "names"),
    [
        ('["fluentd"] ["x"]', ("fluentd",)),  # Decode reads one value
        ('\f["fluentd"]', None),  # only SP HT CR LF are JSON white space
        ("[NaN]", None),
        ("[Infinity]", None),
        ("[01]", None),
        ("[+1]", None),
        ("[.5]", None),
        ("[1.]", None),
        ('["fluentd", 5, null, true, [], {}]', ("fluentd", "", "", "", "", "")),
        ("null", ()),
        ('"fluentd"', ()),  # a non-array is a type error: the list stays empty
        ("", None),  # io.EOF
        ('["\\x"]', None),  # invalid escape
        ('["\udcff"]', ("\ufffd",)),  # invalid UTF-8 becomes U+FFFD
        ('["\\ud800"]', ("\ufffd",)),  # an unpaired surrogate too
        ('["flu\\u0065ntd"]', ("fluentd",)),
        ("[" * 10_000 + "]" * 10_000, ("",)),  # the deepest nesting Go allows
        ("[" * 10_001 + "]" * 10_001, None),  # "exceeded max depth", not RecursionError
    ],
)
def test_values_decode_as_the_agent_decodes_them(value: str, names: tuple[str, ...] | None) -> None:
    assert decode_drivers_value(value) == names


def user(text: bytes) -> list[ConfigFile]:
    return [ConfigFile(INSTANCE_CONFIG_PATH, None), ConfigFile(USER_CONFIG_PATH, text)]


@pytest.mark.parametrize(
    ("version", "drivers"),
    [
        ("1.4.0-2", ("json-file",)),  # ecs-init sets nothing: the agent's own default
        ("1.5.0-1", ("json-file", "syslog")),
        ("1.9.0-1.amzn1", ("json-file", "syslog", "awslogs")),
        ("1.15.0-3.amzn1", ("json-file", "syslog", "awslogs")),
        ("1.15.0-4.amzn1", ("json-file", "syslog", "awslogs", "none")),
        ("1.45.0-1.amzn2", ("json-file", "syslog", "awslogs", "fluentd", "none")),
    ],
)
def test_defaults_follow_the_ecs_init_version(version: str, drivers: tuple[str, ...]) -> None:
    report = effective_drivers(user(b"ECS_CLUSTER=x\n"), ecs_init=EcsInitRules(version))
    assert report.drivers == drivers


def test_instance_file_is_read_from_ecs_init_1_25_only() -> None:
    files = [
        ConfigFile(INSTANCE_CONFIG_PATH, b'ECS_AVAILABLE_LOGGING_DRIVERS=["fluentd"]'),
        ConfigFile(USER_CONFIG_PATH, None),
    ]
    assert effective_drivers(files, ecs_init=EcsInitRules("1.25.0-1")).drivers == ("fluentd",)
    old = effective_drivers(files, ecs_init=EcsInitRules("1.24.0-1"))
    assert old.origin is DriversOrigin.ECS_INIT_DEFAULT


def test_an_empty_list_falls_through_to_the_agent_s_default_of_its_version() -> None:
    report = effective_drivers(
        user(b"ECS_AVAILABLE_LOGGING_DRIVERS=null"), ecs_init=EcsInitRules("1.14.4-1")
    )
    assert (report.origin, report.drivers) == (
        DriversOrigin.AGENT_FALLBACK,
        AGENT_FALLBACK_BEFORE_1_15,
    )


def test_ecs_config_json_comes_before_the_agent_s_default() -> None:
    report = effective_drivers(
        user(b"ECS_AVAILABLE_LOGGING_DRIVERS=[]"),
        json_config=ConfigFile(JSON_CONFIG_PATH, b'{"availableloggingdrivers":["fluentd"]}'),
    )
    assert (report.origin, report.drivers) == (DriversOrigin.JSON_CONFIG, ("fluentd",))


def test_an_agent_before_1_50_stops_on_awsfirelens() -> None:
    line = b'ECS_AVAILABLE_LOGGING_DRIVERS=["fluentd","awsfirelens"]'
    assert not effective_drivers(user(line), ecs_init=EcsInitRules("1.49.0-1")).agent_starts
    assert effective_drivers(user(line), ecs_init=EcsInitRules("1.50.0-1")).agent_starts


@given(st.binary(max_size=200))
def test_any_file_splits_and_round_trips(data: bytes) -> None:
    for key, value in split_config(data):
        raw = (key + "=" + value).encode("utf-8", "surrogateescape")
        assert raw in data
        assert b"\n" not in raw


@given(st.text(max_size=100) | st.binary(max_size=100).map(lambda b: b.decode("latin-1")))
def test_any_value_decodes_without_raising(value: str) -> None:
    names = decode_drivers_value(value)
    assert names is None or all(n < "\ud800" or n > "\udfff" for name in names for n in name)


@given(depth=st.integers(1, 30_000))
def test_deep_nesting_is_a_verdict_never_a_crash(depth: int) -> None:
    report = effective_drivers(user(b"ECS_AVAILABLE_LOGGING_DRIVERS=" + b"[" * depth))
    assert report.origin is DriversOrigin.AGENT_FALLBACK
