"""Whether a build is needed: the build planner's own answer (`plan_build`, with the options
`ebami build` reads from the same settings), so that `ebami check`, `ebami status` and `ebami
build` agree by construction. When nothing is new that costs three calls: ListPlatformVersions,
DescribePlatformVersion, DescribeImages by the bake key."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ebami.aws.ec2_values import Image
from ebami.image import tags
from ebami.image.bake import BuildVerdict
from ebami.image.managed import ManagedImage, newest_first

if TYPE_CHECKING:
    from ebami.build.planner import BuildPlan


class ImagesByTag(Protocol):
    def find_images_by_tag(self, key: str, value: str) -> list[Image]: ...


def build_verdict(plan: BuildPlan, ec2: ImagesByTag) -> BuildVerdict:
    """The verdict of a build plan: needed when no AMI carrying its bake key may be reused
    (none, or only revoked ones), with the AMI a new build would replace."""
    existing = ManagedImage.of(plan.existing, plan.region) if plan.existing else None
    replaces = replaced_image(ec2, plan) if existing is None else None
    return BuildVerdict(
        needed=existing is None,
        base_ami=plan.base.image_id,
        platform_version=plan.base.platform_version,
        platform_released=plan.base.released,
        bake_key=plan.bake_key.value,
        existing=existing.image_id if existing else None,
        replaces=replaces.image_id if replaces else None,
        existing_verified=existing is not None and existing.verified,
        revoked=plan.revoked.image_id if plan.revoked and existing is None else None,
    )


def replaced_image(ec2: ImagesByTag, plan: BuildPlan) -> ManagedImage | None:
    """The newest ebami AMI of the plan's platform and release: what a new build replaces."""
    release = plan.user_data.release or ""
    found = [
        image
        for image in newest_first(
            ManagedImage.of(item, plan.region)
            for item in ec2.find_images_by_tag(tags.PLATFORM, plan.base.platform)
        )
        if image.managed and image.release == release
    ]
    return found[0] if found else None
