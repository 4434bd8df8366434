"""`ebami build` refuses output names AWS would refuse after the bake (SSM parameter names, EC2
tags), and an unwritable record, as one line with exit 2, before any AWS call or Packer run."""

from __future__ import annotations

from pathlib import Path

import pytest

from ebami.cli.main import main
from ebami.core.errors import ExitCode

LONG = "/" + "x" * 960


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--ssm-parameter", "/aws/ebami/latest"],
            "error: --ssm-parameter: '/aws/ebami/latest' starts with aws or ssm, which SSM "
            "reserves (any case, /aws/ too); pick another name, such as /ebami/ecs-al2/latest",
        ),
        (
            ["--ssm-parameter", "/ebami/my latest"],
            "error: --ssm-parameter: '/ebami/my latest' is not an SSM parameter name; accepted: "
            "letters, digits and _ . - / only (no spaces), such as /ebami/ecs-al2/latest",
        ),
        (
            ["--ssm-parameter", "/" + "/".join(["l"] * 16)],
            "error: --ssm-parameter: '" + "/" + "/".join(["l"] * 16) + "' has 16 levels; SSM "
            "allows 15",
        ),
        (
            # The length counts with the parameter's ARN, so the region decides it.
            ["--ssm-parameter", LONG],
            f"error: --ssm-parameter: {LONG[:40]!r}... is 960 characters long; in us-east-1 SSM "
            "allows 959 (1011 with the parameter's ARN)",
        ),
        (
            ["--tag", "k" * 129 + "=v"],
            f"error: tag key {'k' * 40!r}... is 129 characters, longer than EC2's 128: shorten it",
        ),
        (
            ["--tag", "team=" + "v" * 257],
            "error: tag 'team' is longer than EC2's 256 characters",
        ),
        (
            ["--tag", "AWS:team=x"],
            "error: tag 'AWS:team' uses a reserved prefix (ebami: or aws:); pick another key",
        ),
    ],
    ids=["reserved", "space", "levels", "length", "tag-key", "tag-value", "aws-tag"],
)
def test_output_names_aws_would_refuse_stop_the_build_before_any_call(
    args: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    # Nothing listens there: any AWS call would fail with another message.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    code = main(["--region", "us-east-1", "build", "--release", "2017.09", *args])
    err = capsys.readouterr().err
    assert code == ExitCode.USAGE, err
    lines = err.strip().splitlines()
    assert lines[-1] == message
    assert not [line for line in lines[:-1] if not line.startswith("warning: ")], err


def test_an_unwritable_record_stops_the_build_before_any_call(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    # No file can be made in /proc, whoever runs the test (root included).
    code = main(
        ["--region", "us-east-1", "build", "--release", "2017.09", "--record", "/proc/b.json"]
    )
    err = capsys.readouterr().err
    assert code == ExitCode.USAGE, err
    assert err.startswith("error: --record /proc/b.json: cannot write in /proc: ")
    assert len(err.strip().splitlines()) == 1
