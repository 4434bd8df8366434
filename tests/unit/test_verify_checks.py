"""The checks on what the probe read: verdicts by the agent's rules, with the lines as evidence."""

from __future__ import annotations

import pytest

from ebami.core.results import CheckStatus
from ebami.image.platforms import OsFamily
from ebami.verify import instance_checks
from ebami.verify.expectations import Expectations, Fact
from ebami.verify.probe_script import Evidence

GOOD = 'ECS_AVAILABLE_LOGGING_DRIVERS=["json-file","syslog","awslogs","fluentd","none"]\n'
AL1_OS = 'NAME="Amazon Linux AMI"\nVERSION_ID="2017.09"\nPRETTY_NAME="Amazon Linux AMI 2017.09"\n'


def expected(
    *,
    family: OsFamily | None = OsFamily.AL1,
    release: str | None = "2017.09",
    drivers: tuple[str, ...] = ("fluentd",),
) -> Expectations:
    return Expectations(
        image_id="ami-0123456789abcdef0",
        family=family,
        family_source="tag ebami:platform",
        release=Fact(release, "tag ebami:release" if release else "unknown"),
        drivers=drivers,
        drivers_source="--require",
        ssm_agent=True,
        ssm_agent_source="tag",
    )


def evidence(
    config: str | None = GOOD,
    *,
    instance_config: str | None = None,
    os_release: str | None = AL1_OS,
    yum: str | None = "[main]\nreleasever=2017.09\n",
    yum_var: str | None = None,
    ecs_init: str | None = "1.16.2-1.amzn1",
) -> Evidence:
    return Evidence(
        {
            "/etc/ecs/ecs.config": config,
            "/var/lib/ecs/ecs.config": instance_config,
            "/etc/os-release": os_release,
            "/etc/system-release": "Amazon Linux AMI release 2017.09\n",
            "/etc/yum.conf": yum,
            "/etc/yum/vars/releasever": yum_var,
        },
        ecs_init,
    )


def test_the_baked_line_passes_with_the_line_as_evidence() -> None:
    result = instance_checks.drivers_check(evidence(), expected())
    assert result.status is CheckStatus.PASSED
    assert "/etc/ecs/ecs.config:1: " + GOOD.strip() in result.evidence
    assert "as set on /etc/ecs/ecs.config line 1" in result.detail


def test_a_missing_driver_is_named_with_the_effective_list() -> None:
    config = 'ECS_AVAILABLE_LOGGING_DRIVERS=["json-file","syslog","awslogs","none"]\n'
    result = instance_checks.drivers_check(evidence(config), expected())
    assert result.status is CheckStatus.FAILED
    assert result.detail.startswith(
        'fluentd missing: the agent allows ["json-file", "syslog", "awslogs", "none"]'
    )


def test_a_quoted_line_fails_and_says_the_agent_falls_back() -> None:
    result = instance_checks.drivers_check(
        evidence("ECS_AVAILABLE_LOGGING_DRIVERS='[\"fluentd\"]'\n"), expected()
    )
    assert result.status is CheckStatus.FAILED
    assert 'the agent allows ["json-file", "none"], its fallback' in result.detail
    assert any(
        line.startswith("error: the value is quoted") and "falls back to" in line
        for line in result.evidence
    )


def test_a_later_file_overrides_and_duplicates_are_reported() -> None:
    result = instance_checks.drivers_check(
        evidence(
            'ECS_AVAILABLE_LOGGING_DRIVERS=["json-file"]\n',
            instance_config=GOOD,
            ecs_init="1.25.0-1.amzn2",
        ),
        expected(),
    )
    assert result.status is CheckStatus.FAILED  # /etc/ecs wins over /var/lib/ecs
    assert any("set 2 times" in line for line in result.evidence)
    assert "/var/lib/ecs/ecs.config:1: " + GOOD.strip() in result.evidence


@pytest.mark.parametrize(
    ("version", "status"),
    [
        ("1.45.0-1.amzn2", CheckStatus.PASSED),
        ("1.16.2-1.amzn1", CheckStatus.FAILED),
        (None, CheckStatus.FAILED),
    ],
)
def test_without_a_line_ecs_init_s_default_decides(
    version: str | None, status: CheckStatus
) -> None:
    result = instance_checks.drivers_check(evidence("", ecs_init=version), expected())
    assert result.status is status
    assert "default (no line sets ECS_AVAILABLE_LOGGING_DRIVERS)" in result.detail
    assert f"rpm -q ecs-init: {version or 'not installed or unknown'}" in result.evidence


def test_os_release_pass_fail_and_skip() -> None:
    assert instance_checks.os_release_check(evidence(), expected()).status is CheckStatus.PASSED
    wrong = instance_checks.os_release_check(evidence(), expected(release="2018.03"))
    assert wrong.status is CheckStatus.FAILED
    assert "runs release 2017.09" in wrong.detail
    assert '/etc/os-release:2: VERSION_ID="2017.09"' in wrong.evidence
    unknown = instance_checks.os_release_check(evidence(), expected(release=None))
    assert unknown.status is CheckStatus.SKIPPED
    al2023 = 'VERSION_ID="2023"\n'
    assert (
        instance_checks.os_release_check(
            evidence(os_release=al2023), expected(family=OsFamily.AL2023, release="2023")
        ).status
        is CheckStatus.PASSED
    )
    assert instance_checks.os_release_check(evidence(os_release=None), expected()).status is (
        CheckStatus.FAILED
    )


@pytest.mark.parametrize(
    ("yum", "yum_var", "status", "effective"),
    [
        ("[main]\nreleasever=2017.09\n", None, CheckStatus.PASSED, "2017.09"),
        ("[main]\nreleasever=latest\n", None, CheckStatus.FAILED, "latest"),
        ("[main]\ngpgcheck=1\n", None, CheckStatus.FAILED, "latest"),
        ("[main]\n[amzn-main]\nreleasever=2017.09\n", None, CheckStatus.FAILED, "latest"),
        ("[main]\nreleasever=2017.09\n", "latest\n", CheckStatus.FAILED, "latest"),
        ("[main]\nreleasever=latest\n", "2017.09\n", CheckStatus.PASSED, "2017.09"),
    ],
    ids=["locked", "latest", "unset", "other-section", "vars-file-wins", "vars-file-locks"],
)
def test_the_release_lock_is_yum_s_effective_releasever(
    yum: str, yum_var: str | None, status: CheckStatus, effective: str
) -> None:
    result = instance_checks.release_lock_check(evidence(yum=yum, yum_var=yum_var), expected())
    assert result.status is status
    if status is CheckStatus.FAILED:
        assert f"releasever is {effective}" in result.detail


def test_the_release_lock_is_checked_on_amazon_linux_1_only() -> None:
    names = [r.name for r in instance_checks.content_checks(evidence(), expected())]
    assert names == ["logging-drivers", "os-release", "release-lock"]
    al2 = expected(family=OsFamily.AL2, release="2")
    assert [r.name for r in instance_checks.content_checks(evidence(), al2)] == [
        "logging-drivers",
        "os-release",
    ]


def test_image_check() -> None:
    assert instance_checks.image_check("ami-1", "ami-1").status is CheckStatus.PASSED
    failed = instance_checks.image_check("ami-1", "ami-2")
    assert failed.status is CheckStatus.FAILED
    assert failed.detail == "runs ami-1, but the environment is configured with ami-2"
    assert instance_checks.image_check("ami-1", None).status is CheckStatus.SKIPPED


def test_ecs_init_before_1_25_does_not_read_the_instance_file() -> None:
    """ecs-init reads /var/lib/ecs/ecs.config from 1.25.0-1 on (LoadEnvVars)."""
    result = instance_checks.drivers_check(
        evidence("", instance_config=GOOD, ecs_init="1.16.2-1.amzn1"), expected()
    )
    assert result.status is CheckStatus.FAILED
    assert any("does not read /var/lib/ecs/ecs.config" in line for line in result.evidence)


@pytest.mark.parametrize(
    "config",
    [
        'ECS_AVAILABLE_LOGGING_DRIVERS=["json-file","fluentd","local"]\n',
        'ECS_AVAILABLE_LOGGING_DRIVERS=["fluentd",null]\n',
        'ECS_AVAILABLE_LOGGING_DRIVERS=["fluentd","awsfirelens"]\n',
    ],
    ids=["docker-only-driver", "null-element", "firelens-before-1.50"],
)
def test_an_unknown_driver_fails_because_the_agent_will_not_start(config: str) -> None:
    """validateAndOverrideBounds: "Invalid logging drivers" is a config error; the agent exits."""
    result = instance_checks.drivers_check(evidence(config, ecs_init="1.45.0-1.amzn2"), expected())
    assert result.status is CheckStatus.FAILED
    assert result.detail.startswith("the agent will not start: agent 1.45.0 does not know")


def test_a_malformed_ecs_config_json_stops_the_agent() -> None:
    files = dict(evidence().files)
    files["/etc/ecs/ecs.config.json"] = "{not json"
    result = instance_checks.drivers_check(Evidence(files, "1.45.0-1"), expected())
    assert result.status is CheckStatus.FAILED
    assert "/etc/ecs/ecs.config.json is not JSON" in result.detail


def test_a_value_without_drivers_falls_through_to_ecs_config_json() -> None:
    files = dict(evidence("ECS_AVAILABLE_LOGGING_DRIVERS=[]\n").files)
    files["/etc/ecs/ecs.config.json"] = '{"AvailableLoggingDrivers": ["fluentd"]}'
    result = instance_checks.drivers_check(Evidence(files, "1.45.0-1"), expected())
    assert result.status is CheckStatus.PASSED
    assert "as /etc/ecs/ecs.config.json sets them" in result.detail
