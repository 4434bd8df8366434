"""EC2 calls about instances: run, describe, find and terminate them, and read the launch
templates that may start more from an AMI."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from botocore.exceptions import ClientError

from ebami.aws.ec2_base import FILTER_VALUES, SCAN_PAGE, Ec2Base, chunks, raise_if_missing
from ebami.aws.ec2_values import (
    Instance,
    InstanceSpec,
    LaunchTemplateVersion,
    instance_of,
    launch_template_version_of,
)
from ebami.aws.errors import aws_errors
from ebami.core.errors import InputError, one_line

# The instance states in which an instance still holds on to its AMI (it may start again).
LIVE_INSTANCE_STATES = ("pending", "running", "stopping", "stopped", "shutting-down")
_MISSING_INSTANCE = {"InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"}


class Ec2Instances(Ec2Base):
    def launch_instance(self, spec: InstanceSpec) -> Instance:
        """Run one instance as `spec` says; the tags are applied at launch, volume included."""
        tags = [{"Key": key, "Value": value} for key, value in spec.tags.items()]
        request: dict[str, Any] = {
            "ImageId": spec.image_id,
            "InstanceType": spec.instance_type,
            "MinCount": 1,
            "MaxCount": 1,
            "IamInstanceProfile": {"Name": spec.instance_profile},
            "MetadataOptions": {"HttpTokens": "required", "HttpEndpoint": "enabled"},
            "InstanceInitiatedShutdownBehavior": "terminate",
        }
        if tags:
            request["TagSpecifications"] = [
                {"ResourceType": "instance", "Tags": tags},
                {"ResourceType": "volume", "Tags": tags},
            ]
        if spec.subnet_id:
            request["SubnetId"] = spec.subnet_id
        with aws_errors(f"ec2:RunInstances {spec.image_id}"):
            try:
                response: Any = self._client.run_instances(**request)
            except ClientError as exc:
                _refuse_bad_launch_input(exc, spec)
                raise
        return instance_of(response["Instances"][0])

    def describe_instances(self, instance_ids: list[str]) -> list[Instance]:
        """The instances `instance_ids` (NotFoundError when one does not exist)."""
        found: list[Instance] = []
        with aws_errors(f"ec2:DescribeInstances {', '.join(instance_ids)}"):
            try:
                paginator = self._client.get_paginator("describe_instances")
                for page in paginator.paginate(InstanceIds=instance_ids):
                    for reservation in page.get("Reservations", []):
                        found.extend(instance_of(item) for item in reservation.get("Instances", []))
            except ClientError as exc:
                raise_if_missing(
                    exc,
                    _MISSING_INSTANCE,
                    f"instance {', '.join(instance_ids)} does not exist in this region",
                )
                raise
        return found

    def instances_with_ids(self, instance_ids: Sequence[str]) -> list[Instance]:
        """The instances among `instance_ids` that EC2 shows, by the `instance-id` filter (200
        ids a call): an id it does not show (yet) is left out, not an error, so one new
        instance does not fail the others' answer."""
        found: list[Instance] = []
        for chunk in chunks(list(dict.fromkeys(instance_ids))):
            with aws_errors(f"ec2:DescribeInstances instance-id ({len(chunk)} instances)"):
                paginator = self._client.get_paginator("describe_instances")
                for page in paginator.paginate(Filters=[{"Name": "instance-id", "Values": chunk}]):
                    for reservation in page.get("Reservations", []):
                        found.extend(instance_of(item) for item in reservation.get("Instances", []))
        return found

    def find_instances_by_tag(self, key: str, value: str) -> list[Instance]:
        """Instances tagged `key=value` that are not terminated."""
        found: list[Instance] = []
        alive = ["pending", "running", "stopping", "stopped", "shutting-down"]
        with aws_errors(f"ec2:DescribeInstances tag:{key}={value}"):
            paginator = self._client.get_paginator("describe_instances")
            for page in paginator.paginate(
                Filters=[
                    {"Name": f"tag:{key}", "Values": [value]},
                    {"Name": "instance-state-name", "Values": alive},
                ]
            ):
                for reservation in page.get("Reservations", []):
                    found.extend(instance_of(item) for item in reservation.get("Instances", []))
        return found

    def instances_of_images(self, image_ids: Sequence[str]) -> list[Instance]:
        """The instances launched from any of `image_ids` that are not terminated (a stopped
        instance starts again from its volume, but a replacement needs the AMI). More AMIs
        than one filter takes: every live instance, 1,000 a page, kept here (one AMI filter
        per 200 AMIs would grow with the estate; the region's instances are read in one go)."""
        wanted = sorted(set(image_ids))
        live = {"Name": "instance-state-name", "Values": list(LIVE_INSTANCE_STATES)}
        request: dict[str, Any] = (
            {"Filters": [live], "MaxResults": SCAN_PAGE}
            if len(wanted) > FILTER_VALUES
            else {"Filters": [{"Name": "image-id", "Values": wanted}, live]}
        )
        found: list[Instance] = []
        with aws_errors("ec2:DescribeInstances image-id"):
            for page in self._client.get_paginator("describe_instances").paginate(**request):
                for reservation in page.get("Reservations", []):
                    found.extend(instance_of(item) for item in reservation.get("Instances", []))
        kept = set(wanted)
        return [instance for instance in found if instance.image_id in kept]

    def terminate_instances(self, instance_ids: list[str]) -> None:
        with aws_errors(f"ec2:TerminateInstances {', '.join(instance_ids)}"):
            self._client.terminate_instances(InstanceIds=instance_ids)

    def launch_template_versions(self) -> list[LaunchTemplateVersion]:
        """Every version of every launch template in the region (not only the default or the
        latest: an Auto Scaling group may pin any version)."""
        versions: list[LaunchTemplateVersion] = []
        with aws_errors("ec2:DescribeLaunchTemplates"):
            templates: list[Any] = [
                item
                for page in self._client.get_paginator("describe_launch_templates").paginate()
                for item in page.get("LaunchTemplates", [])
            ]
        paginator = self._client.get_paginator("describe_launch_template_versions")
        for template in templates:
            template_id = template["LaunchTemplateId"]
            with aws_errors(f"ec2:DescribeLaunchTemplateVersions {template_id}"):
                for page in paginator.paginate(LaunchTemplateId=template_id):
                    versions.extend(
                        launch_template_version_of(template_id, item)
                        for item in page.get("LaunchTemplateVersions", [])
                    )
        return versions


def _refuse_bad_launch_input(exc: ClientError, spec: InstanceSpec) -> None:
    """Turn RunInstances' refusals of ebami's inputs into one line naming the option."""
    error = exc.response.get("Error", {})
    code, message = error.get("Code", ""), one_line(str(error.get("Message", "")))
    lowered = message.lower()
    if code == "NoSuchEntity" or "iaminstanceprofile" in lowered or "instance profile" in lowered:
        raise InputError(
            f"--instance-profile {spec.instance_profile!r} is not usable: {message}; give the "
            "name of an instance profile whose role has AmazonSSMManagedInstanceCore"
        ) from exc
    if code.startswith("InvalidSubnet"):
        raise InputError(f"--subnet-id {spec.subnet_id!r} is not usable: {message}") from exc
    if code in ("InvalidInstanceType", "Unsupported") or "instance type" in lowered:
        raise InputError(
            f"--instance-type {spec.instance_type!r} is not usable with {spec.image_id}: {message}"
        ) from exc
