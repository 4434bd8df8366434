"""ebami's overhead over Packer: `ebami build` against bare `packer build` of the same template.

Target: `ebami build` takes at most 2.0x the time of bare `packer build` (ratio of the medians,
wall time). One sandbox serves every run; the two alternate (which one goes first alternates
too) so that both see the same sandbox state and the same load. The bare Packer run gets the very
files ebami hands Packer (the assembled template, the variables of `ebami build --dry-run`, the
same user data), with a fresh AMI name each time; ebami runs with `--force` so that it always
bakes. One untimed run of each warms the caches first. CPU time (user + sys, the process and the
children it waited for, Packer included) is shown for context.

    .venv/bin/python benchmarks/build_overhead.py [--runs 7] [--target 2.0]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ebami.packer.template import SANDBOX_SOURCE, assemble
from ebami.sandbox.clients import client_environment
from ebami.sandbox.control import start_background, stop
from ebami.sandbox.faults import Faults

EBAMI = [sys.executable, "-m", "ebami"]


@dataclass(frozen=True)
class Run:
    wall: float
    cpu: float
    stdout: str


def measured(command: list[str], env: dict[str, str], cwd: Path) -> Run:
    """Run `command` to the end; its wall time, and its CPU time (RUSAGE_CHILDREN delta)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    proc = subprocess.run(
        command, env=env, cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )
    wall = time.perf_counter() - began
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed (exit {proc.returncode}):\n{proc.stderr}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return Run(wall, cpu, proc.stdout)


def packer_inputs(dry_run: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """The Packer variables and user data of `ebami -o json build --dry-run`: the `bake`
    instruction's parameters (or, before the plan/execute core, `packer_variables` and the
    user data rendered the way ebami renders it)."""
    for instruction in dry_run.get("instructions", []):
        if instruction["action"] == "bake":
            return instruction["params"]["variables"], instruction["params"]["user_data"]
    from ebami.image.drivers import DEFAULT_DRIVERS
    from ebami.image.platforms import resolve_platform
    from ebami.image.userdata import SSM_AGENT_RPM_URL, render_user_data

    user_data = render_user_data(
        resolve_platform("multicontainer-docker"),
        DEFAULT_DRIVERS,
        "2017.09",
        packages=[SSM_AGENT_RPM_URL],
    )
    return dry_run["packer_variables"], user_data.text


def packer_version() -> tuple[int, ...]:
    output = subprocess.run(["packer", "version"], capture_output=True, text=True, check=True)
    return tuple(int(part) for part in output.stdout.split("v", 1)[1].split()[0].split("."))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--target", type=float, default=2.0, help="at most this ratio, medians")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="ebami-bench-") as folder:
        work = Path(folder)
        info = start_background(
            work / "sandbox", port=0, region="us-east-1", faults=Faults(), seed=0
        )
        try:
            env = {**os.environ, **client_environment(info.endpoint, info.region)}
            env["CHECKPOINT_DISABLE"] = "1"
            variables, user_data = packer_inputs(
                json.loads(
                    subprocess.run(
                        [*EBAMI, "--output", "json", "build", "--release", "2017.09",
                         "--dry-run"],
                        env=env, capture_output=True, text=True, check=True,
                    ).stdout
                )
            )  # fmt: skip
            (work / variables["user_data_file"]).write_text(user_data)
            template = assemble(work / "template", packer_version())
            var_file = work / "variables.pkrvars.json"

            def bare_packer(name: str) -> Run:
                var_file.write_text(json.dumps({**variables, "ami_name": name}))
                return measured(
                    [
                        "packer", "build", "-machine-readable", "-on-error=cleanup",
                        f"-only={SANDBOX_SOURCE}", f"-var-file={var_file}",
                        str(template.folder),
                    ],
                    env, work,
                )  # fmt: skip

            def ebami_build() -> Run:
                # AMI names carry the time to the second: keep ebami's runs apart (untimed).
                time.sleep(1.0)
                run = measured([*EBAMI, "build", "--release", "2017.09", "--force"], env, work)
                if not run.stdout.strip().startswith("ami-"):
                    raise SystemExit(f"ebami build printed no AMI id: {run.stdout!r}")
                return run

            bare_packer("bench-packer-warm-up")
            ebami_build()
            packer_runs: list[Run] = []
            ebami_runs: list[Run] = []
            for run in range(args.runs):
                if run % 2 == 0:
                    packer_runs.append(bare_packer(f"bench-packer-{run}"))
                    ebami_runs.append(ebami_build())
                else:
                    ebami_runs.append(ebami_build())
                    packer_runs.append(bare_packer(f"bench-packer-{run}"))
        finally:
            stop(work / "sandbox")

    packer_wall = statistics.median(run.wall for run in packer_runs)
    ebami_wall = statistics.median(run.wall for run in ebami_runs)
    packer_cpu = statistics.median(run.cpu for run in packer_runs)
    ebami_cpu = statistics.median(run.cpu for run in ebami_runs)
    ratio = ebami_wall / packer_wall
    print(f"runs: {args.runs} after one warm-up each ({os.cpu_count()} cores), alternating")
    print(
        f"packer build: median {packer_wall:.2f} s  ({_list(packer_runs)})  CPU {packer_cpu:.2f} s"
    )
    print(
        f"ebami build:  median {ebami_wall:.2f} s  ({_list(ebami_runs)})"
        f"  CPU {ebami_cpu:.2f} s (Packer's included)"
    )
    verdict = "met" if ratio <= args.target else "NOT met"
    print(
        f"ebami build / packer build: {ratio:.2f}x, {ebami_wall - packer_wall:.2f} s more "
        f"(target at most {args.target:.1f}x: {verdict})"
    )
    return 0 if ratio <= args.target else 1


def _list(runs: list[Run]) -> str:
    return ", ".join(f"{run.wall:.2f}" for run in runs)


if __name__ == "__main__":
    sys.exit(main())
