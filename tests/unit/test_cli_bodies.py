"""The CLI only parses, calls and presents: every command body is short, and no orchestration
(a thread pool) lives in `ebami/cli/`."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CLI = Path(__file__).resolve().parents[2] / "ebami" / "cli"
# Lines from a command body's first statement to its last, its docstring and the imports it
# makes on first use (kept out of `--help`'s start-up) aside.
LONGEST_BODY = 25


def commands() -> list[tuple[str, ast.FunctionDef]]:
    """Every command function: its first parameter is the Typer context."""
    found = []
    for path in sorted(CLI.glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if isinstance(node, ast.FunctionDef) and [a.arg for a in node.args.args][:1] == ["ctx"]:
                found.append((f"{path.name}:{node.name}", node))
    return found


def body_lines(node: ast.FunctionDef) -> int:
    body = node.body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    code = [item for item in body if not isinstance(item, (ast.Import, ast.ImportFrom))]
    assert code[-1].end_lineno is not None
    return code[-1].end_lineno - code[0].lineno + 1


def test_every_command_is_found() -> None:
    names = {name.split(":")[1] for name, _ in commands()}
    assert {"build", "verify", "apply", "check", "status", "promote", "revoke", "prune"} <= names


@pytest.mark.parametrize(("name", "node"), commands(), ids=[name for name, _ in commands()])
def test_a_command_body_parses_calls_and_presents(name: str, node: ast.FunctionDef) -> None:
    assert body_lines(node) <= LONGEST_BODY, f"{name}: {body_lines(node)} lines"


def test_no_thread_pool_in_the_cli() -> None:
    pools = [
        path.name
        for path in sorted(CLI.glob("*.py"))
        if "ThreadPoolExecutor" in path.read_text(encoding="utf-8")
    ]
    assert pools == []


def test_a_long_body_is_measured_as_long() -> None:
    source = "def cmd(ctx):\n    '''Doc.'''\n    import os\n" + "    x = 1\n" * 26
    (node,) = ast.parse(source).body
    assert isinstance(node, ast.FunctionDef)
    assert body_lines(node) == 26
