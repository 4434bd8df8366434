"""What an AMI should deliver, and on what basis ebami believes it.

An AMI ebami baked says it all in its provenance tags: platform (so the OS family), release,
log drivers, and whether it runs the SSM agent. For any other AMI, the name of an Elastic
Beanstalk or Amazon Linux image tells the OS family and (on Amazon Linux 1) the release;
what cannot be known is reported as unknown, never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from ebami.aws.ec2_values import Image
from ebami.image import tags
from ebami.image.managed import ManagedImage
from ebami.image.platforms import OsFamily

# Amazon Linux 1 releases are YYYY.03 or YYYY.09 from 2011 to 2018; names carry them as
# `amzn-2017.09` (Elastic Beanstalk) or `amzn-ami-...-2018.03` (Amazon Linux AMI).
_AL1_NAME = re.compile(r"amzn-(?:ami-(?:[a-z]+-)*)?(?:hvm-)?(20(?:1[1-8])\.(?:03|09))")
_AL2023_NAME = re.compile(r"(?:al2023|amzn-2023)")
_AL2_NAME = re.compile(r"(?:amzn2-|amzn-2\.)")


@dataclass(frozen=True)
class Fact:
    """A value ebami expects, with where it comes from (`tag ebami:release`, `AMI name`...)."""

    value: str | None
    source: str

    @property
    def known(self) -> bool:
        return self.value is not None


@dataclass(frozen=True)
class Expectations:
    image_id: str
    family: OsFamily | None
    family_source: str
    release: Fact
    drivers: tuple[str, ...]
    drivers_source: str
    ssm_agent: bool | None
    ssm_agent_source: str

    def to_json(self) -> dict[str, Any]:
        return {
            "image_id": self.image_id,
            "os_family": self.family.value if self.family else None,
            "os_family_source": self.family_source,
            "release": self.release.value,
            "release_source": self.release.source,
            "drivers": list(self.drivers),
            "drivers_source": self.drivers_source,
            "ssm_agent": self.ssm_agent,
            "ssm_agent_source": self.ssm_agent_source,
        }

    @classmethod
    def of(
        cls,
        image: Image,
        *,
        required: tuple[str, ...] | None,
        default_drivers: tuple[str, ...],
    ) -> Expectations:
        model = ManagedImage.of(image)
        family, family_source = _family(model)
        release = _release(model, family)
        drivers, drivers_source = _drivers(model.drivers, required, default_drivers)
        agent, agent_source = _ssm_agent(model, family, family_source)
        return cls(
            image_id=image.image_id,
            family=family,
            family_source=family_source,
            release=release,
            drivers=drivers,
            drivers_source=drivers_source,
            ssm_agent=agent,
            ssm_agent_source=agent_source,
        )

    @classmethod
    def unknown(
        cls, image_id: str, *, required: tuple[str, ...] | None, default: tuple[str, ...]
    ) -> Expectations:
        """For an instance whose AMI is gone (deregistered) or not visible."""
        drivers, source = _drivers(None, required, default)
        return cls(
            image_id=image_id,
            family=None,
            family_source="unknown: the AMI is not visible",
            release=Fact(None, "unknown: the AMI is not visible"),
            drivers=drivers,
            drivers_source=source,
            ssm_agent=None,
            ssm_agent_source="unknown",
        )


def _drivers(
    recorded: tuple[str, ...] | None, required: tuple[str, ...] | None, default: tuple[str, ...]
) -> tuple[tuple[str, ...], str]:
    """The drivers to require and why: --require, else the AMI's tag, else the settings."""
    if required:
        return required, "--require"
    if recorded:
        return recorded, f"tag {tags.DRIVERS}"
    return default, "settings (the AMI has no ebami:drivers tag)"


def _family(image: ManagedImage) -> tuple[OsFamily | None, str]:
    platform = image.platform
    if platform is not None:
        return platform.os_family, f"tag {tags.PLATFORM}"
    name = image.name.lower()
    if _AL2023_NAME.search(name):
        return OsFamily.AL2023, "AMI name"
    if _AL2_NAME.search(name):
        return OsFamily.AL2, "AMI name"
    if _AL1_NAME.search(name):
        return OsFamily.AL1, "AMI name"
    return None, "unknown: no ebami:platform tag, and the AMI name does not say"


def _release(image: ManagedImage, family: OsFamily | None) -> Fact:
    if family is OsFamily.AL1:
        if image.release_tag:
            return Fact(image.release_tag, f"tag {tags.RELEASE}")
        match = _AL1_NAME.search(image.name.lower())
        if match:
            return Fact(match.group(1), "AMI name")
        return Fact(None, "unknown: no ebami:release tag, and the AMI name does not say")
    if family is OsFamily.AL2:
        return Fact("2", "Amazon Linux 2 has one release")
    if family is OsFamily.AL2023:
        return Fact("2023", "Amazon Linux 2023's major release")
    return Fact(None, "unknown: the OS family is unknown")


def _ssm_agent(
    image: ManagedImage, family: OsFamily | None, family_source: str
) -> tuple[bool | None, str]:
    if image.ssm_agent is not None:
        return image.ssm_agent, f"tag {tags.SSM_AGENT}={image.ssm_agent_tag}"
    if family is OsFamily.AL1 and image.owner_alias == "amazon" and not image.platform_tag:
        return False, (
            f"{image.image_id} is an Amazon-owned Amazon Linux 1 image ({family_source}), "
            "and those ship without the SSM agent"
        )
    return None, "unknown"
