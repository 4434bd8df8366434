"""EC2 calls about what surrounds ebami's images and instances in a region: subnets and how
they reach the internet, instance types on offer, the regions the account may use, and the
security groups and key pairs a bake may leave behind."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ebami.aws.ec2_base import Ec2Base
from ebami.aws.ec2_values import Egress, KeyPair, SecurityGroup
from ebami.aws.errors import aws_errors

_ROUTE_TARGETS = (
    "GatewayId", "NatGatewayId", "TransitGatewayId", "NetworkInterfaceId", "InstanceId",
    "VpcPeeringConnectionId", "LocalGatewayId", "CarrierGatewayId",
)  # fmt: skip


class Ec2Region(Ec2Base):
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

    def instance_type_offered(self, instance_type: str) -> bool:
        """Whether the region offers the instance type (in at least one zone)."""
        with aws_errors(f"ec2:DescribeInstanceTypeOfferings {instance_type}"):
            response: Any = self._client.describe_instance_type_offerings(
                LocationType="region",
                Filters=[{"Name": "instance-type", "Values": [instance_type]}],
            )
        return bool(response.get("InstanceTypeOfferings"))

    def enabled_regions(self) -> list[str]:
        """The regions this account may use: without `AllRegions`, DescribeRegions leaves out
        those not enabled (opt-in regions the account has not opted in to)."""
        with aws_errors("ec2:DescribeRegions"):
            response: Any = self._client.describe_regions()
        return sorted(item["RegionName"] for item in response.get("Regions", []))

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


def _is_default_route(route: dict[str, Any]) -> bool:
    return route.get("DestinationCidrBlock") == "0.0.0.0/0" and route.get("State") != "blackhole"


def _route_target(route: dict[str, Any]) -> str | None:
    return next((str(route[name]) for name in _ROUTE_TARGETS if route.get(name)), None)
