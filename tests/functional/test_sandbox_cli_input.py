"""`ebami sandbox start|run` refuse a bad region or folder in one line, exit 2, before any
server starts."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from ebami.cli.main import main
from ebami.core.errors import ExitCode
from ebami.sandbox.start_checks import served_regions


@pytest.fixture(autouse=True)
def nothing_starts(monkeypatch: pytest.MonkeyPatch) -> None:
    """A refusal must come before any server: starting one fails the test."""

    def refuse(*_: object, **__: object) -> None:
        pytest.fail("a sandbox server was started")

    monkeypatch.setattr(subprocess, "Popen", refuse)
    from ebami.sandbox.server import SandboxServer

    monkeypatch.setattr(SandboxServer, "start", refuse)


def refusal(args: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    code = main(args)
    err = capsys.readouterr().err
    assert code == ExitCode.USAGE, err
    assert len(err.splitlines()) == 1, err
    return err


def test_served_regions_are_the_aws_partitions_where_the_world_can_live() -> None:
    regions = served_regions()
    assert {"us-east-1", "eu-west-1", "ap-southeast-2"} <= set(regions)
    # The world's ARNs and IAM are the aws partition's: China and GovCloud cannot be seeded.
    assert not {"cn-north-1", "us-gov-west-1"} & set(regions)
    assert regions == sorted(regions)


@pytest.mark.parametrize("region", ["moon-1", "us-east-99", "US-EAST-1", "cn-north-1", ""])
@pytest.mark.parametrize("command", ["start", "run"])
def test_a_region_the_sandbox_cannot_serve_is_refused(
    region: str, command: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "sb"
    args = ["--dir", str(folder)] if command == "start" else []
    tail = ["--", "true"] if command == "run" else []
    err = refusal(["sandbox", command, "--region", region, *args, *tail], capsys)
    assert err == (
        f"error: --region {region} is not a region the sandbox serves: give an AWS region, "
        f"one of {', '.join(served_regions())}\n"
    )
    assert not folder.exists()


def test_a_dir_that_cannot_be_created_is_refused(capsys: pytest.CaptureFixture[str]) -> None:
    assert refusal(["sandbox", "start", "--dir", "/proc/x"], capsys) == (
        "error: --dir /proc/x: cannot create or write the sandbox folder (No such file or "
        "directory); give a folder you can create and write to\n"
    )


@pytest.mark.parametrize(
    ("value", "reason"),
    [("/proc/x", "No such file or directory"), ("{file}", "it is a file")],
)
def test_an_ebami_sandbox_dir_that_cannot_be_created_is_refused(
    value: str,
    reason: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    file = tmp_path / "a-file"
    file.write_text("")
    value = value.format(file=file)
    monkeypatch.setenv("EBAMI_SANDBOX_DIR", value)
    assert refusal(["sandbox", "start"], capsys) == (
        f"error: EBAMI_SANDBOX_DIR={value}: cannot create or write the sandbox folder "
        f"({reason}); give a folder you can create and write to\n"
    )


def test_the_default_folder_is_named_when_it_cannot_be_created(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_STATE_HOME", "/proc/x")
    assert refusal(["sandbox", "start"], capsys) == (
        "error: the default sandbox folder /proc/x/ebami/sandbox (set --dir or "
        "EBAMI_SANDBOX_DIR): cannot create or write the sandbox folder (No such file or "
        "directory); give a folder you can create and write to\n"
    )


def test_status_and_stop_with_a_file_for_a_folder_find_no_sandbox(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    file = tmp_path / "a-file"
    file.write_text("")
    assert main(["sandbox", "stop", "--dir", str(tmp_path / "a-file" / "sb")]) == ExitCode.OK
    assert main(["sandbox", "status", "--dir", str(tmp_path / "a-file" / "sb")]) == (
        ExitCode.NOT_FOUND
    )
    assert "internal error" not in capsys.readouterr().err


@pytest.mark.parametrize("command", ["start", "run"])
@pytest.mark.parametrize(
    ("given", "error"),
    [
        (
            "prod=Red",
            "--unrelated-health 'prod=Red' is not ENV=LEVEL: give an environment name, '=', "
            "and Warning or Degraded",
        ),
        (
            "qa=Warning",
            "--unrelated-health (or EBAMI_SANDBOX_UNRELATED_HEALTH) qa names no sandbox "
            "environment: give staging, prod",
        ),
        (
            "staging=Warning --unrelated-health staging=Degraded",
            "--unrelated-health names staging twice: give one level per environment",
        ),
    ],
)
def test_a_bad_unrelated_health_fault_is_refused(
    command: str, given: str, error: str, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    folder = tmp_path / "sb"
    args = ["--dir", str(folder)] if command == "start" else []
    tail = ["--", "true"] if command == "run" else []
    flags = [
        part
        for value in given.split(" --unrelated-health ")
        for part in ("--unrelated-health", value)
    ]
    err = refusal(["sandbox", command, *flags, *args, *tail], capsys)
    assert err.startswith(f"error: {error}")
    assert not folder.exists()
