"""Channels' fakes: an SSM that keeps each parameter's history, an EC2 of AMIs found by id and
by tag, and the AMIs and channel values the tests of promote, revoke and `apply --channel` build.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from ebami.aws.ec2_values import Image
from ebami.aws.ssm import ParameterVersion
from ebami.core.errors import GuardUnavailable, NotFoundError
from ebami.image import tags

DEFAULT = "/ebami/{platform}/{release}/{channel}"
STABLE = "/ebami/multicontainer-docker/2017.09/stable"


def ami(image_id: str, state: str = "available", **tagged: str) -> Image:
    """A verified ebami AMI of multicontainer-docker 2017.09 that allows fluentd; `tagged`
    changes its tags (an empty value drops the tag)."""
    ours = {
        tags.MANAGED: "true",
        tags.PLATFORM: "multicontainer-docker",
        tags.PLATFORM_VERSION: "2.8.4",
        tags.RELEASE: "2017.09",
        tags.DRIVERS: "json-file syslog awslogs fluentd none",
        tags.VERIFIED: "2026-11-01T00:00:00Z",
    }
    merged = {key: value for key, value in {**ours, **tagged}.items() if value}
    return Image(image_id, image_id, state, "2026-11-01T00:00:00.000Z", merged, ())


def images(*found: Image) -> dict[str, Image]:
    return {image.image_id: image for image in found}


def channel(*values: str, data_type: str = "aws:ec2:image") -> list[tuple[str, str]]:
    """A channel parameter's history, oldest first, for `ChannelSsm`."""
    return [(value, data_type) for value in values]


@dataclass
class ChannelSsm:
    """Parameters with their history (oldest first, as (value, data type)); `calls` records
    every call, reads and writes."""

    parameters: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    calls: list[tuple[str, Any]] = field(default_factory=list)

    def parameter_value(self, name: str) -> str | None:
        self.calls.append(("GetParameter", name))
        versions = self.parameters.get(name)
        return versions[-1][0] if versions else None

    def parameter_values(self, path: str) -> dict[str, str]:
        self.calls.append(("GetParametersByPath", path))
        return {
            name: versions[-1][0]
            for name, versions in self.parameters.items()
            if name.startswith(path.rstrip("/") + "/")
        }

    def history(self, name: str) -> list[ParameterVersion]:
        self.calls.append(("GetParameterHistory", name))
        return [
            ParameterVersion(name, number, value, data_type, None)
            for number, (value, data_type) in enumerate(self.parameters.get(name, []), 1)
        ]

    def publish_image_id(self, name: str, image_id: str) -> int:
        self.calls.append(("PutParameter", (name, image_id)))
        self.parameters.setdefault(name, []).append((image_id, "aws:ec2:image"))
        return len(self.parameters[name])

    def delete_parameter(self, name: str) -> bool:
        self.calls.append(("DeleteParameter", name))
        return self.parameters.pop(name, None) is not None

    def writes(self) -> list[tuple[str, Any]]:
        return [call for call in self.calls if call[0] in ("PutParameter", "DeleteParameter")]


@dataclass
class ImagesEc2:
    """AMIs by id; those in `foreign` are another account's. `calls` records every call."""

    images: dict[str, Image] = field(default_factory=dict)
    foreign: set[str] = field(default_factory=set)
    calls: list[tuple[str, Any]] = field(default_factory=list)
    # Why EC2's DisableImage cannot be used here ("": it can).
    unavailable: str = ""

    def get_image(self, image_id: str) -> Image:
        self.calls.append(("DescribeImages", image_id))
        if image_id not in self.images:
            raise NotFoundError(f"AMI {image_id} does not exist")
        return self.images[image_id]

    def find_own_images_by_tag(self, key: str, value: str) -> list[Image]:
        self.calls.append(("DescribeImages", f"tag:{key}={value}"))
        return [
            image
            for image in self.images.values()
            if image.image_id not in self.foreign and image.tags.get(key) == value
        ]

    def tag_resources(self, resource_ids: list[str], tags: dict[str, str]) -> None:
        self.calls.append(("CreateTags", (resource_ids, dict(tags))))

    def deprecate_image(self, image_id: str, when: datetime) -> None:
        self.calls.append(("EnableImageDeprecation", (image_id, when)))

    def disable_image(self, image_id: str) -> None:
        self.calls.append(("DisableImage", image_id))
        if self.unavailable:
            raise GuardUnavailable(self.unavailable)
        self.images[image_id] = replace(self.images[image_id], state="disabled")
