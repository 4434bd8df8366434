"""The ecs.config check Packer runs on the builder's files during a real-AWS bake."""

from __future__ import annotations

from pathlib import Path

import pytest

from ebami.image.bakecheck import main

LINE = 'ECS_AVAILABLE_LOGGING_DRIVERS=["json-file","fluentd"]'


def run(tmp_path: Path, etc: str | None, var_lib: str | None = None) -> int:
    paths = []
    for name, text in (("var-lib.config", var_lib), ("etc.config", etc)):
        path = tmp_path / name
        if text is not None:
            path.write_text(text)
        paths.append(str(path))
    return main(["--drivers", "json-file,fluentd", *paths])


def test_a_good_file_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, f"ECS_CLUSTER=x\n{LINE}\n") == 0
    assert capsys.readouterr().out.startswith("ebami: ecs.config allows json-file, fluentd")


def test_a_quoted_value_fails_and_shows_the_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(tmp_path, "ECS_AVAILABLE_LOGGING_DRIVERS='[\"fluentd\"]'\n") == 1
    err = capsys.readouterr().err
    assert "ebami: --- /etc/ecs/ecs.config ---" in err
    assert "ECS_AVAILABLE_LOGGING_DRIVERS='[\"fluentd\"]'" in err
    assert "the value is quoted" in err
    assert 'the agent allows ["json-file", "none"], without fluentd' in err


def test_no_line_at_all_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(tmp_path, None) == 1
    assert "no line sets ECS_AVAILABLE_LOGGING_DRIVERS" in capsys.readouterr().err


def test_the_user_file_overrides_the_instance_file(tmp_path: Path) -> None:
    stale = 'ECS_AVAILABLE_LOGGING_DRIVERS=["json-file"]'
    assert run(tmp_path, etc=f"{LINE}\n", var_lib=f"{stale}\n") == 0
    assert run(tmp_path, etc=f"{stale}\n", var_lib=f"{LINE}\n") == 1


def test_a_lone_carriage_return_is_no_line_break(tmp_path: Path) -> None:
    """ecs-init splits on \\n only: the drivers line after a lone \\r is part of the value."""
    (tmp_path / "etc.config").write_bytes(f"ECS_CLUSTER=x\r{LINE}\n".encode())
    args = ["--drivers", "fluentd", str(tmp_path / "missing"), str(tmp_path / "etc.config")]
    assert main(args) == 1


def test_an_unknown_driver_fails_because_the_agent_will_not_start(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(tmp_path, 'ECS_AVAILABLE_LOGGING_DRIVERS=["json-file","fluentd","local"]\n') == 1
    assert "the agent will not start" in capsys.readouterr().err
