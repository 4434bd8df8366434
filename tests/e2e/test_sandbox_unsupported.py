"""Calls the sandbox does not implement get AWS's error for an unsupported action, in the
service's protocol, over real HTTP: never moto's HTML error page."""

from __future__ import annotations

import urllib.error
import urllib.request

import botocore.exceptions
import pytest
from moto.ec2.responses import EC2Response
from moto.elasticbeanstalk.responses import EBResponse
from moto.ssm.responses import SimpleSystemManagerResponse

from tests.sandbox_helpers import Sandbox

# Actions in botocore's models that neither moto nor the sandbox implements.
EB_ACTION = ("DescribeAccountAttributes", "describe_account_attributes")
EC2_ACTION = ("DescribeFpgaImages", "describe_fpga_images")
SSM_ACTION = ("ListOpsItemEvents", "list_ops_item_events")


@pytest.mark.parametrize(
    ("service", "owner", "action"),
    [
        pytest.param("elasticbeanstalk", EBResponse, EB_ACTION, id="query"),
        pytest.param("ec2", EC2Response, EC2_ACTION, id="ec2"),
        pytest.param("ssm", SimpleSystemManagerResponse, SSM_ACTION, id="json"),
    ],
)
def test_an_unimplemented_action_is_an_invalid_action_client_error(
    sandbox: Sandbox, service: str, owner: type, action: tuple[str, str]
) -> None:
    name, method = action
    assert not hasattr(owner, method), f"the sandbox serves {name} now: pick another action"
    client = sandbox.client(service, attempts=1)
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        getattr(client, method)()
    error = raised.value.response["Error"]
    assert error["Code"] == "InvalidAction"
    assert name in error["Message"]
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_an_unsupported_part_of_a_supported_action_is_an_invalid_parameter(
    sandbox: Sandbox,
) -> None:
    # moto raises NotImplementedError from inside ResetImageAttribute, an action it serves:
    # AWS never calls a supported action invalid.
    ec2 = sandbox.client("ec2", attempts=1)
    with pytest.raises(botocore.exceptions.ClientError) as raised:
        ec2.reset_image_attribute(ImageId="ami-12345678", Attribute="launchPermission")
    error = raised.value.response["Error"]
    assert error["Code"] == "InvalidParameterValue"
    assert error["Message"].startswith(
        "the ebami sandbox does not implement this part of ResetImageAttribute: "
    )
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_s3_answers_not_implemented_in_its_own_xml(sandbox: Sandbox) -> None:
    request = urllib.request.Request(f"{sandbox.endpoint}/a-bucket", method="PATCH")  # noqa: S310
    request.add_header(
        "Authorization",
        "AWS4-HMAC-SHA256 Credential=sandbox/20260101/us-east-1/s3/aws4_request, "
        "SignedHeaders=host, Signature=0",
    )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(request, timeout=10)  # noqa: S310 - the sandbox, on loopback
    assert raised.value.code == 501
    body = raised.value.read().decode()
    assert body.startswith("<Error><Code>NotImplemented</Code>")
    assert "<html" not in body.lower()
