"""The local workflow runner (tests/workflow_runner.py): its expressions, the files a step writes,
and a small job run for real with bash. What it does not know must raise, never be skipped."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.workflow_runner import (
    Runner,
    Scope,
    Strict,
    Value,
    WorkflowError,
    parse,
    parse_command_file,
    workflow_annotations,
)

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))
PINNED = "@" + "a" * 40


def scope(*, failed: bool = False) -> Scope:
    return Scope(
        {
            "steps": Strict(
                check=Strict(
                    outputs={"build-needed": "true", "drift": "a\nb"},
                    outcome="success",
                    conclusion="success",
                ),
                build=Strict(outputs={}, outcome="skipped", conclusion="skipped"),
            ),
            "inputs": {"force": False, "release": "2017.09"},
            "vars": {"AWS_REGION": "us-east-1"},
            "env": {"EBAMI_RELEASE": "2018.03"},
            "github": Strict(event_name="schedule", run_id="7"),
        },
        failed=failed,
    )


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("true", True),
        ("null", None),
        ("'it''s'", "it's"),
        ("42", 42.0),
        ("steps.check.outputs.build-needed", "true"),
        ("steps.check.outputs.build-needed == 'true'", True),
        ("steps.check.outputs.build-needed == 'TRUE'", True),  # case-insensitive strings
        ("steps.check.outputs.missing", None),
        ("steps.check.outputs.missing == ''", True),  # null and '' are both 0 as numbers
        ("steps.build.outputs.ami-id != ''", False),
        ("steps.build.outcome", "skipped"),
        ("inputs.force", False),
        ("inputs.force == false", True),
        ("inputs.missing || '2017.09'", "2017.09"),  # || returns an operand
        ("inputs.release && 'x'", "x"),
        ("inputs.force && 'x'", False),
        ("vars.AWS_REGION", "us-east-1"),
        ("vars.UNSET", None),
        ("env.EBAMI_RELEASE", "2018.03"),
        ("github.event_name == 'schedule'", True),
        ("!inputs.force", True),
        ("!(true && false) || false", True),
        ("true || false && false", True),  # && binds tighter than ||
        ("(true || false) && false", False),
        ("'1' == 1", True),  # mixed types compare as numbers
        ("true == 1", True),
        ("'abc' == 0", False),  # NaN equals nothing
        ("always()", True),
        ("success()", True),
        ("failure()", False),
        ("cancelled()", False),
    ],
)
def test_expressions(expression: str, expected: Value) -> None:
    assert scope().expression(expression) == expected


@pytest.mark.parametrize(
    ("condition", "ok", "failed_job"),
    [
        (None, True, False),
        (None, False, True),  # the default is success()
        ("steps.check.outputs.build-needed == 'true'", True, False),
        ("${{ steps.check.outputs.build-needed == 'true' }}", True, False),
        ("steps.check.outputs.build-needed == 'true'", False, True),  # implicit success() &&
        ("always() && steps.build.outcome != 'skipped'", False, True),
        ("always()", True, True),
        ("failure()", True, True),
        ("steps.check.outputs.build-needed == 'true' || inputs.force", True, False),
        (True, True, False),
    ],
)
def test_conditions(condition: object, ok: bool, failed_job: bool) -> None:
    assert scope(failed=failed_job).condition(condition) is ok


@pytest.mark.parametrize(
    "expression",
    [
        "secrets.TOKEN",  # a context this runner does not provide
        "matrix.python",
        "github.token",  # a github key it does not know
        "steps.typo.outputs.x",  # a step id the job does not have
        "steps.check.result",
        "contains(inputs.release, '2017')",  # an unsupported function
        "format('{0}', 1)",
        "steps.check.outputs['build-needed']",  # index syntax
        "inputs.*",
        "1 < 2",
        "true &&",
        "(true",
        "'unterminated",
    ],
)
def test_what_the_runner_does_not_know_raises(expression: str) -> None:
    with pytest.raises(WorkflowError):
        scope().expression(expression)


def test_interpolation() -> None:
    text = "release ${{ inputs.release }}, force ${{ inputs.force }}, ${{ vars.UNSET }}."
    assert scope().interpolate(text) == "release 2017.09, force false, ."
    assert scope().interpolate("${{ steps.check.outputs.drift }}") == "a\nb"
    with pytest.raises(WorkflowError):
        scope().interpolate("${{ inputs.release")
    with pytest.raises(WorkflowError):
        scope().condition("x ${{ true }}")


def test_output_files() -> None:
    text = textwrap.dedent(
        """\
        built=true
        ami-id=ami-0123

        drift<<EBAMI_1f
        staging ami-1 (30 days)
        prod=ami-2 <<x
        EBAMI_1f
        equation=a=b<<c
        empty=
        """
    )
    assert parse_command_file(text) == {
        "built": "true",
        "ami-id": "ami-0123",
        "drift": "staging ami-1 (30 days)\nprod=ami-2 <<x",
        "equation": "a=b<<c",  # the first `=` comes before `<<`: a plain value
        "empty": "",
    }
    assert parse_command_file("a<<END\nEND\n") == {"a": ""}
    assert parse_command_file("a=1\na=2\n") == {"a": "2"}  # the last one wins


@pytest.mark.parametrize(
    "text",
    ["drift<<END\nline\n", "no value here\n", "=x\n", "a<<\nb\n"],
    ids=["unclosed", "invalid", "no-name", "no-delimiter"],
)
def test_bad_output_files_raise(text: str) -> None:
    with pytest.raises(WorkflowError):
        parse_command_file(text)


def test_annotations() -> None:
    stdout = "text\n::warning::drift%0Atwo lines\n::error title=x::bad 100%25\n::group::g\n"
    assert workflow_annotations(stdout) == [
        ("warning", "drift\ntwo lines"),
        ("error", "bad 100%"),
    ]
    with pytest.raises(WorkflowError):
        workflow_annotations("::set-output name=a::b\n")


def write_workflow(tmp_path: Path, workflow: dict[str, Any]) -> Path:
    path = tmp_path / "workflow.yml"
    path.write_text(yaml.safe_dump(workflow, sort_keys=False), encoding="utf-8")
    return path


def runner(tmp_path: Path, workflow: dict[str, Any], **options: Any) -> Runner:
    source = tmp_path / "source"
    source.mkdir(exist_ok=True)
    (source / "README.md").write_text("hello\n", encoding="utf-8")
    return Runner(
        write_workflow(tmp_path, workflow),
        source=source,
        workspace=tmp_path / "workspace",
        artifacts=tmp_path / "artifacts",
        **options,
    )


def job(*steps: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "on": {
            "workflow_dispatch": {
                "inputs": {
                    "force": {"type": "boolean", "default": False},
                    "where": {"type": "choice", "options": ["staging", "prod"]},
                }
            }
        },
        "env": {"LEVEL": "workflow", "FROM_INPUT": "${{ inputs.where }}"},
        "jobs": {"one": {"runs-on": "ubuntu-24.04", "env": {"JOB": "job"}, "steps": list(steps)}},
        **extra,
    }


def test_a_job_runs_its_steps_with_github_files(tmp_path: Path) -> None:
    workflow = job(
        {"uses": "actions/checkout" + PINNED, "with": {"persist-credentials": False}},
        {
            "id": "first",
            "shell": "bash",
            "run": textwrap.dedent(
                """\
                test -f README.md
                echo "plain=1" >> "$GITHUB_OUTPUT"
                printf 'lines<<EOF\\nx=1\\ny\\nEOF\\n' >> "$GITHUB_OUTPUT"
                echo "ADDED=from-env-file" >> "$GITHUB_ENV"
                mkdir -p "$RUNNER_TEMP/bin"
                printf '#!/bin/sh\\necho tool-ran\\n' > "$RUNNER_TEMP/bin/tool"
                chmod +x "$RUNNER_TEMP/bin/tool"
                echo "$RUNNER_TEMP/bin" >> "$GITHUB_PATH"
                echo "## first" >> "$GITHUB_STEP_SUMMARY"
                echo "::warning::careful"
                """
            ),
        },
        {
            "id": "second",
            "if": "steps.first.outputs.plain == '1'",
            "env": {"LINES": "${{ steps.first.outputs.lines }}", "JOB": "step"},
            "run": textwrap.dedent(
                """\
                {
                  echo "seen=$LEVEL/$JOB/$ADDED/$FROM_INPUT/$(tool)/$GITHUB_ACTIONS"
                  echo "count=$(printf '%s\\n' "$LINES" | wc -l)"
                } >> "$GITHUB_OUTPUT"
                """
            ),
        },
        {"id": "skipped", "if": "steps.first.outputs.plain == '2'", "run": "exit 1"},
    )
    result = runner(tmp_path, workflow, inputs={"where": "prod"}).run("one")
    assert result.result == "success", result.log()
    assert result.step("first").outputs == {"plain": "1", "lines": "x=1\ny"}
    assert result.step("second").outputs == {
        "seen": "workflow/step/from-env-file/prod/tool-ran/true",
        "count": "2",
    }
    assert result.step("skipped").outcome == "skipped"
    assert result.summary == "## first\n"
    assert result.annotations == [("warning", "careful")]


def test_a_failed_step_skips_the_rest_but_not_always_steps(tmp_path: Path) -> None:
    workflow = job(
        {"id": "fails", "run": 'echo partial=yes >> "$GITHUB_OUTPUT"\nfalse\necho never'},
        {"id": "normal", "run": "true"},
        {"id": "cleanup", "if": "always()", "run": 'echo ran=yes >> "$GITHUB_OUTPUT"'},
        {"id": "on-failure", "if": "failure() && steps.fails.outcome == 'failure'", "run": "true"},
    )
    result = runner(tmp_path, workflow, inputs={"where": "staging"}).run("one")
    assert result.result == "failure"
    assert result.step("fails").outcome == "failure"
    assert result.step("fails").outputs == {"partial": "yes"}
    assert "never" not in result.step("fails").stdout  # bash -e stopped it
    assert result.step("normal").outcome == "skipped"
    assert result.step("cleanup").outputs == {"ran": "yes"}
    assert result.step("on-failure").outcome == "success"


def test_continue_on_error_lets_the_job_go_on(tmp_path: Path) -> None:
    workflow = job(
        {"id": "tolerated", "continue-on-error": True, "run": "false"},
        {"id": "next", "run": "true"},
        {"id": "seen", "run": 'echo "o=${{ steps.tolerated.outcome }}" >> "$GITHUB_OUTPUT"\n'
         'echo "c=${{ steps.tolerated.conclusion }}" >> "$GITHUB_OUTPUT"'},
        {"id": "fatal", "continue-on-error": "${{ 1 == 2 }}", "run": "false"},
        {"id": "after", "run": "true"},
    )  # fmt: skip
    result = runner(tmp_path, workflow, inputs={"where": "staging"}).run("one")
    assert result.step("tolerated").outcome == "failure"
    assert result.step("next").outcome == "success"  # the job went on
    assert result.step("seen").outputs == {"o": "failure", "c": "success"}
    assert result.step("after").outcome == "skipped"  # an expression that is false: it stops
    assert result.result == "failure"


def test_pipefail_only_with_shell_bash(tmp_path: Path) -> None:
    workflow = job(
        {"id": "default", "run": "false | true"},
        {"id": "bash", "if": "always()", "shell": "bash", "run": "false | true"},
    )
    result = runner(tmp_path, workflow, inputs={"where": "staging"}).run("one")
    assert result.step("default").outcome == "success"  # GitHub's default: bash -e {0}
    assert result.step("bash").outcome == "failure"  # shell: bash adds -o pipefail


def test_job_outputs_needs_and_upload(tmp_path: Path) -> None:
    workflow = job(
        {"uses": "actions/checkout" + PINNED},
        {"id": "make", "run": 'echo record > build.json\necho id=ami-1 >> "$GITHUB_OUTPUT"'},
        {
            "uses": "actions/upload-artifact" + PINNED,
            "with": {"name": "record-${{ github.run_id }}", "path": "build.json"},
        },
    )
    workflow["jobs"]["one"]["outputs"] = {"ami": "${{ steps.make.outputs.id }}"}
    workflow["jobs"]["two"] = {
        "needs": "one",
        "if": "needs.one.outputs.ami != ''",
        "runs-on": "ubuntu-24.04",
        "steps": [{"env": {"AMI": "${{ needs.one.outputs.ami }}"}, "run": 'test "$AMI" = ami-1'}],
    }
    first = runner(tmp_path, workflow, inputs={"where": "staging"}, run_id=9).run("one")
    assert first.outputs == {"ami": "ami-1"}
    assert (tmp_path / "artifacts" / "record-9" / "build.json").read_text() == "record\n"
    needs = {"one": {"outputs": first.outputs, "result": first.result}}
    second = runner(tmp_path, workflow, inputs={"where": "staging"}, needs=needs).run("two")
    assert second.result == "success", second.log()
    needs = {"one": {"outputs": {"ami": ""}, "result": "success"}}
    assert runner(tmp_path, workflow, inputs={"where": "staging"}, needs=needs).run("two").skipped


@pytest.mark.parametrize(
    ("step", "message"),
    [
        ({"uses": "actions/cache" + PINNED}, "no local stand-in"),
        ({"uses": "actions/checkout@v4"}, "full commit SHA"),
        ({"uses": "actions/checkout" + PINNED, "with": {"fetch-depth": 0}}, "fetch-depth"),
        ({"run": "true", "timeout-minutes": 5}, "timeout-minutes"),
        ({"run": "true", "shell": "python"}, "shell"),
        ({"run": "echo ${{ secrets.TOKEN }}"}, "secrets"),
        ({"run": "true", "if": "contains('a', 'b')"}, "contains"),
    ],
)
def test_what_a_job_uses_and_the_runner_does_not_know_raises(
    tmp_path: Path, step: dict[str, Any], message: str
) -> None:
    with pytest.raises(WorkflowError, match=re.escape(message)):
        runner(tmp_path, job(step), inputs={"where": "staging"}).run("one")


def test_inputs_are_checked_against_the_workflow(tmp_path: Path) -> None:
    with pytest.raises(WorkflowError, match="not one of"):
        runner(tmp_path, job({"run": "true"}), inputs={"where": "qa"})
    with pytest.raises(WorkflowError, match="unknown inputs"):
        runner(tmp_path, job({"run": "true"}), inputs={"nope": "x"})
    with pytest.raises(WorkflowError, match="boolean"):
        runner(tmp_path, job({"run": "true"}), inputs={"force": "yes", "where": "prod"})


def expressions_of(value: Any, key: str = "") -> list[tuple[str, str]]:
    """Every (`if`, expression) and (`${{ }}`, expression) in a workflow."""
    found: list[tuple[str, str]] = []
    if isinstance(value, dict):
        for name, item in value.items():
            found.extend(expressions_of(item, str(name)))
    elif isinstance(value, list):
        for item in value:
            found.extend(expressions_of(item))
    elif isinstance(value, str):
        if key == "if" and "${{" not in value:
            found.append(("if", value))
        found.extend(("${{ }}", inner) for inner in re.findall(r"\$\{\{(.*?)\}\}", value))
    return found


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_every_expression_of_the_workflows_is_in_the_runners_subset(workflow: Path) -> None:
    data = yaml.safe_load(workflow.read_text(encoding="utf-8"))
    found = expressions_of(data)
    for _, expression in found:
        parse(expression)  # raises on what the runner does not know
    if workflow.name != "ci.yml":
        assert found


def test_output_files_are_read_as_the_runner_on_linux_reads_them() -> None:
    # Empty lines are skipped (ebami's check that $GITHUB_OUTPUT takes a write leaves one),
    # a `\r` stays in its line, and a line of spaces is no line the runner knows.
    assert parse_command_file("\n\na=1\n\nb<<E\n\nx\r\nE\n\n") == {"a": "1", "b": "\nx\r"}
    assert parse_command_file("a=1\r\n") == {"a": "1\r"}
    with pytest.raises(WorkflowError, match="invalid line"):
        parse_command_file("a=1\n \nb=2\n")
