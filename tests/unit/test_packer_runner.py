"""The Packer runner over a scripted fake process (no packer binary involved)."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import pytest

from ebami.core.errors import AccessDenied, ExitCode, Interrupted, ToolError
from ebami.packer.machine import Artifact, UiKind
from ebami.packer.process import ProcessResult, Silence, Started
from ebami.packer.runner import Packer, duration


class FakeProcess:
    """Records each command started and, when finished, answers with scripted output and a
    result. A number in the output is a silence of that many seconds (reported when the
    runner asked for silence reports)."""

    def __init__(self, *answers: tuple[Sequence[str | float], ProcessResult]) -> None:
        self.answers = list(answers)
        self.calls: list[tuple[list[str], Path, dict[str, str]]] = []
        self.finished = 0

    def start(self, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> Started:
        self.calls.append((list(argv), cwd, dict(env)))
        lines, result = self.answers.pop(0)
        return FakeStarted(self, lines, result)


class FakeStarted:
    def __init__(
        self, process: FakeProcess, lines: Sequence[str | float], result: ProcessResult
    ) -> None:
        self._process = process
        self._lines = lines
        self._result = result

    def finish(
        self, on_line: Callable[[str], None], *, silence: Silence | None = None
    ) -> ProcessResult:
        self._process.finished += 1
        for line in self._lines:
            if isinstance(line, str):
                on_line(line)
            elif silence is not None:
                silence.report(line)
        return self._result


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


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_an_interrupted_version_probe_is_the_interrupt_not_a_missing_packer(
    signum: signal.Signals,
) -> None:
    # Packer stopped by the forwarded signal prints nothing and exits non-zero: without the
    # signal in view, that reads as "cannot read the version; install Packer".
    process = FakeProcess(([], ProcessResult(-int(signum), signum)))
    with pytest.raises(Interrupted) as caught:
        packer(process).version()
    assert caught.value.exit_code is ExitCode.CTRL_C
    assert str(caught.value) == f"interrupted ({signum.name}) while reading Packer's version"
    assert "install" not in str(caught.value)


def test_the_prefetched_probe_is_the_one_read_and_read_once() -> None:
    process = FakeProcess((["Packer v1.7.8"], OK))
    runner = packer(process)
    runner.prefetch_version()
    assert (len(process.calls), process.finished) == (1, 0)  # started, not waited for
    assert runner.version() == (1, 7, 8)
    assert runner.version() == (1, 7, 8)
    assert (len(process.calls), process.finished) == (1, 1)


def test_a_packer_that_cannot_be_run_is_one_clear_line() -> None:
    class Unrunnable(FakeProcess):
        def start(self, argv: Sequence[str], *, cwd: Path, env: Mapping[str, str]) -> Started:
            raise PermissionError(13, "Permission denied")

    with pytest.raises(ToolError) as caught:
        packer(Unrunnable()).version()
    assert str(caught.value).startswith(
        "cannot run /usr/bin/packer: Permission denied; install Packer 1.6.6 or newer"
    )


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


def test_a_refusal_packer_passes_on_is_ebamis_one_line(tmp_path: Path) -> None:
    """AWS's refusal in Packer's error is the same AccessDenied as one of ebami's own calls:
    the action AWS named and what it was on (exit 3, the policy command)."""
    lines = [
        "1,,ui,error,Build 'amazon-ebs.aws' errored after 2 seconds: Error creating temporary "
        "keypair: UnauthorizedOperation: You are not authorized to perform this operation. User: "
        "arn:aws:iam::123456789012:user/ci is not authorized to perform: ec2:CreateKeyPair on "
        "resource: arn:aws:ec2:us-east-1:123456789012:key-pair/packer_6571. status code: 403",
    ]
    with pytest.raises(AccessDenied) as caught:
        packer(FakeProcess((lines, ProcessResult(1)))).build(
            tmp_path, var_file=tmp_path / "v", only="x", cwd=tmp_path, on_ui=lambda *_: None
        )
    assert caught.value.action == "ec2:CreateKeyPair"
    assert caught.value.resource == "arn:aws:ec2:us-east-1:123456789012:key-pair/packer_6571"
    assert caught.value.exit_code == ExitCode.AWS
    assert "(packer build)" in caught.value.message


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


def test_a_silent_packer_gets_a_heartbeat_naming_its_last_step(tmp_path: Path) -> None:
    lines: list[str | float] = [
        "1,,ui,say,==> amazon-ebs.aws: Creating AMI ebami-x from instance i-1",
        "1,,ui,message,    amazon-ebs.aws: AMI: ami-1",
        "1,,ui,say,==> amazon-ebs.aws: Waiting for AMI to become ready...",
        150.0,
        "1,amazon-ebs.aws,artifact,0,id,us-east-1:ami-1",
    ]
    seen: list[tuple[UiKind, str]] = []
    packer(FakeProcess((lines, OK))).build(
        tmp_path,
        var_file=tmp_path / "v",
        only="x",
        cwd=tmp_path,
        on_ui=lambda kind, text: seen.append((kind, text)),
    )
    assert seen[3] == (
        UiKind.HEARTBEAT,
        'still at "amazon-ebs.aws: Waiting for AMI to become ready..." (2 min 30 s without output)',
    )


def test_a_heartbeat_before_any_step_says_packer_is_starting(tmp_path: Path) -> None:
    seen: list[tuple[UiKind, str]] = []
    with pytest.raises(ToolError):
        packer(FakeProcess(([45.0], ProcessResult(1)))).build(
            tmp_path,
            var_file=tmp_path / "v",
            only="x",
            cwd=tmp_path,
            on_ui=lambda kind, text: seen.append((kind, text)),
        )
    assert seen == [(UiKind.HEARTBEAT, "still starting (45 s without output)")]


@pytest.mark.parametrize(
    ("seconds", "said"),
    [(0.4, "0 s"), (45.9, "45 s"), (60, "1 min 0 s"), (150, "2 min 30 s"), (3725, "1 h 2 min")],
)
def test_durations_read_as_people_say_them(seconds: float, said: str) -> None:
    assert duration(seconds) == said
