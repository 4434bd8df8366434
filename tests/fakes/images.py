"""AMIs as the model sees them, built from the tags a test gives."""

from __future__ import annotations

from collections.abc import Mapping

from ebami.aws.ec2_values import Image
from ebami.image.managed import ManagedImage

ACCOUNT = "123456789012"


def managed_image(
    region: str,
    image_id: str,
    name: str = "",
    state: str = "available",
    created: str = "2026-01-01T00:00:00.000Z",
    owner_id: str = ACCOUNT,
    tags: Mapping[str, str] | None = None,
    snapshot_ids: tuple[str, ...] = (),
    deprecation_time: str = "",
    deregistration_protection: str = "",
    last_launched_time: str = "",
) -> ManagedImage:
    """The model of an AMI of `region` carrying `tags`, as `ManagedImage.of` reads it."""
    image = Image(
        image_id,
        name or f"ebami-{image_id}",
        state,
        created,
        dict(tags or {}),
        snapshot_ids,
        owner_id=owner_id,
        deprecation_time=deprecation_time,
        deregistration_protection=deregistration_protection,
        last_launched_time=last_launched_time,
    )
    return ManagedImage.of(image, region)
