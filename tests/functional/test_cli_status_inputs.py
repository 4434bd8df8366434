"""Bad input to `ebami status`: one line, exit code 2, before any AWS call (the endpoint is a
closed port)."""

from __future__ import annotations

import pytest

from tests.support.refusals import refused

pytestmark = pytest.mark.usefixtures("no_aws")  # AWS out of reach


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["status", "--max-age", "0"],
         "error: --max-age 0 is out of range: give days from 1 to 3650"),
        (["status", "--env", " "],
         "error: --env '' is empty: give an environment name or [environments.NAME]"),
        (["status", "--regions", "us-east-1,moon-1"],
         "error: --regions: 'moon-1' is not an AWS region name"),
        (["status", "--regions", "us-west-2", "--all-regions"],
         "error: --regions and --all-regions exclude each other: give one of them"),
        (["status", "--release", "1999.01"],
         "error: --release: release '1999.01' is not a release of multicontainer-docker"),
    ],
)  # fmt: skip
def test_status_refuses_bad_input_in_one_line(
    argv: list[str], line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert refused(["--region", "us-east-1", *argv], capsys).startswith(line)


def test_status_refuses_a_name_no_environment_can_have(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert refused(["--region", "us-east-1", "status", "--env", "ab"], capsys) == (
        "error: --env: 'ab' is neither an [environments.NAME] of the settings nor an Elastic "
        "Beanstalk environment name; accepted: a configured NAME, or 4 to 40 letters, digits "
        "and hyphens, not starting or ending with a hyphen, such as shop-prod"
    )


def test_status_refuses_an_environment_named_twice(capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--region", "us-east-1", "status", "--env", "prod", "--env", "staging", "--env", "prod"]
    assert refused(argv, capsys) == (
        "error: prod is named twice (by --env twice): name each environment once"
    )
