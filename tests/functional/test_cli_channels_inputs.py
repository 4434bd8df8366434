"""Bad input to `ebami promote`, `ebami revoke` and `apply --channel`: one line, exit code 2,
before any AWS call."""

from __future__ import annotations

import pytest

from ebami.cli.main import main
from tests.support.refusals import refused

pytestmark = pytest.mark.usefixtures("no_aws")  # AWS out of reach

AMI = "ami-0123456789abcdef0"


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["promote", "--channel", "st able", "--ami", AMI],
         "error: --channel 'st able' is not a channel name; use 1 to 64 letters, digits, '_', "
         "'.' or '-' (such as stable)"),
        (["promote", "--channel", "x" * 65, "--previous"],
         f"error: --channel '{'x' * 65}' is not a channel name; use 1 to 64 letters, digits, "
         "'_', '.' or '-' (such as stable)"),
        (["promote", "--channel", "stable"], "error: give one of --ami AMI and --previous"),
        (["promote", "--channel", "stable", "--ami", AMI, "--previous"],
         "error: give one of --ami AMI and --previous"),
        (["promote", "--channel", "stable", "--ami", "nope"],
         "error: --ami 'nope' is not an AMI id; write ami- and 8 or 17 hex digits"),
        (["promote", "--channel", "stable", "--ami", AMI, "--release", "2017.09"],
         "error: --release goes with --previous only: with --ami, the AMI's tags name the "
         "channel's platform and release"),
        (["promote", "--channel", "stable", "--previous", "--platform", "windows"],
         "error: --platform: unknown platform 'windows'; accepted: multicontainer-docker "
         "(Multi-container Docker running on 64bit Amazon Linux), ecs-al2 (ECS running on 64bit "
         "Amazon Linux 2), ecs-al2023 (ECS running on 64bit Amazon Linux 2023)"),
        (["promote", "--channel", "stable", "--previous"],
         "error: multicontainer-docker has several releases: pass --release, one of "
         "2011.09, 2012.03, 2012.09, 2013.03, 2013.09, 2014.03, 2014.09, 2015.03, 2015.09, "
         "2016.03, 2016.09, 2017.03, 2017.09, 2018.03"),
        (["revoke", "--ami", AMI, "--reason", " "],
         "error: --reason is empty: say why the AMI is revoked, in 1 to 256 characters"),
        (["revoke", "--ami", AMI, "--reason", "x" * 257],
         "error: --reason has 257 characters: an EC2 tag value holds at most 256"),
        (["revoke", "--ami", AMI, "--reason", "two\nlines"],
         "error: --reason has a control character (a line break?): write it on one line"),
        (["revoke", "--ami", "ami-xyz", "--reason", "bad"],
         "error: --ami 'ami-xyz' is not an AMI id; write ami- and 8 or 17 hex digits"),
        (["apply", "--env", "prod", "--channel", "a/b"],
         "error: --channel 'a/b' is not a channel name; use 1 to 64 letters, digits, '_', '.' "
         "or '-' (such as stable)"),
        (["apply", "--env", "prod", "--channel", "stable", "--rollback"],
         "error: give one of --ami, --rollback, --channel and --stock, not --rollback and "
         "--channel"),
    ],
)  # fmt: skip
def test_refused_before_any_call(
    argv: list[str], line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert refused(argv, capsys) == line


@pytest.mark.parametrize(
    ("argv", "missing"),
    [
        (["promote", "--ami", AMI], "--channel"),
        (["revoke", "--reason", "bad"], "--ami"),
        (["revoke", "--ami", AMI], "--reason"),
    ],
)
def test_missing_options(argv: list[str], missing: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(argv) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert f"Missing option '{missing}'" in captured.err
    assert "Traceback" not in captured.err


@pytest.mark.parametrize(
    ("pattern", "argv", "line"),
    [
        ("/aws/{channel}", ["promote", "--channel", "stable", "--ami", AMI],
         "error: EBAMI_CHANNEL_PARAMETER: '/aws/{channel}' gives parameter names such as "
         "'/aws/stable': '/aws/stable' starts with aws or ssm, which SSM reserves (any case, "
         "/aws/ too); pick another name, such as /ebami/{platform}/{release}/{channel}"),
        ("/" + "l/" * 15 + "{channel}", ["apply", "--env", "prod", "--channel", "stable"],
         "error: EBAMI_CHANNEL_PARAMETER: '/" + "l/" * 15 + "{channel}' gives parameter names "
         "such as '/" + "l/" * 15 + "stable': '/" + "l/" * 15 + "stable' has 16 levels; SSM "
         "allows 15"),
        # The pattern is fine; the name it makes for this channel is not, and is refused once
        # rendered, before the channel is read.
        ("/{channel}/ami", ["promote", "--channel", "ssm-beta", "--previous", "--release",
                            "2017.09"],
         "error: EBAMI_CHANNEL_PARAMETER: channel ssm-beta: '/ssm-beta/ami' starts with aws or "
         "ssm, which SSM reserves (any case, /aws/ too); pick another name, such as "
         "/ebami/{platform}/{release}/{channel}"),
    ],
)  # fmt: skip
def test_channel_parameters_ssm_would_refuse_are_refused_before_any_call(
    pattern: str,
    argv: list[str],
    line: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("EBAMI_CHANNEL_PARAMETER", pattern)
    assert refused(["--region", "us-east-1", *argv], capsys) == line


@pytest.mark.parametrize("channel", [".", ".."])
def test_channels_of_dots_alone_are_refused(
    channel: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert refused(["promote", "--channel", channel, "--ami", AMI], capsys) == (
        f"error: --channel {channel!r} is not a channel name: dots alone make a parameter level "
        "that reads as a relative path; use letters or digits too (such as stable)"
    )
