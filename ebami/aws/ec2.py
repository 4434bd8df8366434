"""EC2 calls ebami makes, named by intent."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ebami.aws.errors import aws_errors
from ebami.errors import NotFoundError

if TYPE_CHECKING:
    from mypy_boto3_ec2.client import EC2Client


@dataclass(frozen=True)
class Image:
    image_id: str
    name: str
    state: str
    creation_date: str
    tags: dict[str, str]
    snapshot_ids: tuple[str, ...]


class Ec2:
    def __init__(self, client: EC2Client) -> None:
        self._client = client

    def find_images_by_tag(self, key: str, value: str) -> list[Image]:
        """This account's available AMIs tagged `key=value`, newest first."""
        with aws_errors(f"ec2:DescribeImages tag:{key}={value}"):
            response: Any = self._client.describe_images(
                Owners=["self"],
                Filters=[
                    {"Name": f"tag:{key}", "Values": [value]},
                    {"Name": "state", "Values": ["available"]},
                ],
            )
        images = [_image(item) for item in response.get("Images", [])]
        return sorted(images, key=lambda image: image.creation_date, reverse=True)

    def find_images_by_name(self, name: str) -> list[Image]:
        """This account's AMIs named `name`, in any state (pending ones included)."""
        with aws_errors(f"ec2:DescribeImages name={name}"):
            response: Any = self._client.describe_images(
                Owners=["self"], Filters=[{"Name": "name", "Values": [name]}]
            )
        return [_image(item) for item in response.get("Images", [])]

    def delete_image(self, image: Image) -> None:
        """Deregister the AMI, then delete its snapshots (deregistering keeps them)."""
        with aws_errors(f"ec2:DeregisterImage {image.image_id}"):
            self._client.deregister_image(ImageId=image.image_id)
        for snapshot_id in image.snapshot_ids:
            with aws_errors(f"ec2:DeleteSnapshot {snapshot_id}"):
                self._client.delete_snapshot(SnapshotId=snapshot_id)

    def get_image(self, image_id: str) -> Image:
        """The AMI `image_id`; NotFoundError when it does not exist or is not visible."""
        with aws_errors(f"ec2:DescribeImages {image_id}"):
            try:
                response: Any = self._client.describe_images(ImageIds=[image_id])
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") in _MISSING_IMAGE:
                    raise NotFoundError(
                        f"AMI {image_id} does not exist or is not shared with this account"
                    ) from exc
                raise
        images = response.get("Images", [])
        if not images:
            raise NotFoundError(f"AMI {image_id} does not exist or is not shared with this account")
        return _image(images[0])

    def snapshot_tags(self, snapshot_ids: tuple[str, ...]) -> dict[str, dict[str, str]]:
        if not snapshot_ids:
            return {}
        with aws_errors("ec2:DescribeSnapshots"):
            response: Any = self._client.describe_snapshots(SnapshotIds=list(snapshot_ids))
        return {
            item["SnapshotId"]: _tags(item.get("Tags", []))
            for item in response.get("Snapshots", [])
        }

    def tag_resources(self, resource_ids: list[str], tags: dict[str, str]) -> None:
        with aws_errors(f"ec2:CreateTags {', '.join(resource_ids)}"):
            self._client.create_tags(
                Resources=resource_ids,
                Tags=[{"Key": key, "Value": value} for key, value in tags.items()],
            )


_MISSING_IMAGE = {"InvalidAMIID.NotFound", "InvalidAMIID.Unavailable", "InvalidAMIID.Malformed"}


def _image(item: Any) -> Image:
    return Image(
        image_id=item["ImageId"],
        name=item.get("Name", ""),
        state=item.get("State", ""),
        creation_date=item.get("CreationDate", ""),
        tags=_tags(item.get("Tags", [])),
        snapshot_ids=tuple(
            mapping["Ebs"]["SnapshotId"]
            for mapping in item.get("BlockDeviceMappings", [])
            if mapping.get("Ebs", {}).get("SnapshotId")
        ),
    )


def _tags(items: list[Any]) -> dict[str, str]:
    return {item["Key"]: item.get("Value", "") for item in items}
