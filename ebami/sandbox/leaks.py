"""The leak report: what is still alive in a sandbox that nobody should have left behind.

Instances (pending, running, stopping or stopped) that belong to no Elastic Beanstalk
environment, security groups other than the VPCs' `default` ones, key pairs, volumes not
attached to an instance, and the account's AMIs still `pending` (a run killed while its image
was being made). The seed world has none of these, so after a test of an ebami command the
report must be empty.

Each leftover is shown with the tags that say which run made it: ebami's own (`ebami:managed`,
`ebami:verify-run`, `ebami:bake-key`, ...) and `Name`, which Packer's `run_tags` set on its
builder. Packer's temporary security groups and key pairs carry no tags; their `packer_*` name
tells.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ebami.image import tags

EB_ENVIRONMENT_TAG = "elasticbeanstalk:environment-id"
NAME_TAG = "Name"


def run_tags(aws_tags: Iterable[Mapping[str, str]]) -> dict[str, str]:
    """The tags of an AWS `Tags` list that name the run that made a resource."""
    found = {tag["Key"]: tag["Value"] for tag in aws_tags}
    return {
        key: found[key] for key in sorted(found) if key == NAME_TAG or key.startswith(tags.PREFIX)
    }


@dataclass(frozen=True)
class Leak:
    """One resource left behind: its id (a key pair's is its name), the name of a security group
    or an image, and its run tags."""

    id: str
    name: str = ""
    tags: Mapping[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        described = f"{self.id} ({self.name})" if self.name else self.id
        if self.tags:
            described += " [" + ", ".join(f"{k}={v}" for k, v in self.tags.items()) + "]"
        return described

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "name": self.name, "tags": dict(self.tags)}


@dataclass(frozen=True)
class LeakReport:
    instances: tuple[Leak, ...] = ()
    security_groups: tuple[Leak, ...] = ()
    key_pairs: tuple[Leak, ...] = ()
    volumes: tuple[Leak, ...] = ()
    pending_images: tuple[Leak, ...] = ()

    def _parts(self) -> list[tuple[str, str, tuple[Leak, ...]]]:
        return [
            ("instances", "instances", self.instances),
            ("security groups", "security_groups", self.security_groups),
            ("key pairs", "key_pairs", self.key_pairs),
            ("volumes", "volumes", self.volumes),
            ("pending AMIs", "pending_images", self.pending_images),
        ]

    @property
    def clean(self) -> bool:
        return not any(items for _label, _key, items in self._parts())

    def lines(self) -> list[str]:
        if self.clean:
            return ["nothing left behind"]
        return [
            f"{label}: {', '.join(item.describe() for item in items)}"
            for label, _key, items in self._parts()
            if items
        ]

    def to_json(self) -> dict[str, Any]:
        report: dict[str, Any] = {"clean": self.clean}
        for _label, key, items in self._parts():
            report[key] = [item.to_json() for item in items]
        return report


def leak_report(ec2: Any) -> LeakReport:
    """Build the report with an EC2 client pointed at the sandbox.

    Its one DescribeImages call counts as a poll of the `--ami-pending-polls` fault, like any
    other client's.
    """
    instances = []
    paginator = ec2.get_paginator("describe_instances")
    alive = ["pending", "running", "stopping", "stopped"]
    for page in paginator.paginate(Filters=[{"Name": "instance-state-name", "Values": alive}]):
        for reservation in page["Reservations"]:
            for instance in reservation["Instances"]:
                instance_tags = instance.get("Tags", [])
                if all(tag["Key"] != EB_ENVIRONMENT_TAG for tag in instance_tags):
                    instances.append(Leak(instance["InstanceId"], tags=run_tags(instance_tags)))
    groups = [
        Leak(group["GroupId"], group["GroupName"], run_tags(group.get("Tags", [])))
        for group in ec2.describe_security_groups()["SecurityGroups"]
        if group["GroupName"] != "default"
    ]
    keys = [
        Leak(key["KeyName"], tags=run_tags(key.get("Tags", [])))
        for key in ec2.describe_key_pairs()["KeyPairs"]
    ]
    volumes = [
        Leak(volume["VolumeId"], tags=run_tags(volume.get("Tags", [])))
        for volume in ec2.describe_volumes()["Volumes"]
        if not volume.get("Attachments")
    ]
    pending = ec2.describe_images(
        Owners=["self"], Filters=[{"Name": "state", "Values": ["pending"]}]
    )["Images"]
    images = [
        Leak(image["ImageId"], image.get("Name", ""), run_tags(image.get("Tags", [])))
        for image in pending
        if image["State"] == "pending"  # this very call may have been its last pending poll
    ]
    return LeakReport(tuple(instances), tuple(groups), tuple(keys), tuple(volumes), tuple(images))
