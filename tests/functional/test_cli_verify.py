"""`ebami verify`'s refusals: one line, exit 2, before any AWS call."""

from __future__ import annotations

from pathlib import Path

import pytest

from ebami.cli.main import main
from ebami.errors import ExitCode
from ebami.settings import load_settings

AMI = "ami-0123456789abcdef0"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "error: give exactly one of --ami AMI, --instance ID or --env NAME"),
        (
            ["--ami", AMI, "--env", "prod"],
            "error: give exactly one of --ami AMI, --instance ID or --env NAME "
            "(got --ami and --env)",
        ),
        (
            ["--ami", ""],
            "error: --ami '' is not an AMI id; write ami- and 8 or 17 hex digits",
        ),
        (
            ["--ami", "ami-xyz"],
            "error: --ami 'ami-xyz' is not an AMI id; write ami- and 8 or 17 hex digits",
        ),
        (
            ["--instance", "i-0123456789abcdef0", "--instance", "web-1"],
            "error: --instance 'web-1' is not an instance id; write i- and 8 or 17 hex digits",
        ),
        (
            ["--ami", AMI, "--require", "fluentd,fluentbit"],
            "error: --require: log driver 'fluentbit' is not accepted; accepted: json-file, "
            "local, syslog, journald, gelf, fluentd, awslogs, splunk, etwlogs, gcplogs, "
            "logentries, none, awsfirelens",
        ),
        (
            ["--ami", AMI, "--instance-profile", "p", "--timeout", "0"],
            "error: --timeout 0 is out of range: give seconds from 1 to 86400",
        ),
        (
            ["--env", ""],
            "error: --env '' is empty: give an environment name or a configured "
            "[environments.NAME]",
        ),
        (
            ["--ami", AMI],
            "error: verify launches an instance that SSM must reach: pass --instance-profile "
            "NAME (its role needs AmazonSSMManagedInstanceCore) or set instance_profile in "
            "ebami.toml",
        ),
    ],
    ids=[
        "no-target",
        "two-targets",
        "empty-ami",
        "ami-id",
        "instance-id",
        "driver",
        "timeout",
        "empty-env",
        "profile",
    ],
)
def test_bad_input_is_refused_before_any_call(
    args: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    # No endpoint that answers: any AWS call would fail with another message.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.delenv("EBAMI_INSTANCE_PROFILE", raising=False)
    code = main(["--region", "us-east-1", "verify", *args])
    err = capsys.readouterr().err
    assert code == ExitCode.USAGE, err
    lines = [line for line in err.strip().splitlines() if not line.startswith("warning: ")]
    assert lines == [message]


def test_a_configured_environment_brings_its_application_and_region(tmp_path: Path) -> None:
    (tmp_path / "ebami.toml").write_text(
        '[environments.prod]\napplication = "shop"\nenvironment = "shop-prod"\n'
        'region = "eu-west-1"\n'
    )
    settings = load_settings(None, {}, {}, cwd=tmp_path)
    moved, application, name = settings.environment_target("prod")
    assert (moved.region, application, name) == ("eu-west-1", "shop", "shop-prod")
    assert moved.source_of("environments") == "ebami.toml"
    # --region wins over the environment's region; an unknown name is the environment's own.
    pinned = load_settings(None, {}, {"region": "us-east-2"}, cwd=tmp_path)
    assert pinned.environment_target("prod")[0].region == "us-east-2"
    assert settings.environment_target("staging") == (settings, None, "staging")
