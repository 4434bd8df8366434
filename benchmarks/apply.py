"""How long `ebami apply` takes against the sandbox, and the whole quick-start pipeline.

(a) `ebami apply --env staging` (one instance, rolling updates disabled) in a fresh sandbox each
run, after an untimed `ebami build` + `ebami verify` there: wall time of the apply alone (the
sandbox's clock steps an update every 0.5 s, and the sandbox sets EBAMI_SETTLE=1, so most of it
is the update itself and the 1 s health settle window).

(b) `ebami sandbox run -- scripts/pipeline`, the README's quick start after `scripts/setup`:
a sandbox made for the command, then whatever scripts/pipeline runs (build, verify, apply
staging, verify --env staging, promote, apply prod from the channel, status when this was
written), then the sandbox stopped.
Target: median at most 15 s.

Each case runs once untimed to warm the caches, then `--runs` times; medians are shown with the
single runs. CPU time (user + sys of the process and the children it waited for) is shown for
context.

    .venv/bin/python benchmarks/apply.py [--runs 5] [--target 15]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ebami.sandbox.clients import client_environment
from ebami.sandbox.control import start_background, stop
from ebami.sandbox.faults import Faults

ROOT = Path(__file__).resolve().parent.parent
PROFILE = "aws-elasticbeanstalk-ec2-role"


def ebami() -> list[str]:
    """The venv's `ebami` script, as a user runs it (`python -m ebami` if there is none)."""
    script = Path(sys.executable).with_name("ebami")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "ebami"]


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float


def measured(command: list[str], env: dict[str, str], cwd: Path) -> Run:
    """Run `command` to the end; its wall time and its CPU time (RUSAGE_CHILDREN delta)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    proc = subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed (exit {proc.returncode}):\n{proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(wall, cpu)


def run_checked(command: list[str], env: dict[str, str], cwd: Path) -> str:
    proc = subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=600, check=False
    )
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed (exit {proc.returncode}):\n{proc.stderr}")
    return proc.stdout.strip()


def apply_staging(work: Path) -> Run:
    """A fresh sandbox, an AMI built and verified there (untimed), then the timed apply."""
    folder = Path(tempfile.mkdtemp(prefix="sandbox-", dir=work))
    info = start_background(folder, port=0, region="us-east-1", faults=Faults(), seed=0)
    try:
        env = {**os.environ, **client_environment(info.endpoint, info.region)}
        env["CHECKPOINT_DISABLE"] = "1"
        ami = run_checked([*ebami(), "build", "--release", "2017.09"], env, work)
        run_checked([*ebami(), "verify", "--ami", ami, "--instance-profile", PROFILE], env, work)
        return measured([*ebami(), "apply", "--env", "staging"], env, work)
    finally:
        stop(folder)


def pipeline(work: Path) -> Run:
    """The quick start: `ebami sandbox run -- scripts/pipeline`, in a sandbox folder of its own."""
    folder = Path(tempfile.mkdtemp(prefix="pipeline-", dir=work))
    env = {**os.environ, "EBAMI_SANDBOX_DIR": str(folder / "sandbox"), "CHECKPOINT_DISABLE": "1"}
    for name in ("AWS_ENDPOINT_URL", "EBAMI_SANDBOX", "AWS_PROFILE"):
        env.pop(name, None)
    return measured([*ebami(), "sandbox", "run", "--", "scripts/pipeline"], env, ROOT)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--target", type=float, default=15.0, help="pipeline median at most this (seconds)"
    )
    args = parser.parse_args()
    if args.runs < 1:
        parser.error(f"--runs {args.runs}: give 1 or more")

    with tempfile.TemporaryDirectory(prefix="ebami-bench-apply-") as folder:
        work = Path(folder)
        apply_staging(work)  # warm-up
        applies = [apply_staging(work) for _ in range(args.runs)]
        pipeline(work)  # warm-up
        pipelines = [pipeline(work) for _ in range(args.runs)]

    steps = _pipeline_steps()
    apply_wall = statistics.median(run.wall for run in applies)
    pipeline_wall = statistics.median(run.wall for run in pipelines)
    print(f"runs: {args.runs} after one warm-up each ({os.cpu_count()} cores)")
    print(
        f"apply --env staging:  median {apply_wall:.2f} s  ({_list(applies)})  "
        f"CPU {statistics.median(run.cpu for run in applies):.2f} s"
    )
    print(
        f"sandbox run -- scripts/pipeline:  median {pipeline_wall:.2f} s  ({_list(pipelines)})  "
        f"CPU {statistics.median(run.cpu for run in pipelines):.2f} s (children included)"
    )
    print(f"  scripts/pipeline runs: {steps}")
    met = pipeline_wall <= args.target
    print(
        f"pipeline median {pipeline_wall:.2f} s (target at most {args.target:g} s: "
        f"{'met' if met else 'NOT met'})"
    )
    return 0 if met else 1


def _pipeline_steps() -> str:
    """The ebami commands scripts/pipeline runs (as it reads now), for the record."""
    text = (ROOT / "scripts" / "pipeline").read_text()
    steps = []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#") or '"$ebami"' not in line:
            continue
        words = line.split('"$ebami"', 1)[1].split()
        steps.append(" ".join(word for word in words[:2] if not word.startswith('"')))
    return " -> ".join(steps) or "(no ebami command found)"


def _list(runs: list[Run]) -> str:
    return ", ".join(f"{run.wall:.2f}" for run in runs)


if __name__ == "__main__":
    sys.exit(main())
