"""Bad input on the command line, in `EBAMI_*` variables, in ebami.toml or in the AWS
variables: one line naming the input and what is accepted, exit code 2, before any AWS call."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.refusals import refused

# AWS out of reach (the `no_aws` fixture): a refusal must come before any call.
pytestmark = pytest.mark.usefixtures("no_aws")

REGION_ACCEPTED = "accepted: an AWS region name such as us-east-1, eu-central-2 or us-gov-west-1"


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (
            ["--region", "moon-1", "render", "--release", "2017.09"],
            f"--region: 'moon-1' is not an AWS region name; {REGION_ACCEPTED}",
        ),
        (
            ["build", "--release", "2017.09", "--copy-to", "eu-west-1", "--copy-to", "moon-1"],
            f"--copy-to: 'moon-1' is not an AWS region name; {REGION_ACCEPTED}",
        ),
        (
            ["build", "--release", "2017.09", "--share-with", "1234"],
            "--share-with: '1234' is not an AWS account id; accepted: 12 digits such as "
            "123456789012",
        ),
        (
            ["build", "--release", "2017.09", "--ssh-cidr", "10.0.0.0/33"],
            "--ssh-cidr: '10.0.0.0/33' is not a CIDR block; accepted: an IPv4 block such as "
            "203.0.113.0/24 (prefix 0 to 32) or one address such as 203.0.113.7",
        ),
        (
            ["build", "--release", "2017.09", "--kms-key-id", "bogus"],
            "--kms-key-id: 'bogus' is not a KMS key; accepted: a key id "
            "(1234abcd-12ab-34cd-56ef-1234567890ab or mrk-...), alias/NAME, or the ARN of a key "
            "or alias (arn:aws:kms:REGION:ACCOUNT:key/ID, ...:alias/NAME)",
        ),
        (
            ["build", "--release", "2017.09", "--subnet-id", "zzz"],
            "--subnet-id: 'zzz' is not a subnet id; accepted: subnet- and 8 or 17 hex digits, "
            "such as subnet-0123456789abcdef0",
        ),
        (
            ["build", "--release", "2017.09", "--instance-type", ""],
            "--instance-type: '' is not an EC2 instance type; accepted: FAMILY.SIZE in lower "
            "case, such as t3.micro, m7g.large or u-6tb1.metal",
        ),
        (
            ["--profile", "", "lookup", "--release", "2017.09"],
            "--profile: '' is empty; give a name, or leave it unset",
        ),
    ],
)
def test_bad_flags(argv: list[str], line: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert refused(argv, capsys) == f"error: {line}"


@pytest.mark.parametrize(
    ("variable", "value", "argv", "line"),
    [
        (
            "EBAMI_RELEASE",
            "abc",
            ["build", "--dry-run"],
            "EBAMI_RELEASE: release 'abc' is not a release of multicontainer-docker (Amazon "
            "Linux 1); accepted: 2011.09, 2012.03, 2012.09, 2013.03, 2013.09, 2014.03, "
            "2014.09, 2015.03, 2015.09, 2016.03, 2016.09, 2017.03, 2017.09, 2018.03",
        ),
        (
            "EBAMI_REGION",
            "moon-1",
            ["lookup", "--release", "2017.09"],
            f"EBAMI_REGION: 'moon-1' is not an AWS region name; {REGION_ACCEPTED}",
        ),
        (
            "EBAMI_COPY_TO",
            "eu-west-1,",
            ["build", "--release", "2017.09"],
            f"EBAMI_COPY_TO: '' is not an AWS region name; {REGION_ACCEPTED}",
        ),
        (
            "EBAMI_ENCRYPT",
            "maybe",
            ["build", "--release", "2017.09"],
            "EBAMI_ENCRYPT: 'maybe' is not a yes or no; accepted: true, 1, yes, false, 0, no",
        ),
        (
            "EBAMI_READ_TIMEOUT",
            "0",
            ["lookup", "--release", "2017.09"],
            "EBAMI_READ_TIMEOUT: 0 is not accepted; give seconds above 0 and at most 300",
        ),
        (
            "AWS_ENDPOINT_URL",
            "not-a-url",
            ["--region", "us-east-1", "lookup", "--release", "2017.09"],
            "AWS_ENDPOINT_URL: 'not-a-url' is not an endpoint URL; accepted: http://HOST[:PORT] "
            "or https://HOST[:PORT], such as http://127.0.0.1:5000",
        ),
        (
            "AWS_ENDPOINT_URL_EC2",
            "ftp://example.com",
            ["--region", "us-east-1", "build", "--release", "2017.09", "--dry-run"],
            "AWS_ENDPOINT_URL_EC2: 'ftp://example.com' is not an endpoint URL; accepted: "
            "http://HOST[:PORT] or https://HOST[:PORT], such as http://127.0.0.1:5000",
        ),
    ],
)
def test_bad_variables(
    variable: str,
    value: str,
    argv: list[str],
    line: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(variable, value)
    assert refused(argv, capsys) == f"error: {line}"


def test_a_settings_file_that_is_not_utf8(
    isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (isolated_environment / "ebami.toml").write_bytes(b'platform = "ecs-al2" # \xff\n')
    assert refused(["render"], capsys) == (
        "error: ebami.toml: not UTF-8 text (byte 0xff at offset 23); TOML files must be saved "
        "as UTF-8"
    )


def test_a_settings_key_in_the_wrong_format(
    isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (isolated_environment / "ebami.toml").write_text('share_with = ["123"]\n')
    assert refused(["render", "--release", "2017.09"], capsys) == (
        "error: ebami.toml: key 'share_with': '123' is not an AWS account id; accepted: 12 "
        "digits such as 123456789012"
    )


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_render_to_a_folder_that_takes_no_files(capsys: pytest.CaptureFixture[str]) -> None:
    assert refused(["render", "--release", "2017.09", "--out", "/proc/x"], capsys) == (
        "error: --out /proc/x: cannot write in /proc: No such file or directory"
    )


def test_render_to_a_missing_folder(
    isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert refused(["render", "--release", "2017.09", "--out", "nope/user-data"], capsys) == (
        "error: --out nope/user-data: folder nope does not exist"
    )
    assert list(isolated_environment.iterdir()) == []


@pytest.mark.parametrize(
    ("variable", "target", "argv", "problem"),
    [
        ("GITHUB_OUTPUT", "{tmp}", ["apply", "--env", "prod"],
         "is a folder; give the path of a file"),
        ("GITHUB_OUTPUT", "/dev/full", ["promote", "--channel", "stable", "--ami",
                                        "ami-0123456789abcdef0"],
         "cannot write: No space left on device"),
        ("GITHUB_STEP_SUMMARY", "/dev/full", ["check"], "cannot write: No space left on device"),
        ("GITHUB_STEP_SUMMARY", "{tmp}/missing/summary.md", ["status"],
         "folder {tmp}/missing does not exist"),
        ("GITHUB_OUTPUT", "/sys/ebami-output", ["apply", "--env", "prod", "--dry-run"],
         "cannot write in /sys: Permission denied"),
    ],
)  # fmt: skip
def test_github_output_targets_are_refused_before_anything_runs(
    variable: str,
    target: str,
    argv: list[str],
    problem: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Before any AWS call (the endpoint is a closed port, the region given): a change made
    first would be reported nowhere."""
    target, problem = target.format(tmp=tmp_path), problem.format(tmp=tmp_path)
    if not target.startswith(str(tmp_path)) and not Path(target).parent.exists():
        pytest.skip(f"needs {Path(target).parent}")
    monkeypatch.setenv("GITHUB_OUTPUT", str(tmp_path / "out"))
    monkeypatch.setenv(variable, target)
    line = refused(["--region", "us-east-1", "-o", "github", *argv], capsys)
    assert line == f"error: ${variable} {target}: {problem}"


ENV_NAME_ACCEPTED = (
    "accepted: a configured NAME, or 4 to 40 letters, digits and hyphens, not starting or "
    "ending with a hyphen, such as shop-prod"
)


@pytest.mark.parametrize(
    ("argv", "given"),
    [
        (["check", "--env", "ab"], "ab"),
        (["check", "--env", "prod", "--env", "prod-"], "prod-"),
        (["check", "--env", "x" * 41], "x" * 41),
        (["check", "--env", "shop_prod"], "shop_prod"),
    ],
)
def test_check_refuses_names_no_environment_can_have(
    argv: list[str], given: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert refused(["--region", "us-east-1", *argv], capsys) == (
        f"error: --env: {given!r} is neither an [environments.NAME] of the settings nor an "
        f"Elastic Beanstalk environment name; {ENV_NAME_ACCEPTED}"
    )


def test_check_refuses_an_environment_named_twice(capsys: pytest.CaptureFixture[str]) -> None:
    assert refused(
        ["--region", "us-east-1", "check", "--env", "prod", "--env", "prod"], capsys
    ) == ("error: prod is named twice (by --env twice): name each environment once")
