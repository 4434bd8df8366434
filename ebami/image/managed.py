"""The model of an AMI ebami manages: the one reader of ebami's tags.

`ManagedImage.of` reads an AMI's `ebami:` tags once; every question the pipeline asks of an AMI
is answered here, with the reason in words when the answer is no:

- is it ebami's (`managed`), verified, revoked (and when, why);
- which platform and release it was baked for, which log drivers its agent allows, whether it
  runs the SSM agent;
- does it fit an environment (platform, release, drivers: `fit`), a channel
  (`channel_refusal`), may it be promoted (`promotion_refusal`);
- which bake it belongs to (`bake`): the bake key **and** the build run, since a `--force`
  rebuild is a new bake of the same key while a copy in another region is the same bake.

The order of AMIs is stated once (`newest_first`): newest first by creation time; at equal
times the greater AMI id first, so that two AMIs made in the same second order the same way in
apply's default choice, drift, status and prune.

The tags of other resources ebami reads are read here too: an environment's rollback target,
what an instance was launched for.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any, Protocol

from ebami.core.errors import InputError
from ebami.core.times import parse_utc_timestamp
from ebami.image import tags
from ebami.image.environment import EnvironmentPlatform
from ebami.image.platforms import Platform, resolve_platform
from ebami.image.protection import Protection

# Before any AMI: where a creation time cannot be read, for ordering only.
_DAWN = datetime.min.replace(tzinfo=timezone.utc)


class ImageFacts(Protocol):
    """What EC2 says of an AMI (`ebami.aws.ec2.Image` has these)."""

    @property
    def image_id(self) -> str: ...
    @property
    def name(self) -> str: ...
    @property
    def state(self) -> str: ...
    @property
    def creation_date(self) -> str: ...
    @property
    def tags(self) -> Mapping[str, str]: ...
    @property
    def snapshot_ids(self) -> tuple[str, ...]: ...
    @property
    def owner_id(self) -> str: ...
    @property
    def owner_alias(self) -> str: ...
    @property
    def deprecation_time(self) -> str: ...
    @property
    def deregistration_protection(self) -> str: ...
    @property
    def last_launched_time(self) -> str: ...


@dataclass(frozen=True, order=True)
class BakeId:
    """Which bake an AMI belongs to: one run of Packer (`ebami:build-run`) for one bake key
    (`ebami:bake-key`). AMIs made before runs were recorded have an empty run: one bake per
    key, as then."""

    key: str
    run: str = ""

    def __str__(self) -> str:
        return f"{self.key}/{self.run}" if self.run else self.key


@dataclass(frozen=True)
class Revocation:
    """`ebami revoke`'s tags: the value of `ebami:revoked`, when and why."""

    value: str
    at: str | None
    reason: str | None

    def __str__(self) -> str:
        """'revoked at T: REASON' (the tag itself when revoked by hand, without either)."""
        if not self.at and not self.reason:
            return f"revoked ({tags.REVOKED}={self.value})"
        return (
            "revoked"
            + (f" at {self.at}" if self.at else "")
            + (f": {self.reason}" if self.reason else "")
        )


@dataclass(frozen=True)
class ManagedImage:
    """An AMI with what ebami's tags say of it. Tag values are kept as read (None when the tag
    is absent), so that reports show exactly what the AMI carries."""

    image_id: str
    name: str = ""
    state: str = "available"
    # EC2's creation date as written (`2026-11-21T09:30:00.000Z`).
    created: str = ""
    owner_id: str = ""
    owner_alias: str = ""
    region: str = ""
    snapshot_ids: tuple[str, ...] = ()
    deprecation_time: str = ""
    # EC2's deregistration protection, and who turned it on.
    protection: Protection = field(default_factory=Protection)
    # When an instance was last launched from it, as EC2 says (up to 24 hours late); "": never.
    last_launched: str = ""
    # Every tag, for reports that show them.
    tags: Mapping[str, str] = field(default_factory=dict)
    managed: bool = False
    platform_tag: str | None = None
    platform_version: str | None = None
    release_tag: str | None = None
    drivers: tuple[str, ...] | None = None
    ssm_agent_tag: str | None = None
    verified_at: str | None = None
    verified_checks: str | None = None
    revocation: Revocation | None = None
    bake_key: str | None = None
    build_run: str | None = None

    @classmethod
    def of(cls, image: ImageFacts, region: str = "") -> ManagedImage:
        found = dict(image.tags)
        revoked = found.get(tags.REVOKED)
        recorded = found.get(tags.DRIVERS)
        return cls(
            image_id=image.image_id,
            name=image.name,
            state=image.state,
            created=image.creation_date,
            owner_id=image.owner_id,
            owner_alias=image.owner_alias,
            region=region,
            snapshot_ids=tuple(image.snapshot_ids),
            deprecation_time=image.deprecation_time,
            protection=Protection(image.deregistration_protection, found.get(tags.PROTECTED_FOR)),
            last_launched=image.last_launched_time,
            tags=found,
            managed=found.get(tags.MANAGED) == "true",
            platform_tag=found.get(tags.PLATFORM),
            platform_version=found.get(tags.PLATFORM_VERSION),
            release_tag=found.get(tags.RELEASE),
            # Space-separated: EC2 allows commas in values, other services' tag rules do not.
            drivers=tuple(recorded.split()) if recorded else None,
            ssm_agent_tag=found.get(tags.SSM_AGENT),
            verified_at=found.get(tags.VERIFIED),
            verified_checks=found.get(tags.VERIFIED_CHECKS),
            revocation=(
                Revocation(revoked, found.get(tags.REVOKED_AT), found.get(tags.REVOKED_REASON))
                if revoked
                else None
            ),
            bake_key=found.get(tags.BAKE_KEY),
            build_run=found.get(tags.BUILD_RUN),
        )

    # --- standing ---------------------------------------------------------------------------

    @property
    def available(self) -> bool:
        return self.state == "available"

    @property
    def verified(self) -> bool:
        """`ebami verify` proved it (or the AMI it is a copy of)."""
        return bool(self.verified_at)

    @property
    def revoked(self) -> bool:
        return self.revocation is not None

    @property
    def standing(self) -> str:
        """Verified, unverified or revoked."""
        if self.revoked:
            return "revoked"
        return "verified" if self.verified else "unverified"

    @property
    def created_at(self) -> datetime | None:
        """The creation time; None when unreadable."""
        return parse_utc_timestamp(self.created)

    @property
    def last_launched_at(self) -> datetime | None:
        """When an instance was last launched from it; None: never (or unreadable)."""
        return parse_utc_timestamp(self.last_launched) if self.last_launched else None

    def age_days(self, now: datetime) -> int | None:
        created = self.created_at
        return None if created is None else max(0, (now - created).days)

    # --- which bake -------------------------------------------------------------------------

    @property
    def bake(self) -> BakeId | None:
        """The bake it belongs to; None for an AMI without a bake key (a bake of its own)."""
        return BakeId(self.bake_key, self.build_run or "") if self.bake_key else None

    def same_bake(self, other: ManagedImage) -> bool:
        """Whether `other` came from the same bake: a copy of this AMI (or this AMI a copy of
        it), not a rebuild of the same bake key."""
        return self.bake is not None and self.bake == other.bake

    # --- what it was baked for --------------------------------------------------------------

    @property
    def platform(self) -> Platform | None:
        """ebami's platform the AMI was baked for; None when its tag names none ebami knows."""
        try:
            return resolve_platform(self.platform_tag or "")
        except InputError:
            return None

    @property
    def platform_alias(self) -> str:
        """The `ebami:platform` tag as written ('' when absent)."""
        return self.platform_tag or ""

    @property
    def release(self) -> str:
        """The `ebami:release` tag as written ('' when absent)."""
        return self.release_tag or ""

    def release_for(self, platform: Platform) -> str | None:
        """The release the AMI was baked for: its `ebami:release` tag, or the platform's only
        release (Amazon Linux 2 and 2023 builds record none); None when unknown."""
        if self.release_tag:
            return self.release_tag
        return platform.releases[0] if len(platform.releases) == 1 else None

    @property
    def ssm_agent(self) -> bool | None:
        """Whether instances of it run the SSM agent, as its build recorded; None: unknown."""
        return self.ssm_agent_tag == "yes" if self.ssm_agent_tag in ("yes", "no") else None

    # --- the questions of apply, drift, promote and the channels ----------------------------

    def fit(self, environment: EnvironmentPlatform, needed: Iterable[str] = ()) -> str | None:
        """Why the AMI does not fit the environment's platform, release or the drivers its
        containers use (`needed`); None when it fits."""
        if self.revoked:
            return "revoked"
        target = environment.platform
        if target is None or self.platform_tag != target.alias:
            return f"platform {self.platform_tag or 'unknown'}"
        if self.release_tag and not target.os_version_matches(
            self.release_tag, environment.os_version
        ):
            return f"release {self.release_tag}"
        missing = sorted(set(needed) - set(self.drivers or ()))
        if missing:
            return f"no {', '.join(missing)} driver"
        return None

    def promotion_refusal(self) -> str | None:
        """Why the AMI may not be promoted to a channel (None: it may)."""
        if not self.available:
            return f"it is {self.state}, not available"
        if self.revocation is not None:
            return f"{self.revocation}; promote a verified AMI that is not revoked"
        if not self.verified:
            return (
                f"it is not verified (no {tags.VERIFIED} tag): run ebami verify --ami "
                f"{self.image_id}"
            )
        return None

    def channel_refusal(self, platform: str | None, release: str | None) -> str | None:
        """Why a channel of `platform` (alias) and `release` may not name this AMI, in a few
        words for a list of skipped values; None when it may. The parts the channel's
        parameter pattern does not name (None) are not compared."""
        if not self.available:
            return self.state
        if self.revoked:
            return "revoked"
        if not self.verified:
            return "not verified"
        if platform is None and release is None:
            return None
        baked = self.platform
        if baked is None:
            return f"no {tags.PLATFORM} tag ebami knows"
        if platform is not None and baked.alias != platform:
            return f"an AMI of {baked.alias}"
        if release is None:
            return None
        own = self.release_for(baked)
        if own is None:
            return f"no {tags.RELEASE} tag"
        return None if own == release else f"an AMI of release {own}"

    def to_json(self) -> dict[str, Any]:
        return {
            "region": self.region,
            "image_id": self.image_id,
            "name": self.name,
            "state": self.state,
            "created": self.created,
            "platform": self.platform_alias,
            "release": self.release,
            "bake_key": self.bake_key or "",
            "verified": self.verified_at or "",
            "revoked": self.revocation.value if self.revocation else "",
            "snapshot_ids": list(self.snapshot_ids),
            "deprecation_time": self.deprecation_time,
            "deregistration_protection": self.protection.shown,
            "protected_for": self.protection.protected_for or "",
            "last_launched_time": self.last_launched,
        }


def order_key(image: ManagedImage) -> tuple[datetime, str]:
    """The stated order of AMIs: by creation time, then by AMI id."""
    return (image.created_at or _DAWN, image.image_id)


def newest_first(images: Iterable[ManagedImage]) -> list[ManagedImage]:
    """Newest first; at equal creation times the greater AMI id first."""
    return sorted(images, key=order_key, reverse=True)


def managed_images(images: Iterable[ImageFacts], region: str = "") -> list[ManagedImage]:
    """The AMIs among `images` that carry `ebami:managed=true`, newest first."""
    return newest_first(
        image for image in (ManagedImage.of(item, region) for item in images) if image.managed
    )


# --- other resources' tags --------------------------------------------------------------------


def rollback_target(environment_tags: Mapping[str, str]) -> str | None:
    """The AMI an environment ran before `ebami apply` switched it (`ebami:previous-image-id`),
    if recorded."""
    return environment_tags.get(tags.PREVIOUS_IMAGE_ID) or None


def launched_for(instance_tags: Mapping[str, str]) -> str:
    """What an instance ebami launched is, for people: its Name, else its `ebami:purpose`."""
    purpose = instance_tags.get(tags.PURPOSE)
    return instance_tags.get("Name") or (f"ebami {purpose}" if purpose else "launched by ebami")
