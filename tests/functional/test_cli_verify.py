"""`ebami verify`'s refusals (one line, exit 2, before any AWS call), how a run that left
something behind ends, and `--timeout` against an endpoint that never answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from ebami.cli.factory import Factory
from ebami.cli.main import main
from ebami.config.settings import load_settings
from ebami.core.errors import ExitCode, Leftover
from ebami.core.plan import Plan
from ebami.core.results import CheckResult, CheckStatus
from ebami.verify.planner import VerifyOptions, VerifyPlan
from ebami.verify.report import InstanceReport, TargetKind, VerifyReport
from tests.fakes.endpoints import SilentEndpoint

AMI = "ami-0123456789abcdef0"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "error: give exactly one of --ami AMI, --instance ID, --env NAME or --stock"),
        (
            ["--ami", AMI, "--env", "prod"],
            "error: give exactly one of --ami AMI, --instance ID, --env NAME or --stock "
            "(got --ami and --env)",
        ),
        (
            ["--stock", "--ami", AMI],
            "error: give exactly one of --ami AMI, --instance ID, --env NAME or --stock "
            "(got --ami and --stock)",
        ),
        (
            ["--ami", AMI, "--platform-version", "4.2.0"],
            "error: --platform-version chooses the platform's own AMI: add --stock",
        ),
        (
            ["--env", "prod", "--platform", "ecs-al2023", "--release", "2023"],
            "error: --platform and --release choose the platform's own AMI: add --stock",
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
            "error: --require: log driver 'fluentbit' is not accepted: the ECS agent does not "
            "know it and would not start; accepted: json-file, syslog, journald, gelf, fluentd, "
            "awslogs, splunk, logentries, sumologic, none, awsfirelens",
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
        "stock-and-ami",
        "platform-version-without-stock",
        "platform-without-stock",
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


class Planned:
    """A planner that plans an AMI's check without asking AWS."""

    def plan_for(self, options: VerifyOptions, *, ami: str | None, **target: object) -> VerifyPlan:
        assert ami is not None
        return VerifyPlan(TargetKind.AMI, ami, Plan("verify"))


LEFTOVER = Leftover(
    "instance i-0123456789abcdef0",
    "ec2:TerminateInstances i-0123456789abcdef0 failed: Throttling: Rate exceeded",
    "aws ec2 terminate-instances --instance-ids i-0123456789abcdef0 --region us-east-1",
)


def ran(monkeypatch: pytest.MonkeyPatch, check: CheckStatus) -> None:
    """verify's run ends with this verdict, its instance left behind."""
    report = VerifyReport(
        TargetKind.AMI,
        AMI,
        (
            InstanceReport(
                "i-0123456789abcdef0", AMI, True, (CheckResult("logging-drivers", check, "x"),)
            ),
        ),
        left_behind=(LEFTOVER,),
    )
    monkeypatch.setattr(Factory, "verify_planner", lambda self: Planned())
    monkeypatch.setattr(Factory, "run_verify", lambda self, plan, deadline: report)


def test_a_passing_run_that_left_its_instance_prints_its_report_and_exits_6(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ran(monkeypatch, CheckStatus.PASSED)
    code = main(["--region", "us-east-1", "verify", "--ami", AMI, "--instance-profile", "p"])
    out, err = capsys.readouterr()
    assert code == ExitCode.LEFT_BEHIND
    assert f"ami {AMI}: verified" in out
    assert f"i-0123456789abcdef0 (launched from {AMI}, NOT terminated)" in out
    assert err.splitlines()[-1] == (
        f"error: ami {AMI} verified, but left behind: instance i-0123456789abcdef0 "
        "(ec2:TerminateInstances i-0123456789abcdef0 failed: Throttling: Rate exceeded); "
        "remove it with: aws ec2 terminate-instances --instance-ids i-0123456789abcdef0 "
        "--region us-east-1"
    )


def test_a_failed_check_keeps_exit_5_when_something_was_left(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ran(monkeypatch, CheckStatus.FAILED)
    code = main(["--region", "us-east-1", "verify", "--ami", AMI, "--instance-profile", "p"])
    assert code == ExitCode.CHECK_FAILED
    assert "failed verification" in capsys.readouterr().err.splitlines()[-1]


def test_timeout_bounds_a_call_the_endpoint_never_answers(
    silent_endpoint: SilentEndpoint, capsys: pytest.CaptureFixture[str]
) -> None:
    # The read timeout setting (30 s, 3 attempts) would hold the planner's first call for
    # 90 s; inside --timeout 2 it gets one attempt of the 2 s left.
    code = main(
        ["--region", "us-east-1", "verify", "--ami", AMI, "--instance-profile", "p",
         "--timeout", "2"]
    )  # fmt: skip
    err = capsys.readouterr().err
    assert code == ExitCode.AWS, err
    assert err.splitlines()[-1] == (
        f"error: ec2:DescribeImages {AMI}: {silent_endpoint.url}/ accepted the connection but "
        "sent no answer within the read timeout, on every attempt; check AWS_ENDPOINT_URL and "
        "the network, or raise read_timeout (EBAMI_READ_TIMEOUT)"
    )
