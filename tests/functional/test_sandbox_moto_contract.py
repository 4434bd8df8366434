"""The moto internals the sandbox relies on still take what the sandbox gives them.

The sandbox calls moto's backends directly (with keywords), wraps backend methods (reading
some of their arguments by name), sets methods on moto's response classes, replaces one moto
static method and hooks its WSGI application. A moto upgrade that renames any of these must fail
here, loudly, instead of leaving a hook that silently does nothing. Each call below is the one
the sandbox makes (module named in the test id); keep them in step with the code.
"""

from __future__ import annotations

import base64
import inspect
import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from moto import mock_aws, settings
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, BaseResponse, EmptyResult
from moto.core.types import Base64EncodedString
from moto.core.utils import camelcase_to_underscores, get_service_model
from moto.ec2.models import EC2Backend, ec2_backends
from moto.ec2.models.amis import Ami, AmiBackend
from moto.ec2.models.instances import InstanceBackend
from moto.elasticbeanstalk.models import EBBackend, eb_backends
from moto.elasticbeanstalk.responses import EBResponse
from moto.iam.models import IAMBackend, iam_backends
from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication
from moto.s3.exceptions import MissingBucket
from moto.s3.models import S3Backend, s3_backends
from moto.ssm.models import SimpleSystemManagerBackend
from moto.ssm.responses import SimpleSystemManagerResponse
from moto.utilities.aws_headers import gen_amzn_requestid_long

from ebami.sandbox import calls, eb_requests, load_extensions, patching, throttling
from ebami.sandbox.server import ACCOUNT_ID

SELF = object()  # stands for the backend, response or application the method is bound to
REGION = "us-east-1"
ROLE = "aws-elasticbeanstalk-ec2-role"
TAGS = {"instance": {"Name": "prod", "elasticbeanstalk:environment-name": "prod"}}
USER_DATA = Base64EncodedString(base64.b64encode(b"#!/bin/bash\n").decode())

# (target, positional arguments, keyword arguments) as the sandbox passes them.
CALLS: list[Any] = [
    pytest.param(
        InstanceBackend.run_instances,
        (SELF,),
        {
            "image_id": "ami-1",
            "count": 2,
            "user_data": USER_DATA,
            "security_group_names": [],
            "instance_type": "t2.micro",
            "is_instance_type_default": False,
            "tags": TAGS,
        },
        id="environments: ec2 run_instances",
    ),
    pytest.param(
        EC2Backend.associate_iam_instance_profile,
        (SELF,),
        {"instance_id": "i-1", "iam_instance_profile_name": "aws-elasticbeanstalk-ec2-role"},
        id="environments: ec2 associate_iam_instance_profile",
    ),
    pytest.param(
        InstanceBackend.terminate_instances,
        (SELF,),
        {"instance_ids": ["i-1"]},
        id="environments: ec2 terminate_instances",
    ),
    pytest.param(
        S3Backend.get_object,
        (SELF,),
        {"bucket_name": "b", "key_name": "k"},
        id="environments: s3 get_object",
    ),
    pytest.param(Base64EncodedString, ("IyE=",), {}, id="environments: Base64EncodedString"),
    pytest.param(EC2Backend.get_default_vpc, (SELF,), {}, id="seed: ec2 get_default_vpc"),
    pytest.param(
        EC2Backend.create_internet_gateway, (SELF,), {}, id="seed: ec2 create_internet_gateway"
    ),
    pytest.param(
        EC2Backend.attach_internet_gateway,
        (SELF,),
        {"internet_gateway_id": "igw-1", "vpc_id": "vpc-1"},
        id="seed: ec2 attach_internet_gateway",
    ),
    pytest.param(
        EC2Backend.create_route,
        (SELF,),
        {"route_table_id": "rtb-1", "destination_cidr_block": "0.0.0.0/0", "gateway_id": "igw-1"},
        id="seed: ec2 create_route",
    ),
    pytest.param(
        Ami,
        (),
        {
            "ec2_backend": SELF,
            "ami_id": "ami-1",
            "name": "amzn-ami-hvm",
            "description": "base AMI",
            "owner_id": "137112412989",
            "owner_alias": "amazon",
            "public": True,
            "virtualization_type": "hvm",
            "architecture": "x86_64",
            "creation_date": "2018-01-18T23:27:00.000Z",
            "root_device_type": "ebs",
            "root_device_name": "/dev/xvda",
            "boot_mode": "legacy-bios",
        },
        id="seed: ec2 Ami",
    ),
    pytest.param(
        IAMBackend.create_role,
        (SELF,),
        {
            "role_name": "aws-elasticbeanstalk-ec2-role",
            "assume_role_policy_document": "{}",
            "path": "/",
            "permissions_boundary": None,
            "description": "Elastic Beanstalk EC2 role",
            "tags": [],
            "max_session_duration": None,
        },
        id="seed: iam create_role",
    ),
    pytest.param(
        IAMBackend.create_instance_profile,
        (SELF,),
        {"name": "aws-elasticbeanstalk-ec2-role", "path": "/", "role_names": ["r"]},
        id="seed: iam create_instance_profile",
    ),
    pytest.param(
        S3Backend.create_bucket,
        (SELF,),
        {"bucket_name": "b", "region_name": REGION},
        id="seed: s3 create_bucket",
    ),
    pytest.param(
        S3Backend.put_object,
        (SELF,),
        {"bucket_name": "b", "key_name": "k", "value": b"zip"},
        id="seed: s3 put_object",
    ),
    pytest.param(
        EBBackend.create_application,
        (SELF,),
        {"application_name": "webapp"},
        id="seed: eb create_application",
    ),
    pytest.param(
        EBBackend.create_environment,
        (SELF,),
        {"app": SELF, "environment_name": "prod", "stack_name": "stack", "tags": {}},
        id="seed: eb create_environment",
    ),
    pytest.param(
        EBBackend.list_tags_for_resource,
        (SELF,),
        {"resource_arn": "arn:aws:elasticbeanstalk:us-east-1:1:environment/webapp/prod"},
        id="elasticbeanstalk: eb list_tags_for_resource",
    ),
    pytest.param(
        EBBackend.update_tags_for_resource,
        (SELF,),
        {
            "resource_arn": "arn:aws:elasticbeanstalk:us-east-1:1:environment/webapp/prod",
            "tags_to_add": {"team": "web"},
            "tags_to_remove": ["owner"],
        },
        id="elasticbeanstalk: eb update_tags_for_resource",
    ),
    pytest.param(EmptyResult, (), {}, id="elasticbeanstalk: EmptyResult"),
    pytest.param(
        S3Backend.get_bucket, (SELF,), {"bucket_name": "b"}, id="eb_storage: s3 get_bucket"
    ),
    pytest.param(
        S3Backend.delete_object,
        (SELF,),
        {"bucket_name": "b", "key_name": "k"},
        id="eb_storage: s3 delete_object",
    ),
    pytest.param(BaseResponse._get_action, (SELF,), {}, id="unsupported: _get_action"),
    pytest.param(get_service_model, ("s3",), {}, id="unsupported: get_service_model"),
    pytest.param(InstanceBackend.all_instances, (SELF,), {}, id="ssm: ec2 all_instances"),
    pytest.param(BaseResponse._get_param, (SELF, "EnvironmentNames", []), {}, id="_get_param"),
    pytest.param(
        BaseResponse.serialized, (SELF, ActionResult({})), {}, id="throttling: serialized"
    ),
    pytest.param(ActionResult, ({"Environments": []},), {}, id="ActionResult"),
    pytest.param(
        gen_amzn_requestid_long, ({},), {}, id="elasticbeanstalk: gen_amzn_requestid_long"
    ),
    pytest.param(
        ThreadedMotoServer,
        (),
        {"ip_address": "127.0.0.1", "port": 0, "verbose": False},
        id="server: ThreadedMotoServer",
    ),
    pytest.param(ThreadedMotoServer.start, (SELF,), {}, id="server: start"),
    pytest.param(ThreadedMotoServer.get_host_and_port, (SELF,), {}, id="server: host and port"),
    pytest.param(ThreadedMotoServer.stop, (SELF,), {}, id="server: stop"),
]


@pytest.mark.parametrize(("target", "args", "kwargs"), CALLS)
def test_moto_still_takes_what_the_sandbox_passes(
    target: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> None:
    inspect.signature(target).bind(*args, **kwargs)


# Hooks that read an argument of the call they wrap, by name: (target, name, the arguments of
# the call moto's own response makes, in position, and the value read).
@pytest.mark.parametrize(
    ("target", "name", "call", "value"),
    [
        pytest.param(
            AmiBackend.copy_image,
            "source_image_id",
            (SELF, "ami-1", REGION, "copy", "a copy"),
            "ami-1",
            id="ec2: copy_image source",
        ),
        pytest.param(
            AmiBackend.copy_image,
            "name",
            (SELF, "ami-1", REGION, "copy", "a copy"),
            "copy",
            id="ec2: copy_image name",
        ),
        pytest.param(
            AmiBackend.create_image,
            "name",
            (SELF, "i-1", "baked", "a bake", []),
            "baked",
            id="ec2: create_image name",
        ),
        pytest.param(
            AmiBackend.register_image,
            "name",
            (SELF, "registered", "an image"),
            "registered",
            id="ec2: register_image name",
        ),
        pytest.param(
            AmiBackend.deregister_image, "ami_id", (SELF, "ami-1"), "ami-1", id="ec2: deregister"
        ),
        pytest.param(
            AmiBackend.modify_image_attribute,
            "ami_id",
            (SELF, "ami-1", [{"UserId": "210987654321"}], []),
            "ami-1",
            id="image_guards: the image shared",
        ),
        pytest.param(
            AmiBackend.modify_image_attribute,
            "launch_permissions_to_add",
            (SELF, "ami-1", [{"UserId": "210987654321"}], []),
            [{"UserId": "210987654321"}],
            id="image_guards: the permissions added",
        ),
        pytest.param(
            Ami.__init__,
            "instance",
            (SELF, SELF, "ami-1", "i-1"),
            "i-1",
            id="images: a new image's instance",
        ),
        pytest.param(
            Ami.__init__,
            "source_ami",
            (SELF, SELF, "ami-2", None, "ami-1"),
            "ami-1",
            id="images: a copy's source image",
        ),
        pytest.param(
            SimpleSystemManagerBackend.put_parameter,
            "name",
            (SELF, "/p", "", "v", "String", "", "", False, [], "text", None, None),
            "/p",
            id="parameters: ssm put_parameter name",
        ),
    ],
)
def test_hooks_still_find_the_arguments_they_read(
    target: Callable[..., Any], name: str, call: tuple[Any, ...], value: str
) -> None:
    assert patching.argument(target, name, *call) == value


def test_every_hooked_method_and_fixed_attribute_is_still_in_moto() -> None:
    for patch in load_extensions():
        if patch.kind in ("hook", "fix"):
            assert getattr(patch.owner, patch.method, None) is not None, patch.method
    # The hooks wrap these calls, made by moto itself or by the WSGI server.
    inspect.signature(BaseResponse.call_action).bind(SELF)
    inspect.signature(DomainDispatcherApplication.__call__).bind(SELF, {}, lambda *_: None)
    # The fix stands in for a static method that moto calls as self._enrich_response(h, b).
    original = inspect.getattr_static(BaseResponse, "_enrich_response")
    assert isinstance(original, staticmethod)
    inspect.signature(original.__func__).bind({}, "<R/>")
    inspect.signature(calls.enrich_response).bind({}, "<R/>")


def test_moto_dispatches_each_action_to_the_method_the_sandbox_sets() -> None:
    for patch in load_extensions():
        if patch.kind in ("fill", "replace"):
            assert camelcase_to_underscores(patch.name) == patch.method, patch.name


def test_response_classes_still_offer_what_the_patched_actions_read() -> None:
    for owner, backend in (
        (EBResponse, "elasticbeanstalk_backend"),
        (SimpleSystemManagerResponse, "ssm_backend"),
    ):
        assert isinstance(inspect.getattr_static(owner, backend), property), backend


@mock_aws
def test_a_dispatched_request_carries_what_the_patched_actions_read(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: dict[str, Any] = {}

    def describe_events(self: EBResponse) -> ActionResult:
        seen.update(
            account=self.current_account,
            region=self.region,
            backend=self.elasticbeanstalk_backend,
            headers=self.response_headers,
            target=self.headers.get("X-Amz-Target"),
            application=self._get_param("ApplicationName"),
        )
        self.response_headers["x-amzn-requestid"] = "chosen-id"
        return ActionResult({"Events": []})

    monkeypatch.setattr(EBResponse, "describe_events", describe_events, raising=False)
    monkeypatch.setattr(BaseResponse, "_enrich_response", staticmethod(calls.enrich_response))
    eb = boto3.client("elasticbeanstalk", region_name=REGION)
    answer = eb.describe_events(ApplicationName="webapp")
    assert (seen["account"], seen["region"], seen["application"]) == (ACCOUNT_ID, REGION, "webapp")
    assert isinstance(seen["backend"], EBBackend)
    assert isinstance(seen["headers"], dict)
    assert seen["target"] is None  # a query-protocol call: no X-Amz-Target header
    # A request id an action sets in the response headers is the one the client reads.
    assert answer["ResponseMetadata"]["RequestId"] == "chosen-id"


@mock_aws
def test_backend_objects_still_have_what_the_sandbox_reads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ec2 = ec2_backends[ACCOUNT_ID][REGION]
    image_id = next(iter(ec2.amis))
    reservation = ec2.run_instances(
        image_id=image_id,
        count=1,
        user_data=USER_DATA,
        security_group_names=[],
        instance_type="t3.small",
        is_instance_type_default=False,
        tags=TAGS,
    )
    instance = reservation.instances[0]
    assert (instance.image_id, instance.instance_type) == (image_id, "t3.small")
    assert {tag["key"]: tag["value"] for tag in instance.get_tags()} == TAGS["instance"]
    assert instance.user_data is not None
    assert base64.b64decode(instance.user_data.as_bytes()) == b"#!/bin/bash\n"
    assert instance.state == "running"
    assert instance.private_ip
    iam = iam_backends[ACCOUNT_ID]["aws"]
    iam.create_role(
        role_name=ROLE,
        assume_role_policy_document="{}",
        path="/",
        permissions_boundary=None,
        description="",
        tags=[],
        max_session_duration=None,
    )
    iam.create_instance_profile(name=ROLE, path="/", role_names=[ROLE])
    ec2.associate_iam_instance_profile(instance_id=instance.id, iam_instance_profile_name=ROLE)
    assert instance.id in instance.ec2_backend.iam_instance_profile_associations
    assert hasattr(instance, "iam_instance_profile")
    assert instance in ec2.all_instances()
    image = ec2.create_image(instance.id, "baked", "", tag_specifications=[])
    assert (image.instance_id, image.state) == (instance.id, "available")
    # An image takes its root device from the instance it is made from (images).
    assert instance.root_device_type == "ebs"
    assert instance.root_device_name == ec2.amis[image_id].root_device_name
    image.root_device_type, image.root_device_name = "ebs", "/dev/xvda"
    assert image.block_device_mappings[0]["DeviceName"] == "/dev/xvda"
    assert ec2.describe_images(ami_ids=[image.id]) == [image]
    assert isinstance(ec2.amis, dict)
    [(terminated, _previous)] = ec2.terminate_instances(instance_ids=[instance.id])
    assert terminated is instance
    vpc = ec2.get_default_vpc()
    assert vpc is not None
    main = [t for t in ec2.route_tables.values() if t.vpc_id == vpc.id and t.main_association_id]
    assert len(main) == 1
    s3 = s3_backends[ACCOUNT_ID]["aws"]
    with pytest.raises(MissingBucket):  # eb_storage makes the bucket on this exception
        s3.get_bucket("bundles")
    s3.create_bucket(bucket_name="bundles", region_name=REGION)
    s3.put_object(bucket_name="bundles", key_name="k", value=b"zip")
    stored = s3.get_object(bucket_name="bundles", key_name="k")
    assert stored is not None
    assert stored.value == b"zip"
    s3.delete_object(bucket_name="bundles", key_name="k")
    assert s3.get_object(bucket_name="bundles", key_name="k") is None
    # unsupported reads the protocol of a service from moto's copy of botocore's model.
    assert get_service_model("s3").metadata["protocol"] == "rest-xml"
    assert get_service_model("ssm").metadata["protocol"] == "json"
    eb = eb_backends[ACCOUNT_ID][REGION]
    assert (eb.account_id, eb.region_name) == (ACCOUNT_ID, REGION)
    # moto reads the server's two switches.
    assert hasattr(settings, "ENABLE_AMI_VALIDATION")
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    assert settings.ec2_load_default_amis() is False


def test_service_exceptions_still_take_a_message_and_a_class_code() -> None:
    refused = eb_requests.InvalidParameterValue("No Environment found")
    assert (refused.code, refused.message) == ("InvalidParameterValue", "No Environment found")
    assert isinstance(refused, ServiceException)
    throttled = throttling.Throttling()
    assert (throttled.code, throttled.message) == ("Throttling", "Rate exceeded")


def test_iam_enforcement_still_finds_what_it_reads_of_moto() -> None:
    """ebami.sandbox.iam_enforcement reads moto's request (its action, parameters, body,
    service and access key), evaluates policies with moto's IAMPolicy on its parsed document,
    and switches authorization on through moto's settings and request count."""
    from moto.core.authorization import ActionAuthenticatorMixin
    from moto.iam.access_control import IAMPolicy, IAMRequestBase, PermissionResult

    parameters = inspect.signature(IAMRequestBase.__init__).parameters
    assert {"data", "body", "action", "headers"} <= set(parameters)
    source = inspect.getsource(IAMRequestBase.__init__)
    for attribute in ("self._action", "self._data", "self._body", "self._service",
                      "self._access_key"):  # fmt: skip
        assert attribute in source, attribute
    statement = {"Effect": "Allow", "Action": "a:B", "Resource": "*"}
    policy = IAMPolicy(json.dumps({"Version": "2012-10-17", "Statement": [statement]}))
    assert isinstance(policy._policy_json, dict)
    assert policy.is_action_permitted("a:B", "*") == PermissionResult.PERMITTED
    assert policy.is_action_permitted("a:C", "*") == PermissionResult.NEUTRAL
    assert hasattr(settings, "INITIAL_NO_AUTH_ACTION_COUNT")
    assert isinstance(ActionAuthenticatorMixin.request_count, int)
