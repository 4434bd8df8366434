"""`-o github`: step outputs GitHub can read back, summaries, and escaped annotations."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from ebami.cli.context import AppContext, OutputFormat
from ebami.cli.github import GithubOutputs
from ebami.cli.terminal import Terminal
from ebami.core.errors import InputError
from ebami.core.tables import table


def read_outputs(path: Path) -> dict[str, str]:
    """The runner's reading of $GITHUB_OUTPUT: `name=value` and `name<<DELIM` ... `DELIM`."""
    values: dict[str, str] = {}
    lines = iter(path.read_text().split("\n"))
    for line in lines:
        if not line:
            continue
        heredoc = re.fullmatch(r"([^=<]+)<<(.+)", line)
        if heredoc:
            name, delimiter = heredoc.groups()
            body = []
            for item in lines:
                if item == delimiter:
                    break
                body.append(item)
            else:
                pytest.fail(f"no closing {delimiter}")
            values[name] = "\n".join(body)
        else:
            name, _, value = line.partition("=")
            values[name] = value
    return values


def test_outputs_single_and_multi_line_read_back(tmp_path: Path) -> None:
    output = tmp_path / "out"
    output.touch()
    outputs = GithubOutputs({"GITHUB_OUTPUT": str(output)})
    outputs.set({"build-needed": "true", "drift": "prod a\nstaging b", "empty": ""})
    outputs.set({"tricky": "EBAMI_x\n=<<"})
    assert read_outputs(output) == {
        "build-needed": "true",
        "drift": "prod a\nstaging b",
        "empty": "",
        "tricky": "EBAMI_x\n=<<",
    }


def test_a_multi_line_value_never_contains_its_delimiter(tmp_path: Path) -> None:
    output = tmp_path / "out"
    outputs = GithubOutputs({"GITHUB_OUTPUT": str(output)})
    outputs.set({"value": "a\nb"})
    delimiter = output.read_text().split("\n")[0].split("<<")[1]
    assert delimiter.startswith("EBAMI_")
    assert delimiter not in "a\nb"


def test_summary_appends_and_is_skipped_without_the_file(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    outputs = GithubOutputs(
        {"GITHUB_OUTPUT": str(tmp_path / "o"), "GITHUB_STEP_SUMMARY": str(summary)}
    )
    outputs.summary("# one")
    outputs.summary("# two\n")
    assert summary.read_text() == "# one\n# two\n"
    GithubOutputs({"GITHUB_OUTPUT": str(tmp_path / "o")}).summary("nowhere")


def test_annotations_escape_what_github_would_misread() -> None:
    stdout = io.StringIO()
    outputs = GithubOutputs({"GITHUB_OUTPUT": "/dev/null"}, stdout=stdout)
    outputs.annotate("warning", "100% drift\nsecond line", title="ebami: prod, staging")
    assert stdout.getvalue() == (
        "::warning title=ebami%3A prod%2C staging::100%25 drift%0Asecond line\n"
    )


def test_refused_outside_github_actions() -> None:
    with pytest.raises(InputError, match=r"-o github writes step outputs to \$GITHUB_OUTPUT"):
        GithubOutputs({"GITHUB_ACTIONS": "true"})


def test_an_output_file_that_became_unwritable_is_one_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "gone"
    folder.mkdir()
    outputs = GithubOutputs({"GITHUB_OUTPUT": str(folder / "out")})
    folder.rmdir()
    with pytest.raises(InputError, match=r"\$GITHUB_OUTPUT .*gone/out: cannot write"):
        outputs.set({"a": "b"})


@pytest.mark.parametrize("variable", ["GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY"])
@pytest.mark.parametrize(
    ("target", "problem"),
    [
        ("{tmp}", "is a folder; give the path of a file"),
        ("{tmp}/missing/out", "folder {tmp}/missing does not exist"),
        ("/dev/full", "cannot write: No space left on device"),
        # A folder that takes no file, and a file that takes no data (root may open it).
        ("/sys/ebami-out", "cannot write in /sys: Permission denied"),
        ("/proc/version", "cannot write: "),
    ],
    ids=["folder", "missing-folder", "dev-full", "read-only-folder", "read-only-file"],
)
def test_targets_that_cannot_be_written_are_refused_when_made(
    variable: str, target: str, problem: str, tmp_path: Path
) -> None:
    target, problem = target.format(tmp=tmp_path), problem.format(tmp=tmp_path)
    if not target.startswith(str(tmp_path)) and not Path(target).parent.exists():
        pytest.skip(f"needs {Path(target).parent}")
    environ = {"GITHUB_OUTPUT": str(tmp_path / "out"), variable: target}
    with pytest.raises(InputError) as refused:
        GithubOutputs(environ)
    assert str(refused.value).startswith(f"${variable} {target}: {problem}")


def test_proving_the_targets_changes_nothing_the_runner_reads(tmp_path: Path) -> None:
    output, summary = tmp_path / "out", tmp_path / "summary.md"
    output.write_text("earlier=1")  # a line an earlier command left unterminated
    summary.touch()
    outputs = GithubOutputs({"GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(summary)})
    # The runner skips empty lines in $GITHUB_OUTPUT, and uploads any non-empty summary file.
    assert output.read_text() == "earlier=1\n"
    assert summary.read_text() == ""
    outputs.set({"a": "b"})
    assert read_outputs(output) == {"earlier": "1", "a": "b"}
    # A target that does not exist yet is not made by the check.
    GithubOutputs(
        {"GITHUB_OUTPUT": str(tmp_path / "new"), "GITHUB_STEP_SUMMARY": str(tmp_path / "s")}
    )
    assert not (tmp_path / "new").exists()
    assert not (tmp_path / "s").exists()


def test_the_targets_are_proven_once_per_command(tmp_path: Path) -> None:
    output = tmp_path / "out"
    output.touch()
    app = AppContext(
        terminal=Terminal(),
        output=OutputFormat.GITHUB,
        config_file=None,
        global_flags={},
        environ={"GITHUB_OUTPUT": str(output)},
    )
    app.check_output()
    assert app.github is app.github
    assert output.read_text() == "\n"


def test_table_cells_escape_pipes_and_line_breaks() -> None:
    assert table(("A", "B"), [("x|y", "one\ntwo")]) == (
        "| A | B |\n|---|---|\n| x\\|y | one two |\n"
    )
