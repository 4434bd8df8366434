"""The leak report: what is still alive in a sandbox that nobody should have left behind.

Instances (pending, running, stopping or stopped) that belong to no Elastic Beanstalk
environment, security groups other than the VPCs' `default` ones, key pairs, and volumes not
attached to an instance. The seed world has none of these, so after a test of an ebami command
the report must be empty.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

EB_ENVIRONMENT_TAG = "elasticbeanstalk:environment-id"


@dataclass(frozen=True)
class LeakReport:
    instances: tuple[str, ...]
    security_groups: tuple[str, ...]
    key_pairs: tuple[str, ...]
    volumes: tuple[str, ...]

    @property
    def clean(self) -> bool:
        return not (self.instances or self.security_groups or self.key_pairs or self.volumes)

    def lines(self) -> list[str]:
        if self.clean:
            return ["nothing left behind"]
        parts = [
            ("instances", self.instances),
            ("security groups", self.security_groups),
            ("key pairs", self.key_pairs),
            ("volumes", self.volumes),
        ]
        return [f"{label}: {', '.join(items)}" for label, items in parts if items]

    def to_json(self) -> dict[str, Any]:
        return {
            "clean": self.clean,
            "instances": list(self.instances),
            "security_groups": list(self.security_groups),
            "key_pairs": list(self.key_pairs),
            "volumes": list(self.volumes),
        }


def leak_report(ec2: Any) -> LeakReport:
    """Build the report with an EC2 client pointed at the sandbox."""
    instances = []
    paginator = ec2.get_paginator("describe_instances")
    alive = ["pending", "running", "stopping", "stopped"]
    for page in paginator.paginate(Filters=[{"Name": "instance-state-name", "Values": alive}]):
        for reservation in page["Reservations"]:
            for instance in reservation["Instances"]:
                tags = {tag["Key"] for tag in instance.get("Tags", [])}
                if EB_ENVIRONMENT_TAG not in tags:
                    instances.append(instance["InstanceId"])
    groups = [
        f"{group['GroupId']} ({group['GroupName']})"
        for group in ec2.describe_security_groups()["SecurityGroups"]
        if group["GroupName"] != "default"
    ]
    keys = [key["KeyName"] for key in ec2.describe_key_pairs()["KeyPairs"]]
    volumes = [
        volume["VolumeId"]
        for volume in ec2.describe_volumes()["Volumes"]
        if not volume.get("Attachments")
    ]
    return LeakReport(tuple(instances), tuple(groups), tuple(keys), tuple(volumes))
