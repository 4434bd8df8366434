"""How long fleet apply takes against the sandbox: one environment vs the 20 of `--fleet 20`.

Each run gets a fresh sandbox started with `--fleet 20` (fleet-01 to fleet-10 in us-east-1,
fleet-11 to fleet-20 in us-west-2), an AMI built with a copy to us-west-2 and both copies passed
by `ebami verify` (untimed), and an ebami.toml naming the second region's environments and the
group `fleet`. Then, timed:

(a) `ebami apply --env fleet-01`: one environment (one instance, rolling updates disabled);
(b) `ebami apply --group fleet --canary 1 --concurrency 5`: the 20, in 5 waves (1, 5, 5, 5, 4).

The sandbox steps an update every 0.5 s of its clock and sets EBAMI_SETTLE=1, so an
environment's apply is mostly its update and the 1 s health settle window; a wave waits for
its slowest environment, and the next wave starts only after it. The issue's target: the fleet
at most 3x one environment (medians).

    .venv/bin/python benchmarks/fleet_apply.py [--runs 5] [--target 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

import boto3
from apply import PROFILE, Run, ebami, measured, run_checked

from ebami.sandbox import world
from ebami.sandbox.clients import client_environment
from ebami.sandbox.control import start_background, stop
from ebami.sandbox.faults import Faults

FLEET = 20
SECOND = "us-west-2"


def settings(work: Path) -> None:
    names = world.fleet_regions(FLEET, "us-east-1")
    lines = ["[groups]", "fleet = [" + ", ".join(f'"{name}"' for name in names) + "]", ""]
    for name, region in names.items():
        if region != "us-east-1":
            lines += [
                f"[environments.{name}]",
                f'application = "{world.APPLICATION}"',
                f'environment = "{name}"',
                f'region = "{region}"',
                "",
            ]
    (work / "ebami.toml").write_text("\n".join(lines))


def prepared(work: Path) -> tuple[Path, dict[str, str]]:
    """A fresh fleet sandbox with a verified AMI in both regions; its folder and variables."""
    folder = Path(tempfile.mkdtemp(prefix="sandbox-", dir=work))
    info = start_background(
        folder, port=0, region="us-east-1", faults=Faults(), seed=0, fleet=FLEET
    )
    env = {**os.environ, **client_environment(info.endpoint, info.region)}
    env["CHECKPOINT_DISABLE"] = "1"
    try:
        ami = run_checked(
            [*ebami(), "build", "--release", "2017.09", "--copy-to", SECOND], env, work
        )
        run_checked([*ebami(), "verify", "--ami", ami, "--instance-profile", PROFILE], env, work)
        ec2 = boto3.client(
            "ec2",
            region_name=SECOND,
            endpoint_url=info.endpoint,
            aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        )
        (copy,) = [image["ImageId"] for image in ec2.describe_images(Owners=["self"])["Images"]]
        verify = ["--region", SECOND, "verify", "--ami", copy, "--instance-profile", PROFILE]
        run_checked([*ebami(), *verify], env, work)
    except BaseException:
        stop(folder)
        raise
    return folder, env


def timed(work: Path, args: list[str]) -> Run:
    run_dir = Path(tempfile.mkdtemp(prefix="run-", dir=work))
    settings(run_dir)
    folder, env = prepared(run_dir)
    try:
        return measured([*ebami(), "apply", *args], env, run_dir)
    finally:
        stop(folder)


ONE = ["--env", "fleet-01"]


def fleet_args(concurrency: int) -> list[str]:
    return ["--group", "fleet", "--canary", "1", "--concurrency", str(concurrency)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--target", type=float, default=3.0, help="fleet / one at most this")
    parser.add_argument("--concurrency", type=int, default=5, help="the fleet's --concurrency")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error(f"--runs {args.runs}: give 1 or more")

    with tempfile.TemporaryDirectory(prefix="ebami-bench-fleet-") as folder:
        work = Path(folder)
        timed(work, ONE)  # warm-up
        ones = [timed(work, ONE) for _ in range(args.runs)]
        fleets = [timed(work, fleet_args(args.concurrency)) for _ in range(args.runs)]

    one = statistics.median(run.wall for run in ones)
    fleet = statistics.median(run.wall for run in fleets)
    print(f"runs: {args.runs} after one warm-up ({os.cpu_count()} cores)")
    print(
        f"apply --env fleet-01:  median {one:.2f} s  ({_list(ones)})  "
        f"CPU {statistics.median(run.cpu for run in ones):.2f} s"
    )
    print(
        f"apply --group fleet (20, canary 1, concurrency {args.concurrency}):  "
        f"median {fleet:.2f} s  "
        f"({_list(fleets)})  CPU {statistics.median(run.cpu for run in fleets):.2f} s"
    )
    ratio = fleet / one
    met = ratio <= args.target
    print(
        f"fleet / one: {ratio:.2f}x (target at most {args.target:g}x: "
        f"{'met' if met else 'NOT met'})"
    )
    return 0 if met else 1


def _list(runs: list[Run]) -> str:
    return ", ".join(f"{run.wall:.2f}" for run in runs)


if __name__ == "__main__":
    sys.exit(main())
