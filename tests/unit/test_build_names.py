"""The names a build writes to, judged as AWS will judge them, before anything is baked: SSM
parameter names (characters, reserved prefixes, levels, length with the ARN) and EC2 tags."""

from __future__ import annotations

import re

import pytest

from ebami.config.formats import check_ssm_parameter_name
from ebami.core.errors import InputError
from ebami.image.provenance import check_extra_tags


@pytest.mark.parametrize(
    "name",
    ["/ebami/ecs-al2/latest", "ebami-latest", "/A_b.c-d", "/" + "/".join(["l"] * 15), "awkward"],
)
def test_names_ssm_accepts(name: str) -> None:
    assert check_ssm_parameter_name(name, "us-east-1") == name


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("/aws/ebami", "starts with aws or ssm, which SSM reserves"),
        ("AWSebami", "starts with aws or ssm"),
        ("ssm-latest", "starts with aws or ssm"),
        ("/SSM/x", "starts with aws or ssm"),
        ("/ebami/my latest", "letters, digits and _ . - / only (no spaces)"),
        ("/ebami/latest:1", "letters, digits and _ . - / only"),
        ("/ebami/é", "letters, digits and _ . - / only"),
        ("", "letters, digits and _ . - / only"),
        ("ebami/latest", "a path starts with / and has no empty level"),
        ("/ebami//latest", "a path starts with / and has no empty level"),
        ("/ebami/latest/", "a path starts with / and has no empty level"),
        ("/" + "/".join(["l"] * 16), "has 16 levels; SSM allows 15"),
    ],
)
def test_names_ssm_refuses(name: str, message: str) -> None:
    with pytest.raises(ValueError, match=re.escape(message)) as caught:
        check_ssm_parameter_name(name, "us-east-1")
    assert str(caught.value).startswith(repr(name))  # names what was given


def test_the_length_counts_with_the_arn_of_the_longest_partition() -> None:
    # arn:aws-us-gov:ssm:us-east-1:123456789012:parameter/ is 52 characters: 959 are left.
    fits = "/" + "x" * 959
    assert check_ssm_parameter_name(fits, "us-east-1") == fits
    with pytest.raises(ValueError, match="is 960 characters long; in us-east-1 SSM allows 959"):
        check_ssm_parameter_name(fits + "x", "us-east-1")
    # Without a region yet, only the shape is judged.
    assert check_ssm_parameter_name(fits + "x") == fits + "x"


def test_tag_keys_and_values_within_ec2s_limits() -> None:
    check_extra_tags({"k" * 128: "v" * 256})
    with pytest.raises(InputError, match=r"is 129 characters, longer than EC2's 128: shorten it"):
        check_extra_tags({"k" * 129: "v"})
    with pytest.raises(InputError, match="tag 'team' is longer than EC2's 256 characters"):
        check_extra_tags({"team": "v" * 257})
    with pytest.raises(InputError, match="has an empty key"):
        check_extra_tags({" ": "v"})
