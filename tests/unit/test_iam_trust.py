"""`ebami iam trust` and `ebami iam policy` on the command line: the OIDC trust policy names the
repository's branch or environments exactly, and bad input is one line, exit 2, no call."""

from __future__ import annotations

import json

import pytest

from ebami.cli.main import main
from ebami.core.errors import ExitCode, InputError
from ebami.iam.trust import trust_policy

ACCOUNT = "123456789012"


def test_trust_names_the_branch_and_environments_exactly() -> None:
    document = trust_policy(ACCOUNT, "acme/web", branches=["main"], environments=["staging"])
    (statement,) = document["Statement"]
    assert statement["Principal"] == {
        "Federated": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com"
    }
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    # StringEquals, not StringLike: no claim matches more than the names given.
    assert statement["Condition"] == {
        "StringEquals": {
            "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
            "token.actions.githubusercontent.com:sub": [
                "repo:acme/web:ref:refs/heads/main",
                "repo:acme/web:environment:staging",
            ],
        }
    }


@pytest.mark.parametrize(
    ("repo", "environment"),
    [("acme", "prod"), ("-acme/web", "prod"), ("acme/web", "pr*d"), ("acme/web", "a:b")],
)
def test_a_bad_repository_or_name_is_refused(repo: str, environment: str) -> None:
    with pytest.raises(InputError):
        trust_policy(ACCOUNT, repo, branches=[], environments=[environment])


def test_the_cli_prints_the_trust_policy(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["iam", "trust", "--repo", "acme/web", "--environment", "prod", "--account", ACCOUNT]
    assert main(argv) == ExitCode.OK
    document = json.loads(capsys.readouterr().out)
    sub = document["Statement"][0]["Condition"]["StringEquals"]
    assert sub["token.actions.githubusercontent.com:sub"] == "repo:acme/web:environment:prod"


def test_the_cli_prints_every_jobs_policy_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["-o", "json", "--region", "us-east-1", "iam", "policy", "--account", ACCOUNT]
    assert main(argv) == ExitCode.OK
    found = json.loads(capsys.readouterr().out)["policies"]
    assert [item["job"] for item in found] == [
        "build", "verify", "apply", "check", "lifecycle", "nightly",
    ]  # fmt: skip
    for item in found:
        assert item["policy"]["Version"] == "2012-10-17"
        assert item["policy"]["Statement"]


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["iam", "policy", "--job", "deploy", "--account", ACCOUNT], "--job 'deploy'"),
        (["iam", "policy", "--account", "12345"], "--account '12345'"),
        (["iam", "policy", "--ssm-parameter", "x", "--account", ACCOUNT], "--ssm-parameter 'x'"),
        (["iam", "trust", "--repo", "nope", "--account", ACCOUNT], "--repo 'nope'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    argv: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--region", "us-east-1", *argv]) == ExitCode.USAGE
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert named in err[0]
