"""Finds an Elastic Beanstalk platform's base AMI for a platform, release and region.

There is no SSM public parameter for Elastic Beanstalk platform AMIs: the base AMI is listed in
`DescribePlatformVersion`'s `CustomAmiList`, per platform version. We list the platform's
versions with server-side filters, keep those whose OS version matches the release, take the
newest (or the pinned `--platform-version`) and read its `hvm` AMI.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from ebami.core.errors import NotFoundError
from ebami.image.platforms import Platform

if TYPE_CHECKING:
    from mypy_boto3_elasticbeanstalk.type_defs import (
        PlatformDescriptionTypeDef,
        PlatformFilterTypeDef,
        PlatformSummaryTypeDef,
    )

# The owner of the platforms Elastic Beanstalk itself publishes (as opposed to custom platforms).
EB_PLATFORM_OWNER = "AWSElasticBeanstalk"


class LookupEb(Protocol):
    """The Elastic Beanstalk calls `find_base_ami` makes (`ebami.aws.elasticbeanstalk`)."""

    def list_platform_versions(
        self, filters: Sequence[PlatformFilterTypeDef]
    ) -> list[PlatformSummaryTypeDef]: ...

    def describe_platform_version(self, platform_arn: str) -> PlatformDescriptionTypeDef: ...


@dataclass(frozen=True)
class BaseAmi:
    """A platform version's base AMI and the facts about it that builds record."""

    image_id: str
    region: str
    platform: str
    platform_name: str
    platform_arn: str
    platform_version: str
    os_name: str
    os_version: str
    lifecycle_state: str
    branch_name: str
    # When the platform version was released (its DateCreated), ISO 8601; empty if unknown.
    released: str = ""


def platform_filters(
    platform: Platform, platform_version: str | None = None
) -> list[PlatformFilterTypeDef]:
    """The server-side filters of a lookup (one value per filter, as the API requires)."""
    filters: list[PlatformFilterTypeDef] = [
        {"Type": "PlatformName", "Operator": "=", "Values": [platform.name]},
        {"Type": "PlatformOwner", "Operator": "=", "Values": [EB_PLATFORM_OWNER]},
    ]
    if platform_version is not None:
        filters.append({"Type": "PlatformVersion", "Operator": "=", "Values": [platform_version]})
    return filters


def find_base_ami(
    eb: LookupEb,
    platform: Platform,
    *,
    region: str,
    release: str | None = None,
    platform_version: str | None = None,
) -> BaseAmi:
    """Return the base AMI of the newest matching platform version; NotFoundError if none."""
    if release is not None:
        release = platform.validate_release(release)
    filters = platform_filters(platform, platform_version)
    summaries = [
        summary
        for summary in eb.list_platform_versions(filters)
        if release is None
        or platform.os_version_matches(release, summary.get("OperatingSystemVersion", ""))
    ]
    if not summaries:
        raise NotFoundError(
            f"no platform version found in {region} for {_describe(filters)}"
            + (f" with OS release {release}" if release else "")
            + "; platform versions of retired branches may no longer be listed and their base "
            "AMIs may be private: pick another --release or --platform-version"
        )
    newest = max(summaries, key=lambda summary: version_key(_version_of(summary)))
    arn = newest["PlatformArn"]
    description = eb.describe_platform_version(arn)
    images = [
        ami
        for ami in description.get("CustomAmiList", [])
        if ami.get("VirtualizationType") == "hvm" and ami.get("ImageId")
    ]
    if not images:
        raise NotFoundError(
            f"platform version {arn} lists no hvm base AMI in its CustomAmiList in {region}; "
            "its AMI may have been made private: pick another --platform-version"
        )
    return BaseAmi(
        image_id=images[0]["ImageId"],
        region=region,
        platform=platform.alias,
        platform_name=platform.name,
        platform_arn=arn,
        platform_version=description.get("PlatformVersion") or _version_of(newest),
        os_name=description.get("OperatingSystemName", ""),
        os_version=description.get("OperatingSystemVersion", ""),
        lifecycle_state=description.get("PlatformLifecycleState", ""),
        branch_name=description.get("PlatformBranchName", ""),
        released=_iso(description.get("DateCreated")),
    )


def _iso(value: object) -> str:
    isoformat = getattr(value, "isoformat", None)
    return str(isoformat()) if callable(isoformat) else str(value or "")


def _version_of(summary: PlatformSummaryTypeDef) -> str:
    return summary.get("PlatformVersion") or summary["PlatformArn"].rsplit("/", 1)[-1]


def version_key(version: str) -> tuple[int, ...]:
    """A platform version as numbers, for ordering and comparing (`2.10.0` > `2.8.4`)."""
    return tuple(int(part) for part in re.findall(r"\d+", version))


def _describe(filters: list[PlatformFilterTypeDef]) -> str:
    return ", ".join(f"{item['Type']} {item['Operator']} {item['Values'][0]!r}" for item in filters)
