"""Whether a build is needed: the build planner's own answer (`plan_build`, with the options
`ebami build` reads from the same settings), so that `ebami check`, `ebami status` and `ebami
build` agree by construction. When nothing is new that costs three calls: ListPlatformVersions,
DescribePlatformVersion, DescribeImages by the bake key."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ebami.aws.ec2_values import Image
from ebami.image import tags

if TYPE_CHECKING:
    from ebami.build.planner import BuildPlan


class ImagesByTag(Protocol):
    def find_images_by_tag(self, key: str, value: str) -> list[Image]: ...


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

    @property
    def verify_needed(self) -> bool:
        return self.existing is not None and not self.existing_verified

    @classmethod
    def of(cls, plan: BuildPlan, replaces: Image | None) -> BuildVerdict:
        return cls(
            needed=plan.existing is None,
            base_ami=plan.base.image_id,
            platform_version=plan.base.platform_version,
            platform_released=plan.base.released,
            bake_key=plan.bake_key.value,
            existing=plan.existing.image_id if plan.existing else None,
            replaces=replaces.image_id if replaces else None,
            existing_verified=bool(plan.existing and plan.existing.tags.get(tags.VERIFIED)),
        )

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
        }


def replaced_image(ec2: ImagesByTag, plan: BuildPlan) -> Image | None:
    """The newest ebami AMI of the plan's platform and release: what a new build replaces."""
    release = plan.user_data.release or ""
    found = [
        image
        for image in ec2.find_images_by_tag(tags.PLATFORM, plan.base.platform)
        if image.tags.get(tags.MANAGED) == "true" and image.tags.get(tags.RELEASE, "") == release
    ]
    return found[0] if found else None
