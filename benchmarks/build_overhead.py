"""ebami's overhead over Packer: `ebami build` against bare `packer build` of the same template.

Target: ebami adds at most 1.0 s (median) to what Packer itself takes. One sandbox serves every
run; runs alternate between the two so that both see the same sandbox state. The bare Packer
run gets the very files ebami hands Packer (the assembled template, the variables of
`ebami build --dry-run`, the same user data), with a fresh AMI name each time; ebami runs with
`--force` so that it always bakes.

    .venv/bin/python benchmarks/build_overhead.py [--runs 5] [--target 1.0]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ebami.drivers import DEFAULT_DRIVERS
from ebami.packer.template import SANDBOX_SOURCE, assemble
from ebami.platforms import resolve_platform
from ebami.sandbox.control import client_environment, start_background, stop
from ebami.sandbox.faults import Faults
from ebami.userdata import SSM_AGENT_RPM_URL, render_user_data

EBAMI = [sys.executable, "-m", "ebami"]


def timed(command: list[str], env: dict[str, str], cwd: Path) -> float:
    began = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, check=True, capture_output=True, timeout=300)
    return time.perf_counter() - began


def packer_version() -> tuple[int, ...]:
    output = subprocess.run(["packer", "version"], capture_output=True, text=True, check=True)
    return tuple(int(part) for part in output.stdout.split("v", 1)[1].split()[0].split("."))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--target", type=float, default=1.0, help="allowed overhead, seconds")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="ebami-bench-") as folder:
        work = Path(folder)
        info = start_background(
            work / "sandbox", port=0, region="us-east-1", faults=Faults(), seed=0
        )
        try:
            env = {**os.environ, **client_environment(info.endpoint, info.region)}
            env["CHECKPOINT_DISABLE"] = "1"
            plan = json.loads(
                subprocess.run(
                    [*EBAMI, "--output", "json", "build", "--release", "2017.09", "--dry-run"],
                    env=env, capture_output=True, text=True, check=True,
                ).stdout
            )  # fmt: skip
            user_data = render_user_data(
                resolve_platform("multicontainer-docker"),
                DEFAULT_DRIVERS,
                "2017.09",
                packages=[SSM_AGENT_RPM_URL],
            )
            (work / "user-data.yaml").write_text(user_data.text)
            template = assemble(work / "template", packer_version())

            packer_times: list[float] = []
            ebami_times: list[float] = []
            for run in range(args.runs):
                variables = {**plan["packer_variables"], "ami_name": f"bench-packer-{run}"}
                var_file = work / "variables.pkrvars.json"
                var_file.write_text(json.dumps(variables))
                packer_times.append(
                    timed(
                        [
                            "packer", "build", "-machine-readable", "-on-error=cleanup",
                            f"-only={SANDBOX_SOURCE}", f"-var-file={var_file}",
                            str(template.folder),
                        ],
                        env, work,
                    )
                )  # fmt: skip
                # AMI names carry the time to the second: keep ebami's runs apart.
                time.sleep(1.0)
                ebami_times.append(
                    timed([*EBAMI, "build", "--release", "2017.09", "--force"], env, work)
                )
        finally:
            stop(work / "sandbox")

    packer_median = statistics.median(packer_times)
    ebami_median = statistics.median(ebami_times)
    overhead = ebami_median - packer_median
    print(f"runs: {args.runs} ({os.cpu_count()} cores)")
    print(f"packer build: median {packer_median:.2f} s  ({_list(packer_times)})")
    print(f"ebami build:  median {ebami_median:.2f} s  ({_list(ebami_times)})")
    verdict = "met" if overhead <= args.target else "NOT met"
    print(f"ebami overhead: {overhead:.2f} s (target at most {args.target:.1f} s: {verdict})")
    return 0 if overhead <= args.target else 1


def _list(times: list[float]) -> str:
    return ", ".join(f"{t:.2f}" for t in times)


if __name__ == "__main__":
    sys.exit(main())
