import pytest

from ebami.core.errors import InputError
from ebami.image.drivers import (
    DEFAULT_DRIVERS,
    KNOWN_DRIVERS,
    AgentVersions,
    agent_accepts,
    parse_drivers,
    parse_version,
)
from ebami.image.platforms import resolve_platform


def test_parses_comma_separated_names_in_order_without_repeats() -> None:
    assert parse_drivers("fluentd, json-file,fluentd") == ("fluentd", "json-file")


def test_accepts_a_list() -> None:
    assert parse_drivers(list(DEFAULT_DRIVERS)) == DEFAULT_DRIVERS


def test_known_names_are_the_agent_s_table() -> None:
    # agent/dockerclient/logging_drivers.go, plus awsfirelens (exempted in config.go).
    assert KNOWN_DRIVERS == (
        "json-file", "syslog", "journald", "gelf", "fluentd", "awslogs", "splunk",
        "logentries", "sumologic", "none", "awsfirelens",
    )  # fmt: skip


@pytest.mark.parametrize(
    "bad",
    ['"fluentd"', "fluentd;reboot", "fluent d", "$(id)", "Fluentd", "json-file'", "", "local",
     "gcplogs", "etwlogs"],
)  # fmt: skip
def test_refuses_names_the_agent_does_not_know(bad: str) -> None:
    """The agent exits on an unknown name (validateAndOverrideBounds: Invalid logging drivers)."""
    with pytest.raises(InputError) as exc:
        parse_drivers(["json-file", bad])
    assert str(exc.value) == (
        f"log driver {bad!r} is not accepted: the ECS agent does not know it and would not "
        f"start; accepted: {', '.join(KNOWN_DRIVERS)}"
    )


def test_refuses_an_empty_list() -> None:
    with pytest.raises(InputError, match="name at least one log driver"):
        parse_drivers([])


@pytest.mark.parametrize(
    ("name", "since"),
    [("awslogs", (1, 9, 0)), ("splunk", (1, 11, 0)), ("logentries", (1, 14, 4)),
     ("sumologic", (1, 14, 5)), ("none", (1, 15, 0)), ("awsfirelens", (1, 50, 0))],
)  # fmt: skip
def test_names_by_agent_version(name: str, since: tuple[int, ...]) -> None:
    older = (since[0], since[1] - 1, 99)
    assert agent_accepts(name, since)
    assert not agent_accepts(name, older)


def test_versions_parse_rpm_forms() -> None:
    assert parse_version("1.15.0-4.amzn1") == (1, 15, 0, 4)
    assert parse_version("1.68.0") == (1, 68, 0)
    assert parse_version("not installed") is None


def test_a_platform_s_agent_refuses_names_it_does_not_know_with_the_reason() -> None:
    al1 = resolve_platform("multicontainer-docker")
    with pytest.raises(InputError) as exc:
        parse_drivers(["awsfirelens"], agent=al1.agent_versions("2018.03"), target=al1.alias)
    message = str(exc.value)
    assert message.startswith(
        "log driver 'awsfirelens' is not accepted on multicontainer-docker: it needs ECS agent "
        "1.50.0 or newer, multicontainer-docker runs ECS agent 1.15.0 or newer, older than 1.50.0"
    )
    assert "\n" not in message
    al2023 = resolve_platform("ecs-al2023").agent_versions()
    assert parse_drivers(["awsfirelens", "sumologic"], agent=al2023) == (
        "awsfirelens",
        "sumologic",
    )


def test_old_amazon_linux_1_releases_assume_an_agent_before_1_15() -> None:
    versions = resolve_platform("multicontainer-docker").agent_versions("2017.03")
    assert isinstance(versions, AgentVersions)
    assert not versions.accepts("none")
    assert versions.accepts("fluentd")
