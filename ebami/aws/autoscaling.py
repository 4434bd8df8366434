"""Auto Scaling calls ebami makes, named by intent: reads only (the launch configurations that
name an AMI, which `ebami prune` must not remove)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ebami.aws.errors import aws_errors


@dataclass(frozen=True)
class LaunchConfiguration:
    name: str
    image_id: str


class AutoScaling:
    def __init__(self, client: Any) -> None:
        # boto3-stubs' autoscaling extra is not installed: the client stays untyped here.
        self._client = client

    def launch_configurations(self) -> list[LaunchConfiguration]:
        """Every launch configuration in the region (every page) and the AMI it launches."""
        found: list[LaunchConfiguration] = []
        with aws_errors("autoscaling:DescribeLaunchConfigurations"):
            paginator = self._client.get_paginator("describe_launch_configurations")
            for page in paginator.paginate():
                found.extend(
                    LaunchConfiguration(item["LaunchConfigurationName"], item.get("ImageId", ""))
                    for item in page.get("LaunchConfigurations", [])
                )
        return found
