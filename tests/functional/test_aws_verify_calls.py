"""The EC2 and SSM calls verify makes, against moto in-process and botocore's Stubber."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from ebami.aws.ec2 import Ec2
from ebami.aws.ec2_values import InstanceSpec
from ebami.aws.ssm import Ssm
from ebami.core.errors import InputError, NotFoundError

REGION = "us-east-1"
COMMAND = "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0"


@pytest.fixture
def ec2_client() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("ec2", region_name=REGION)


def an_image(client: Any) -> str:
    return str(client.describe_images(Owners=["amazon"])["Images"][0]["ImageId"])


def a_profile(name: str) -> None:
    iam = boto3.client("iam", region_name=REGION)
    iam.create_role(RoleName=name, AssumeRolePolicyDocument="{}")
    iam.create_instance_profile(InstanceProfileName=name)
    iam.add_role_to_instance_profile(InstanceProfileName=name, RoleName=name)


def test_launch_requires_imdsv2_and_tags_instance_and_volume(ec2_client: Any) -> None:
    a_profile("ssm")
    ec2 = Ec2(ec2_client)
    spec = InstanceSpec(an_image(ec2_client), "t3.nano", "ssm", None, {"ebami:verify-run": "r1"})
    launched = ec2.launch_instance(spec)
    assert launched.instance_profile_arn.endswith(":instance-profile/ssm")
    raw = ec2_client.describe_instances(InstanceIds=[launched.instance_id])["Reservations"][0][
        "Instances"
    ][0]
    assert raw["MetadataOptions"]["HttpTokens"] == "required"
    volume_id = raw["BlockDeviceMappings"][0]["Ebs"]["VolumeId"]
    volume = ec2_client.describe_volumes(VolumeIds=[volume_id])["Volumes"][0]
    assert {"Key": "ebami:verify-run", "Value": "r1"} in volume["Tags"]
    found = ec2.find_instances_by_tag("ebami:verify-run", "r1")
    assert [i.instance_id for i in found] == [launched.instance_id]
    ec2.terminate_instances([launched.instance_id])
    assert ec2.find_instances_by_tag("ebami:verify-run", "r1") == []


def test_an_unknown_profile_is_refused_naming_the_option(ec2_client: Any) -> None:
    spec = InstanceSpec(an_image(ec2_client), "t3.nano", "nope", None)
    with pytest.raises(InputError, match=r"^--instance-profile 'nope' is not usable: "):
        Ec2(ec2_client).launch_instance(spec)


def test_a_missing_instance_is_not_found(ec2_client: Any) -> None:
    with pytest.raises(NotFoundError, match="instance i-0123456789abcdef0 does not exist"):
        Ec2(ec2_client).describe_instances(["i-0123456789abcdef0"])


def test_egress_reads_the_default_route_and_the_vpc_endpoints(ec2_client: Any) -> None:
    ec2 = Ec2(ec2_client)
    vpc = ec2_client.create_vpc(CidrBlock="10.1.0.0/16")["Vpc"]["VpcId"]
    subnet = ec2_client.create_subnet(VpcId=vpc, CidrBlock="10.1.1.0/24")["Subnet"]["SubnetId"]
    assert ec2.egress(subnet, vpc).default_route_target is None

    gateway = ec2_client.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
    ec2_client.attach_internet_gateway(InternetGatewayId=gateway, VpcId=vpc)
    table = ec2_client.create_route_table(VpcId=vpc)["RouteTable"]["RouteTableId"]
    ec2_client.create_route(RouteTableId=table, DestinationCidrBlock="0.0.0.0/0", GatewayId=gateway)
    assert ec2.egress(subnet, vpc).default_route_target is None  # not associated: main table
    ec2_client.associate_route_table(RouteTableId=table, SubnetId=subnet)
    egress = ec2.egress(subnet, vpc)
    assert (egress.default_route_target, egress.via_internet_gateway) == (gateway, True)

    for service in ("ssm", "ec2messages"):
        ec2_client.create_vpc_endpoint(
            VpcId=vpc,
            ServiceName=f"com.amazonaws.{REGION}.{service}",
            VpcEndpointType="Interface",
            SubnetIds=[subnet],
        )
    assert ec2.egress(subnet, vpc).endpoint_services == {"ssm", "ec2messages"}


def test_an_invocation_ssm_does_not_know_yet_is_none() -> None:
    client = boto3.client("ssm", region_name=REGION)
    with Stubber(client) as stub:
        stub.add_client_error("get_command_invocation", service_error_code="InvocationDoesNotExist")
        stub.add_response(
            "get_command_invocation",
            {
                "CommandId": COMMAND,
                "InstanceId": "i-0123456789abcdef0",
                "Status": "Success",
                "StatusDetails": "Success",
                "ResponseCode": 0,
                "StandardOutputContent": "out",
                "StandardErrorContent": "",
            },
        )
        ssm = Ssm(client)
        assert ssm.command_invocation(COMMAND, "i-0123456789abcdef0") is None
        done = ssm.command_invocation(COMMAND, "i-0123456789abcdef0")
    assert done is not None
    assert (done.status, done.final, done.stdout) == ("Success", True, "out")
