"""Elastic Beanstalk's answers about multicontainer-docker's platform versions, as a stubbed
client returns them to the base AMI lookup."""

from __future__ import annotations

from typing import Any

from ebami.image.lookup import EB_PLATFORM_OWNER
from ebami.image.platforms import resolve_platform

AL1 = resolve_platform("multicontainer-docker")
ARN = (
    "arn:aws:elasticbeanstalk:us-east-1::platform/"
    "Multi-container Docker running on 64bit Amazon Linux/{}"
)
# The filters of the lookup's ListPlatformVersions.
FILTERS = [
    {"Type": "PlatformName", "Operator": "=", "Values": [AL1.name]},
    {"Type": "PlatformOwner", "Operator": "=", "Values": [EB_PLATFORM_OWNER]},
]


def summary(version: str, os_version: str) -> dict[str, Any]:
    """A ListPlatformVersions summary of the version."""
    return {
        "PlatformArn": ARN.format(version),
        "PlatformOwner": EB_PLATFORM_OWNER,
        "PlatformStatus": "Ready",
        "OperatingSystemName": "Amazon Linux",
        "OperatingSystemVersion": os_version,
        "PlatformVersion": version,
    }


def description(version: str, os_version: str, amis: list[dict[str, str]]) -> dict[str, Any]:
    """DescribePlatformVersion's answer for the version, with its `CustomAmiList`."""
    return {
        "PlatformDescription": {
            "PlatformArn": ARN.format(version),
            "PlatformName": AL1.name,
            "PlatformVersion": version,
            "OperatingSystemName": "Amazon Linux",
            "OperatingSystemVersion": os_version,
            "PlatformLifecycleState": "Deprecated",
            "PlatformBranchName": "Multi-container Docker running on 64bit Amazon Linux",
            "CustomAmiList": amis,
        }
    }
