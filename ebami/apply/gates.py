"""The gates an AMI passes before `ebami apply` changes an environment: each gives a verdict and
the data it rests on, so that a refusal says exactly why and `--dry-run` shows all of them.

1. image: the AMI exists in the environment's region, is `available`, and is not revoked;
2. verified: `ebami verify` proved it (`ebami:verified`), unless allowed otherwise;
3. dockerrun: every log driver the deployed application version's containers use is one the
   AMI's ECS agent allows (its `ebami:drivers`), which is what task placement checks
   (`ATTRIBUTE` otherwise);
4. platform: the AMI was baked for the environment's OS family (refused otherwise); a platform
   version other than the environment's is a warning.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ebami.aws.ec2_values import Image
from ebami.core.errors import InputError
from ebami.image import tags
from ebami.image.dockerrun import DriverUse
from ebami.image.platforms import Platform, resolve_platform
from ebami.lifecycle.channels import revoked_text


class Verdict(str, Enum):
    PASSED = "pass"
    FAILED = "fail"
    WARNED = "warn"
    SKIPPED = "skip"


@dataclass(frozen=True)
class Gate:
    name: str
    verdict: Verdict
    detail: str
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def refuses(self) -> bool:
        return self.verdict is Verdict.FAILED

    def to_json(self) -> dict[str, Any]:
        return {
            "gate": self.name,
            "verdict": self.verdict.value,
            "detail": self.detail,
            "data": dict(self.data),
        }


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

    def to_json(self) -> dict[str, Any]:
        return {
            "arn": self.arn,
            "name": self.name,
            "version": self.version,
            "os_version": self.os_version,
            "default_image": self.default_image,
        }


def allowed_drivers(image: Image) -> tuple[str, ...] | None:
    """The log drivers ebami baked into the AMI's ecs.config (`ebami:drivers`), if recorded."""
    return tags.drivers_of(image.tags)


def image_gate(
    image: Image | None,
    image_id: str,
    region: str,
    *,
    channel: str | None = None,
    pinned: bool = False,
) -> Gate:
    """`channel`: the channel (`apply --channel`) the AMI was read from, if any; `pinned`: the
    AMI was chosen for the whole fleet before wave 1."""
    data: dict[str, str | None] = {"image_id": image_id, "region": region}
    if image is None:
        return Gate(
            "image",
            Verdict.FAILED,
            f"{image_id} does not exist in {region} or is not shared with this account",
            data,
        )
    data |= {"state": image.state, "name": image.name}
    if image.state != "available":
        return Gate("image", Verdict.FAILED, f"{image_id} is {image.state}, not available", data)
    if image.tags.get(tags.REVOKED):
        data |= {
            "revoked_at": image.tags.get(tags.REVOKED_AT),
            "revoked_reason": image.tags.get(tags.REVOKED_REASON),
        }
        if pinned:
            move_on = (
                "it was chosen for the fleet before wave 1 and revoked since: run ebami apply "
                "again to choose anew"
            )
        elif channel:
            move_on = (
                f"channel {channel} still names it: ebami revoke --ami {image_id} moves every "
                "channel off it"
            )
        else:
            move_on = "ebami apply without --ami takes the newest verified AMI that is not revoked"
        return Gate(
            "image", Verdict.FAILED, f"{image_id} was {revoked_text(image.tags)}; {move_on}", data
        )
    return Gate("image", Verdict.PASSED, f"{image_id} is available in {region}", data)


def verified_gate(image: Image, *, allow_unverified: bool) -> Gate:
    verified = image.tags.get(tags.VERIFIED)
    data = {"verified": verified, "checks": image.tags.get(tags.VERIFIED_CHECKS)}
    if verified:
        return Gate("verified", Verdict.PASSED, f"verified by ebami verify at {verified}", data)
    if allow_unverified:
        return Gate(
            "verified",
            Verdict.WARNED,
            f"not verified (no {tags.VERIFIED} tag); allowed by --allow-unverified",
            data,
        )
    return Gate(
        "verified",
        Verdict.FAILED,
        f"not verified (no {tags.VERIFIED} tag): run ebami verify --ami {image.image_id}, or "
        "pass --allow-unverified",
        data,
    )


def dockerrun_gate(
    image: Image, uses: Sequence[DriverUse] | None, *, version_label: str, problem: str = ""
) -> Gate:
    """`uses`: the drivers of the deployed version's containers; None when they could not be
    read (`problem` says why)."""
    allowed = allowed_drivers(image)
    data: dict[str, Any] = {
        "version_label": version_label,
        "containers": [use.to_json() for use in uses or ()],
        "allowed": list(allowed or ()),
    }
    if uses is None:
        return Gate(
            "dockerrun",
            Verdict.WARNED,
            f"the log drivers of version {version_label!r} are unknown: {problem}",
            data,
        )
    if not uses:
        return Gate(
            "dockerrun",
            Verdict.PASSED,
            f"no container of version {version_label!r} sets a log driver",
            data,
        )
    if allowed is None:
        return Gate(
            "dockerrun",
            Verdict.FAILED,
            f"{image.image_id} has no {tags.DRIVERS} tag: which log drivers its ECS agent "
            "allows is unknown; bake it with ebami build",
            data,
        )
    missing = [use for use in uses if use.driver not in allowed]
    if missing:
        named = ", ".join(f"{use.driver} (container {use.container})" for use in missing)
        return Gate(
            "dockerrun",
            Verdict.FAILED,
            f"version {version_label!r} needs log driver {named}, which {image.image_id} does "
            f"not allow (it allows {', '.join(allowed)}): its tasks would fail placement with "
            "ATTRIBUTE",
            data,
        )
    needed = ", ".join(sorted({use.driver for use in uses}))
    return Gate(
        "dockerrun",
        Verdict.PASSED,
        f"{image.image_id} allows every log driver version {version_label!r} uses ({needed})",
        data,
    )


def platform_gate(image: Image, environment: EnvironmentPlatform) -> Gate:
    baked_alias = image.tags.get(tags.PLATFORM)
    baked_version = image.tags.get(tags.PLATFORM_VERSION)
    data = {
        "environment_platform": environment.name,
        "environment_platform_version": environment.version,
        "environment_os_version": environment.os_version,
        "image_platform": baked_alias,
        "image_platform_version": baked_version,
        "image_release": image.tags.get(tags.RELEASE),
    }
    target = environment.platform
    if target is None:
        return Gate(
            "platform",
            Verdict.FAILED,
            f"the environment runs {environment.name!r}, not an ECS-based platform ebami bakes for",
            data,
        )
    try:
        baked = resolve_platform(baked_alias) if baked_alias else None
    except InputError:
        baked = None
    if baked is None:
        return Gate(
            "platform",
            Verdict.FAILED,
            f"{image.image_id} has no {tags.PLATFORM} tag ebami knows: its OS family is unknown",
            data,
        )
    if baked.os_family is not target.os_family:
        return Gate(
            "platform",
            Verdict.FAILED,
            f"{image.image_id} is {baked.os_family.display_name} ({baked.alias}), the "
            f"environment's platform is {target.os_family.display_name} ({target.alias})",
            data,
        )
    release = image.tags.get(tags.RELEASE)
    if release and not target.os_version_matches(release, environment.os_version):
        return Gate(
            "platform",
            Verdict.WARNED,
            f"{image.image_id} was baked for release {release}, the environment runs "
            f"{environment.os_version}: rebuild with ebami build --release "
            f"{environment.os_version}",
            data,
        )
    if baked_version and baked_version != environment.version:
        return Gate(
            "platform",
            Verdict.WARNED,
            f"{image.image_id} was baked from platform version {baked_version}, the environment "
            f"runs {environment.version}: AWS advises a custom AMI built on the environment's "
            f"platform version (ebami build --platform-version {environment.version})",
            data,
        )
    return Gate(
        "platform",
        Verdict.PASSED,
        f"{image.image_id} was baked for {target.alias} {environment.version}, as the "
        "environment runs",
        data,
    )


def misfit(image: Image, environment: EnvironmentPlatform, needed: set[str]) -> str | None:
    """Why the AMI does not fit the environment's platform, release or drivers (`needed`);
    None when it fits."""
    if image.tags.get(tags.REVOKED):
        return "revoked"
    target = environment.platform
    alias = image.tags.get(tags.PLATFORM)
    if target is None or alias != target.alias:
        return f"platform {alias or 'unknown'}"
    release = image.tags.get(tags.RELEASE)
    if release and not target.os_version_matches(release, environment.os_version):
        return f"release {release}"
    missing = sorted(needed - set(allowed_drivers(image) or ()))
    if missing:
        return f"no {', '.join(missing)} driver"
    return None
