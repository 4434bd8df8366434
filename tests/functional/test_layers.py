"""The house's layers hold (`lint-imports`, with the contracts in pyproject.toml), and an upward
import breaks them: checked on a copy of the package with one bad import added."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def lint_imports(package_parent: Path) -> subprocess.CompletedProcess[str]:
    """`lint-imports` with the project's contracts, on the `ebami` found in `package_parent`."""
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
        cwd=package_parent,
        env={**os.environ, "PYTHONPATH": str(package_parent)},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_contract_is_kept() -> None:
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "3 kept, 0 broken" in result.stdout


@pytest.mark.parametrize(
    ("module", "bad_import", "contract"),
    [
        ("core/plan.py", "import ebami.cli.factory", "Layers"),
        ("image/managed.py", "import ebami.aws.ec2", "Layers"),
        ("apply/planner.py", "import ebami.lifecycle.drift", "Layers"),
        ("sandbox/health.py", "import ebami.apply.planner", "The sandbox stands"),
        ("aws/ec2.py", "import ebami.image.managed", "AWS's wrappers"),
    ],
)
def test_an_upward_import_breaks_a_contract(
    tmp_path: Path, module: str, bad_import: str, contract: str
) -> None:
    shutil.copytree(
        ROOT / "ebami", tmp_path / "ebami", ignore=shutil.ignore_patterns("__pycache__", "_data")
    )
    target = tmp_path / "ebami" / module
    target.write_text(target.read_text() + f"\n{bad_import}  # noqa\n")
    result = lint_imports(tmp_path)
    assert result.returncode != 0, result.stdout
    broken = result.stdout.split("Broken contracts", 1)[1]
    assert contract in broken, result.stdout
    assert bad_import.split()[-1] in broken, result.stdout
