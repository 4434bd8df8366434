"""Bad input to `ebami apply` and `ebami events`: one line, exit code 2, before any AWS call."""

from __future__ import annotations

from pathlib import Path

import pytest

from ebami.cli.main import main
from tests.support.refusals import refused

pytestmark = pytest.mark.usefixtures("no_aws")  # AWS out of reach


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["apply", "--env", "prod", "--ami", "nope"],
         "error: --ami 'nope' is not an AMI id; write ami- and 8 or 17 hex digits"),
        (["apply", "--env", "prod", "--timeout", "0"],
         "error: --timeout 0 is out of range: give seconds from 1 to 86400"),
        (["apply", "--env", "prod", "--env", "prod"],
         "error: prod is named twice (by --env twice): name each environment once"),
        (["apply", "--env", " "],
         "error: --env '' is empty: give an environment name or a configured "
         "[environments.NAME]"),
        (["apply", "--env", "prod", "--ami", "ami-0123456789abcdef0", "--rollback"],
         "error: give one of --ami, --rollback, --channel and --stock, not --ami and --rollback"),
        (["apply", "--env", "prod", "--settle", "-1"],
         "error: --settle: -1 is not accepted; give seconds above 0 and at most 3600"),
        (["apply", "--env", "prod", "--record", "/nonexistent/folder/apply.json"],
         "error: --record /nonexistent/folder/apply.json: folder /nonexistent/folder does "
         "not exist"),
        (["events", "--env", "prod", "--limit", "0"],
         "error: --limit 0 is out of range: give 1 to 1000"),
        (["events", "--env", ""],
         "error: --env '' is empty: give an environment name or [environments.NAME]"),
    ],
)  # fmt: skip
def test_refused_before_any_call(
    argv: list[str], line: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert refused(argv, capsys) == line


def test_apply_needs_an_environment(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["apply"]) == 2
    assert "Missing option '--env'" in capsys.readouterr().err


ENV_NAME_REFUSED = (
    "is neither an [environments.NAME] of the settings nor an Elastic Beanstalk environment "
    "name; accepted: a configured NAME, or 4 to 40 letters, digits and hyphens, not starting or "
    "ending with a hyphen, such as shop-prod"
)


@pytest.mark.parametrize(
    ("argv", "given"),
    [
        (["apply", "--env", "abc", "--dry-run"], "abc"),
        (["apply", "--env", "abc"], "abc"),
        # The second of several: refused before the first is looked up.
        (["apply", "--env", "prod", "--env", "-ab-"], "-ab-"),
        (["events", "--env", "web"], "web"),
        (["verify", "--env", "web"], "web"),
    ],
)
def test_names_no_environment_can_have_are_refused(
    argv: list[str], given: str, capsys: pytest.CaptureFixture[str]
) -> None:
    line = refused(["--region", "us-east-1", *argv], capsys)
    assert line == f"error: --env: {given!r} {ENV_NAME_REFUSED}"


def test_a_configured_name_is_the_environment_s_and_is_checked_as_one(
    isolated_environment: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = isolated_environment / "ebami.toml"
    settings.write_text('[environments.web]\napplication = "shop"\nenvironment = "web"\n')
    assert refused(["--region", "us-east-1", "apply", "--env", "web", "--dry-run"], capsys) == (
        "error: ebami.toml: key 'environments.web.environment': 'web' is not an Elastic "
        "Beanstalk environment name; accepted: 4 to 40 letters, digits and hyphens, not "
        "starting or ending with a hyphen, such as shop-prod"
    )
