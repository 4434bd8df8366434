"""Bad input to fleet apply (`--canary`, `--concurrency`, `--group`, `[groups]`): one line,
exit code 2, before any AWS call (the endpoint is a closed port)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.refusals import refused

pytestmark = pytest.mark.usefixtures("no_aws")  # AWS out of reach

GROUPS = '[groups]\nweb = ["web-1", "web-2"]\napi = ["api-1", "web-2"]\n'


@pytest.fixture(autouse=True)
def settings_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("EBAMI_CONFIG", raising=False)
    (tmp_path / "ebami.toml").write_text(GROUPS)
    return tmp_path


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["apply", "--env", "a", "--concurrency", "0"],
         "error: --concurrency 0 is out of range: give 1 to 20"),
        (["apply", "--env", "a", "--concurrency", "21"],
         "error: --concurrency 21 is out of range: give 1 to 20"),
        (["apply", "--env", "a", "--canary", "-1"],
         "error: --canary -1 is out of range: give 0 to the --concurrency (5); the canary "
         "environments run at the same time"),
        (["apply", "--env", "a", "--canary", "3", "--concurrency", "2"],
         "error: --canary 3 is out of range: give 0 to the --concurrency (2); the canary "
         "environments run at the same time"),
        (["apply", "--env", "a", "--concurrency", "five"],
         "error: Invalid value for '--concurrency': 'five' is not a valid int; see "
         "'ebami apply --help'"),
        (["apply", "--group", "nope"],
         "error: --group 'nope' is not a group of the settings; known: api, web"),
        (["apply", "--group", "web", "--group", "api"],
         "error: web-2 is named twice (by group web and by group api): name each environment "
         "once"),
        (["apply", "--env", "web-1", "--group", "web"],
         "error: web-1 is named twice (by --env and by group web): name each environment once"),
        (["apply", "--group", "web", "--channel", "stable", "--rollback"],
         "error: give one of --ami, --rollback, --channel and --stock, not --rollback and "
         "--channel"),
        (["apply"],
         "error: Missing option '--env': give --env NAME (repeat it for several) or --group "
         "NAME"),
    ],
)  # fmt: skip
def test_refused_before_any_call(
    argv: list[str], line: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert refused(argv, capsys) == line


@pytest.mark.parametrize(
    ("toml", "line"),
    [
        ('[groups]\nweb = []\n',
         "error: ebami.toml: key 'groups.web': the group lists no environment; list "
         "[environments.NAME] keys or names"),
        ('[groups]\nweb = ["a", "a"]\n',
         "error: ebami.toml: key 'groups.web': 'a' is listed twice; list each environment once"),
        ('[groups]\nweb = ["a", " "]\n',
         "error: ebami.toml: key 'groups.web': a blank environment name; remove it"),
        ('[groups]\nweb = "a"\n',
         "error: ebami.toml: key 'groups.web': input should be a valid list (got str 'a')"),
    ],
)  # fmt: skip
def test_bad_groups_in_the_settings(
    toml: str, line: str, settings_here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (settings_here / "ebami.toml").write_text(toml)
    assert refused(["apply", "--group", "web"], capsys) == line


def test_a_group_entry_no_environment_can_have_is_refused(
    settings_here: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (settings_here / "ebami.toml").write_text('[groups]\nweb = ["shop-web", "web"]\n')
    assert refused(["apply", "--group", "web", "--dry-run"], capsys) == (
        "error: ebami.toml: key 'groups.web': 'web' is neither an [environments.NAME] of the "
        "settings nor an Elastic Beanstalk environment name; accepted: a configured NAME, or 4 "
        "to 40 letters, digits and hyphens, not starting or ending with a hyphen, such as "
        "shop-prod"
    )
