from hypothesis import given
from hypothesis import strategies as st

from ebami.image.drivers import KNOWN_DRIVERS
from ebami.image.ecsconfig import effective_drivers
from ebami.image.ecsfiles import INSTANCE_CONFIG_PATH, USER_CONFIG_PATH, ConfigFile, parse_lines
from ebami.image.ecsinit import (
    AGENT_FALLBACK_DRIVERS,
    ECS_INIT_1_45_DEFAULT_DRIVERS,
    ECS_INIT_DEFAULT_DRIVERS,
)
from ebami.image.ecsreport import DriversOrigin, Severity
from ebami.image.userdata import drivers_line

SEED_LINE = 'ECS_AVAILABLE_LOGGING_DRIVERS=["json-file","syslog","awslogs","fluentd","none"]'


def user(text: str | None) -> list[ConfigFile]:
    return [ConfigFile(INSTANCE_CONFIG_PATH, None), ConfigFile(USER_CONFIG_PATH, text)]


def test_seed_line_allows_fluentd() -> None:
    report = effective_drivers(user(f"ECS_CLUSTER=x\n{SEED_LINE}\n"))
    assert report.drivers == ("json-file", "syslog", "awslogs", "fluentd", "none")
    assert report.origin is DriversOrigin.CONFIG
    assert report.problems == ()
    assert report.line is not None
    assert report.line.number == 2


def test_no_line_means_ecs_init_default_without_fluentd() -> None:
    report = effective_drivers(user("ECS_CLUSTER=x\n"))
    assert report.drivers == ECS_INIT_DEFAULT_DRIVERS
    assert "fluentd" not in report.drivers
    assert report.origin is DriversOrigin.ECS_INIT_DEFAULT


def test_newer_ecs_init_default_can_be_chosen() -> None:
    report = effective_drivers(user(None), ecs_init_defaults=ECS_INIT_1_45_DEFAULT_DRIVERS)
    assert "fluentd" in report.drivers


def test_single_quoted_value_falls_back_and_says_why() -> None:
    report = effective_drivers(user("ECS_AVAILABLE_LOGGING_DRIVERS='[\"fluentd\"]'\n"))
    assert report.drivers == AGENT_FALLBACK_DRIVERS
    assert report.origin is DriversOrigin.AGENT_FALLBACK
    assert [p.severity for p in report.problems] == [Severity.ERROR]
    assert "quoted" in report.problems[0].message
    assert '["json-file", "none"]' in report.problems[0].message


def test_json_string_instead_of_array_falls_back() -> None:
    report = effective_drivers(user('ECS_AVAILABLE_LOGGING_DRIVERS="[\\"fluentd\\"]"'))
    assert report.drivers == AGENT_FALLBACK_DRIVERS


def test_malformed_json_falls_back() -> None:
    report = effective_drivers(user('ECS_AVAILABLE_LOGGING_DRIVERS=["fluentd",]'))
    assert report.drivers == AGENT_FALLBACK_DRIVERS
    assert "not JSON" in report.problems[0].message


def test_empty_value_falls_back() -> None:
    report = effective_drivers(user("ECS_AVAILABLE_LOGGING_DRIVERS=\n"))
    assert report.drivers == AGENT_FALLBACK_DRIVERS


def test_last_line_wins_and_stacking_is_reported() -> None:
    text = (
        'ECS_AVAILABLE_LOGGING_DRIVERS=["fluentd"]\nECS_AVAILABLE_LOGGING_DRIVERS=["json-file"]\n'
    )
    report = effective_drivers(user(text))
    assert report.drivers == ("json-file",)
    assert any("set 2 times" in p.message for p in report.problems)


def test_user_file_overrides_instance_file() -> None:
    files = [
        ConfigFile(INSTANCE_CONFIG_PATH, 'ECS_AVAILABLE_LOGGING_DRIVERS=["json-file"]'),
        ConfigFile(USER_CONFIG_PATH, 'ECS_AVAILABLE_LOGGING_DRIVERS=["fluentd"]'),
    ]
    report = effective_drivers(files)
    assert report.drivers == ("fluentd",)
    assert report.line is not None
    assert report.line.path == USER_CONFIG_PATH


def test_space_before_equals_makes_the_agent_ignore_the_line() -> None:
    report = effective_drivers(user('ECS_AVAILABLE_LOGGING_DRIVERS = ["fluentd"]'))
    assert report.drivers == ECS_INIT_DEFAULT_DRIVERS
    assert "does not trim keys" in report.problems[0].message


def test_export_prefix_is_not_understood() -> None:
    report = effective_drivers(user('export ECS_AVAILABLE_LOGGING_DRIVERS=["fluentd"]'))
    assert "fluentd" not in report.drivers


def test_leading_blanks_and_crlf_are_trimmed_like_ecs_init() -> None:
    report = effective_drivers(user('  ECS_AVAILABLE_LOGGING_DRIVERS=["fluentd"]\r\n'))
    assert report.drivers == ("fluentd",)


def test_text_after_the_array_is_ignored_with_a_warning() -> None:
    report = effective_drivers(user('ECS_AVAILABLE_LOGGING_DRIVERS=["fluentd"] # allow fluentd'))
    assert report.drivers == ("fluentd",)
    assert report.problems[0].severity is Severity.WARNING


def test_non_string_elements_become_empty_names_and_stop_the_agent() -> None:
    """Go keeps a wrong-typed element as "" in place; "" is not a driver the agent knows."""
    report = effective_drivers(user('ECS_AVAILABLE_LOGGING_DRIVERS=["fluentd", 5]'))
    assert report.configured == ("fluentd", "")
    assert report.drivers == ()
    assert not report.agent_starts
    assert report.problems[0].severity is Severity.ERROR
    assert "the agent will not start" in report.problems[0].message


def test_value_may_contain_equals_signs() -> None:
    (line,) = parse_lines('ECS_INSTANCE_ATTRIBUTES={"a":"b=c"}', USER_CONFIG_PATH)
    assert (line.key, line.value) == ("ECS_INSTANCE_ATTRIBUTES", '{"a":"b=c"}')


driver_lists = st.lists(st.sampled_from(KNOWN_DRIVERS), min_size=1, unique=True)
other_lines = st.lists(
    st.text(
        alphabet=st.characters(blacklist_characters="\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029")
    ),
    max_size=5,
).filter(lambda lines: not any("ECS_AVAILABLE_LOGGING_DRIVERS" in line for line in lines))


@given(drivers=driver_lists, before=other_lines, after=other_lines)
def test_rendered_line_is_what_the_agent_reads(
    drivers: list[str], before: list[str], after: list[str]
) -> None:
    text = "\n".join([*before, drivers_line(drivers), *after])
    report = effective_drivers(user(text))
    assert report.drivers == tuple(drivers)
    assert report.origin is DriversOrigin.CONFIG


@given(first=driver_lists, last=driver_lists)
def test_later_line_always_wins(first: list[str], last: list[str]) -> None:
    report = effective_drivers(user(f"{drivers_line(first)}\n{drivers_line(last)}\n"))
    assert report.drivers == tuple(last)


@given(drivers=driver_lists, quote=st.sampled_from(["'", '"']))
def test_any_quoted_value_falls_back(drivers: list[str], quote: str) -> None:
    key, _, value = drivers_line(drivers).partition("=")
    report = effective_drivers(user(f"{key}={quote}{value}{quote}"))
    assert report.drivers == AGENT_FALLBACK_DRIVERS
