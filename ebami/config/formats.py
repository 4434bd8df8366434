"""The shapes of AWS names and ids ebami is given, checked before any AWS call.

Each `check_*` function returns the value (normalised where AWS would normalise it) or raises
`ValueError` with a message saying what was given and what is accepted. Settings turns that
into an `InputError` naming the flag, variable or file key the value came from.

The rule is the format, never a list of what exists today: AWS opens regions after a botocore
release is cut, and ebami must not refuse them offline. A well-formed name that does not exist
is refused by AWS itself at the first call, with an error that names the call.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable

from ebami.core.errors import InputError

# AREA[-PARTITION]-DIRECTION-NUMBER: us-east-1, eu-central-2, us-gov-west-1, us-isob-east-1,
# cn-north-1 and eusc-de-east-1 alike; `moon-1` lacks the direction.
_REGION = re.compile(r"[a-z]{2,4}(?:-[a-z]+){1,2}-[0-9]{1,2}")
_ACCOUNT_ID = re.compile(r"[0-9]{12}")
# Subnet ids were 8 hex digits until 2018 and are 17 since; EC2 still answers both.
_SUBNET_ID = re.compile(r"subnet-(?:[0-9a-f]{8}|[0-9a-f]{17})")
# FAMILY.SIZE: t3.micro, m7g.large, u-6tb1.metal, mac2-m2pro.metal, i8g.metal-24xl.
_INSTANCE_TYPE = re.compile(r"[a-z][a-z0-9-]*\.[a-z0-9][a-z0-9-]*")
# A key id is a UUID, or `mrk-` and 32 hex digits for a multi-Region key. Alias names allow
# letters, digits, `/`, `_` and `-` (KMS's CreateAlias rule).
_KMS_KEY = r"(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})"
_KMS_ALIAS = r"alias/[A-Za-z0-9/_-]+"
_KMS_KEY_ID = re.compile(
    rf"{_KMS_KEY}|{_KMS_ALIAS}"
    rf"|arn:aws[a-z-]*:kms:{_REGION.pattern}:[0-9]{{12}}:(?:key/{_KMS_KEY}|{_KMS_ALIAS})"
)

# AMI and instance ids: the prefix and 8 hex digits (ids made before 2018) or 17.
AMI_ID = re.compile(r"ami-(?:[0-9a-f]{17}|[0-9a-f]{8})")
INSTANCE_ID = re.compile(r"i-(?:[0-9a-f]{17}|[0-9a-f]{8})")
# An AMI id anywhere in a value (SSM and tag values may hold several, or an id inside JSON).
_AMI_ID_IN_TEXT = re.compile(rf"\b{AMI_ID.pattern}\b")

REGION_ACCEPTED = "an AWS region name such as us-east-1, eu-central-2 or us-gov-west-1"
# Elastic Beanstalk's rule for an environment name (CreateEnvironment's EnvironmentName in the
# AWS API reference; botocore's model gives the shape min 4, max 40): letters, digits and
# hyphens, not starting or ending with a hyphen. Every call that names an environment
# (DescribeEnvironments, DescribeEvents...) refuses a shorter or longer name before sending it.
_ENVIRONMENT_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{2,38}[A-Za-z0-9]")
ENVIRONMENT_NAME_ACCEPTED = (
    "4 to 40 letters, digits and hyphens, not starting or ending with a hyphen, such as shop-prod"
)


def is_ami_id(value: str) -> bool:
    return AMI_ID.fullmatch(value) is not None


def is_instance_id(value: str) -> bool:
    return INSTANCE_ID.fullmatch(value) is not None


def ami_ids_in(text: str) -> list[str]:
    """The AMI ids `text` names, in order, each once."""
    return list(dict.fromkeys(_AMI_ID_IN_TEXT.findall(text)))


def _matching(pattern: re.Pattern[str], value: str, what: str, accepted: str) -> str:
    """`value` when it has the form of `pattern`; else `VALUE is not WHAT; accepted: ...`."""
    if not pattern.fullmatch(value):
        raise ValueError(f"{value!r} is not {what}; accepted: {accepted}")
    return value


def check_region(value: str) -> str:
    return _matching(_REGION, value, "an AWS region name", REGION_ACCEPTED)


def check_copy_regions(values: Iterable[str]) -> list[str]:
    """Regions to copy the AMI to, in the order given; a region named twice is copied once."""
    regions: list[str] = []
    for value in values:
        if value not in regions:
            regions.append(check_region(value))
    return regions


def check_account_ids(values: Iterable[str]) -> list[str]:
    """AWS account ids to share the AMI with, in the order given, each once."""
    accounts: list[str] = []
    for value in values:
        if not _ACCOUNT_ID.fullmatch(value):
            raise ValueError(
                f"{value!r} is not an AWS account id; accepted: 12 digits such as 123456789012"
            )
        if value not in accounts:
            accounts.append(value)
    return accounts


def check_ssh_cidrs(values: Iterable[str]) -> list[str]:
    """IPv4 blocks (or single addresses) allowed to reach the builder over SSH, normalised.

    Host bits are cleared (`203.0.113.7/24` is `203.0.113.0/24`) as EC2 itself does, and a bare
    address is its /32. IPv6 is refused: Packer's `temporary_security_group_source_cidrs` takes
    IPv4 blocks only, so an IPv6 one would fail halfway through a build.
    """
    cidrs: list[str] = []
    for value in values:
        try:
            network = ipaddress.ip_network(value, strict=False)
        except ValueError:
            raise ValueError(
                f"{value!r} is not a CIDR block; accepted: an IPv4 block such as "
                "203.0.113.0/24 (prefix 0 to 32) or one address such as 203.0.113.7"
            ) from None
        if network.version != 4:
            raise ValueError(
                f"{value!r} is an IPv6 block; Packer's temporary security group takes IPv4 "
                "blocks only, such as 203.0.113.0/24"
            )
        if str(network) not in cidrs:
            cidrs.append(str(network))
    return cidrs


def check_kms_key_id(value: str) -> str:
    return _matching(
        _KMS_KEY_ID,
        value,
        "a KMS key",
        "a key id (1234abcd-12ab-34cd-56ef-1234567890ab or mrk-...), alias/NAME, or the ARN of "
        "a key or alias (arn:aws:kms:REGION:ACCOUNT:key/ID, ...:alias/NAME)",
    )


def check_subnet_id(value: str) -> str:
    return _matching(
        _SUBNET_ID,
        value,
        "a subnet id",
        "subnet- and 8 or 17 hex digits, such as subnet-0123456789abcdef0",
    )


def check_instance_type(value: str) -> str:
    return _matching(
        _INSTANCE_TYPE,
        value,
        "an EC2 instance type",
        "FAMILY.SIZE in lower case, such as t3.micro, m7g.large or u-6tb1.metal",
    )


def check_environment_name(value: str, *, or_key: bool = False) -> str:
    """An Elastic Beanstalk environment name; `or_key`: where a key of `[environments.NAME]`
    would do too (`--env`, a `[groups]` entry), which the message then offers."""
    if _ENVIRONMENT_NAME.fullmatch(value):
        return value
    if or_key:
        raise ValueError(
            f"{value!r} is neither an [environments.NAME] of the settings nor an Elastic "
            "Beanstalk environment name; accepted: a configured NAME, or "
            + ENVIRONMENT_NAME_ACCEPTED
        )
    raise ValueError(
        f"{value!r} is not an Elastic Beanstalk environment name; accepted: "
        f"{ENVIRONMENT_NAME_ACCEPTED}"
    )


def check_not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError(f"{value!r} is empty; give a name, or leave it unset")
    return value


def check_seconds(value: float, maximum: float) -> float:
    """A timeout: more than 0 seconds, at most `maximum` (NaN and infinity are refused)."""
    if not 0 < value <= maximum:
        raise ValueError(f"{value:g} is not accepted; give seconds above 0 and at most {maximum:g}")
    return value


# SSM's PutParameter rules for a parameter name: these characters only, at most 15 levels, no
# `aws` or `ssm` prefix (any case; `/aws/...` included: AWS's public parameters live there).
_SSM_PARAMETER = re.compile(r"[a-zA-Z0-9_.\-/]+")
SSM_PARAMETER_MAX_LEVELS = 15
# The name counts with the ARN before it (`arn:PARTITION:ssm:REGION:ACCOUNT:parameter/`).
SSM_PARAMETER_ARN_LIMIT = 1011
# The longest partition name (aws-us-gov): a name that fits there fits in every partition.
_LONGEST_PARTITION = 10


_SSM_PARAMETER_EXAMPLE = "/ebami/ecs-al2/latest"


def check_ssm_parameter_name(
    value: str, region: str | None = None, *, example: str = _SSM_PARAMETER_EXAMPLE
) -> str:
    """An SSM parameter name AWS accepts for PutParameter; with `region`, its length too.

    A name in a hierarchy starts with `/`; `a/b` (no leading slash), `//` and a trailing `/`
    are refused by SSM. `example` is the name the messages offer instead.
    """
    bare = value.removeprefix("/")
    if not _SSM_PARAMETER.fullmatch(value):
        raise ValueError(
            f"{value!r} is not an SSM parameter name; accepted: letters, digits and _ . - / "
            f"only (no spaces), such as {example}"
        )
    if bare.lower().startswith(("aws", "ssm")):
        raise ValueError(
            f"{value!r} starts with aws or ssm, which SSM reserves (any case, /aws/ too); "
            f"pick another name, such as {example}"
        )
    levels = bare.split("/")
    if ("/" in bare and not value.startswith("/")) or "" in levels:
        raise ValueError(
            f"{value!r} is not a valid SSM parameter path: a path starts with / and has no "
            f"empty level, such as {example}"
        )
    if len(levels) > SSM_PARAMETER_MAX_LEVELS:
        raise ValueError(
            f"{value!r} has {len(levels)} levels; SSM allows {SSM_PARAMETER_MAX_LEVELS}"
        )
    if region is not None:
        arn = f"arn:{'x' * _LONGEST_PARTITION}:ssm:{region}:123456789012:parameter/"
        limit = SSM_PARAMETER_ARN_LIMIT - len(arn)
        if len(bare) > limit:
            raise ValueError(
                f"{value[:40]!r}... is {len(bare)} characters long; in {region} SSM allows "
                f"{limit} (1011 with the parameter's ARN)"
            )
    return value


CHANNEL_PLACEHOLDERS = ("platform", "release", "channel")
# What the placeholders of a channel parameter pattern are filled with to check the pattern
# before any command renders it (each is one level: a platform alias, a release, a channel).
CHANNEL_EXAMPLE = {"platform": "multicontainer-docker", "release": "2017.09", "channel": "stable"}
_CHANNEL_PATTERN_EXAMPLE = "/ebami/{platform}/{release}/{channel}"


def check_channel_parameter(value: str) -> str:
    """An SSM parameter name pattern with {channel} (and optionally {platform}, {release}),
    whose names, its placeholders filled, SSM accepts (`check_channel_parameter_name`)."""
    import string

    try:
        fields = {name for _, name, _, _ in string.Formatter().parse(value) if name is not None}
    except ValueError as exc:
        raise ValueError(f"{value!r} is not a name pattern ({exc})") from None
    unknown = fields - set(CHANNEL_PLACEHOLDERS)
    if unknown or "channel" not in fields or not value.startswith("/"):
        raise ValueError(
            f"{value!r} is not a channel parameter pattern: it starts with / and names "
            "{channel}, and may name {platform} and {release} (no other placeholder)"
        )
    try:
        filled = value.format(**CHANNEL_EXAMPLE)
    except ValueError as exc:  # a format spec or conversion that does not fit a name
        raise ValueError(f"{value!r} is not a name pattern ({exc})") from None
    try:
        check_channel_parameter_name(filled)
    except ValueError as exc:
        raise ValueError(f"{value!r} gives parameter names such as {filled!r}: {exc}") from None
    return value


def check_channel_parameter_name(name: str, region: str | None = None) -> str:
    """A channel's parameter name (the pattern filled in): an SSM parameter name, with its
    length in `region` when given, and no level of only dots (which reads as a relative path:
    `..` as the level above)."""
    check_ssm_parameter_name(name, region, example=_CHANNEL_PATTERN_EXAMPLE)
    dots = next((level for level in name.split("/") if level and not level.strip(".")), None)
    if dots is not None:
        raise ValueError(
            f"{name!r} has a level of only dots ({dots!r}), which reads as a relative path; "
            "give each level a name"
        )
    return name


def channel_parameter_check(setting: str, region: str | None) -> Callable[[object, str], str]:
    """What `Channels(check=...)` takes: a channel's parameter name, refused before any call
    (an `InputError` naming `setting`, where the pattern came from, and the channel) when SSM
    would refuse it in `region`."""

    def check(key: object, name: str) -> str:
        try:
            return check_channel_parameter_name(name, region)
        except ValueError as exc:
            raise InputError(f"{setting}: channel {key}: {exc}") from None

    return check
