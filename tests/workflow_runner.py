"""Runs one job of a GitHub Actions workflow on this machine, for the tests.

The job's steps run in order the way GitHub's runner runs them: `run:` steps with bash (`bash -e
{0}` by default, `bash --noprofile --norc -eo pipefail {0}` for `shell: bash`), each with fresh
`GITHUB_OUTPUT`, `GITHUB_ENV`, `GITHUB_PATH` and `GITHUB_STEP_SUMMARY` files that are read after
the step (outputs by step id, variables and paths for the later steps, the summaries joined into
the job's); `env:` at workflow, job and step level (later wins; `GITHUB_ENV` sits between the job
and the step); `working-directory`; `if:` (default `success()`) and `${{ }}` expressions;
`continue-on-error:` of a step (`true`, `false` or an expression: a step that fails with it keeps
its `outcome` failure, its `conclusion` is success, and the job goes on as if it had passed).

`uses:` steps get a local stand-in, chosen by the action's name (see `ACTIONS`), and must be
pinned by a full commit SHA. Anything this module does not know (a key, a context, an operator,
a function, an action, an action input) raises `WorkflowError`, so nothing is silently skipped.

Expressions: literals (`true`, `false`, `null`, numbers, `'strings'` with `''`), property paths
(`steps.<id>.outputs.<name>`, `steps.<id>.outcome|conclusion`, `inputs.*`, `env.*`, `vars.*`,
`needs.<job>.outputs.*|result`, `github.<known key>`), `==`, `!=`, `&&`, `||`, `!`, parentheses,
and `success()`, `failure()`, `always()`, `cancelled()`. Values and comparisons follow GitHub's
rules: `&&`/`||` return an operand, strings compare case-insensitively, mixed types compare as
numbers, null, false, 0, NaN and '' are falsy.
"""

from __future__ import annotations

import math
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

Value = None | bool | float | str | Mapping[str, Any]

SHA = re.compile(r"[0-9a-f]{40}")
STATUS_FUNCTIONS = ("success", "failure", "always", "cancelled")


class WorkflowError(Exception):
    """The workflow uses something this runner does not know (or gets it wrong)."""


# ---------------------------------------------------------------------------------------------
# Expressions


class Strict(dict[str, Any]):
    """A context object whose unknown keys are an error (a typo, or a context not provided)."""


_TOKEN = re.compile(
    r"""\s*(?:
    (?P<string>'(?:[^']|'')*')
    |(?P<number>-?\d+(?:\.\d+)?(?![\w.-]))
    |(?P<op>==|!=|&&|\|\||!|\(|\)|\.|,)
    |(?P<name>[A-Za-z_][A-Za-z0-9_-]*)
    )""",
    re.VERBOSE,
)


def tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None or match.end() == position:
            raise WorkflowError(f"unsupported expression syntax at {text[position:]!r} in {text!r}")
        kind = match.lastgroup
        assert kind is not None
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


@dataclass(frozen=True)
class Literal:
    value: Value


@dataclass(frozen=True)
class Path_:
    parts: tuple[str, ...]


@dataclass(frozen=True)
class Call:
    name: str


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class Binary:
    op: str
    left: Node
    right: Node


Node = Literal | Path_ | Call | Not | Binary


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.index = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise WorkflowError(f"expected {value or 'more'} in expression {self.text!r}")
        self.index += 1
        return token

    def parse(self) -> Node:
        node = self.or_()
        if self.peek() is not None:
            raise WorkflowError(f"unexpected {self.peek()!r} in expression {self.text!r}")
        return node

    def or_(self) -> Node:
        node = self.and_()
        while self.peek() == ("op", "||"):
            self.take()
            node = Binary("||", node, self.and_())
        return node

    def and_(self) -> Node:
        node = self.equality()
        while self.peek() == ("op", "&&"):
            self.take()
            node = Binary("&&", node, self.equality())
        return node

    def equality(self) -> Node:
        node = self.unary()
        while self.peek() in (("op", "=="), ("op", "!=")):
            op = self.take()[1]
            node = Binary(op, node, self.unary())
        return node

    def unary(self) -> Node:
        if self.peek() == ("op", "!"):
            self.take()
            return Not(self.unary())
        return self.primary()

    def primary(self) -> Node:
        kind, value = self.take()
        if kind == "string":
            return Literal(value[1:-1].replace("''", "'"))
        if kind == "number":
            return Literal(float(value))
        if (kind, value) == ("op", "("):
            node = self.or_()
            self.take(")")
            return node
        if kind != "name":
            raise WorkflowError(f"unexpected {value!r} in expression {self.text!r}")
        if value in ("true", "false"):
            return Literal(value == "true")
        if value == "null":
            return Literal(None)
        if self.peek() == ("op", "("):
            if value not in STATUS_FUNCTIONS:
                raise WorkflowError(f"unsupported function {value}() in {self.text!r}")
            self.take()
            self.take(")")
            return Call(value)
        parts = [value]
        while self.peek() == ("op", "."):
            self.take()
            kind, name = self.take()
            if kind != "name":
                raise WorkflowError(f"unsupported property {name!r} in {self.text!r}")
            parts.append(name)
        return Path_(tuple(parts))


def parse(text: str) -> Node:
    return _Parser(text).parse()


def uses_status_function(node: Node) -> bool:
    if isinstance(node, Call):
        return True
    if isinstance(node, Not):
        return uses_status_function(node.operand)
    if isinstance(node, Binary):
        return uses_status_function(node.left) or uses_status_function(node.right)
    return False


def truthy(value: Value) -> bool:
    if isinstance(value, float):
        return value != 0 and not math.isnan(value)
    if isinstance(value, Mapping):
        return True
    return bool(value)


def to_number(value: Value) -> float:
    if value is None:
        return 0.0
    if isinstance(value, bool):
        return 1.0 if value else 0.0
    if isinstance(value, float):
        return value
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return 0.0
        try:
            return float(int(text, 16)) if text.lower().startswith("0x") else float(text)
        except ValueError:
            return math.nan
    return math.nan


def equal(left: Value, right: Value) -> bool:
    if isinstance(left, str) and isinstance(right, str):
        return left.lower() == right.lower()
    if type(left) is type(right) and not isinstance(left, float):
        return left == right
    if isinstance(left, Mapping) or isinstance(right, Mapping):
        return left is right
    return to_number(left) == to_number(right)


def to_string(value: Value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, str):
        return value
    raise WorkflowError("an object cannot be interpolated into a string")


@dataclass
class Scope:
    """The contexts an expression may read, and the job's status for the status functions."""

    contexts: Mapping[str, Any]
    failed: bool = False

    def resolve(self, parts: tuple[str, ...], text: str) -> Value:
        root = parts[0]
        if root not in self.contexts:
            raise WorkflowError(f"unsupported context {root!r} here, in {text!r}")
        value: Any = self.contexts[root]
        for depth, part in enumerate(parts[1:], start=1):
            if isinstance(value, Strict):
                if part not in value:
                    where = ".".join(parts[:depth])
                    raise WorkflowError(f"{where} has no {part!r} (in {text!r})")
                value = value[part]
            elif isinstance(value, Mapping):
                value = value.get(part)
            else:
                value = None  # a property of a missing value is null, as on GitHub
        if isinstance(value, int) and not isinstance(value, bool):
            return float(value)
        return value  # type: ignore[no-any-return]

    def evaluate(self, node: Node, text: str) -> Value:
        if isinstance(node, Literal):
            return node.value
        if isinstance(node, Path_):
            return self.resolve(node.parts, text)
        if isinstance(node, Call):
            return {
                "success": not self.failed,
                "failure": self.failed,
                "always": True,
                "cancelled": False,
            }[node.name]
        if isinstance(node, Not):
            return not truthy(self.evaluate(node.operand, text))
        left = self.evaluate(node.left, text)
        if node.op == "&&":
            return self.evaluate(node.right, text) if truthy(left) else left
        if node.op == "||":
            return left if truthy(left) else self.evaluate(node.right, text)
        same = equal(left, self.evaluate(node.right, text))
        return same if node.op == "==" else not same

    def expression(self, text: str) -> Value:
        return self.evaluate(parse(text), text)

    def condition(self, condition: object) -> bool:
        """An `if:`: bare or in `${{ }}`; without a status function it means `success() && (…)`."""
        if condition is None:
            condition = "success()"
        if isinstance(condition, bool):
            return condition and not self.failed
        if not isinstance(condition, str):
            raise WorkflowError(f"unsupported if: {condition!r}")
        text = condition.strip()
        whole = re.fullmatch(r"\$\{\{(.*)\}\}", text, re.DOTALL)
        if whole:
            text = whole.group(1)
        elif "${{" in text:
            raise WorkflowError(f"unsupported if: {condition!r} (mixes text and ${{{{ }}}})")
        node = parse(text)
        if not uses_status_function(node):
            node = Binary("&&", Call("success"), node)
        return truthy(self.evaluate(node, text))

    def interpolate(self, text: str) -> str:
        """A string with `${{ }}` parts replaced by their values."""
        pieces: list[str] = []
        position = 0
        while (start := text.find("${{", position)) != -1:
            end = text.find("}}", start)
            if end == -1:
                raise WorkflowError(f"unterminated ${{{{ in {text!r}")
            pieces.append(text[position:start])
            pieces.append(to_string(self.expression(text[start + 3 : end])))
            position = end + 2
        pieces.append(text[position:])
        return "".join(pieces)

    def render(self, value: Any) -> Any:
        """Interpolate every string of a YAML value (numbers and booleans become strings)."""
        if isinstance(value, str):
            return self.interpolate(value)
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (int, float)):
            return str(value)
        if isinstance(value, Mapping):
            return {str(key): self.render(item) for key, item in value.items()}
        if isinstance(value, list):
            return [self.render(item) for item in value]
        if value is None:
            return ""
        raise WorkflowError(f"unsupported value {value!r}")


# ---------------------------------------------------------------------------------------------
# The files a step writes


def parse_command_file(text: str, *, what: str = "GITHUB_OUTPUT") -> dict[str, str]:
    """`name=value` lines and `name<<DELIMITER` blocks, as GitHub's runner on Linux reads
    GITHUB_OUTPUT/GITHUB_ENV: lines end at `\n` only (a `\r` stays in the line), and an empty
    line is skipped while one of spaces is an invalid line."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()  # the text ends with a newline: no line after it
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if not line:
            continue
        equals = line.find("=")
        heredoc = line.find("<<")
        if equals != -1 and (heredoc == -1 or equals < heredoc):
            name, value = line[:equals], line[equals + 1 :]
        elif heredoc != -1:
            name, delimiter = line[:heredoc], line[heredoc + 2 :]
            if not delimiter:
                raise WorkflowError(f"{what}: {name!r} has an empty delimiter")
            body: list[str] = []
            while True:
                if index >= len(lines):
                    raise WorkflowError(f"{what}: {name!r}: no closing line {delimiter!r}")
                current = lines[index]
                index += 1
                if current == delimiter:
                    break
                body.append(current)
            value = "\n".join(body)
        else:
            raise WorkflowError(f"{what}: invalid line {line!r}")
        if not name:
            raise WorkflowError(f"{what}: a line without a name: {line!r}")
        values[name] = value
    return values


def parse_path_file(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.strip()]


_ANNOTATION = re.compile(r"^::(notice|warning|error)(?: [^:]*)?::(.*)$")
_FORBIDDEN_COMMANDS = ("::set-output", "::save-state", "::set-env", "::add-path")


def workflow_annotations(stdout: str) -> list[tuple[str, str]]:
    """The `::notice|warning|error::` lines of a step's stdout (level, message unescaped)."""
    found: list[tuple[str, str]] = []
    for line in stdout.splitlines():
        if line.startswith(_FORBIDDEN_COMMANDS):
            raise WorkflowError(f"disabled workflow command: {line!r}")
        match = _ANNOTATION.match(line)
        if match:
            message = match.group(2).replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")
            found.append((match.group(1), message))
    return found


# ---------------------------------------------------------------------------------------------
# Running a job


@dataclass
class StepResult:
    key: str
    name: str
    outcome: str  # success, failure or skipped
    outputs: dict[str, str] = field(default_factory=dict)
    returncode: int | None = None
    stdout: str = ""
    stderr: str = ""
    summary: str = ""
    # The outcome after continue-on-error: a failure it allows concludes as success.
    conclusion: str = ""

    def __post_init__(self) -> None:
        self.conclusion = self.conclusion or self.outcome


@dataclass
class JobResult:
    steps: dict[str, StepResult]
    outputs: dict[str, str]
    summary: str
    annotations: list[tuple[str, str]]
    skipped: bool = False

    @property
    def result(self) -> str:
        if self.skipped:
            return "skipped"
        failed = any(step.conclusion == "failure" for step in self.steps.values())
        return "failure" if failed else "success"

    def step(self, key: str) -> StepResult:
        return self.steps[key]

    def log(self) -> str:
        return "\n".join(
            f"--- {step.key} ({step.name}): {step.outcome}, exit {step.returncode}\n"
            f"{step.stdout}{step.stderr}"
            for step in self.steps.values()
        )


@dataclass
class StepContext:
    """What a stand-in for an action sees and may change."""

    runner: Runner
    inputs: dict[str, str]
    env: dict[str, str]  # variables for the later steps (as written to GITHUB_ENV)
    path: list[str]  # folders for the later steps' PATH (as written to GITHUB_PATH)
    outputs: dict[str, str]
    log: list[str]


Action = Callable[[StepContext], None]

WORKFLOW_KEYS = {"name", "on", "permissions", "concurrency", "env", "jobs", "run-name"}
JOB_KEYS = {
    "name", "runs-on", "timeout-minutes", "permissions", "concurrency", "environment", "needs",
    "if", "env", "outputs", "steps",
}  # fmt: skip
STEP_KEYS = {
    "id", "name", "if", "run", "uses", "with", "env", "shell", "working-directory",
    "continue-on-error",
}  # fmt: skip
SHELLS = {
    None: ["bash", "-e"],
    "bash": ["bash", "--noprofile", "--norc", "-eo", "pipefail"],
}
GITHUB_KEYS = (
    "event_name", "repository", "repository_owner", "sha", "ref", "ref_name", "run_id",
    "run_number", "run_attempt", "server_url", "actor", "workflow", "job", "workspace",
)  # fmt: skip


class Runner:
    """Runs one job of a workflow.

    `inputs` (workflow_dispatch inputs, defaults filled from the workflow), `vars` (repository
    variables), `needs` (the jobs this one needs: `{job: {"outputs": {...}, "result": ...}}`),
    `base_env` (the machine's variables the steps start from), `aws_env` (what the stand-in for
    configure-aws-credentials exports), `python_bin` (the folder setup-python puts on PATH),
    `artifacts` (where upload-artifact copies to), `workspace` (where checkout copies the tree).
    """

    def __init__(
        self,
        workflow: Path,
        *,
        source: Path,
        workspace: Path,
        artifacts: Path,
        event_name: str = "workflow_dispatch",
        inputs: Mapping[str, object] | None = None,
        vars: Mapping[str, str] | None = None,
        needs: Mapping[str, Mapping[str, Any]] | None = None,
        base_env: Mapping[str, str] | None = None,
        aws_env: Mapping[str, str] | None = None,
        python_bin: Path | None = None,
        run_id: int = 1,
    ) -> None:
        self.workflow_path = workflow
        self.workflow: dict[str, Any] = yaml.safe_load(workflow.read_text(encoding="utf-8"))
        # PyYAML reads the key `on` as True.
        if True in self.workflow:
            self.workflow["on"] = self.workflow.pop(True)
        _check_keys(self.workflow, WORKFLOW_KEYS, f"{workflow.name}")
        self.source = source
        self.workspace = workspace
        self.artifacts = artifacts
        self.event_name = event_name
        self.inputs = self._inputs(dict(inputs or {}))
        self.vars = dict(vars or {})
        self.needs = {name: dict(value) for name, value in (needs or {}).items()}
        self.base_env = dict(base_env if base_env is not None else _machine_env())
        self.aws_env = dict(aws_env or {})
        self.python_bin = python_bin
        self.run_id = run_id
        workspace.parent.mkdir(parents=True, exist_ok=True)
        self.temp = Path(tempfile.mkdtemp(prefix="runner-", dir=workspace.parent))

    # -- the workflow's inputs ----------------------------------------------------------------

    def _inputs(self, given: dict[str, object]) -> dict[str, object]:
        triggers = self.workflow.get("on") or {}
        if self.event_name != "workflow_dispatch":
            if given:
                raise WorkflowError(f"inputs given to a {self.event_name} event")
            if self.event_name not in triggers:
                raise WorkflowError(
                    f"{self.workflow_path.name} is not triggered by {self.event_name}"
                )
            return {}
        declared = ((triggers.get("workflow_dispatch") or {}).get("inputs")) or {}
        unknown = set(given) - set(declared)
        if unknown:
            raise WorkflowError(f"unknown inputs {sorted(unknown)}")
        values: dict[str, object] = {}
        for name, spec in declared.items():
            kind = spec.get("type", "string")
            value = given.get(name, spec.get("default", False if kind == "boolean" else ""))
            if kind == "boolean" and not isinstance(value, bool):
                raise WorkflowError(f"input {name} is a boolean, got {value!r}")
            if kind == "choice" and value not in spec.get("options", []):
                raise WorkflowError(f"input {name}: {value!r} is not one of {spec['options']}")
            if kind in ("string", "choice") and not isinstance(value, str):
                raise WorkflowError(f"input {name} is a string, got {value!r}")
            if kind not in ("string", "choice", "boolean"):
                raise WorkflowError(f"unsupported input type {kind!r}")
            values[name] = value
        return values

    def github(self, job: str) -> Strict:
        return Strict(
            event_name=self.event_name,
            repository="example/ebami",
            repository_owner="example",
            sha="0" * 40,
            ref="refs/heads/main",
            ref_name="main",
            run_id=str(self.run_id),
            run_number=str(self.run_id),
            run_attempt="1",
            server_url="https://github.com",
            actor="nightly",
            workflow=str(self.workflow.get("name", self.workflow_path.name)),
            job=job,
            workspace=str(self.workspace),
        )

    # -- running ------------------------------------------------------------------------------

    def run(self, job_name: str) -> JobResult:
        jobs = self.workflow.get("jobs") or {}
        if job_name not in jobs:
            raise WorkflowError(f"{self.workflow_path.name} has no job {job_name!r}")
        job = jobs[job_name]
        _check_keys(job, JOB_KEYS, f"job {job_name}")
        needed = job.get("needs") or []
        needed = [needed] if isinstance(needed, str) else list(needed)
        if sorted(needed) != sorted(self.needs):
            raise WorkflowError(f"job {job_name} needs {needed}; given {sorted(self.needs)}")
        needs = Strict(
            {
                name: Strict(outputs=dict(value.get("outputs", {})), result=value["result"])
                for name, value in self.needs.items()
            }
        )
        github = self.github(job_name)
        inputs = dict(self.inputs)
        base = {"github": github, "inputs": inputs, "vars": dict(self.vars)}
        workflow_env = Scope(base).render(self.workflow.get("env") or {})
        job_scope = Scope({**base, "needs": needs, "env": dict(workflow_env)})
        # What GitHub evaluates before the job runs: checked here, so no expression goes unread.
        for key in ("name", "environment", "concurrency", "runs-on"):
            job_scope.render(job.get(key))
        needs_failed = any(value["result"] != "success" for value in self.needs.values())
        if not Scope(job_scope.contexts, failed=needs_failed).condition(job.get("if")):
            return JobResult({}, {}, "", [], skipped=True)
        job_env = {**workflow_env, **job_scope.render(job.get("env") or {})}

        self.workspace.mkdir(parents=True, exist_ok=True)
        steps_context = Strict()
        results: dict[str, StepResult] = {}
        added_env: dict[str, str] = {}
        added_path: list[str] = []
        summary: list[str] = []
        notes: list[tuple[str, str]] = []
        failed = False
        for index, step in enumerate(job.get("steps") or [], start=1):
            _check_keys(step, STEP_KEYS, f"step {index} of {job_name}")
            key = str(step.get("id") or f"step-{index}")
            env_context = {**job_env, **added_env}
            scope = Scope(
                {**base, "needs": needs, "env": env_context, "steps": steps_context},
                failed=failed,
            )
            name = str(step.get("name") or step.get("uses") or step.get("run", "")).strip()
            if not scope.condition(step.get("if")):
                result = StepResult(key, name, "skipped")
            else:
                step_env = {**env_context, **scope.render(step.get("env") or {})}
                result = self._step(step, key, name, scope, step_env, added_env, added_path)
                notes.extend(workflow_annotations(result.stdout))
                summary.append(result.summary)
                if result.outcome == "failure" and _continues(scope, step):
                    result.conclusion = "success"
            results[key] = result
            steps_context[key] = Strict(
                outputs=dict(result.outputs),
                outcome=result.outcome,
                conclusion=result.conclusion,
            )
            failed = failed or result.conclusion == "failure"
        final = Scope({**base, "needs": needs, "env": job_env, "steps": steps_context})
        outputs = {
            str(name): final.interpolate(str(value))
            for name, value in (job.get("outputs") or {}).items()
        }
        return JobResult(results, outputs, "".join(summary), notes)

    def _step(
        self,
        step: Mapping[str, Any],
        key: str,
        name: str,
        scope: Scope,
        env: dict[str, str],
        added_env: dict[str, str],
        added_path: list[str],
    ) -> StepResult:
        files = {
            variable: self.temp / f"{key}.{variable.lower()}"
            for variable in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY")
        }
        for path in files.values():
            path.write_text("", encoding="utf-8")
        if ("run" in step) == ("uses" in step):
            raise WorkflowError(f"step {key}: exactly one of run and uses")
        if "uses" in step:
            for unsupported in ("shell", "working-directory"):
                if unsupported in step:
                    raise WorkflowError(f"step {key}: {unsupported} with uses")
            return self._action(step, key, name, scope, env, added_env, added_path)
        if "with" in step:
            raise WorkflowError(f"step {key}: with: on a run step")
        shell = step.get("shell")
        if shell not in SHELLS:
            raise WorkflowError(f"step {key}: unsupported shell {shell!r}")
        script = self.temp / f"{key}.sh"
        script.write_text(scope.interpolate(str(step["run"])), encoding="utf-8")
        cwd = self.workspace
        if "working-directory" in step:
            cwd = self.workspace / scope.interpolate(str(step["working-directory"]))
        process_env = {
            **self.base_env,
            **self._runner_env(scope),
            **env,
            **{variable: str(path) for variable, path in files.items()},
        }
        process_env["PATH"] = os.pathsep.join([*added_path, self.base_env.get("PATH", "")])
        proc = subprocess.run(
            [*SHELLS[shell], str(script)],
            cwd=cwd, env=process_env, capture_output=True, text=True, check=False,
            stdin=subprocess.DEVNULL,
        )  # fmt: skip
        outputs = parse_command_file(files["GITHUB_OUTPUT"].read_text(encoding="utf-8"))
        added_env.update(
            parse_command_file(files["GITHUB_ENV"].read_text(encoding="utf-8"), what="GITHUB_ENV")
        )
        added_path[:0] = reversed(parse_path_file(files["GITHUB_PATH"].read_text("utf-8")))
        outcome = "success" if proc.returncode == 0 else "failure"
        return StepResult(
            key, name, outcome, outputs, proc.returncode, proc.stdout, proc.stderr,
            summary=files["GITHUB_STEP_SUMMARY"].read_text(encoding="utf-8"),
        )  # fmt: skip

    def _runner_env(self, scope: Scope) -> dict[str, str]:
        github = scope.contexts["github"]
        return {
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(self.workspace),
            "GITHUB_EVENT_NAME": github["event_name"],
            "GITHUB_REPOSITORY": github["repository"],
            "GITHUB_SHA": github["sha"],
            "GITHUB_REF": github["ref"],
            "GITHUB_RUN_ID": github["run_id"],
            "GITHUB_RUN_ATTEMPT": github["run_attempt"],
            "GITHUB_SERVER_URL": github["server_url"],
            "GITHUB_JOB": github["job"],
            "RUNNER_OS": "Linux",
            "RUNNER_TEMP": str(self.temp),
        }

    def _action(
        self,
        step: Mapping[str, Any],
        key: str,
        name: str,
        scope: Scope,
        env: dict[str, str],
        added_env: dict[str, str],
        added_path: list[str],
    ) -> StepResult:
        uses = str(step["uses"])
        action, _, ref = uses.partition("@")
        if action not in ACTIONS:
            raise WorkflowError(f"step {key}: no local stand-in for {uses!r}")
        if not SHA.fullmatch(ref):
            raise WorkflowError(f"step {key}: {uses!r} is not pinned to a full commit SHA")
        allowed, stand_in = ACTIONS[action]
        inputs = scope.render(step.get("with") or {})
        unknown = set(inputs) - allowed
        if unknown:
            raise WorkflowError(
                f"step {key}: {action} has no stand-in for inputs {sorted(unknown)}"
            )
        context = StepContext(self, inputs, {}, [], {}, [])
        try:
            stand_in(context)
        except StandInFailure as failure:
            return StepResult(key, name, "failure", {}, 1, "\n".join(context.log), str(failure))
        added_env.update(context.env)
        added_path[:0] = context.path
        return StepResult(key, name, "success", context.outputs, 0, "\n".join(context.log))


class StandInFailure(Exception):
    """The stand-in failed the way the action would (a missing file, a missing input)."""


def _continues(scope: Scope, step: Mapping[str, Any]) -> bool:
    """The step's `continue-on-error`: a boolean, or an expression whose value is one."""
    value = step.get("continue-on-error", False)
    if isinstance(value, bool):
        return value
    rendered = scope.interpolate(str(value)).strip().lower()
    if rendered not in ("true", "false"):
        raise WorkflowError(f"continue-on-error {value!r} is not a boolean")
    return rendered == "true"


def _check_keys(mapping: Mapping[str, Any], known: set[str], where: str) -> None:
    if not isinstance(mapping, Mapping):
        raise WorkflowError(f"{where}: not a mapping")
    unknown = set(mapping) - known
    if unknown:
        raise WorkflowError(f"{where}: unsupported keys {sorted(map(str, unknown))}")


def _machine_env() -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "AWS_CONFIG_FILE",
            "AWS_SHARED_CREDENTIALS_FILE", "AWS_EC2_METADATA_DISABLED")  # fmt: skip
    return {name: os.environ[name] for name in keep if name in os.environ}


# ---------------------------------------------------------------------------------------------
# Stand-ins for the actions the workflows use

_COPY_IGNORED = shutil.ignore_patterns(
    ".git", ".venv", ".tools", "node_modules", "__pycache__", ".mypy_cache", ".ruff_cache",
    ".pytest_cache", ".hypothesis", "*.egg-info", "build", "dist",
)  # fmt: skip


def checkout(step: StepContext) -> None:
    """The working tree, copied into the workspace (a fresh tree, as a clone would be)."""
    runner = step.runner
    shutil.copytree(runner.source, runner.workspace, ignore=_COPY_IGNORED, dirs_exist_ok=True)
    step.log.append(f"checked out {runner.source} into {runner.workspace}")


def setup_python(step: StepContext) -> None:
    """The test's virtual environment first on PATH. ebami is installed there already
    (editable), so pip's installs are dry runs: pip still resolves the project and its
    requirements against the environment, offline, and fails as it would on a mismatch."""
    python_bin = step.runner.python_bin
    if python_bin is None or not (python_bin / "python").exists():
        raise StandInFailure("no Python to set up (Runner(python_bin=...))")
    if not step.inputs.get("python-version"):
        raise StandInFailure("python-version is required")
    step.path.append(str(python_bin))
    step.env.update(PIP_DRY_RUN="true", PIP_NO_BUILD_ISOLATION="false", PIP_NO_INDEX="true")
    step.log.append(f"python {step.inputs['python-version']} -> {python_bin}/python")


def setup_packer(step: StepContext) -> None:
    """The installed `packer` (the version asked for is only recorded)."""
    if not step.inputs.get("version"):
        raise StandInFailure("version is required")
    found = shutil.which("packer", path=step.runner.base_env.get("PATH"))
    if found is None:
        raise StandInFailure("packer is not installed (scripts/system-deps installs it)")
    step.outputs["version"] = step.inputs["version"]
    step.log.append(f"packer {step.inputs['version']} asked; using {found}")


def configure_aws_credentials(step: StepContext) -> None:
    """The sandbox's client variables, for a role and region that must be given."""
    for required in ("role-to-assume", "aws-region"):
        if not step.inputs.get(required):
            raise StandInFailure(f"{required} is empty (a repository variable not set?)")
    aws_env = step.runner.aws_env
    if not aws_env:
        raise StandInFailure("no AWS to point at (Runner(aws_env=...))")
    if aws_env.get("AWS_REGION") not in (None, step.inputs["aws-region"]):
        raise StandInFailure(
            f"aws-region {step.inputs['aws-region']} is not the sandbox's {aws_env['AWS_REGION']}"
        )
    step.env.update(aws_env)
    step.env.update(
        AWS_REGION=step.inputs["aws-region"], AWS_DEFAULT_REGION=step.inputs["aws-region"]
    )
    step.log.append(f"assumed {step.inputs['role-to-assume']} (stand-in: the sandbox's variables)")


def upload_artifact(step: StepContext) -> None:
    """Copies `path` (one file or folder per line) to the artifacts folder, under `name`."""
    name = step.inputs.get("name") or "artifact"
    mode = step.inputs.get("if-no-files-found", "warn")
    if mode not in ("warn", "error", "ignore"):
        raise StandInFailure(f"if-no-files-found: {mode!r}")
    target = step.runner.artifacts / name
    if target.exists():
        raise StandInFailure(f"an artifact named {name} exists already")
    found = 0
    for line in step.inputs.get("path", "").splitlines():
        if not line.strip():
            continue
        if any(char in line for char in "*?[!"):
            raise WorkflowError(f"upload-artifact: patterns are not supported: {line!r}")
        source = step.runner.workspace / line.strip()
        if source.is_dir():
            shutil.copytree(source, target / source.name)
            found += 1
        elif source.is_file():
            target.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / source.name)
            found += 1
    if not found:
        if mode == "error":
            raise StandInFailure(f"no files found at {step.inputs.get('path')!r}")
        if mode == "warn":
            step.log.append(f"::warning::no files found at {step.inputs.get('path')!r}")
    step.log.append(f"uploaded {found} path(s) as {name}")


ACTIONS: dict[str, tuple[set[str], Action]] = {
    "actions/checkout": ({"persist-credentials"}, checkout),
    "actions/setup-python": ({"python-version"}, setup_python),
    "hashicorp/setup-packer": ({"version"}, setup_packer),
    "aws-actions/configure-aws-credentials": (
        {"role-to-assume", "aws-region", "role-session-name"},
        configure_aws_credentials,
    ),
    "actions/upload-artifact": (
        {"name", "path", "if-no-files-found", "retention-days"},
        upload_artifact,
    ),
}
