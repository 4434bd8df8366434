"""`ebami render` through the real entry point: exact output and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from ebami.cli.main import main
from ebami.core.errors import ExitCode
from ebami.image.drivers import KNOWN_DRIVERS

SEED_LINE = 'ECS_AVAILABLE_LOGGING_DRIVERS=["json-file","syslog","awslogs","fluentd","none"]'


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_render_prints_the_cloud_config(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "render", "--release", "2017.09")
    assert (code, err) == (0, "")
    document = yaml.safe_load(out)
    assert document["repo_releasever"] == "2017.09"
    assert document["runcmd"][-1][-1] == SEED_LINE


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--platform", "ecs-al2", "--release", "2017.09"],
            "error: --release: release '2017.09' is an Amazon Linux 1 release, but ecs-al2 runs "
            "Amazon Linux 2; accepted: 2\n",
        ),
        (
            ["--release", "17.09"],
            "error: --release: release '17.09' is not a release of multicontainer-docker "
            "(Amazon Linux 1); accepted: 2011.09, 2012.03, 2012.09, 2013.03, 2013.09, "
            "2014.03, 2014.09, 2015.03, 2015.09, 2016.03, 2016.09, 2017.03, 2017.09, 2018.03\n",
        ),
        (
            ["--release", "2017.09", "--drivers", "fluentd,$(reboot)"],
            "error: --drivers: log driver '$(reboot)' is not accepted: the ECS agent does not "
            "know it and would not start; accepted: " + ", ".join(KNOWN_DRIVERS) + "\n",
        ),
        (
            ["--release", "2017.09", "--drivers", "json-file,local"],
            "error: --drivers: log driver 'local' is not accepted: the ECS agent does not know "
            "it and would not start; accepted: " + ", ".join(KNOWN_DRIVERS) + "\n",
        ),
        (
            ["--release", "2018.03", "--drivers", "fluentd,awsfirelens"],
            "error: log driver 'awsfirelens' is not accepted on multicontainer-docker: it needs "
            "ECS agent 1.50.0 or newer, multicontainer-docker runs ECS agent 1.15.0 or newer, "
            "older than 1.50.0 (Amazon Linux 1 2018.03 shipped ecs-init 1.15.0-4+), which would "
            "not start; accepted there: json-file, syslog, journald, gelf, fluentd, awslogs, "
            "splunk, logentries, sumologic, none\n",
        ),
        (
            ["--platform", "beanstalk"],
            "error: --platform: unknown platform 'beanstalk'; accepted: multicontainer-docker "
            "(Multi-container Docker running on 64bit Amazon Linux), ecs-al2 (ECS running on 64bit "
            "Amazon Linux 2), ecs-al2023 (ECS running on 64bit Amazon Linux 2023)\n",
        ),
        (
            [],
            "error: multicontainer-docker runs Amazon Linux 1: pass --release, one of 2011.09, "
            "2012.03, 2012.09, 2013.03, 2013.09, 2014.03, 2014.09, 2015.03, 2015.09, 2016.03, "
            "2016.09, 2017.03, 2017.09, 2018.03\n",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    assert run(capsys, "render", *args) == (ExitCode.USAGE, "", message)


def test_unknown_option_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "render", "--bogus")
    assert (code, out) == (ExitCode.USAGE, "")
    assert err.count("\n") == 1
    assert err.startswith("error: No such option: --bogus")
    assert err.endswith("; see 'ebami render --help'\n")


def test_al2_render_has_no_releasever(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "render", "--platform", "ecs-al2")
    assert code == 0
    assert "repo_releasever" not in yaml.safe_load(out)


def test_json_output_and_out_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    target = tmp_path / "user-data.yaml"
    code, out, err = run(
        capsys, "--output", "json", "render", "--release", "2018.03", "--out", str(target)
    )
    assert code == 0
    result = json.loads(out)
    assert result["release"] == "2018.03"
    assert result["drivers"] == ["json-file", "syslog", "awslogs", "fluentd", "none"]
    assert result["user_data"] == target.read_text()
    assert result["size"] == len(target.read_bytes())
    assert err == f"wrote {target} ({result['size']} bytes, sha256 {result['sha256']})\n"


def test_out_into_missing_folder_writes_nothing(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    target = tmp_path / "missing" / "user-data.yaml"
    code, out, err = run(capsys, "render", "--release", "2018.03", "--out", str(target))
    assert (code, out) == (ExitCode.USAGE, "")
    assert err == f"error: --out {target}: folder {target.parent} does not exist\n"
    assert not target.parent.exists()


def test_check_runs_cloud_init_schema(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "render", "--release", "2017.09", "--check")
    assert code == 0
    lines = err.splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["passed", "header:"],
        ["passed", "yaml:"],
        ["passed", "size:"],
        ["passed", "cloud-init"],
    ]


def test_check_says_when_schema_is_skipped(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    code, _, err = run(capsys, "render", "--release", "2017.09", "--check")
    assert code == 0
    assert err.splitlines()[-1] == (
        "warning: skipped  cloud-init schema: cloud-init is not installed; schema not checked"
    )


def test_settings_file_values_are_blamed_on_the_file(
    capsys: pytest.CaptureFixture[str], isolated_environment: Path
) -> None:
    (isolated_environment / "ebami.toml").write_text('release = "2017.9"\n')
    code, _, err = run(capsys, "render")
    assert code == ExitCode.USAGE
    assert err.startswith("error: ebami.toml: release: release '2017.9' is not a release")


def test_environment_drivers_are_used(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EBAMI_DRIVERS", "fluentd,json-file")
    code, out, _ = run(capsys, "render", "--platform", "ecs-al2023")
    assert code == 0
    assert 'ECS_AVAILABLE_LOGGING_DRIVERS=["fluentd","json-file"]' in out


def test_sumologic_and_firelens_render_where_the_agent_knows_them(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "render", "--platform", "ecs-al2023", "--drivers",
                       "sumologic,awsfirelens")  # fmt: skip
    assert code == 0
    assert 'ECS_AVAILABLE_LOGGING_DRIVERS=["sumologic","awsfirelens"]' in out
