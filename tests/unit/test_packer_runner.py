"""The Packer runner over a scripted fake process (no packer binary involved)."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

from ebami.errors import ExitCode, Interrupted, ToolError
from ebami.packer.machine import Artifact, UiKind
from ebami.packer.process import ProcessResult
from ebami.packer.runner import Packer


class FakeProcess:
    """Records each command and answers with scripted output lines and a result."""

    def __init__(self, *answers: tuple[list[str], ProcessResult]) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[list[str], Path, dict[str, str]]] = []

    def run(
        self,
        argv: Sequence[str],
        *,
        cwd: Path,
        env: Mapping[str, str],
        on_line: Callable[[str], None],
    ) -> ProcessResult:
        self.calls.append((list(argv), cwd, dict(env)))
        lines, result = self.answers.pop(0)
        for line in lines:
            on_line(line)
        return result


def packer(process: FakeProcess) -> Packer:
    return Packer(process, binary="/usr/bin/packer", environ={"PATH": "/usr/bin"})


OK = ProcessResult(0)


def test_version_is_read_and_checkpoint_is_disabled() -> None:
    process = FakeProcess((["Packer v1.6.6"], OK))
    assert packer(process).version() == (1, 6, 6)
    argv, _, env = process.calls[0]
    assert argv == ["/usr/bin/packer", "version"]
    assert env["CHECKPOINT_DISABLE"] == "1"


def test_newer_packer_versions_print_more_lines() -> None:
    lines = ["Packer v1.11.2", "", "Your version of Packer is out of date!"]
    assert packer(FakeProcess((lines, OK))).version() == (1, 11, 2)


def test_too_old_packer_is_refused() -> None:
    with pytest.raises(ToolError) as caught:
        packer(FakeProcess((["Packer v1.5.6"], OK))).version()
    assert str(caught.value).startswith(
        "/usr/bin/packer is Packer 1.5.6, older than ebami supports; install Packer 1.6.6"
    )


def test_unreadable_version_is_refused() -> None:
    with pytest.raises(ToolError, match=r"cannot read the version .* \(exit 2: boom\)"):
        packer(FakeProcess((["boom"], ProcessResult(2)))).version()


def test_missing_packer_names_the_install(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match=r"packer was not found on PATH; install Packer 1\.6\.6"):
        Packer.find(FakeProcess(), {"PATH": str(tmp_path)})


def test_build_reads_artifact_lines_and_streams_progress(tmp_path: Path) -> None:
    lines = [
        "1,,ui,say,==> amazon-ebs.aws: Launching a source AWS instance...",
        "1,,ui,message,    amazon-ebs.aws: Instance ID: i-1",
        "1,amazon-ebs.aws,artifact,0,id,us-east-1:ami-1%!(PACKER_COMMA)eu-west-1:ami-2",
    ]
    process = FakeProcess((lines, OK))
    seen: list[tuple[UiKind, str]] = []
    result = packer(process).build(
        tmp_path / "t",
        var_file=tmp_path / "v.json",
        only="amazon-ebs.aws",
        cwd=tmp_path,
        on_ui=lambda kind, text: seen.append((kind, text)),
    )
    assert result.artifacts == (Artifact("us-east-1", "ami-1"), Artifact("eu-west-1", "ami-2"))
    assert seen[:2] == [
        (UiKind.SAY, "==> amazon-ebs.aws: Launching a source AWS instance..."),
        (UiKind.MESSAGE, "    amazon-ebs.aws: Instance ID: i-1"),
    ]
    argv = process.calls[0][0]
    assert argv == [
        "/usr/bin/packer",
        "build",
        "-machine-readable",
        "-on-error=cleanup",
        "-only=amazon-ebs.aws",
        f"-var-file={tmp_path / 'v.json'}",
        str(tmp_path / "t"),
    ]


def test_build_prefers_the_manifests_last_run(tmp_path: Path) -> None:
    (tmp_path / "manifest.json").write_text(
        json.dumps(
            {
                "builds": [
                    {"artifact_id": "us-east-1:ami-old", "packer_run_uuid": "a"},
                    {"artifact_id": "us-east-1:ami-new", "packer_run_uuid": "b"},
                ],
                "last_run_uuid": "b",
            }
        )
    )
    lines = ["1,amazon-ebs.aws,artifact,0,id,us-east-1:ami-from-lines"]
    result = packer(FakeProcess((lines, OK))).build(
        tmp_path, var_file=tmp_path / "v", only="x", cwd=tmp_path, on_ui=lambda *_: None
    )
    assert result.artifacts == (Artifact("us-east-1", "ami-new"),)


def test_failed_build_carries_packers_last_error_line(tmp_path: Path) -> None:
    lines = [
        "1,,ui,error,==> amazon-ebs.aws: Error querying AMI: InvalidAMIID.NotFound",
        "1,,ui,error,Build 'amazon-ebs.aws' errored after 1 second: Error querying AMI: "
        "InvalidAMIID.NotFound",
    ]
    with pytest.raises(ToolError) as caught:
        packer(FakeProcess((lines, ProcessResult(1)))).build(
            tmp_path, var_file=tmp_path / "v", only="x", cwd=tmp_path, on_ui=lambda *_: None
        )
    assert str(caught.value) == (
        "packer build failed (exit 1): Build 'amazon-ebs.aws' errored after 1 second: "
        "Error querying AMI: InvalidAMIID.NotFound"
    )


def test_build_without_any_ami_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ToolError, match="reported no AMI"):
        packer(FakeProcess(([], OK))).build(
            tmp_path, var_file=tmp_path / "v", only="x", cwd=tmp_path, on_ui=lambda *_: None
        )


def test_interrupted_build_is_reported_as_such(tmp_path: Path) -> None:
    answer = (["1,,ui,say,Cleanly cancelled builds after being interrupted."], None)
    process = FakeProcess((answer[0], ProcessResult(1, signal.SIGINT)))
    with pytest.raises(Interrupted) as caught:
        packer(process).build(
            tmp_path, var_file=tmp_path / "v", only="x", cwd=tmp_path, on_ui=lambda *_: None
        )
    assert caught.value.exit_code is ExitCode.CTRL_C
    assert str(caught.value) == (
        "interrupted (SIGINT): packer build stopped and cleaned up (exit 1)"
    )
