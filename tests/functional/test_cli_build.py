"""`ebami build`'s refusals: one line, exit 2, before any AWS call or Packer run."""

from __future__ import annotations

from pathlib import Path

import pytest

from ebami.cli.main import main
from ebami.errors import ExitCode


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--tag", "team"],
            "error: --tag 'team' is not KEY=VALUE; write --tag team=platform",
        ),
        (
            ["--tag", "ebami:bake-key=x"],
            "error: tag 'ebami:bake-key' uses a reserved prefix (ebami: or aws:); pick another key",
        ),
        (
            ["--communicator", "session-manager"],
            "error: --communicator session-manager needs an SSM agent on the builder, and "
            "multicontainer-docker's base AMI has none; use --communicator ssh",
        ),
        (
            ["--record", "no/such/folder/build.json"],
            "error: --record no/such/folder/build.json: folder no/such/folder does not exist",
        ),
        (
            ["--drivers", "fluentd,gelf2"],
            None,
        ),
    ],
    ids=["tag-shape", "reserved-tag", "session-manager-on-al1", "record-folder", "driver"],
)
def test_bad_input_is_refused_before_any_call(
    args: list[str],
    message: str | None,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.chdir(tmp_path)
    # No endpoint and no credentials: any AWS call would fail with another message.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    code = main(["--region", "us-east-1", "build", "--release", "2017.09", *args])
    err = capsys.readouterr().err
    assert code == ExitCode.USAGE, err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    if message is not None:
        assert lines[0] == message
    else:
        assert lines[0].startswith("error: ")
        assert "gelf2" in lines[0]
