"""What an AMI should deliver: from ebami's tags, else from the image's name, else unknown."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ebami.aws.ec2_values import Image
from ebami.image.platforms import OsFamily
from ebami.verify.expectations import Expectations

DEFAULT = ("json-file", "fluentd")
BASE = Image("ami-0123456789abcdef0", "", "available", "", {}, ())


def expect(image: Image, required: tuple[str, ...] | None = None) -> Expectations:
    return Expectations.of(image, required=required, default_drivers=DEFAULT)


def test_an_ebami_ami_is_described_by_its_tags() -> None:
    image = replace(
        BASE,
        tags={
            "ebami:platform": "multicontainer-docker",
            "ebami:release": "2018.03",
            "ebami:drivers": "json-file syslog fluentd",
            "ebami:ssm-agent": "yes",
        },
    )
    found = expect(image)
    assert (found.family, found.release.value) == (OsFamily.AL1, "2018.03")
    assert found.drivers == ("json-file", "syslog", "fluentd")
    assert found.drivers_source == "tag ebami:drivers"
    assert (found.ssm_agent, found.ssm_agent_source) == (True, "tag ebami:ssm-agent=yes")


def test_require_wins_over_the_tag_and_settings_fill_in_without_one() -> None:
    tagged = replace(BASE, tags={"ebami:drivers": "json-file fluentd"})
    assert expect(tagged, ("gelf",)).drivers == ("gelf",)
    assert expect(tagged, ("gelf",)).drivers_source == "--require"
    untagged = expect(BASE)
    assert untagged.drivers == DEFAULT
    assert untagged.drivers_source.startswith("settings")


@pytest.mark.parametrize(
    ("name", "family", "release"),
    [
        (
            "aws-elasticbeanstalk-amzn-2017.09.1.x86_64-docker-multi-hvm-201801191758",
            OsFamily.AL1,
            "2017.09",
        ),
        ("amzn-ami-hvm-2018.03.0.20180412-x86_64-gp2", OsFamily.AL1, "2018.03"),
        ("amzn-ami-2018.03.a-amazon-ecs-optimized", OsFamily.AL1, "2018.03"),
        ("amzn2-ami-ecs-hvm-2.0.20241010-x86_64-ebs", OsFamily.AL2, "2"),
        ("aws-elasticbeanstalk-amzn-2.x86_64-ecs-hvm-202410101930", OsFamily.AL2, "2"),
        ("al2023-ami-ecs-hvm-2023.0.20241010-kernel-6.1-x86_64", OsFamily.AL2023, "2023"),
        ("my-golden-image", None, None),
    ],
)
def test_the_name_tells_family_and_release_of_other_images(
    name: str, family: OsFamily | None, release: str | None
) -> None:
    found = expect(replace(BASE, name=name))
    assert (found.family, found.release.value) == (family, release)
    assert found.ssm_agent is None  # not Amazon's: nothing known about the agent


def test_amazon_s_own_amazon_linux_1_images_have_no_agent() -> None:
    image = replace(
        BASE,
        name="aws-elasticbeanstalk-amzn-2017.09.x86_64-docker-multi-hvm-201710122041",
        owner_alias="amazon",
    )
    found = expect(image)
    assert found.ssm_agent is False
    assert "Amazon-owned Amazon Linux 1 image (AMI name)" in found.ssm_agent_source
    # ... unless ebami's tag says what was baked in.
    assert expect(replace(image, tags={"ebami:ssm-agent": "yes"})).ssm_agent is True
