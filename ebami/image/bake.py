"""The model of a bake: one run of Packer for one bake key, with the AMIs it made (the AMI and
its copies in other regions). A `--force` rebuild of the same key is a new bake.

`bakes_of` groups AMIs by bake (`ManagedImage.bake`; an AMI without a bake key is a bake of its
own) and orders them by the stated rule: newest first by the creation time of the bake's
newest AMI (a bake is as new as its newest AMI; copies follow their source by minutes); at
equal times the greater bake id first.

`BuildVerdict` is the answer to "is a build needed?": whether an AMI usable as the bake of the
current bake key exists, and whether it passed `ebami verify`. A revoked AMI is no such bake: a
build is needed, and it makes a new bake of the same key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypeVar

from ebami.image.managed import ImageFacts, ManagedImage, order_key

Facts = TypeVar("Facts", bound=ImageFacts)

# After any AMI: where a creation time cannot be read, a bake counts as the newest (it is kept).
_LATEST = datetime.max.replace(tzinfo=timezone.utc)


@dataclass(frozen=True)
class Bake:
    # The bake id as text (`key/run`), or `region/ami-...` for an AMI without a bake key.
    id: str
    images: tuple[ManagedImage, ...]

    @property
    def newest(self) -> datetime:
        """When its newest AMI was made (an AMI whose time cannot be read counts as newest)."""
        return max(image.created_at or _LATEST for image in self.images)

    @property
    def verified(self) -> bool:
        """One of its AMIs is available and proved by `ebami verify`: a pending AMI proves no
        bake usable."""
        return any(image.verified and image.available for image in self.images)

    @property
    def revoked(self) -> bool:
        return any(image.revoked for image in self.images)


def bake_id(image: ManagedImage) -> str:
    bake = image.bake
    return str(bake) if bake is not None else f"{image.region}/{image.image_id}"


def bakes_of(images: Iterable[ManagedImage]) -> list[Bake]:
    """The bakes of `images`, newest first (see the module's docstring for the order)."""
    grouped: dict[str, list[ManagedImage]] = {}
    for image in images:
        grouped.setdefault(bake_id(image), []).append(image)
    bakes = [Bake(key, tuple(found)) for key, found in grouped.items()]
    return sorted(bakes, key=lambda bake: (bake.newest, bake.id), reverse=True)


@dataclass(frozen=True)
class BuildVerdict:
    needed: bool
    base_ami: str
    platform_version: str
    platform_released: str
    bake_key: str
    existing: str | None
    # The newest ebami AMI of the platform and release, which a new build would replace.
    replaces: str | None
    # Whether the AMI carrying the bake key passed `ebami verify` (a bake whose verify failed
    # must not count as done: the nightly job verifies it again).
    existing_verified: bool = False
    # An AMI that carries the bake key but was revoked: no bake to keep, a build is needed.
    revoked: str | None = None

    @property
    def verify_needed(self) -> bool:
        return self.existing is not None and not self.existing_verified

    @property
    def summary(self) -> str:
        if self.verify_needed:
            return (
                f"verify needed: {self.existing} carries the bake key but has not passed ebami "
                f"verify (run ebami verify --ami {self.existing})"
            )
        if not self.needed:
            return f"up to date: {self.existing} carries the bake key"
        released = f", released {self.platform_released[:10]}" if self.platform_released else ""
        replaced = f"; it replaces {self.replaces}" if self.replaces else "; no ebami AMI yet"
        if self.revoked:
            return (
                f"build needed: {self.revoked} carries the bake key of base AMI {self.base_ami} "
                f"(platform version {self.platform_version}{released}) but was revoked"
                f"{replaced}"
            )
        return (
            f"build needed: base AMI {self.base_ami} (platform version {self.platform_version}"
            f"{released}) has no ebami AMI{replaced}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "build_needed": self.needed,
            "base_ami": self.base_ami,
            "platform_version": self.platform_version,
            "platform_released": self.platform_released,
            "bake_key": self.bake_key,
            "existing_ami": self.existing,
            "existing_verified": self.existing_verified,
            "verify_needed": self.verify_needed,
            "replaces": self.replaces,
            "revoked_ami": self.revoked,
        }


def reusable(images: Iterable[Facts]) -> tuple[Facts | None, Facts | None]:
    """Of the AMIs that carry one bake key: the one a build reuses (the newest that is not
    revoked) and, when there is none, the newest revoked one (why a build is needed)."""
    judged = sorted(
        ((order_key(model), image, model.revoked) for image in images
         for model in [ManagedImage.of(image)]),
        key=lambda item: item[0],
        reverse=True,
    )  # fmt: skip
    usable = next((image for _, image, revoked in judged if not revoked), None)
    revoked = next((image for _, image, revoked in judged if revoked), None)
    return usable, (revoked if usable is None else None)
