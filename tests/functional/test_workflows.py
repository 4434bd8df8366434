"""CI's set-up: the GitHub workflows pass the workflow schema and zizmor's security audit
(offline), and the `e2e` marker splits the quick run (`pytest -m "not e2e"`) from the sandbox
tests exactly along tests/e2e/."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

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
