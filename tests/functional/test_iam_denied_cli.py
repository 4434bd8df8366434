"""With moto's own IAM authorization switched on, a command run by a user whose policy lacks one
action ends in the one line that names it and the policy command, exit 3, no traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from ebami.cli.main import main
from ebami.core.errors import ExitCode
from ebami.iam.document import job_policy
from ebami.iam.scope import Scope
from ebami.sandbox.server import ACCOUNT_ID
from tests.fakes.clock import FakeClock
from tests.sandbox_helpers import sandbox_in_process
from tests.support.enforced import without

REGION = "us-east-1"


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    with sandbox_in_process(tmp_path, monkeypatch, clock=FakeClock(), region=REGION):
        yield


def user_without(monkeypatch: pytest.MonkeyPatch, job: str, action: str) -> None:
    """An IAM user with `job`'s policy less `action`, its keys in the environment, and moto's
    authorization on from the next request."""
    from moto import settings
    from moto.core.authorization import ActionAuthenticatorMixin

    # The sandbox's extensions take resources and conditions as met (moto knows neither).
    document = without(
        job_policy(job, Scope(account=ACCOUNT_ID, regions=(REGION,))).document, action
    )
    iam = boto3.client("iam", region_name=REGION)
    iam.create_user(UserName=f"ebami-{job}")
    iam.put_user_policy(
        UserName=f"ebami-{job}", PolicyName=job, PolicyDocument=json.dumps(document)
    )
    key = iam.create_access_key(UserName=f"ebami-{job}")["AccessKey"]
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
    monkeypatch.setattr(settings, "INITIAL_NO_AUTH_ACTION_COUNT", 0)
    monkeypatch.setattr(ActionAuthenticatorMixin, "request_count", 0)


def test_a_missing_action_is_named_with_the_policy_command(
    sandbox: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    user_without(monkeypatch, "check", "elasticbeanstalk:DescribeConfigurationSettings")
    code = main(["--region", REGION, "check", "--release", "2017.09", "--env", "prod"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == ExitCode.AWS, err
    assert err[-1].startswith(
        "error: access denied: the caller may not elasticbeanstalk:DescribeConfigurationSettings"
    )
    assert err[-1].endswith("`ebami iam policy --job check` prints what it needs")
    assert not any("Traceback" in line for line in err)


@pytest.mark.parametrize(
    ("job", "argv"),
    [
        ("check", ["check", "--release", "2017.09", "--env", "prod"]),
        ("lifecycle", ["status"]),
        ("lifecycle", ["prune", "--keep", "1", "--older-than", "0"]),
        ("apply", ["apply", "--env", "staging", "--ami", "STOCK", "--dry-run"]),
    ],
)
def test_the_jobs_policy_lets_its_commands_run(
    sandbox: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    job: str,
    argv: list[str],
) -> None:
    from ebami.sandbox import world

    stock = world.ENVIRONMENT_PLATFORM.image_id(REGION)
    user_without(monkeypatch, job, "nothing:Removed")
    argv = [stock if item == "STOCK" else item for item in argv]
    code = main(["--region", REGION, *argv])
    assert code == ExitCode.OK, capsys.readouterr().err
