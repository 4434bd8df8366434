"""Start-up cost of ebami's commands that need no AWS, against creating one boto3 client.

Targets (median CPU time, user + sys of the whole process, as a ratio to the reference
`python -c "import boto3; boto3.client('ec2', region_name='us-east-1')"`): `ebami --help`,
`ebami build --help` and `ebami --version` at most 0.3x, `ebami render --release 2017.09` at
most 0.5x. CPU time rather than wall time, so that a busy machine changes the figures less; each
command runs as a whole process, once to warm the caches and then `--runs` times.

    .venv/bin/python benchmarks/startup.py [--runs 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

REFERENCE = [sys.executable, "-c", "import boto3; boto3.client('ec2', region_name='us-east-1')"]


def ebami() -> list[str]:
    """The venv's `ebami` script, as a user runs it (`python -m ebami` if there is none)."""
    script = Path(sys.executable).with_name("ebami")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "ebami"]


@dataclass(frozen=True)
class Case:
    name: str
    command: list[str]
    target: float | None  # at most this ratio to the reference; None: shown for context


def cases() -> list[Case]:
    return [
        Case("python -c pass (floor)", [sys.executable, "-c", "pass"], None),
        Case("ebami --help", [*ebami(), "--help"], 0.3),
        Case("ebami build --help", [*ebami(), "build", "--help"], 0.3),
        Case("ebami --version", [*ebami(), "--version"], 0.3),
        Case("ebami render --release 2017.09", [*ebami(), "render", "--release", "2017.09"], 0.5),
    ]


def cpu_seconds(command: list[str], env: dict[str, str], cwd: str) -> float:
    """User + sys CPU time of one run of `command` (and its children), from wait4."""
    process = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    assert process.stderr is not None
    error = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    process.stderr.close()
    if process.returncode != 0:
        raise SystemExit(
            f"{' '.join(command)} failed (exit {process.returncode}):\n{error.decode()}"
        )
    return usage.ru_utime + usage.ru_stime


def median_cpu(command: list[str], runs: int, env: dict[str, str], cwd: str) -> float:
    cpu_seconds(command, env, cwd)  # warm-up: page cache, .pyc files
    return statistics.median(cpu_seconds(command, env, cwd) for _ in range(runs))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()

    # No AWS configuration or sandbox of the caller's may change what the commands do.
    env = {
        name: value for name, value in os.environ.items() if not name.startswith(("AWS_", "EBAMI_"))
    }
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    with tempfile.TemporaryDirectory(prefix="ebami-bench-") as cwd:
        env["AWS_CONFIG_FILE"] = env["AWS_SHARED_CREDENTIALS_FILE"] = str(Path(cwd) / "none")
        reference = median_cpu(REFERENCE, args.runs, env, cwd)
        results = [(case, median_cpu(case.command, args.runs, env, cwd)) for case in cases()]

    print(f"runs: {args.runs} after one warm-up ({os.cpu_count()} cores), median CPU time")
    print(f"{'reference: import boto3 + one client':<40} {reference * 1000:7.0f} ms  1.00x")
    missed = []
    for case, cpu in results:
        ratio = cpu / reference
        if case.target is None:
            verdict = ""
        elif ratio <= case.target:
            verdict = f"target at most {case.target:.1f}x: met"
        else:
            verdict = f"target at most {case.target:.1f}x: NOT met"
            missed.append(case.name)
        print(f"{case.name:<40} {cpu * 1000:7.0f} ms  {ratio:.2f}x  {verdict}".rstrip())
    print("all targets met" if not missed else f"targets missed: {', '.join(missed)}")
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
