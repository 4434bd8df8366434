"""Sandbox start-to-ready: from `ebami sandbox start` to the first answered API call.

Target: under 3 s (median) on a 2-core machine. Each run starts a background sandbox in a fresh
folder, waits for its state file, makes one DescribeEnvironments call, and stops it.

    .venv/bin/python benchmarks/sandbox_start.py [--runs 5] [--target 3.0]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import boto3

from ebami.sandbox.clients import FAKE_KEY_ID, FAKE_SECRET
from ebami.sandbox.control import start_background, stop
from ebami.sandbox.faults import Faults


def one_run() -> tuple[float, float]:
    with tempfile.TemporaryDirectory(prefix="ebami-bench-") as folder:
        began = time.perf_counter()
        info = start_background(Path(folder), port=0, region="us-east-1", faults=Faults(), seed=0)
        ready = time.perf_counter() - began
        eb = boto3.client(
            "elasticbeanstalk",
            endpoint_url=info.endpoint,
            region_name=info.region,
            aws_access_key_id=FAKE_KEY_ID,
            aws_secret_access_key=FAKE_SECRET,
        )
        eb.describe_environments(EnvironmentNames=["prod"])
        answered = time.perf_counter() - began
        stop(Path(folder))
    return ready, answered


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--target", type=float, default=3.0, help="seconds, median")
    args = parser.parse_args()
    os.environ.pop("AWS_PROFILE", None)
    results = [one_run() for _ in range(args.runs)]
    ready = [r for r, _ in results]
    answered = [a for _, a in results]
    print(f"cpus: {os.cpu_count()}  runs: {args.runs}")
    print(
        f"start to ready:           min {min(ready):.2f} s  median {statistics.median(ready):.2f} s"
        f"  max {max(ready):.2f} s"
    )
    print(
        f"start to first answer:    min {min(answered):.2f} s  median "
        f"{statistics.median(answered):.2f} s  max {max(answered):.2f} s"
    )
    median = statistics.median(answered)
    verdict = "met" if median < args.target else "MISSED"
    print(f"target: under {args.target:.1f} s (median, first answer): {verdict}")
    return 0 if median < args.target else 1


if __name__ == "__main__":
    sys.exit(main())
