"""The suite's own layout: tests take their helpers, fakes and builders from modules that are not
tests (tests/fakes, tests/support, the helper modules beside them) and their shared fixtures from
a conftest.py by name; no module of the suite or of the benchmarks imports a test module
(`test_*.py`) or a conftest module.

A test module imported by another one is loaded twice (pytest imports it by its file name, the
importer by its dotted name), ties the two files' tests together, and hides where a helper lives.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# The folders whose modules are read: the suite, and the benchmarks (which reuse its helpers).
SCANNED = ("tests", "benchmarks")
DYNAMIC_IMPORTS = ("import_module", "__import__")


def is_test_module(name: str) -> bool:
    """Whether the dotted `name` is, or lies inside, a test module or a conftest module of the
    suite: `tests.e2e.test_build`, `tests.e2e.conftest.SandboxFactory`, `tests.conftest`."""
    parts = name.split(".")
    return parts[0] == "tests" and any(
        part.startswith("test_") or part == "conftest" for part in parts[1:]
    )


def module_name(path: Path) -> str:
    """The dotted name of a module of the checkout: tests/e2e/test_build.py is
    `tests.e2e.test_build`, tests/fakes/__init__.py is `tests.fakes`."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def absolute(node: ast.ImportFrom, importer: str, is_package: bool) -> str:
    """The module a `from ... import` names, its relative dots resolved against `importer`."""
    if not node.level:
        return node.module or ""
    anchor = importer.split(".") if is_package else importer.split(".")[:-1]
    anchor = anchor[: len(anchor) - (node.level - 1)]
    return ".".join([*anchor, *([node.module] if node.module else [])])


def imported(source: str, importer: str, *, is_package: bool = False) -> Iterator[tuple[int, str]]:
    """Each module `source` imports, with its line: `import` and `from ... import` statements
    anywhere in the module (in functions too), `importlib.import_module("...")` and
    `__import__("...")` of a constant, and the names `pytest_plugins` lists. A `from MODULE
    import NAME` gives MODULE when that is a test module, else MODULE.NAME for each name (which
    may be a module too: `from tests.e2e import test_build`)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom):
            base = absolute(node, importer, is_package)
            if is_test_module(base):
                yield node.lineno, base
            else:
                for alias in node.names:
                    yield node.lineno, f"{base}.{alias.name}"
        elif isinstance(node, ast.Call):
            function = node.func
            called = function.attr if isinstance(function, ast.Attribute) else None
            if isinstance(function, ast.Name):
                called = function.id
            first = node.args[0] if node.args else None
            if (
                called in DYNAMIC_IMPORTS
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
            ):
                yield node.lineno, first.value
        elif isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id == "pytest_plugins"
            for target in node.targets
        ):
            for item in ast.walk(node.value):
                if isinstance(item, ast.Constant) and isinstance(item.value, str):
                    yield node.lineno, item.value


def wrong_imports(source: str, importer: str, *, is_package: bool = False) -> list[str]:
    """`LINE: MODULE` for each test or conftest module that `source` (the module `importer`)
    imports."""
    return [
        f"{line}: {name}"
        for line, name in imported(source, importer, is_package=is_package)
        if is_test_module(name)
    ]


def suite_modules() -> list[Path]:
    return sorted(path for folder in SCANNED for path in (ROOT / folder).rglob("*.py"))


@pytest.mark.parametrize(
    ("source", "importer", "found"),
    [
        ("from tests.e2e.test_build import build", "tests.e2e.test_x", ["1: tests.e2e.test_build"]),
        ("import tests.unit.test_plan", "tests.unit.test_check", ["1: tests.unit.test_plan"]),
        ("import tests.unit.test_plan as plan", "tests.unit.test_x", ["1: tests.unit.test_plan"]),
        ("from tests.e2e import test_build", "tests.e2e.test_x", ["1: tests.e2e.test_build"]),
        ("from .test_build import build", "tests.e2e.test_x", ["1: tests.e2e.test_build"]),
        ("from . import test_build", "tests.e2e.test_x", ["1: tests.e2e.test_build"]),
        ("from ..e2e.test_build import build", "tests.unit.test_x", ["1: tests.e2e.test_build"]),
        ("from tests.e2e.conftest import SandboxFactory", "tests.e2e.test_x",
         ["1: tests.e2e.conftest"]),
        ("import tests.conftest", "benchmarks.startup", ["1: tests.conftest"]),
        ("def f() -> None:\n    from tests.unit.test_plan import x\n", "tests.unit.test_x",
         ["2: tests.unit.test_plan"]),
        ("import importlib\nimportlib.import_module('tests.unit.test_plan')", "tests.unit.test_x",
         ["2: tests.unit.test_plan"]),
        ("__import__('tests.e2e.test_build')", "tests.fakes.x", ["1: tests.e2e.test_build"]),
        ("pytest_plugins = ['tests.e2e.conftest']", "tests.unit.conftest",
         ["1: tests.e2e.conftest"]),
        ("from tests.fakes.clock import FakeClock", "tests.unit.test_x", []),
        ("from tests.sandbox_helpers import Sandbox", "tests.e2e.test_x", []),
        ("from tests.fakes import images", "tests.unit.test_x", []),
        ("from . import helpers", "tests.fakes", []),
        ("import pytest\nfrom ebami.cli.main import main", "tests.unit.test_x", []),
        ("from ebami.core.plan import test_like_name", "tests.unit.test_x", []),
    ],
)  # fmt: skip
def test_the_finder_sees_every_way_to_import_a_test_module(
    source: str, importer: str, found: list[str]
) -> None:
    assert wrong_imports(source, importer) == found


def test_a_package_s_relative_import_starts_at_the_package_itself() -> None:
    assert wrong_imports("from .e2e import test_build", "tests", is_package=True) == [
        "1: tests.e2e.test_build"
    ]


def test_no_module_of_the_suite_imports_a_test_module_or_a_conftest() -> None:
    modules = suite_modules()
    assert Path(__file__).resolve() in modules
    wrong = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in modules
        for line in wrong_imports(
            path.read_text(), module_name(path), is_package=path.name == "__init__.py"
        )
    ]
    assert not wrong, (
        "test or conftest modules imported (move what they share into tests/fakes or "
        "tests/support, fixtures into a conftest.py): " + "; ".join(wrong)
    )
