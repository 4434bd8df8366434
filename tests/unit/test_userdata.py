import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from ebami.core.errors import InputError
from ebami.core.results import CheckStatus
from ebami.image.drivers import DEFAULT_DRIVERS
from ebami.image.platforms import resolve_platform
from ebami.image.userdata import (
    MAX_USER_DATA_BYTES,
    check_structure,
    drivers_line,
    render_user_data,
    yaml_quote,
)

SEED_LINE = 'ECS_AVAILABLE_LOGGING_DRIVERS=["json-file","syslog","awslogs","fluentd","none"]'


def load(text: str) -> dict[str, object]:
    document = yaml.safe_load(text)
    assert isinstance(document, dict)
    return document


def test_drivers_line_is_a_raw_compact_json_array() -> None:
    assert drivers_line(DEFAULT_DRIVERS) == SEED_LINE


def test_al1_locks_release_and_upgrades() -> None:
    data = render_user_data(resolve_platform("multicontainer-docker"), DEFAULT_DRIVERS, "2017.09")
    document = load(data.text)
    assert document["repo_releasever"] == "2017.09"
    assert document["repo_upgrade"] == "none"
    assert data.text.startswith("#cloud-config\n")


def test_al2_has_no_releasever() -> None:
    document = load(render_user_data(resolve_platform("ecs-al2"), DEFAULT_DRIVERS).text)
    assert "repo_releasever" not in document
    assert document["repo_upgrade"] == "none"


def test_al2023_has_no_lock_keys() -> None:
    document = load(render_user_data(resolve_platform("ecs-al2023"), DEFAULT_DRIVERS).text)
    assert "repo_releasever" not in document
    assert "repo_upgrade" not in document


def test_runcmd_passes_the_line_as_an_argument() -> None:
    document = load(render_user_data(resolve_platform("ecs-al2"), ["fluentd"]).text)
    runcmd = document["runcmd"]
    assert isinstance(runcmd, list)
    assert runcmd[-1][-1] == 'ECS_AVAILABLE_LOGGING_DRIVERS=["fluentd"]'


def test_al1_without_release_is_refused() -> None:
    with pytest.raises(InputError, match="pass --release"):
        render_user_data(resolve_platform("multicontainer-docker"), DEFAULT_DRIVERS)


def test_rendering_is_deterministic() -> None:
    platform = resolve_platform("multicontainer-docker")
    first = render_user_data(platform, DEFAULT_DRIVERS, "2018.03")
    second = render_user_data(platform, DEFAULT_DRIVERS, "2018.03")
    assert first.sha256 == second.sha256
    assert first.size == len(first.text.encode())


def test_structure_checks_pass_on_rendered_data() -> None:
    text = render_user_data(resolve_platform("ecs-al2"), DEFAULT_DRIVERS).text
    assert [r.status for r in check_structure(text)] == [CheckStatus.PASSED] * 3


def test_structure_checks_catch_each_defect() -> None:
    statuses = {r.name: r.status for r in check_structure("#!/bin/sh\n- a\n")}
    assert statuses == {
        "header": CheckStatus.FAILED,
        "yaml": CheckStatus.FAILED,
        "size": CheckStatus.PASSED,
    }
    oversized = "#cloud-config\nx: '" + "a" * MAX_USER_DATA_BYTES + "'\n"
    assert {r.name: r.status for r in check_structure(oversized)}["size"] is CheckStatus.FAILED
    broken = {r.name: r.status for r in check_structure("#cloud-config\nruncmd: [a\n")}
    assert broken["yaml"] is CheckStatus.FAILED


@given(st.text())
def test_yaml_quote_round_trips_any_text(value: str) -> None:
    assert yaml.safe_load(f"key: {yaml_quote(value)}\n") == {"key": value}


@given(
    platform=st.sampled_from(["multicontainer-docker", "ecs-al2", "ecs-al2023"]),
    drivers=st.lists(st.one_of(st.sampled_from(DEFAULT_DRIVERS), st.text()), min_size=1),
)
def test_any_driver_input_is_refused_or_renders_valid_yaml(
    platform: str, drivers: list[str]
) -> None:
    spec = resolve_platform(platform)
    try:
        data = render_user_data(spec, drivers, spec.releases[-1])
    except InputError:
        return
    document = load(data.text)
    runcmd = document["runcmd"]
    assert isinstance(runcmd, list)
    assert runcmd[-1][-1] == drivers_line(data.drivers)
    assert [r.status for r in check_structure(data.text)] == [CheckStatus.PASSED] * 3
