"""Commands that need no AWS must not import boto3, botocore or moto (start-up time)."""

from __future__ import annotations

import subprocess
import sys

import pytest

HEAVY = ("boto3", "botocore", "moto")
PROBE = (
    "import sys\n"
    "from ebami.cli.main import main\n"
    "code = main(sys.argv[1:])\n"
    f"heavy = sorted(m for m in sys.modules if m.split('.')[0] in {set(HEAVY)!r})\n"
    "sys.stderr.write('HEAVY=' + ','.join(heavy) + '\\n')\n"
    "raise SystemExit(code)\n"
)


@pytest.mark.parametrize(
    "args",
    [
        ["--help"],
        ["render", "--release", "2017.09"],
        ["render", "--help"],
        ["lookup", "--help"],
        ["build", "--help"],
        ["verify", "--help"],
        ["sandbox", "--help"],
        ["sandbox", "start", "--help"],
        ["sandbox", "stop", "--dir", "no-sandbox-here"],
    ],
)
def test_no_aws_imports(args: list[str]) -> None:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, *args], capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines()[-1] == "HEAVY="


def test_the_probe_would_see_boto3() -> None:
    proc = subprocess.run(
        [sys.executable, "-c", "import boto3\n" + PROBE, "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert "HEAVY=boto3" in proc.stderr
