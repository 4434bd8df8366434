"""EC2 calls about AMIs and their snapshots: find, describe, share, deprecate, tag, deregister,
delete."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from botocore.exceptions import ClientError

from ebami.aws.ec2_base import (
    FILTER_VALUES,
    GONE_IMAGE,
    SCAN_PAGE,
    Ec2Base,
    chunks,
    error_code,
    raise_if_missing,
)
from ebami.aws.ec2_values import Image, image_of, tags_of
from ebami.aws.errors import aws_errors
from ebami.core.errors import NotFoundError

# States of an AMI that was registered but never became usable.
UNFINISHED_STATES = ("pending", "failed")
_MISSING_IMAGE = {*GONE_IMAGE, "InvalidAMIID.Malformed"}


class Ec2Images(Ec2Base):
    def find_images_by_tag(self, key: str, value: str) -> list[Image]:
        """This account's available AMIs tagged `key=value`, newest first (every page)."""
        return sorted(
            self._own_images(
                f"ec2:DescribeImages tag:{key}={value}",
                [
                    {"Name": f"tag:{key}", "Values": [value]},
                    {"Name": "state", "Values": ["available"]},
                ],
            ),
            key=lambda image: image.creation_date,
            reverse=True,
        )

    def find_images_with_tag(self, key: str) -> list[Image]:
        """This account's available AMIs that carry the tag `key` (any value), newest first."""
        return sorted(
            self._own_images(
                f"ec2:DescribeImages tag-key={key}",
                [
                    {"Name": "tag-key", "Values": [key]},
                    {"Name": "state", "Values": ["available"]},
                ],
            ),
            key=lambda image: image.creation_date,
            reverse=True,
        )

    def find_own_images_by_tag(self, key: str, value: str) -> list[Image]:
        """This account's AMIs tagged `key=value`, in any state (pending ones included, and
        disabled ones: `_including_disabled`)."""
        return self._own_images(
            f"ec2:DescribeImages tag:{key}={value}",
            [{"Name": f"tag:{key}", "Values": [value]}],
            disabled=True,
        )

    def find_unfinished_images(self, name_pattern: str) -> list[Image]:
        """This account's AMIs whose name matches `name_pattern` (`*` wildcards) and that are
        pending or failed."""
        return self._own_images(
            f"ec2:DescribeImages name={name_pattern}",
            [
                {"Name": "name", "Values": [name_pattern]},
                {"Name": "state", "Values": list(UNFINISHED_STATES)},
            ],
        )

    def own_images(self) -> list[Image]:
        """Every AMI this account owns in the region, in any state, ebami's or not (disabled
        ones: `_including_disabled`)."""
        return self._own_images("ec2:DescribeImages owner=self", [], disabled=True)

    def _including_disabled(self, **request: Any) -> dict[str, Any]:
        """A DescribeImages request that shows disabled AMIs too, where botocore knows
        IncludeDisabled (EC2 leaves them out by default)."""
        if self.knows("DescribeImages.IncludeDisabled"):
            request["IncludeDisabled"] = True
        return request

    def _own_images(self, call: str, filters: list[Any], *, disabled: bool = False) -> list[Image]:
        """`disabled`: disabled AMIs too (`_including_disabled`)."""
        request: dict[str, Any] = {"Owners": ["self"], "Filters": filters}
        if disabled:
            request = self._including_disabled(**request)
        with aws_errors(call):
            pages = self._client.get_paginator("describe_images").paginate(**request)
            return [image_of(item) for page in pages for item in page.get("Images", [])]

    def get_image(self, image_id: str) -> Image:
        """The AMI `image_id` (a disabled one too, where botocore knows IncludeDisabled: the
        caller says why it may not be used); NotFoundError when it does not exist or is not
        visible."""
        request = self._including_disabled(ImageIds=[image_id])
        with aws_errors(f"ec2:DescribeImages {image_id}"):
            try:
                response: Any = self._client.describe_images(**request)
            except ClientError as exc:
                raise_if_missing(
                    exc,
                    _MISSING_IMAGE,
                    f"AMI {image_id} does not exist or is not shared with this account",
                )
                raise
        images = response.get("Images", [])
        if not images:
            raise NotFoundError(f"AMI {image_id} does not exist or is not shared with this account")
        return image_of(images[0])

    def images_by_id(self, image_ids: Sequence[str]) -> list[Image]:
        """The AMIs of `image_ids` that exist and this account may see (its own, shared or
        public ones), a filter of up to 200 ids per call: an id that names no AMI is left out
        (where `ImageIds` would fail the whole call)."""
        found: list[Image] = []
        for chunk in chunks(list(dict.fromkeys(image_ids))):
            with aws_errors(f"ec2:DescribeImages image-id ({len(chunk)} ids)"):
                pages = self._client.get_paginator("describe_images").paginate(
                    Filters=[{"Name": "image-id", "Values": chunk}]
                )
                found += [image_of(item) for page in pages for item in page.get("Images", [])]
        return found

    def share_image(self, image_id: str, account_ids: Sequence[str]) -> None:
        """Let the accounts launch the AMI (what Packer's `ami_users` does for a new one);
        adding a permission an account has already is no error."""
        with aws_errors(f"ec2:ModifyImageAttribute {image_id} launchPermission"):
            self._client.modify_image_attribute(
                ImageId=image_id,
                LaunchPermission={"Add": [{"UserId": account} for account in account_ids]},
            )

    def launch_permissions(self, image_id: str) -> list[str]:
        """Who else may launch the AMI: account ids, organization or OU ARNs, or `all` (public);
        [] when only this account may."""
        with aws_errors(f"ec2:DescribeImageAttribute {image_id} launchPermission"):
            response: Any = self._client.describe_image_attribute(
                ImageId=image_id, Attribute="launchPermission"
            )
        found = []
        for item in response.get("LaunchPermissions", []):
            found += [
                str(item[key])
                for key in ("UserId", "Group", "OrganizationArn", "OrganizationalUnitArn")
                if item.get(key)
            ]
        return found

    def deprecate_image(self, image_id: str, when: datetime) -> None:
        """Set the AMI's deprecation time (EC2 rounds it to the minute and refuses a past
        one); setting it again replaces the earlier time."""
        with aws_errors(f"ec2:EnableImageDeprecation {image_id}"):
            self._client.enable_image_deprecation(ImageId=image_id, DeprecateAt=when)

    def tag_resources(self, resource_ids: list[str], tags: dict[str, str]) -> None:
        with aws_errors(f"ec2:CreateTags {', '.join(resource_ids)}"):
            self._client.create_tags(
                Resources=resource_ids,
                Tags=[{"Key": key, "Value": value} for key, value in tags.items()],
            )

    def snapshot_tags(self, snapshot_ids: tuple[str, ...]) -> dict[str, dict[str, str]]:
        if not snapshot_ids:
            return {}
        with aws_errors("ec2:DescribeSnapshots"):
            response: Any = self._client.describe_snapshots(SnapshotIds=list(snapshot_ids))
        return {
            item["SnapshotId"]: tags_of(item.get("Tags", []))
            for item in response.get("Snapshots", [])
        }

    def own_snapshot_ids(self, snapshot_ids: Sequence[str]) -> set[str]:
        """Those of `snapshot_ids` that this account owns (the others are not ours to delete).
        More than one filter takes: every snapshot this account owns, 1,000 a page, kept here
        (as `Ec2Instances.instances_of_images`)."""
        wanted = sorted(set(snapshot_ids))
        if len(wanted) > FILTER_VALUES:
            request: dict[str, Any] = {"OwnerIds": ["self"], "MaxResults": SCAN_PAGE}
        else:
            request = {"OwnerIds": ["self"], "Filters": [{"Name": "snapshot-id", "Values": wanted}]}
        owned: set[str] = set()
        with aws_errors("ec2:DescribeSnapshots owner=self"):
            for page in self._client.get_paginator("describe_snapshots").paginate(**request):
                owned.update(item["SnapshotId"] for item in page.get("Snapshots", []))
        return owned & set(wanted)

    def delete_image(self, image: Image) -> None:
        """Deregister the AMI, then delete its snapshots (deregistering keeps them)."""
        with aws_errors(f"ec2:DeregisterImage {image.image_id}"):
            self._client.deregister_image(ImageId=image.image_id)
        for snapshot_id in image.snapshot_ids:
            with aws_errors(f"ec2:DeleteSnapshot {snapshot_id}"):
                self._client.delete_snapshot(SnapshotId=snapshot_id)

    def deregister_image(self, image_id: str) -> bool:
        """Deregister the AMI (its snapshots stay); False when it was gone already."""
        with aws_errors(f"ec2:DeregisterImage {image_id}"):
            try:
                self._client.deregister_image(ImageId=image_id)
            except ClientError as exc:
                if error_code(exc) in GONE_IMAGE:
                    return False
                raise
        return True

    def delete_snapshot(self, snapshot_id: str) -> bool:
        """Delete the snapshot; False when it was gone already."""
        with aws_errors(f"ec2:DeleteSnapshot {snapshot_id}"):
            try:
                self._client.delete_snapshot(SnapshotId=snapshot_id)
            except ClientError as exc:
                if error_code(exc) == "InvalidSnapshot.NotFound":
                    return False
                raise
        return True
