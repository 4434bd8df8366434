"""The values ebami's EC2 calls return, and how they are read from botocore's answers.

The wrapper (`ebami.aws.ec2.Ec2`) hands these out; callers that only need the shapes (an
`Image` to judge, an `InstanceSpec` to launch) import them from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


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
    # EC2's deregistration protection: `disabled`, `enabled-with-cooldown`,
    # `enabled-without-cooldown`, `disabled-until TIME` ("" where EC2 did not say).
    deregistration_protection: str = ""
    # When an instance was last launched from it (ISO 8601; AWS reports it up to 24 hours late).
    last_launched_time: str = ""


@dataclass(frozen=True)
class ImageReference:
    """A resource that references an AMI, as DescribeImageReferences names it."""

    image_id: str
    resource_type: str  # ec2:Instance, ec2:LaunchTemplate, ssm:Parameter, imagebuilder:...
    arn: str

    @property
    def resource(self) -> str:
        """The resource's own id or name (`i-...`, `lt-...`; a parameter's name without its
        leading `/`, which its ARN does not tell); its ARN for another kind."""
        parts = self.arn.split(":", 5)
        _, _, name = (parts[5] if len(parts) == 6 else "").partition("/")
        if self.resource_type in ("ssm:Parameter", "ec2:Instance", "ec2:LaunchTemplate") and name:
            return name
        return self.arn


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


@dataclass(frozen=True)
class LaunchTemplateVersion:
    """One version of a launch template and the AMI it names (an id, or `resolve:ssm:NAME`)."""

    template_id: str
    template_name: str
    version: int
    image_id: str


@dataclass(frozen=True)
class SecurityGroup:
    group_id: str
    name: str
    description: str


@dataclass(frozen=True)
class KeyPair:
    name: str
    created: str


def image_of(item: Any) -> Image:
    """An `Images` element of DescribeImages."""
    return Image(
        image_id=item["ImageId"],
        name=item.get("Name", ""),
        state=item.get("State", ""),
        creation_date=item.get("CreationDate", ""),
        tags=tags_of(item.get("Tags", [])),
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
        deregistration_protection=item.get("DeregistrationProtection", ""),
        last_launched_time=item.get("LastLaunchedTime", ""),
    )


def instance_of(item: Any) -> Instance:
    """An `Instances` element of RunInstances or of a DescribeInstances reservation."""
    return Instance(
        instance_id=item["InstanceId"],
        image_id=item.get("ImageId", ""),
        state=item.get("State", {}).get("Name", ""),
        state_reason=item.get("StateReason", {}).get("Message", ""),
        subnet_id=item.get("SubnetId", ""),
        vpc_id=item.get("VpcId", ""),
        public_ip=item.get("PublicIpAddress", ""),
        instance_profile_arn=item.get("IamInstanceProfile", {}).get("Arn", ""),
        tags=tags_of(item.get("Tags", [])),
    )


def launch_template_version_of(template_id: str, item: Any) -> LaunchTemplateVersion:
    """A `LaunchTemplateVersions` element of DescribeLaunchTemplateVersions."""
    return LaunchTemplateVersion(
        template_id=template_id,
        template_name=item.get("LaunchTemplateName", ""),
        version=int(item.get("VersionNumber", 0)),
        image_id=item.get("LaunchTemplateData", {}).get("ImageId", ""),
    )


def tags_of(items: list[Any]) -> dict[str, str]:
    """EC2's `Tags` list as a mapping."""
    return {item["Key"]: item.get("Value", "") for item in items}
