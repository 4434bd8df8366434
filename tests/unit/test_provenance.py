"""Bake keys and provenance tags."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from ebami.core.errors import InputError
from ebami.image.drivers import DEFAULT_DRIVERS
from ebami.image.lookup import BaseAmi
from ebami.image.platforms import resolve_platform
from ebami.image.provenance import BakeKey, ci_run, provenance_tags
from ebami.image.userdata import SSM_AGENT_RPM_URL, render_user_data

PLATFORM = resolve_platform("multicontainer-docker")
USER_DATA = render_user_data(PLATFORM, DEFAULT_DRIVERS, "2017.09")
BASE = BaseAmi(
    image_id="ami-base",
    region="us-east-1",
    platform=PLATFORM.alias,
    platform_name=PLATFORM.name,
    platform_arn="arn:aws:elasticbeanstalk:us-east-1::platform/X/2.8.4",
    platform_version="2.8.4",
    os_name="Amazon Linux",
    os_version="2017.09",
    lifecycle_state="",
    branch_name="",
)
INPUTS: dict[str, Any] = {
    "base_ami": "ami-base",
    "region": "us-east-1",
    "user_data": USER_DATA,
    "templates_digest": "t" * 64,
    "image_options": {"encrypt": False, "kms_key_id": "", "copy_to": []},
}


def test_same_inputs_same_key() -> None:
    assert BakeKey.of(**INPUTS).value == BakeKey.of(**INPUTS).value
    assert len(BakeKey.of(**INPUTS).value) == 64


@pytest.mark.parametrize(
    "change",
    [
        {"base_ami": "ami-newer"},
        {"region": "eu-west-1"},
        {"user_data": render_user_data(PLATFORM, DEFAULT_DRIVERS, "2018.03")},
        {"user_data": render_user_data(PLATFORM, ["json-file", "fluentd"], "2017.09")},
        {"templates_digest": "u" * 64},
        {"image_options": {"encrypt": True, "kms_key_id": "", "copy_to": []}},
        {"image_options": {"encrypt": False, "kms_key_id": "", "copy_to": ["eu-west-1"]}},
    ],
)
def test_every_input_that_changes_the_image_changes_the_key(change: dict[str, Any]) -> None:
    assert BakeKey.of(**{**INPUTS, **change}).value != BakeKey.of(**INPUTS).value


def test_ci_run_only_in_github_actions() -> None:
    environ = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_SHA": "abc123",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/infra",
        "GITHUB_RUN_ID": "42",
    }
    assert ci_run(environ) == {
        "ebami:git-sha": "abc123",
        "ebami:run-url": "https://github.com/acme/infra/actions/runs/42",
    }
    assert ci_run({**environ, "GITHUB_ACTIONS": ""}) == {}


def tags(**kwargs: Any) -> dict[str, str]:
    arguments: dict[str, Any] = {
        "base": BASE,
        "user_data": USER_DATA,
        "bake_key": BakeKey.of(**INPUTS),
        "ami_name": "ebami-x",
        "environ": {},
        "extra": {},
    }
    return provenance_tags(**{**arguments, **kwargs})


def test_provenance_tags() -> None:
    found = tags(extra={"team": "platform"}, environ={"GITHUB_ACTIONS": "true", "GITHUB_SHA": "s"})
    assert found["team"] == "platform"
    assert found["ebami:managed"] == "true"
    assert found["ebami:base-ami"] == "ami-base"
    assert found["ebami:release"] == "2017.09"
    assert found["ebami:drivers"] == "json-file syslog awslogs fluentd none"
    assert found["ebami:user-data-sha256"] == USER_DATA.sha256
    assert found["ebami:git-sha"] == "s"
    assert "ebami:run-url" not in found


def test_empty_values_are_left_out() -> None:
    found = tags(base=replace(BASE, platform_arn="", platform_version=""))
    assert "ebami:platform-arn" not in found
    assert "ebami:platform-version" not in found


@pytest.mark.parametrize("key", ["ebami:bake-key", "aws:cloudformation:stack", "AWS:x"])
def test_reserved_prefixes_are_refused(key: str) -> None:
    with pytest.raises(InputError, match=r"uses a reserved prefix \(ebami: or aws:\)"):
        tags(extra={key: "x"})


def test_ec2_tag_limits() -> None:
    with pytest.raises(InputError, match="EC2 allows 50"):
        tags(extra={f"k{n}": "v" for n in range(45)})
    with pytest.raises(InputError, match="longer than EC2's 256"):
        tags(extra={"long": "x" * 257})


def test_the_ssm_agent_tag_says_whether_instances_run_the_agent() -> None:
    # Amazon Linux 1's base has none: only the agent's package in the user data brings it.
    assert tags()["ebami:ssm-agent"] == "no"
    with_agent = render_user_data(
        PLATFORM, DEFAULT_DRIVERS, "2017.09", packages=[SSM_AGENT_RPM_URL]
    )
    assert tags(user_data=with_agent)["ebami:ssm-agent"] == "yes"
    al2 = render_user_data(resolve_platform("ecs-al2"), DEFAULT_DRIVERS, None)
    assert tags(user_data=al2)["ebami:ssm-agent"] == "yes"
