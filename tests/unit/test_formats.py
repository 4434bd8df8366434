from __future__ import annotations

import math
import re

import pytest

from ebami.config import formats


@pytest.mark.parametrize(
    "name",
    [
        "us-east-1",
        "eu-central-2",
        "us-gov-west-1",
        "cn-north-1",
        "ap-southeast-5",
        "us-isob-east-1",
        "eusc-de-east-1",
        # Not a region today; its shape is, and AWS may open it after this release.
        "xx-north-9",
    ],
)
def test_region_names_are_accepted_by_their_shape(name: str) -> None:
    assert formats.check_region(name) == name


@pytest.mark.parametrize("name", ["moon-1", "", "US-EAST-1", "us-east", "us_east_1", " us-east-1"])
def test_other_region_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match=r"is not an AWS region name; accepted: an AWS region"):
        formats.check_region(name)


def test_region_message() -> None:
    expected = (
        "'moon-1' is not an AWS region name; accepted: an AWS region name such as us-east-1, "
        "eu-central-2 or us-gov-west-1"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        formats.check_region("moon-1")


def test_copy_regions_keep_their_order_and_drop_repeats() -> None:
    assert formats.check_copy_regions(["eu-west-1", "us-west-2", "eu-west-1"]) == [
        "eu-west-1",
        "us-west-2",
    ]


@pytest.mark.parametrize("regions", [[""], ["eu-west-1", "moon-1"]])
def test_copy_regions_refuse_what_is_not_a_region(regions: list[str]) -> None:
    with pytest.raises(ValueError, match=r"is not an AWS region name"):
        formats.check_copy_regions(regions)


def test_account_ids() -> None:
    assert formats.check_account_ids(["123456789012", "000000000001", "123456789012"]) == [
        "123456789012",
        "000000000001",
    ]


@pytest.mark.parametrize("account", ["12345678901", "1234567890123", "12345678901a", "", "all"])
def test_account_ids_need_twelve_digits(account: str) -> None:
    expected = f"{account!r} is not an AWS account id; accepted: 12 digits such as 123456789012"
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        formats.check_account_ids([account])


@pytest.mark.parametrize(
    ("given", "normalised"),
    [
        ("203.0.113.0/24", "203.0.113.0/24"),
        ("203.0.113.7/24", "203.0.113.0/24"),
        ("203.0.113.7", "203.0.113.7/32"),
        ("0.0.0.0/0", "0.0.0.0/0"),
    ],
)
def test_ssh_cidrs_are_normalised_like_ec2_does(given: str, normalised: str) -> None:
    assert formats.check_ssh_cidrs([given]) == [normalised]


def test_ssh_cidrs_named_twice_count_once() -> None:
    assert formats.check_ssh_cidrs(["10.0.0.1/8", "10.0.0.0/8"]) == ["10.0.0.0/8"]


@pytest.mark.parametrize("cidr", ["bogus", "10.0.0.0/33", "", "300.1.1.1/32", "10.0.0.0/x"])
def test_what_is_not_a_cidr_is_refused(cidr: str) -> None:
    expected = (
        f"{cidr!r} is not a CIDR block; accepted: an IPv4 block such as 203.0.113.0/24 "
        "(prefix 0 to 32) or one address such as 203.0.113.7"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        formats.check_ssh_cidrs([cidr])


def test_ipv6_blocks_are_refused_since_packer_takes_ipv4_only() -> None:
    with pytest.raises(ValueError, match=r"^'2001:db8::/32' is an IPv6 block; Packer's"):
        formats.check_ssh_cidrs(["2001:db8::/32"])


@pytest.mark.parametrize(
    "key",
    [
        "1234abcd-12ab-34cd-56ef-1234567890ab",
        "mrk-1234abcd12ab34cd56ef1234567890ab",
        "alias/ebami",
        "alias/aws/ebs",
        "alias/team/ami_keys-1",
        "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
        "arn:aws:kms:eu-west-1:123456789012:key/mrk-1234abcd12ab34cd56ef1234567890ab",
        "arn:aws:kms:us-east-1:123456789012:alias/ebami",
        "arn:aws-us-gov:kms:us-gov-west-1:123456789012:alias/ebami",
        "arn:aws-cn:kms:cn-north-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ],
)
def test_kms_keys(key: str) -> None:
    assert formats.check_kms_key_id(key) == key


@pytest.mark.parametrize(
    "key",
    [
        "bogus",
        "",
        "alias/",
        "alias/has space",
        "1234abcd-12ab-34cd-56ef",
        "arn:aws:kms:us-east-1:123456789012:key/bogus",
        "arn:aws:kms:us-east-1:1234:alias/ebami",
        "arn:aws:s3:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab",
    ],
)
def test_what_is_not_a_kms_key_is_refused(key: str) -> None:
    with pytest.raises(ValueError, match=r"is not a KMS key; accepted: a key id"):
        formats.check_kms_key_id(key)


@pytest.mark.parametrize("subnet", ["subnet-0123abcd", "subnet-0123456789abcdef0"])
def test_subnet_ids(subnet: str) -> None:
    assert formats.check_subnet_id(subnet) == subnet


@pytest.mark.parametrize("subnet", ["zzz", "subnet-", "subnet-0123abc", "subnet-0123456789ABCDEF0"])
def test_what_is_not_a_subnet_id_is_refused(subnet: str) -> None:
    expected = (
        f"{subnet!r} is not a subnet id; accepted: subnet- and 8 or 17 hex digits, such as "
        "subnet-0123456789abcdef0"
    )
    with pytest.raises(ValueError, match=f"^{re.escape(expected)}$"):
        formats.check_subnet_id(subnet)


@pytest.mark.parametrize(
    "instance_type",
    ["t3.micro", "m7g.large", "u-6tb1.metal", "mac2-m2pro.metal", "i8g.metal-24xl", "t2.nano"],
)
def test_instance_types(instance_type: str) -> None:
    assert formats.check_instance_type(instance_type) == instance_type


@pytest.mark.parametrize("instance_type", ["", "t3", ".micro", "t3.", "T3.MICRO", "t3 .micro"])
def test_what_is_not_an_instance_type_is_refused(instance_type: str) -> None:
    with pytest.raises(ValueError, match=r"is not an EC2 instance type; accepted: FAMILY.SIZE"):
        formats.check_instance_type(instance_type)


@pytest.mark.parametrize("name", ["", "   "])
def test_blank_names_are_refused(name: str) -> None:
    with pytest.raises(ValueError, match=r"is empty; give a name, or leave it unset$"):
        formats.check_not_blank(name)


@pytest.mark.parametrize("seconds", [0.1, 30.0, 60.0])
def test_timeouts_within_the_bound(seconds: float) -> None:
    assert formats.check_seconds(seconds, maximum=60) == seconds


@pytest.mark.parametrize("seconds", [0.0, -1.0, 60.5, math.inf, math.nan])
def test_timeouts_outside_the_bound_are_refused(seconds: float) -> None:
    with pytest.raises(ValueError, match=r"is not accepted; give seconds above 0 and at most 60$"):
        formats.check_seconds(seconds, maximum=60)


@pytest.mark.parametrize("name", ["prod", "shop-prod", "Shop-Prod-2", "a1-b", "x" * 40, "1234"])
def test_environment_names_elastic_beanstalk_allows(name: str) -> None:
    assert formats.check_environment_name(name) == name


@pytest.mark.parametrize(
    "name", ["", "web", "x" * 41, "-prod", "prod-", "shop_prod", "shop prod", "shöp", "shop.prod"]
)
def test_environment_names_elastic_beanstalk_refuses(name: str) -> None:
    with pytest.raises(ValueError, match="is not an Elastic Beanstalk environment name") as exc:
        formats.check_environment_name(name)
    assert str(exc.value) == (
        f"{name!r} is not an Elastic Beanstalk environment name; accepted: 4 to 40 letters, "
        "digits and hyphens, not starting or ending with a hyphen, such as shop-prod"
    )


@pytest.mark.parametrize(
    "pattern",
    [
        "/ebami/{platform}/{release}/{channel}",
        "/{channel}",
        "/amis/web-{channel}",
        "/" + "l/" * 14 + "{channel}",
        "/ebami/.{channel}",
    ],
)
def test_channel_parameter_patterns_ssm_accepts(pattern: str) -> None:
    assert formats.check_channel_parameter(pattern) == pattern


@pytest.mark.parametrize(
    ("pattern", "problem"),
    [
        ("/aws/{channel}", "starts with aws or ssm"),
        ("/Aws{channel}", "starts with aws or ssm"),
        ("/" + "l/" * 15 + "{channel}", "has 16 levels; SSM allows 15"),
        ("/ebami//{channel}", "is not a valid SSM parameter path"),
        ("/ebami/{channel}/", "is not a valid SSM parameter path"),
        ("/ebami/{channel:>9}", "is not an SSM parameter name"),
        ("/ebami/./{channel}", "has a level of only dots ('.')"),
    ],
)
def test_channel_parameter_patterns_ssm_refuses(pattern: str, problem: str) -> None:
    with pytest.raises(ValueError, match="gives parameter names such as") as exc:
        formats.check_channel_parameter(pattern)
    assert str(exc.value).startswith(f"{pattern!r} gives parameter names such as ")
    assert problem in str(exc.value)
