"""The platform version an Elastic Beanstalk environment runs, as `DescribePlatformVersion`
describes it, and which of ebami's platforms and releases that is."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from ebami.core.errors import InputError
from ebami.image.platforms import Platform, resolve_platform


@dataclass(frozen=True)
class EnvironmentPlatform:
    """The platform version an environment runs, as DescribePlatformVersion gives it."""

    arn: str
    name: str
    version: str
    os_version: str
    # The platform's own AMI (its CustomAmiList's hvm image): what an unset ImageId means.
    default_image: str | None

    @classmethod
    def of(cls, arn: str, description: Mapping[str, Any]) -> EnvironmentPlatform:
        """From `DescribePlatformVersion`'s description of the platform version `arn`."""
        images = [
            ami["ImageId"]
            for ami in description.get("CustomAmiList", [])
            if ami.get("VirtualizationType") == "hvm" and ami.get("ImageId")
        ]
        return cls(
            arn=arn,
            name=str(description.get("PlatformName") or arn.split("/")[1]),
            version=str(description.get("PlatformVersion") or arn.rsplit("/", 1)[-1]),
            os_version=str(description.get("OperatingSystemVersion", "")),
            default_image=images[0] if images else None,
        )

    @property
    def platform(self) -> Platform | None:
        """ebami's platform of that name; None for a platform ebami does not bake for."""
        try:
            return resolve_platform(self.name)
        except InputError:
            return None

    @property
    def alias(self) -> str:
        """ebami's alias of the platform (`ecs-al2023`), else its Elastic Beanstalk name."""
        platform = self.platform
        return platform.alias if platform else self.name

    @property
    def release(self) -> str | None:
        """The release of ebami's platform the environment's OS version belongs to; None when
        none does (or the platform is not one ebami bakes for)."""
        platform = self.platform
        return environment_release(platform, self.os_version) if platform else None

    def to_json(self) -> dict[str, Any]:
        return {
            "arn": self.arn,
            "name": self.name,
            "version": self.version,
            "os_version": self.os_version,
            "default_image": self.default_image,
        }


def environment_release(platform: Platform, os_version: str) -> str | None:
    """The release of `platform` an environment's OS version (DescribePlatformVersion's
    `OperatingSystemVersion`) belongs to; None when none does."""
    return next(
        (
            release
            for release in platform.releases
            if platform.os_version_matches(release, os_version)
        ),
        None,
    )
