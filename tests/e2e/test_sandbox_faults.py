"""Injected faults, as a client sees them over HTTP."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from ebami.sandbox import world
from tests.sandbox_helpers import Sandbox
from tests.support.amis import ARTICLE_USER_DATA, bake, base_ami, launch
from tests.support.environments import IMAGE_ID, follow, update
from tests.support.visibility import image_exists


def test_throttling_hits_a_fraction_of_calls_and_standard_retries_absorb_it(
    make_sandbox: Any,
) -> None:
    sandbox: Sandbox = make_sandbox(throttle=0.3)
    bare = sandbox.client("elasticbeanstalk", attempts=1)
    codes = []
    for _ in range(40):
        try:
            bare.describe_environments()
            codes.append("ok")
        except ClientError as exc:
            codes.append(exc.response["Error"]["Code"])
    assert set(codes) == {"ok", "Throttling"}
    assert 4 <= codes.count("Throttling") <= 24
    ssm = sandbox.client("ssm", attempts=1)
    ssm_codes = set()
    for _ in range(40):
        try:
            ssm.describe_instance_information()
        except ClientError as exc:
            ssm_codes.add(exc.response["Error"]["Code"])
    assert ssm_codes == {"ThrottlingException"}  # the JSON protocol's name for it
    patient = sandbox.client("elasticbeanstalk", attempts=10)
    for _ in range(5):  # botocore's standard retries back off and try again
        patient.describe_environments(EnvironmentNames=["prod"])


def test_ssm_offline_agents_lose_their_connection(make_sandbox: Any) -> None:
    sandbox: Sandbox = make_sandbox(ssm_offline=True)
    instance_id = launch(sandbox, base_ami(sandbox, world.ECS_AL2, "3.5.0"), "")
    ssm = sandbox.client("ssm")
    info = ssm.describe_instance_information()["InstanceInformationList"]
    assert [(i["InstanceId"], i["PingStatus"]) for i in info] == [(instance_id, "ConnectionLost")]
    command = ssm.send_command(
        InstanceIds=[instance_id],
        DocumentName="AWS-RunShellScript",
        Parameters={"commands": ["true"]},
    )["Command"]
    for _ in range(3):
        invocation = ssm.get_command_invocation(
            CommandId=command["CommandId"], InstanceId=instance_id
        )
        assert invocation["Status"] == "Pending"  # never delivered


def test_new_amis_stay_pending_for_n_polls(make_sandbox: Any) -> None:
    sandbox: Sandbox = make_sandbox(ami_pending_polls=2)
    ec2 = sandbox.client("ec2")
    instance_id = launch(sandbox, base_ami(sandbox, world.ECS_AL2, "3.5.0"), "")
    image_id = ec2.create_image(InstanceId=instance_id, Name="slow")["ImageId"]
    # A NotFound while EC2 does not show the new AMI yet is no poll of its state.
    states = [image_exists(ec2, image_id)["State"] for _ in range(4)]
    assert states == ["pending", "pending", "available", "available"]


def test_failing_update_health(make_sandbox: Any) -> None:
    """With rolling updates disabled (staging) the fault turns a good AMI Red: the update ends
    with errors, not with the placement failure a wrong AMI gives."""
    sandbox: Sandbox = make_sandbox(update_fails_health=True)
    request_id = update(
        sandbox,
        "staging",
        OptionSettings=[{**IMAGE_ID, "Value": bake(sandbox, ARTICLE_USER_DATA)}],
    )
    env, messages, _ = follow(sandbox, request_id, "staging")
    assert env["Health"] == "Red"
    assert not any("ATTRIBUTE" in message for message in messages)
    assert (
        "Update environment operation is complete, but with errors. For more information, see "
        "troubleshooting documentation."
    ) in messages
