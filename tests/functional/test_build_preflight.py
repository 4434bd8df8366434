"""What only AWS knows about a build's inputs is asked while planning, with read-only calls
(moto in-process): a missing subnet, an instance type the region does not offer, a missing
instance profile, a missing or disabled KMS key each end as one line naming the source, exit 2,
before Packer runs."""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from ebami.cli.main import main
from ebami.core.errors import ExitCode

MISSING_SUBNET = "subnet-0123456789abcdef0"


def build(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, list[str]]:
    code = main(["--region", "us-east-1", "build", "--release", "2017.09", "--dry-run", *args])
    err = capsys.readouterr().err
    return code, [line for line in err.splitlines() if line.startswith("error: ")]


def test_a_subnet_that_does_not_exist_is_refused(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, errors = build(capsys, "--subnet-id", MISSING_SUBNET)
    assert code == ExitCode.USAGE
    assert errors == [
        f"error: --subnet-id: subnet {MISSING_SUBNET} does not exist in us-east-1 (or this "
        "account cannot see it); give a subnet of the build region"
    ]


def test_a_subnet_from_the_environment_is_blamed_on_its_variable(
    aws: None, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EBAMI_SUBNET_ID", MISSING_SUBNET)
    _, errors = build(capsys)
    assert errors[0].startswith(f"error: EBAMI_SUBNET_ID: subnet {MISSING_SUBNET} does not")


def test_an_instance_type_the_region_does_not_offer_is_refused(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, errors = build(capsys, "--instance-type", "t9.micro")
    assert code == ExitCode.USAGE
    assert errors == [
        "error: --instance-type: instance type t9.micro is not offered in us-east-1; pick one "
        "the region offers (aws ec2 describe-instance-type-offerings)"
    ]


def test_a_missing_instance_profile_is_refused(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    code, errors = build(capsys, "--instance-profile", "no-such-profile")
    assert code == ExitCode.USAGE
    assert errors == [
        "error: --instance-profile: instance profile no-such-profile does not exist; give the "
        "name of an existing instance profile"
    ]


def test_a_missing_kms_key_is_refused(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, errors = build(capsys, "--kms-key-id", "alias/no-such-key")
    assert code == ExitCode.USAGE
    assert errors == [
        "error: --kms-key-id: KMS key alias/no-such-key does not exist in us-east-1; give a key "
        "id, alias/NAME or ARN of the build region"
    ]


def test_a_disabled_kms_key_is_refused(aws: None, capsys: pytest.CaptureFixture[str]) -> None:
    kms: Any = boto3.client("kms", region_name="us-east-1")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    kms.disable_key(KeyId=key_id)
    code, errors = build(capsys, "--kms-key-id", key_id)
    assert code == ExitCode.USAGE
    assert errors == [
        f"error: --kms-key-id: KMS key {key_id} is Disabled, not Enabled: it cannot encrypt "
        "the AMI's snapshots"
    ]


def test_what_aws_knows_passes_on_to_the_plan(
    aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    """Existing inputs pass the checks; in-process moto then lacks Elastic Beanstalk's
    platform listing (the sandbox adds it), which shows the plan went on past the checks."""
    ec2: Any = boto3.client("ec2", region_name="us-east-1")
    subnet = ec2.describe_subnets()["Subnets"][0]["SubnetId"]
    iam: Any = boto3.client("iam", region_name="us-east-1")
    iam.create_instance_profile(InstanceProfileName="builder")
    kms: Any = boto3.client("kms", region_name="us-east-1")
    key_id = kms.create_key()["KeyMetadata"]["KeyId"]
    _, errors = build(
        capsys,
        "--subnet-id", subnet, "--instance-type", "t3.small",
        "--instance-profile", "builder", "--kms-key-id", key_id,
    )  # fmt: skip
    assert len(errors) == 1
    assert "list_platform_versions action has not been implemented" in errors[0]
