"""EC2 calls ebami makes, named by intent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ebami.aws.errors import aws_errors
from ebami.core.errors import InputError, NotFoundError, one_line

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
    architecture: str = "x86_64"
    ena_support: bool = False
    owner_alias: str = ""
    owner_id: str = ""
    # When EC2 deprecates the AMI (ISO 8601), if a deprecation time is set.
    deprecation_time: str = ""


@dataclass(frozen=True)
class InstanceSpec:
    """One instance to launch: IMDSv2 required, terminated (not stopped) on shutdown."""

    image_id: str
    instance_type: str
    instance_profile: str
    subnet_id: str | None
    tags: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Instance:
    instance_id: str
    image_id: str
    state: str
    state_reason: str
    subnet_id: str
    vpc_id: str
    public_ip: str
    instance_profile_arn: str
    tags: dict[str, str]


@dataclass(frozen=True)
class Egress:
    """How a subnet reaches the internet: the target of its 0.0.0.0/0 route, if any."""

    default_route_target: str | None
    endpoint_services: frozenset[str]

    @property
    def via_internet_gateway(self) -> bool:
        return (self.default_route_target or "").startswith("igw-")


# States of an AMI that was registered but never became usable.
UNFINISHED_STATES = ("pending", "failed")


@dataclass(frozen=True)
class LaunchTemplateVersion:
    """One version of a launch template and the AMI it names (an id, or `resolve:ssm:NAME`)."""

    template_id: str
    template_name: str
    version: int
    image_id: str


# The instance states in which an instance still holds on to its AMI (it may start again).
LIVE_INSTANCE_STATES = ("pending", "running", "stopping", "stopped", "shutting-down")
# EC2 accepts up to 200 values in one filter.
FILTER_VALUES = 200


@dataclass(frozen=True)
class SecurityGroup:
    group_id: str
    name: str
    description: str


@dataclass(frozen=True)
class KeyPair:
    name: str
    created: str


class Ec2:
    def __init__(self, client: EC2Client) -> None:
        self._client = client

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
        """This account's AMIs tagged `key=value`, in any state (pending ones included)."""
        return self._own_images(
            f"ec2:DescribeImages tag:{key}={value}", [{"Name": f"tag:{key}", "Values": [value]}]
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

    def find_security_groups(self, name_pattern: str) -> list[SecurityGroup]:
        """Security groups whose name matches `name_pattern` (`*` wildcards)."""
        found: list[SecurityGroup] = []
        with aws_errors(f"ec2:DescribeSecurityGroups group-name={name_pattern}"):
            paginator = self._client.get_paginator("describe_security_groups")
            for page in paginator.paginate(
                Filters=[{"Name": "group-name", "Values": [name_pattern]}]
            ):
                groups: list[Any] = page.get("SecurityGroups", [])
                found.extend(
                    SecurityGroup(item["GroupId"], item["GroupName"], item.get("Description", ""))
                    for item in groups
                )
        return found

    def find_key_pairs(self, name_pattern: str) -> list[KeyPair]:
        """Key pairs whose name matches `name_pattern` (`*` wildcards)."""
        with aws_errors(f"ec2:DescribeKeyPairs key-name={name_pattern}"):
            response: Any = self._client.describe_key_pairs(
                Filters=[{"Name": "key-name", "Values": [name_pattern]}]
            )
        return [
            KeyPair(item["KeyName"], str(item.get("CreateTime", "")))
            for item in response.get("KeyPairs", [])
        ]

    def share_image(self, image_id: str, account_ids: Sequence[str]) -> None:
        """Let the accounts launch the AMI (what Packer's `ami_users` does for a new one);
        adding a permission an account has already is no error."""
        with aws_errors(f"ec2:ModifyImageAttribute {image_id} launchPermission"):
            self._client.modify_image_attribute(
                ImageId=image_id,
                LaunchPermission={"Add": [{"UserId": account} for account in account_ids]},
            )

    def deprecate_image(self, image_id: str, when: datetime) -> None:
        """Set the AMI's deprecation time (EC2 rounds it to the minute and refuses a past
        one); setting it again replaces the earlier time."""
        with aws_errors(f"ec2:EnableImageDeprecation {image_id}"):
            self._client.enable_image_deprecation(ImageId=image_id, DeprecateAt=when)

    def _own_images(self, call: str, filters: list[Any]) -> list[Image]:
        with aws_errors(call):
            pages = self._client.get_paginator("describe_images").paginate(
                Owners=["self"], Filters=filters
            )
            return [_image(item) for page in pages for item in page.get("Images", [])]

    def delete_image(self, image: Image) -> None:
        """Deregister the AMI, then delete its snapshots (deregistering keeps them)."""
        with aws_errors(f"ec2:DeregisterImage {image.image_id}"):
            self._client.deregister_image(ImageId=image.image_id)
        for snapshot_id in image.snapshot_ids:
            with aws_errors(f"ec2:DeleteSnapshot {snapshot_id}"):
                self._client.delete_snapshot(SnapshotId=snapshot_id)

    # --- the estate (ebami status, ebami prune) ------------------------------------------------

    def own_images(self) -> list[Image]:
        """Every AMI this account owns in the region, in any state, ebami's or not."""
        return self._own_images("ec2:DescribeImages owner=self", [])

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

    def own_snapshot_ids(self, snapshot_ids: Sequence[str]) -> set[str]:
        """Those of `snapshot_ids` that this account owns (the others are not ours to delete)."""
        owned: set[str] = set()
        wanted = sorted(set(snapshot_ids))
        with aws_errors("ec2:DescribeSnapshots owner=self"):
            paginator = self._client.get_paginator("describe_snapshots")
            for chunk in _chunks(wanted):
                for page in paginator.paginate(
                    OwnerIds=["self"], Filters=[{"Name": "snapshot-id", "Values": chunk}]
                ):
                    owned.update(item["SnapshotId"] for item in page.get("Snapshots", []))
        return owned

    def instances_of_images(self, image_ids: Sequence[str]) -> list[Instance]:
        """The instances launched from any of `image_ids` that are not terminated (a stopped
        instance starts again from its volume, but a replacement needs the AMI)."""
        found: list[Instance] = []
        with aws_errors("ec2:DescribeInstances image-id"):
            paginator = self._client.get_paginator("describe_instances")
            for chunk in _chunks(sorted(set(image_ids))):
                for page in paginator.paginate(
                    Filters=[
                        {"Name": "image-id", "Values": chunk},
                        {"Name": "instance-state-name", "Values": list(LIVE_INSTANCE_STATES)},
                    ]
                ):
                    for reservation in page.get("Reservations", []):
                        found.extend(_instance(item) for item in reservation.get("Instances", []))
        return found

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
                        LaunchTemplateVersion(
                            template_id=template_id,
                            template_name=item.get("LaunchTemplateName", ""),
                            version=int(item.get("VersionNumber", 0)),
                            image_id=item.get("LaunchTemplateData", {}).get("ImageId", ""),
                        )
                        for item in page.get("LaunchTemplateVersions", [])
                    )
        return versions

    def enabled_regions(self) -> list[str]:
        """The regions this account may use: without `AllRegions`, DescribeRegions leaves out
        those not enabled (opt-in regions the account has not opted in to)."""
        with aws_errors("ec2:DescribeRegions"):
            response: Any = self._client.describe_regions()
        return sorted(item["RegionName"] for item in response.get("Regions", []))

    def deregister_image(self, image_id: str) -> bool:
        """Deregister the AMI (its snapshots stay); False when it was gone already."""
        with aws_errors(f"ec2:DeregisterImage {image_id}"):
            try:
                self._client.deregister_image(ImageId=image_id)
            except ClientError as exc:
                if _error_code(exc) in _MISSING_IMAGE - {"InvalidAMIID.Malformed"}:
                    return False
                raise
        return True

    def delete_snapshot(self, snapshot_id: str) -> bool:
        """Delete the snapshot; False when it was gone already."""
        with aws_errors(f"ec2:DeleteSnapshot {snapshot_id}"):
            try:
                self._client.delete_snapshot(SnapshotId=snapshot_id)
            except ClientError as exc:
                if _error_code(exc) == "InvalidSnapshot.NotFound":
                    return False
                raise
        return True

    def get_image(self, image_id: str) -> Image:
        """The AMI `image_id`; NotFoundError when it does not exist or is not visible."""
        with aws_errors(f"ec2:DescribeImages {image_id}"):
            try:
                response: Any = self._client.describe_images(ImageIds=[image_id])
            except ClientError as exc:
                _raise_if_missing(
                    exc,
                    _MISSING_IMAGE,
                    f"AMI {image_id} does not exist or is not shared with this account",
                )
                raise
        images = response.get("Images", [])
        if not images:
            raise NotFoundError(f"AMI {image_id} does not exist or is not shared with this account")
        return _image(images[0])

    def subnet_exists(self, subnet_id: str) -> bool:
        """Whether this account sees the subnet in the client's region."""
        with aws_errors(f"ec2:DescribeSubnets {subnet_id}"):
            try:
                self._client.describe_subnets(SubnetIds=[subnet_id])
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code", "").startswith("InvalidSubnetID"):
                    return False
                raise
        return True

    def instance_type_offered(self, instance_type: str) -> bool:
        """Whether the region offers the instance type (in at least one zone)."""
        with aws_errors(f"ec2:DescribeInstanceTypeOfferings {instance_type}"):
            response: Any = self._client.describe_instance_type_offerings(
                LocationType="region",
                Filters=[{"Name": "instance-type", "Values": [instance_type]}],
            )
        return bool(response.get("InstanceTypeOfferings"))

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
        return _instance(response["Instances"][0])

    def describe_instances(self, instance_ids: list[str]) -> list[Instance]:
        """The instances `instance_ids` (NotFoundError when one does not exist)."""
        found: list[Instance] = []
        with aws_errors(f"ec2:DescribeInstances {', '.join(instance_ids)}"):
            try:
                paginator = self._client.get_paginator("describe_instances")
                for page in paginator.paginate(InstanceIds=instance_ids):
                    for reservation in page.get("Reservations", []):
                        found.extend(_instance(item) for item in reservation.get("Instances", []))
            except ClientError as exc:
                _raise_if_missing(
                    exc,
                    _MISSING_INSTANCE,
                    f"instance {', '.join(instance_ids)} does not exist in this region",
                )
                raise
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
                    found.extend(_instance(item) for item in reservation.get("Instances", []))
        return found

    def terminate_instances(self, instance_ids: list[str]) -> None:
        with aws_errors(f"ec2:TerminateInstances {', '.join(instance_ids)}"):
            self._client.terminate_instances(InstanceIds=instance_ids)

    def egress(self, subnet_id: str, vpc_id: str) -> Egress:
        """The subnet's default route (its own route table, else the VPC's main one) and the
        interface endpoints available in its VPC."""
        with aws_errors(f"ec2:DescribeRouteTables {subnet_id}"):
            tables: list[Any] = self._client.describe_route_tables(
                Filters=[{"Name": "association.subnet-id", "Values": [subnet_id]}]
            )["RouteTables"]
            if not tables:
                tables = self._client.describe_route_tables(
                    Filters=[
                        {"Name": "vpc-id", "Values": [vpc_id]},
                        {"Name": "association.main", "Values": ["true"]},
                    ]
                )["RouteTables"]
        routes: list[Any] = list(tables[0].get("Routes", [])) if tables else []
        target = next((_route_target(route) for route in routes if _is_default_route(route)), None)
        with aws_errors(f"ec2:DescribeVpcEndpoints {vpc_id}"):
            endpoints: list[Any] = self._client.describe_vpc_endpoints(
                Filters=[
                    {"Name": "vpc-id", "Values": [vpc_id]},
                    {"Name": "vpc-endpoint-state", "Values": ["available"]},
                ]
            )["VpcEndpoints"]
        services = frozenset(
            str(item.get("ServiceName", "")).rsplit(".", 1)[-1] for item in endpoints
        )
        return Egress(target, services)


_ROUTE_TARGETS = (
    "GatewayId", "NatGatewayId", "TransitGatewayId", "NetworkInterfaceId", "InstanceId",
    "VpcPeeringConnectionId", "LocalGatewayId", "CarrierGatewayId",
)  # fmt: skip


def _is_default_route(route: dict[str, Any]) -> bool:
    return route.get("DestinationCidrBlock") == "0.0.0.0/0" and route.get("State") != "blackhole"


def _route_target(route: dict[str, Any]) -> str | None:
    return next((str(route[name]) for name in _ROUTE_TARGETS if route.get(name)), None)


_MISSING_INSTANCE = {"InvalidInstanceID.NotFound", "InvalidInstanceID.Malformed"}


def _chunks(values: list[str]) -> list[list[str]]:
    return [values[start : start + FILTER_VALUES] for start in range(0, len(values), FILTER_VALUES)]


def _error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _raise_if_missing(exc: ClientError, codes: set[str], message: str) -> None:
    if exc.response.get("Error", {}).get("Code") in codes:
        raise NotFoundError(message) from exc


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
        architecture=item.get("Architecture") or "x86_64",
        ena_support=bool(item.get("EnaSupport")),
        owner_alias=item.get("ImageOwnerAlias", ""),
        owner_id=item.get("OwnerId", ""),
        deprecation_time=item.get("DeprecationTime", ""),
    )


def _instance(item: Any) -> Instance:
    return Instance(
        instance_id=item["InstanceId"],
        image_id=item.get("ImageId", ""),
        state=item.get("State", {}).get("Name", ""),
        state_reason=item.get("StateReason", {}).get("Message", ""),
        subnet_id=item.get("SubnetId", ""),
        vpc_id=item.get("VpcId", ""),
        public_ip=item.get("PublicIpAddress", ""),
        instance_profile_arn=item.get("IamInstanceProfile", {}).get("Arn", ""),
        tags=_tags(item.get("Tags", [])),
    )


def _tags(items: list[Any]) -> dict[str, str]:
    return {item["Key"]: item.get("Value", "") for item in items}
