"""The robustness matrix: `ebami build` and `ebami verify` under each sandbox fault, with a
signal at each phase, and what every run left behind.

Each cell is one real CLI process against a sandbox started with the fault: it runs to the end,
or gets SIGINT/SIGTERM as soon as its stderr shows the phase's line. The table gives the exit
code, the last line on stderr and the resources left afterwards (the sandbox's leak report:
instances, security groups, key pairs, volumes, pending AMIs), plus any process of the run's
group still alive. Target: nothing left in any cell. Exits 1 when a cell leaves something.

    .venv/bin/python benchmarks/robustness.py [--faults none,throttle,ssm-offline,pending]
"""

from __future__ import annotations

import argparse
import os
import re
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ebami.sandbox import world
from ebami.sandbox.clients import client_environment, ec2_client
from ebami.sandbox.control import start_background, stop
from ebami.sandbox.faults import Faults
from ebami.sandbox.leaks import leak_report

EBAMI = [sys.executable, "-m", "ebami"]
FAULTS = {
    "none": Faults(),
    "throttle": Faults(throttle=0.3),
    "ssm-offline": Faults(ssm_offline=True),
    "pending": Faults(ami_pending_polls=3),
}
# How long one cell may run before it counts as hung (a run that hangs is a finding too).
CELL_SECONDS = 180


@dataclass(frozen=True)
class Phase:
    name: str
    # The stderr line that marks the phase; None: let the run finish.
    trigger: str | None = None
    signum: signal.Signals = signal.SIGINT


BUILD_PHASES = (
    Phase("to the end"),
    Phase("lookup", r"^looking up the base AMI", signal.SIGINT),
    Phase("packer launch", r"Launching a source AWS instance", signal.SIGTERM),
    Phase("packer AMI wait", r"Waiting for AMI to become ready", signal.SIGINT),
)
VERIFY_PHASES = (
    Phase("to the end"),
    Phase("launch", r"^launching a ", signal.SIGINT),
    Phase("SSM wait", r"^launched i-", signal.SIGTERM),
    Phase("probe", r"^reading ecs\.config", signal.SIGINT),
)


@dataclass(frozen=True)
class Cell:
    command: str
    fault: str
    phase: str
    exit_code: int | None
    last_line: str
    left: str


def run_cell(
    command: list[str], env: dict[str, str], cwd: Path, phase: Phase
) -> tuple[int | None, str, bool]:
    """Run `command` in its own process group; signal it at the phase's line. Returns its exit
    code (None when it hung), its last stderr line and whether its group outlived it."""
    proc = subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        text=True, start_new_session=True,
    )  # fmt: skip
    assert proc.stderr is not None
    lines: list[str] = []
    signalled = False
    deadline = time.monotonic() + CELL_SECONDS
    with selectors.DefaultSelector() as selector:
        selector.register(proc.stderr, selectors.EVENT_READ)
        while time.monotonic() < deadline:
            if not selector.select(timeout=1.0):
                if proc.poll() is not None:
                    break
                continue
            line = proc.stderr.readline()
            if not line:
                break
            lines.append(line.rstrip("\n"))
            if phase.trigger and not signalled and re.search(phase.trigger, line):
                proc.send_signal(phase.signum)  # to ebami only, as a terminal's kill would
                signalled = True
    try:
        code: int | None = proc.wait(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        code = None
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    outlived = _group_alive(proc.pid)
    if outlived:
        os.killpg(proc.pid, signal.SIGKILL)
    last = next((line for line in reversed(lines) if line.strip()), "")
    return code, last, outlived


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@contextmanager
def sandbox(folder: Path, faults: Faults) -> Iterator[dict[str, str]]:
    info = start_background(folder, port=0, region="us-east-1", faults=faults, seed=0)
    try:
        yield {**os.environ, **client_environment(info.endpoint, info.region)}
    finally:
        stop(folder)


def left_behind(env: dict[str, str], outlived: bool) -> str:
    report = leak_report(ec2_client(env["AWS_ENDPOINT_URL"], env["AWS_DEFAULT_REGION"]))
    parts = [] if report.clean else report.lines()
    if outlived:
        parts.append("processes of the run")
    return "; ".join(parts) or "nothing"


def clean_up(env: dict[str, str]) -> None:
    """Remove what a cell left, so the next cell starts from a clean account."""
    client = ec2_client(env["AWS_ENDPOINT_URL"], env["AWS_DEFAULT_REGION"])
    report = leak_report(client)
    if report.instances:
        client.terminate_instances(InstanceIds=[item.id for item in report.instances])
    for group in report.security_groups:
        client.delete_security_group(GroupId=group.id)
    for key in report.key_pairs:
        client.delete_key_pair(KeyName=key.id)
    for volume in report.volumes:
        client.delete_volume(VolumeId=volume.id)
    for image in report.pending_images:
        client.deregister_image(ImageId=image.id)


def baked_ami(env: dict[str, str], cwd: Path) -> str | None:
    """An AMI for the verify cells, baked in the same sandbox. Packer itself gives up on some
    throttled calls, so a few tries; None when none succeeds (the verify cells say so)."""
    for _ in range(5):
        time.sleep(1.0)
        proc = subprocess.run(
            [*EBAMI, "build", "--release", "2017.09"], env=env, cwd=cwd, capture_output=True,
            text=True, timeout=CELL_SECONDS, check=False,
        )  # fmt: skip
        if proc.returncode == 0:
            return proc.stdout.strip()
    return None


def matrix(faults: list[str], work: Path) -> list[Cell]:
    cells: list[Cell] = []
    for name in faults:
        with sandbox(work / f"sandbox-{name}", FAULTS[name]) as env:
            env = {**env, "CHECKPOINT_DISABLE": "1"}
            for phase in BUILD_PHASES:
                time.sleep(1.0)  # AMI names carry the second: one build per second
                command = [*EBAMI, "build", "--release", "2017.09", "--force"]
                code, last, outlived = run_cell(command, env, work, phase)
                left = left_behind(env, outlived)
                cells.append(Cell("build", name, phase.name, code, last, left))
                clean_up(env)
            image_id = baked_ami(env, work)
            clean_up(env)
            if image_id is None:
                cells.append(Cell("verify", name, "-", None, "no AMI could be baked", "-"))
                continue
            for phase in VERIFY_PHASES:
                command = [
                    *EBAMI, "verify", "--ami", image_id, "--instance-profile", world.EC2_ROLE,
                    "--timeout", "20",
                ]  # fmt: skip
                code, last, outlived = run_cell(command, env, work, phase)
                cells.append(
                    Cell("verify", name, phase.name, code, last, left_behind(env, outlived))
                )
                clean_up(env)
    return cells


def print_table(cells: list[Cell]) -> None:
    header = ("command", "fault", "phase", "exit", "left behind", "last line on stderr")
    rows = [
        (c.command, c.fault, c.phase, "hung" if c.exit_code is None else str(c.exit_code),
         c.left, c.last_line[:100])
        for c in cells
    ]  # fmt: skip
    widths = [max(len(str(row[i])) for row in [header, *rows]) for i in range(len(header) - 1)]
    for row in [header, *rows]:
        padded = "  ".join(
            str(value).ljust(width) for value, width in zip(row[:-1], widths, strict=True)
        )
        print(f"{padded}  {row[-1]}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--faults", default=",".join(FAULTS), help=f"of {', '.join(FAULTS)}")
    args = parser.parse_args()
    chosen = [name.strip() for name in args.faults.split(",") if name.strip()]
    unknown = [name for name in chosen if name not in FAULTS]
    if unknown:
        parser.error(f"--faults: unknown {', '.join(unknown)}; accepted: {', '.join(FAULTS)}")
    with tempfile.TemporaryDirectory(prefix="ebami-robustness-") as folder:
        cells = matrix(chosen, Path(folder))
    print_table(cells)
    hung = [cell for cell in cells if cell.exit_code is None and cell.phase != "-"]
    dirty = [cell for cell in cells if cell.left not in ("nothing", "-")] + hung
    print(f"\n{len(cells)} cells, {len(dirty)} left something behind or hung (target: 0)")
    return 1 if dirty else 0


if __name__ == "__main__":
    raise SystemExit(main())
