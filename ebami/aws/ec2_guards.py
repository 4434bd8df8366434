"""EC2's own AMI guards, newer than the rest of the EC2 API ebami calls: deregistration
protection, disabling an AMI, deregistering it with its snapshots, and the resources that
reference it.

Each is used only where the installed botocore knows it and AWS allows it. A call raises
`GuardUnavailable` (one line that says why) when botocore does not know the operation or the
parameter, or when AWS refuses it (access denied) or does not know it (an older region or
partition); the caller then goes on without the guard, with one warning.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import botocore
from botocore.exceptions import ClientError

from ebami.aws.ec2_base import GONE_IMAGE, Ec2Base, chunks, error_code, raise_if_missing
from ebami.aws.ec2_values import ImageReference
from ebami.aws.errors import aws_errors
from ebami.core.errors import GuardUnavailable

# The botocore release that brought each operation (and DescribeImages' IncludeDisabled,
# DeregisterImage's DeleteAssociatedSnapshots): named in the warning when it is missing.
SINCE = {
    "EnableImageDeregistrationProtection": "1.34.90",
    "DisableImageDeregistrationProtection": "1.34.90",
    "DisableImage": "1.31.63",
    "DescribeImages.IncludeDisabled": "1.31.63",
    "DeregisterImage.DeleteAssociatedSnapshots": "1.38.25",
    "DescribeImageReferences": "1.40.18",
}
# AWS's answers for an operation the caller may not make, or that the endpoint does not know.
_UNAVAILABLE = {
    "AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "InvalidAction",
    "UnsupportedOperation", "UnknownOperationException", "UnknownParameter",
}  # fmt: skip
# A terminated instance is no use of an AMI (it can never launch again): ebami asks
# DescribeImageReferences for instances in the other states only.
LIVE_STATES = ("pending", "running", "shutting-down", "stopping", "stopped")
# Every version of a launch template, as ebami's own scan reads them (AWS's default is 10).
TEMPLATE_DEPTH = "10000"
# DescribeImageReferences takes at most 10 AMI ids a call (EC2 API reference, ImageId.N).
REFERENCE_IDS = 10


@contextmanager
def _registered(image_id: str) -> Iterator[None]:
    """NotFoundError when EC2 answers that the AMI is deregistered already (or never was)."""
    try:
        yield
    except ClientError as exc:
        raise_if_missing(exc, GONE_IMAGE, f"AMI {image_id} is deregistered already")
        raise


class Ec2Guards(Ec2Base):
    @contextmanager
    def _guard(self, feature: str, label: str) -> Iterator[None]:
        if not self.knows(feature):
            raise GuardUnavailable(
                f"{feature.replace('.', ' with ')} is unknown to the installed botocore "
                f"{botocore.__version__} (it came with {SINCE[feature]})"
            )
        with aws_errors(label):
            try:
                yield
            except ClientError as exc:
                if error_code(exc) in _UNAVAILABLE:
                    message = str(exc.response.get("Error", {}).get("Message", ""))
                    raise GuardUnavailable(
                        f"{label}: AWS refused it ({error_code(exc)}: {message})"
                    ) from exc
                raise

    def protect_image(self, image_id: str) -> str:
        """Turn on deregistration protection (without the 24-hour cooldown); EC2's word for
        the protection now."""
        name = "EnableImageDeregistrationProtection"
        with self._guard(name, f"ec2:{name} {image_id}"):
            response: Any = self._client.enable_image_deregistration_protection(
                ImageId=image_id, WithCooldown=False
            )
        return str(response.get("Return", ""))

    def unprotect_image(self, image_id: str) -> str:
        """Turn off deregistration protection; EC2's word for the protection now (a cooldown
        shows as `disabled-until TIME`)."""
        name = "DisableImageDeregistrationProtection"
        with self._guard(name, f"ec2:{name} {image_id}"), _registered(image_id):
            response: Any = self._client.disable_image_deregistration_protection(ImageId=image_id)
        return str(response.get("Return", ""))

    def disable_image(self, image_id: str) -> None:
        """Disable the AMI: no launches, no launch permissions, hidden from DescribeImages."""
        with self._guard("DisableImage", f"ec2:DisableImage {image_id}"):
            self._client.disable_image(ImageId=image_id)

    def deregister_with_snapshots(self, image_id: str) -> dict[str, str]:
        """Deregister the AMI and delete its snapshots no other AMI uses, in one call: each
        snapshot's result (`success`, `skipped`: another AMI uses it, `missing-permissions`,
        ...). NotFoundError when the AMI is deregistered already."""
        feature = "DeregisterImage.DeleteAssociatedSnapshots"
        label = f"ec2:DeregisterImage {image_id} with its snapshots"
        with self._guard(feature, label), _registered(image_id):
            response: Any = self._client.deregister_image(
                ImageId=image_id, DeleteAssociatedSnapshots=True
            )
        return {
            str(item.get("SnapshotId", "")): str(item.get("ReturnCode", ""))
            for item in response.get("DeleteSnapshotResults", [])
        }

    def image_references(self, image_ids: Sequence[str]) -> list[ImageReference]:
        """The resources that reference each AMI (a live instance, a launch template version,
        an `aws:ec2:image` parameter, an Image Builder recipe), as EC2 finds them: a call per
        10 AMIs."""
        types: list[Any] = [
            {
                "ResourceType": "ec2:Instance",
                "ResourceTypeOptions": [
                    {"OptionName": "state-name", "OptionValues": list(LIVE_STATES)}
                ],
            },
            {
                "ResourceType": "ec2:LaunchTemplate",
                "ResourceTypeOptions": [
                    {"OptionName": "version-depth", "OptionValues": [TEMPLATE_DEPTH]}
                ],
            },
            {"ResourceType": "ssm:Parameter"},
            {"ResourceType": "imagebuilder:ImageRecipe"},
            {"ResourceType": "imagebuilder:ContainerRecipe"},
        ]
        found: list[ImageReference] = []
        for chunk in chunks(list(dict.fromkeys(image_ids)), REFERENCE_IDS):
            label = f"ec2:DescribeImageReferences ({len(chunk)} AMIs)"
            with self._guard("DescribeImageReferences", label):
                pages = self._client.get_paginator("describe_image_references").paginate(
                    ImageIds=chunk, ResourceTypes=types
                )
                found += [
                    ImageReference(
                        str(item.get("ImageId", "")),
                        str(item.get("ResourceType", "")),
                        str(item.get("Arn", "")),
                    )
                    for page in pages
                    for item in page.get("ImageReferences", [])
                ]
        return found
