"""`ebami build`'s refusals: one line, exit 2, before any AWS call or Packer run."""

from __future__ import annotations

from pathlib import Path

import pytest

from ebami.cli.main import main
from ebami.core.errors import ExitCode


def test_missing_release_on_amazon_linux_1_is_refused_before_any_call(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    code = main(["--region", "us-east-1", "build"])
    assert code == ExitCode.USAGE
    assert capsys.readouterr().err.startswith(
        "error: multicontainer-docker runs Amazon Linux 1: pass --release, one of 2011.09"
    )


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
        (
            ["--release", "2"],
            "error: --release: release '2' is an Amazon Linux 2 release, but "
            "multicontainer-docker runs Amazon Linux 1; accepted: 2011.09, 2012.03, "
            "2012.09, 2013.03, 2013.09, 2014.03, 2014.09, 2015.03, 2015.09, 2016.03, "
            "2016.09, 2017.03, 2017.09, 2018.03",
        ),
    ],
    ids=[
        "tag-shape",
        "reserved-tag",
        "session-manager-on-al1",
        "record-folder",
        "driver",
        "release-of-another-family",
    ],
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
