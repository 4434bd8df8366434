"""The GitHub workflows pass the workflow schema and zizmor's security audit (offline)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

WORKFLOWS = sorted((Path(__file__).resolve().parents[2] / ".github" / "workflows").glob("*.yml"))


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
