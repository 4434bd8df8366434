"""Least privilege, proven against IAM as the sandbox enforces it (`sandbox start --enforce-iam`):
the quick start's pipeline, each step run with only its job's user (whose policy is exactly
`ebami iam policy --job JOB`), passes; a user without one action is refused with the one line
that names it; and the sandbox asks for the actions AWS asks for (AddTags for
UpdateTagsForResource, iam:PassRole for a launch with an instance profile).

The tests run in file order on one sandbox: the pipeline first."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from ebami.sandbox import world
from ebami.sandbox.control import stop
from tests.sandbox_helpers import Sandbox, run_ebami
from tests.support.enforced import start_enforced, without

RELEASE = "2017.09"


class Enforced:
    def __init__(self, sandbox: Sandbox, work: Path, users: dict[str, dict[str, str]]) -> None:
        self.sandbox = sandbox
        self.work = work
        self.users = users

    def keys(self, job: str) -> dict[str, str]:
        user = self.users[job]
        return {
            "AWS_ACCESS_KEY_ID": user["access_key_id"],
            "AWS_SECRET_ACCESS_KEY": user["secret_access_key"],
        }

    def run(self, job: str, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
        return run_ebami(
            self.sandbox, *args, cwd=self.work, env=self.keys(job), stats=False, timeout=timeout
        )

    def client_as(self, job: str, service: str) -> Any:
        make: Any = boto3.client
        return make(
            service,
            endpoint_url=self.sandbox.endpoint,
            region_name=self.sandbox.info.region,
            aws_access_key_id=self.users[job]["access_key_id"],
            aws_secret_access_key=self.users[job]["secret_access_key"],
        )


@pytest.fixture(scope="module")
def enforced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Enforced]:
    directory = tmp_path_factory.mktemp("sandbox")
    work = tmp_path_factory.mktemp("work")
    try:
        info, users = start_enforced(directory)
        yield Enforced(Sandbox(info, directory), work, users)
    finally:
        stop(directory)


def test_the_pipeline_passes_with_each_jobs_own_user(enforced: Enforced) -> None:
    built = enforced.run("build", "build", "--release", RELEASE)
    assert built.returncode == 0, built.stderr
    ami = built.stdout.strip()
    steps = [
        ("verify", ["verify", "--ami", ami, "--instance-profile", world.EC2_ROLE]),
        ("apply", ["apply", "--env", "staging", "--ami", ami]),
        ("verify", ["verify", "--env", "staging"]),
        ("lifecycle", ["promote", "--ami", ami, "--channel", "stable"]),
        ("apply", ["apply", "--env", "prod", "--channel", "stable"]),
        ("check", ["check", "--release", RELEASE, "--env", "prod"]),
        ("lifecycle", ["-o", "json", "status", "--release", RELEASE]),
    ]
    for job, argv in steps:
        done = enforced.run(job, *argv)
        assert done.returncode == 0, (job, argv, done.stderr)
    estate = json.loads(done.stdout)
    assert ami in json.dumps(estate)
    # Not one refusal on the way (a refused optional read would be a warning).
    assert "access denied" not in built.stderr


def test_a_user_without_one_action_is_refused_naming_it(enforced: Enforced) -> None:
    iam = enforced.sandbox.client("iam")  # the account's root
    removed = "elasticbeanstalk:DescribeConfigurationSettings"
    policy = iam.get_user_policy(UserName="ebami-check", PolicyName="ebami-check")
    iam.put_user_policy(
        UserName="ebami-check",
        PolicyName="ebami-check",
        PolicyDocument=json.dumps(without(policy["PolicyDocument"], removed)),
    )
    done = enforced.run("check", "check", "--release", RELEASE, "--env", "prod")
    assert done.returncode == 3
    last = done.stderr.strip().splitlines()[-1]
    assert last.startswith(f"error: access denied: the caller may not {removed}")
    assert last.endswith("`ebami iam policy --job check` prints what it needs")


def test_tags_are_authorized_as_add_tags_and_a_profile_needs_pass_role(
    enforced: Enforced,
) -> None:
    eb = enforced.client_as("check", "elasticbeanstalk")  # may read, may not tag
    arn = eb.describe_environments(EnvironmentNames=["prod"])["Environments"][0]["EnvironmentArn"]
    with pytest.raises(ClientError) as refused:
        eb.update_tags_for_resource(ResourceArn=arn, TagsToAdd=[{"Key": "k", "Value": "v"}])
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert "elasticbeanstalk:AddTags" in refused.value.response["Error"]["Message"]

    ec2 = enforced.client_as("apply", "ec2")  # may describe, may not launch
    stock = world.ENVIRONMENT_PLATFORM.image_id(enforced.sandbox.info.region)
    with pytest.raises(ClientError) as launch:
        ec2.run_instances(
            ImageId=stock,
            MinCount=1,
            MaxCount=1,
            IamInstanceProfile={"Name": world.EC2_ROLE},
        )
    assert launch.value.response["Error"]["Code"] == "UnauthorizedOperation"
    assert "ec2:RunInstances" in launch.value.response["Error"]["Message"]


def test_the_root_key_the_sandbox_exports_may_do_anything(enforced: Enforced) -> None:
    ec2 = enforced.sandbox.client("ec2")
    assert ec2.describe_images(Owners=["self"])["Images"]
    status = subprocess.run(
        [sys.executable, "-m", "ebami", "sandbox", "status", "--dir",
         str(enforced.sandbox.directory)],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert status.returncode == 0, status.stderr


def test_deregistering_with_snapshots_asks_delete_snapshot_of_each(enforced: Enforced) -> None:
    """DeregisterImage(DeleteAssociatedSnapshots) deletes each snapshot only if the caller may
    ec2:DeleteSnapshot; else that snapshot's result is missing-permissions and it stays."""
    root, iam = enforced.sandbox.client("ec2"), enforced.sandbox.client("iam")
    stock = world.ENVIRONMENT_PLATFORM.image_id(enforced.sandbox.info.region)
    instance = root.run_instances(ImageId=stock, MinCount=1, MaxCount=1)["Instances"][0]
    made = [
        root.create_image(InstanceId=instance["InstanceId"], Name=f"iam-snapshots-{n}")["ImageId"]
        for n in range(2)
    ]
    root.get_waiter("image_exists").wait(ImageIds=made, WaiterConfig={"Delay": 1})
    snapshots = {
        image["ImageId"]: image["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
        for image in root.describe_images(ImageIds=made)["Images"]
    }
    iam.create_user(UserName="deregister-only")
    key = iam.create_access_key(UserName="deregister-only")["AccessKey"]
    only = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "ec2:DeregisterImage", "Resource": "*"}]}  # fmt: skip
    iam.put_user_policy(
        UserName="deregister-only", PolicyName="only", PolicyDocument=json.dumps(only)
    )
    make: Any = boto3.client
    deregister_only = make(
        "ec2",
        endpoint_url=enforced.sandbox.endpoint,
        region_name=enforced.sandbox.info.region,
        aws_access_key_id=key["AccessKeyId"],
        aws_secret_access_key=key["SecretAccessKey"],
    )
    answer = deregister_only.deregister_image(ImageId=made[0], DeleteAssociatedSnapshots=True)
    assert answer["DeleteSnapshotResults"] == [
        {"SnapshotId": snapshots[made[0]], "ReturnCode": "missing-permissions"}
    ]
    lifecycle = enforced.client_as("lifecycle", "ec2")  # its policy has ec2:DeleteSnapshot
    answer = lifecycle.deregister_image(ImageId=made[1], DeleteAssociatedSnapshots=True)
    assert answer["DeleteSnapshotResults"] == [
        {"SnapshotId": snapshots[made[1]], "ReturnCode": "success"}
    ]
    left = {item["SnapshotId"] for item in root.describe_snapshots(OwnerIds=["self"])["Snapshots"]}
    assert snapshots[made[0]] in left
    assert snapshots[made[1]] not in left
    root.terminate_instances(InstanceIds=[instance["InstanceId"]])
