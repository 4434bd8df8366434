"""The rendered runcmd, run as cloud-init runs it, by a real shell inside bubblewrap."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from ebami.cli.main import main
from ebami.image.drivers import DEFAULT_DRIVERS
from ebami.image.platforms import PLATFORMS
from ebami.image.userdata import render_user_data
from tests.helpers import cloud_init_script, run_in_jail

SEED_LINE = 'ECS_AVAILABLE_LOGGING_DRIVERS=["json-file","syslog","awslogs","fluentd","none"]'


def rendered_cli(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["render", *args]) == 0
    return capsys.readouterr().out


def run_runcmd(user_data: str, etc: Path) -> None:
    document = yaml.safe_load(user_data)
    proc = run_in_jail(cloud_init_script(document["runcmd"]), etc)
    assert proc.returncode == 0, proc.stderr


def test_seed_release_twice_leaves_one_line_and_keeps_the_cluster(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    host_before = _host_ecs_state()
    user_data = rendered_cli(capsys, "--release", "2017.09")
    (tmp_path / "ecs").mkdir()
    config = tmp_path / "ecs" / "ecs.config"
    config.write_text("ECS_CLUSTER=x\n")

    run_runcmd(user_data, tmp_path)
    assert config.read_text() == f"ECS_CLUSTER=x\n{SEED_LINE}\n"
    run_runcmd(user_data, tmp_path)
    assert config.read_text() == f"ECS_CLUSTER=x\n{SEED_LINE}\n"
    assert _host_ecs_state() == host_before


def _host_ecs_state() -> str | None:
    host = Path("/etc/ecs/ecs.config")
    return host.read_text() if host.exists() else None


def test_creates_the_folder_and_file_when_absent(tmp_path: Path) -> None:
    data = render_user_data(PLATFORMS[1], DEFAULT_DRIVERS)
    run_runcmd(data.text, tmp_path)
    assert (tmp_path / "ecs" / "ecs.config").read_text() == f"{SEED_LINE}\n"


def test_replaces_old_and_stacked_lines_and_fixes_a_missing_newline(tmp_path: Path) -> None:
    (tmp_path / "ecs").mkdir()
    config = tmp_path / "ecs" / "ecs.config"
    config.write_text(
        'ECS_AVAILABLE_LOGGING_DRIVERS=["json-file"]\n'
        "ECS_CLUSTER=x\n"
        "  ECS_AVAILABLE_LOGGING_DRIVERS='[\"fluentd\"]'\n"
        "ECS_LOGLEVEL=info"
    )
    data = render_user_data(PLATFORMS[2], ["fluentd", "none"])
    run_runcmd(data.text, tmp_path)
    assert config.read_text() == (
        'ECS_CLUSTER=x\nECS_LOGLEVEL=info\nECS_AVAILABLE_LOGGING_DRIVERS=["fluentd","none"]\n'
    )


def test_a_quoting_bug_in_a_runcmd_fails_visibly(tmp_path: Path) -> None:
    # The source article's style, with an unbalanced quote: the shell must refuse it.
    broken = (
        "#cloud-config\nruncmd:\n"
        '  - echo \'ECS_AVAILABLE_LOGGING_DRIVERS=["fluentd"] >> /etc/ecs/ecs.config\n'
    )
    proc = run_in_jail(cloud_init_script(yaml.safe_load(broken)["runcmd"]), tmp_path)
    assert proc.returncode != 0
    assert "unterminated" in proc.stderr or "Unterminated" in proc.stderr or "EOF" in proc.stderr
