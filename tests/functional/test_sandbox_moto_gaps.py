"""The sandbox's patches stay necessary: each fails here once moto closes the gap it fills.

When one of these fails after a moto upgrade, drop the patch and use moto's own action.
"""

from __future__ import annotations

import inspect
import json
import subprocess
import sys

import boto3
import pytest
from moto import mock_aws

from ebami.sandbox import load_extensions, patching


def registered(kind: str) -> list[patching.Patch]:
    return [patch for patch in load_extensions() if patch.kind == kind]


def pristine_methods() -> dict[str, list[str]]:
    """Method names of moto's own response classes, read in a process that patched nothing."""
    script = (
        "import json, inspect\n"
        "from moto.elasticbeanstalk.responses import EBResponse\n"
        "from moto.ssm.responses import SimpleSystemManagerResponse\n"
        "from moto.ec2.responses import EC2Response\n"
        "print(json.dumps({c.__name__: [n for n, _ in inspect.getmembers(c, inspect.isfunction)]"
        " for c in (EBResponse, SimpleSystemManagerResponse, EC2Response)}))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    return dict(json.loads(proc.stdout))


def test_moto_still_lacks_every_action_the_sandbox_fills() -> None:
    methods = pristine_methods()
    fills = registered("fill")
    assert {patch.name for patch in fills} >= {
        "ListPlatformVersions", "DescribePlatformVersion", "DescribeConfigurationSettings",
        "UpdateEnvironment", "DescribeEvents", "DescribeEnvironmentResources",
        "DescribeEnvironmentHealth", "ListCommandInvocations", "DescribeInstanceInformation",
        "AbortEnvironmentUpdate", "DescribeApplicationVersions",
    }  # fmt: skip
    implemented = [
        f"{patch.owner.__name__}.{patch.method}"
        for patch in fills
        if patch.method in methods[patch.owner.__name__]
    ]
    assert implemented == [], f"moto now implements {implemented}: drop these sandbox patches"


def test_every_replaced_action_exists_in_moto_and_says_why_it_is_replaced() -> None:
    methods = pristine_methods()
    for patch in registered("replace"):
        assert patch.method in methods[patch.owner.__name__], patch.name
        assert patch.gap


@mock_aws
def test_moto_describe_environments_still_ignores_names_and_platform() -> None:
    eb = boto3.client("elasticbeanstalk", region_name="us-east-1")
    eb.create_application(ApplicationName="app")
    for name in ("first", "second"):
        eb.create_environment(ApplicationName="app", EnvironmentName=name, SolutionStackName="x")
    envs = eb.describe_environments(EnvironmentNames=["first"])["Environments"]
    gaps = len(envs) != 1 or envs[0].get("PlatformArn") == "TODO"
    assert gaps, "moto's DescribeEnvironments now filters and reports PlatformArn: drop the patch"


@mock_aws
def test_moto_update_tags_still_takes_reserved_keys_and_fails_on_absent_ones() -> None:
    from moto.elasticbeanstalk.models import EBBackend, eb_backends

    from ebami.sandbox.server import ACCOUNT_ID

    eb = boto3.client("elasticbeanstalk", region_name="us-east-1")
    eb.create_application(ApplicationName="app")
    eb.create_environment(ApplicationName="app", EnvironmentName="tagged", SolutionStackName="x")
    arn = "arn:aws:elasticbeanstalk:us-east-1:123456789012:environment/app/tagged"
    backend = eb_backends[ACCOUNT_ID]["us-east-1"]
    # moto's own method, whether or not the sandbox's replacement is set in this process.
    EBBackend.update_tags_for_resource(backend, arn, {"aws:reserved": "x"}, [])
    reserved_taken = "aws:reserved" in backend.list_tags_for_resource(arn)
    try:
        EBBackend.update_tags_for_resource(backend, arn, {}, ["absent"])
        absent_fails = False
    except KeyError:
        absent_fails = True
    assert reserved_taken or absent_fails, (
        "moto's UpdateTagsForResource refuses reserved keys and ignores absent ones now: drop "
        "the sandbox's replacement"
    )


@mock_aws
def test_moto_send_command_still_runs_nothing() -> None:
    ec2 = boto3.client("ec2", region_name="us-east-1")
    ssm = boto3.client("ssm", region_name="us-east-1")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0][
        "InstanceId"
    ]
    command = ssm.send_command(
        InstanceIds=[instance],
        DocumentName="AWS-RunShellScript",
        Parameters={"commands": ["echo hi"]},
    )["Command"]
    invocation = ssm.get_command_invocation(CommandId=command["CommandId"], InstanceId=instance)
    assert invocation["StandardOutputContent"] != "hi\n", "moto runs commands now: drop the patch"


def test_moto_request_id_rewrite_still_corrupts_nested_request_ids() -> None:
    from moto.core.responses import BaseResponse

    original = BaseResponse.__dict__["_enrich_response"]
    if any(patch.function is getattr(original, "__func__", None) for patch in registered("fix")):
        pytest.skip("the sandbox's fix is installed in this process")  # pragma: no cover
    body = (
        "<R><Events><member><RequestId>event-id</RequestId></member></Events>"
        "<ResponseMetadata><RequestId>x</RequestId></ResponseMetadata></R>"
    )
    _, enriched = original.__func__({}, body)
    assert "</member>" not in enriched, "moto's _enrich_response is fixed: drop the sandbox's fix"


@mock_aws
def test_moto_still_accepts_a_second_image_of_one_name() -> None:
    from moto.ec2.models import ec2_backends
    from moto.ec2.models.amis import AmiBackend

    from ebami.sandbox.server import ACCOUNT_ID

    ec2 = boto3.client("ec2", region_name="us-east-1")
    image = ec2.describe_images(Owners=["amazon"])["Images"][0]["ImageId"]
    instance = ec2.run_instances(ImageId=image, MinCount=1, MaxCount=1)["Instances"][0]
    backend = ec2_backends[ACCOUNT_ID]["us-east-1"]
    # moto's own methods, whether or not the sandbox's hooks are set in this process.
    create_image = inspect.unwrap(AmiBackend.create_image)
    register_image = inspect.unwrap(AmiBackend.register_image)
    first = create_image(backend, instance["InstanceId"], "baked", "", [])
    second = create_image(backend, instance["InstanceId"], "baked", "", [])
    third = register_image(backend, "baked", "")
    assert len({first.id, second.id, third.id}) == 3, (
        "moto refuses duplicate AMI names now: drop the sandbox's refuse_duplicate_name"
    )


@mock_aws
def test_moto_still_accepts_parameter_names_aws_refuses() -> None:
    from moto.core.exceptions import ServiceException
    from moto.ssm.models import SimpleSystemManagerBackend, ssm_backends

    from ebami.sandbox.server import ACCOUNT_ID

    backend = ssm_backends[ACCOUNT_ID]["us-east-1"]
    put_parameter = inspect.unwrap(SimpleSystemManagerBackend.put_parameter)
    accepted = []
    for name in ("/with space", "/at@sign", "not/qualified", "/l" * 16, "/" + "x" * 1000):
        try:
            put_parameter(backend, name, "", "v", "String", "", "", False, [], "text", None, None)
        except ServiceException:
            continue
        accepted.append(name)
    assert len(accepted) == 5, "moto checks parameter names now: drop ebami/sandbox/parameters.py"
