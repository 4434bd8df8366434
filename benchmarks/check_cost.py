"""What the nightly job pays when nothing is new: `ebami check` against `ebami lookup`.

In one sandbox, after one `ebami build` (so the AMI carrying the bake key exists), each run times
`ebami lookup --release 2017.09` and `ebami check --release 2017.09` as processes, and reads the
API calls check made (EBAMI_STATS=1). Targets: at most 3 calls, and check's median wall time at
most 1.5 times lookup's (check is lookup plus rendering the user data and one DescribeImages).

    .venv/bin/python benchmarks/check_cost.py [--runs 7] [--ratio 1.5]
"""

from __future__ import annotations

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from ebami.sandbox.clients import client_environment
from ebami.sandbox.control import start_background, stop
from ebami.sandbox.faults import Faults


def ebami(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("ebami")
    return [str(script), *args] if script.is_file() else [sys.executable, "-m", "ebami", *args]


def timed(command: list[str], env: dict[str, str], cwd: Path) -> tuple[float, str]:
    began = time.perf_counter()
    proc = subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - began
    if proc.returncode != 0:
        sys.exit(f"{' '.join(command)} failed ({proc.returncode}): {proc.stderr.strip()}")
    return wall, proc.stderr


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--ratio", type=float, default=1.5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ebami-bench-") as folder:
        work = Path(folder)
        info = start_background(work / "sandbox", port=0, region="us-east-1", faults=Faults(),
                                seed=0)  # fmt: skip
        try:
            env = {**os.environ, **client_environment(info.endpoint, info.region)}
            timed(ebami("build", "--release", "2017.09"), env, work)
            lookups, checks, calls = [], [], 0
            for _ in range(args.runs + 1):  # the first of each warms the caches
                lookups.append(timed(ebami("lookup", "--release", "2017.09"), env, work)[0])
                wall, stderr = timed(
                    ebami("check", "--release", "2017.09"), {**env, "EBAMI_STATS": "1"}, work
                )
                checks.append(wall)
                found = re.search(r"API calls: (\d+)", stderr)
                calls = int(found.group(1)) if found else -1
        finally:
            stop(work / "sandbox")
    lookup, check = statistics.median(lookups[1:]), statistics.median(checks[1:])
    print(f"ebami lookup  median {lookup:.3f} s  runs {', '.join(f'{t:.3f}' for t in lookups[1:])}")
    print(f"ebami check   median {check:.3f} s  runs {', '.join(f'{t:.3f}' for t in checks[1:])}")
    ratio = check / lookup
    print(f"check / lookup = {ratio:.2f} (target {args.ratio}); API calls: {calls} (target 3)")
    return 0 if ratio <= args.ratio and 0 <= calls <= 3 else 1


if __name__ == "__main__":
    sys.exit(main())
