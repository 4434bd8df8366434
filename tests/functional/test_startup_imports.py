"""Start-up time: commands load only what they use.

`--help`, `build --help` and `--version` must not load the AWS SDK, moto, pydantic, PyYAML,
jinja2 or rich's Markdown renderer; commands that need no AWS (`render`, the other `--help`s, a
`sandbox stop` with nothing to stop) must not load boto3, botocore or moto.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

AWS = ("boto3", "botocore", "moto")
HEAVY = (*AWS, "pydantic", "yaml", "jinja2", "rich.markdown")


def probe(modules: tuple[str, ...]) -> str:
    """Runs ebami's `main` on its arguments, then writes as the last stderr line which of
    `modules` are loaded, itself or any of its submodules: `LOADED=jinja2,yaml`."""
    return (
        "import sys\n"
        "from ebami.cli.main import main\n"
        "code = main(sys.argv[1:])\n"
        f"names = {modules!r}\n"
        "loaded = [n for n in names\n"
        "          if any(m == n or m.startswith(n + '.') for m in sys.modules)]\n"
        "sys.stderr.write('LOADED=' + ','.join(loaded) + '\\n')\n"
        "raise SystemExit(code)\n"
    )


def loaded(args: list[str], modules: tuple[str, ...], *, first: str = "") -> str:
    """The `LOADED=` line of a fresh interpreter that runs `first`, then `ebami ARGS`."""
    proc = subprocess.run(
        [sys.executable, "-c", first + probe(modules), *args],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stderr.splitlines()[-1]


@pytest.mark.parametrize("args", [["--help"], ["build", "--help"], ["--version"]], ids=" ".join)
def test_help_and_version_load_nothing_heavy(args: list[str]) -> None:
    assert loaded(args, HEAVY) == "LOADED="


@pytest.mark.parametrize(
    "args",
    [
        ["render", "--release", "2017.09"],
        ["render", "--help"],
        ["lookup", "--help"],
        ["verify", "--help"],
        ["sandbox", "--help"],
        ["sandbox", "start", "--help"],
        ["sandbox", "stop", "--dir", "no-sandbox-here"],
    ],
    ids=" ".join,
)
def test_no_aws_imports(args: list[str]) -> None:
    assert loaded(args, AWS) == "LOADED="


@pytest.mark.parametrize(
    ("first", "seen"),
    [
        ("import boto3\n", "boto3"),
        ("import pydantic\n", "pydantic"),
        ("import rich.markdown\n", "rich.markdown"),
    ],
    ids=["boto3", "pydantic", "rich.markdown"],
)
def test_the_probe_would_see_them(first: str, seen: str) -> None:
    line = loaded(["--help"], HEAVY, first=first)
    assert seen in line.removeprefix("LOADED=").split(","), line


def test_the_probe_counts_rich_markdown_not_all_of_rich() -> None:
    assert loaded(["--version"], ("rich.markdown",), first="import rich.console\n") == "LOADED="
