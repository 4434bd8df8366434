"""CI's set-up: the GitHub workflows pass the workflow schema, zizmor's security audit
(offline) and actionlint, and the `e2e` marker splits the quick run (`pytest -m "not e2e"`)
from the sandbox tests exactly along tests/e2e/."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def test_there_are_workflows() -> None:
    assert WORKFLOWS


def run_tool(name: str, *args: str) -> subprocess.CompletedProcess[str]:
    found = shutil.which(name, path=str(Path(sys.executable).parent))
    if found is None:
        pytest.fail(f"{name} is not installed; it comes with the dev extra")
    return subprocess.run([found, *args], capture_output=True, text=True, check=False)


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_workflow_schema(workflow: Path) -> None:
    proc = run_tool(
        "check-jsonschema", "--builtin-schema", "vendor.github-workflows", str(workflow)
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_workflow_audit(workflow: Path) -> None:
    proc = run_tool("zizmor", "--offline", "--no-progress", str(workflow))
    assert proc.returncode == 0, proc.stdout + proc.stderr


ACTIONLINT = ROOT / ".tools" / "actionlint" / "node_modules" / "@tktco" / "node-actionlint"
# The package's own CLI takes a glob and passes when it matches nothing; this asks its API for
# one file's findings, as JSON. It runs from a file: under `node -e` the WebAssembly build
# deadlocks on its first file-system call.
ACTIONLINT_SCRIPT = """
const { readFileSync } = require("node:fs");
const { runLint } = require(process.argv[2]);
runLint(readFileSync(process.argv[3], "utf8"), process.argv[4]).then(
  (found) => console.log(JSON.stringify(found)),
  (error) => { console.error(error); process.exit(2); },
);
"""


def actionlint(workflow: Path, scratch: Path) -> list[dict[str, Any]]:
    """actionlint's findings for one workflow file."""
    node = shutil.which("node")
    if node is None or not (ACTIONLINT / "package.json").exists():
        pytest.fail("actionlint is not installed: run scripts/setup (it needs node and npm)")
    script = scratch / "actionlint.cjs"
    script.write_text(ACTIONLINT_SCRIPT, encoding="utf-8")
    proc = subprocess.run(
        [node, str(script), str(ACTIONLINT), str(workflow), workflow.name],
        cwd=scratch, capture_output=True, text=True, check=False, timeout=120,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [item for item in json.loads(proc.stdout) if item.get("message")]


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda path: path.name)
def test_workflow_actionlint(workflow: Path, tmp_path: Path) -> None:
    findings = [
        f"{workflow.name}:{item['line']}:{item['column']}: {item['message']} [{item['kind']}]"
        for item in actionlint(workflow, tmp_path)
    ]
    assert findings == []


def test_actionlint_finds_what_is_wrong(tmp_path: Path) -> None:
    """The check above can fail: an unknown property and a bad runner label are findings."""
    workflow = tmp_path / "workflow" / "bad.yml"
    workflow.parent.mkdir()
    workflow.write_text(
        "on: push\njobs:\n  a:\n    runs-on: ubuntu-99.04\n    steps:\n"
        "      - run: echo ${{ github.nope }} ${{ vars.OK }}\n",
        encoding="utf-8",
    )
    kinds = sorted(item["kind"] for item in actionlint(workflow, tmp_path))
    assert kinds == ["expression", "runner-label"]


def collected(marker: str) -> list[str]:
    """The test ids `pytest -m MARKER tests` selects, collected in a fresh process."""
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         "-m", marker, "tests"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return [line for line in proc.stdout.splitlines() if line.startswith("tests/")]


def test_the_e2e_marker_selects_exactly_tests_e2e() -> None:
    quick = collected("not e2e")
    e2e = collected("e2e")
    assert [test for test in quick if test.startswith("tests/e2e/")] == []
    assert any(test.startswith("tests/functional/") for test in quick)
    assert any(test.startswith("tests/unit/") for test in quick)
    assert [test for test in e2e if not test.startswith("tests/e2e/")] == []
    assert any(test.startswith("tests/e2e/test_sandbox_api.py::") for test in e2e)
