"""What ebami's read-heavy commands cost as the estate grows: estates S, M and L in a sandbox.

Each size gets a fresh sandbox started with `--fleet N` (the first half of fleet-01... in
us-east-1, the rest in us-west-2) and an estate made as a new user's would look after years of
nightlies, in seconds rather than years (untimed):

- one real `ebami build --copy-to us-west-2`, and `ebami verify` of the AMI in each region;
- ebami-tagged copies of those two AMIs made with boto3 (CopyImage, then CreateTags with the
  source's tags), spread evenly over the two regions, 60 % of them tagged verified;
- a third of the environments switched to verified copies by UpdateEnvironment (waited for);
- a few launch templates and `aws:ec2:image` parameters naming copies.

Then, timed, each as its own process with EBAMI_STATS=1: `status` (both regions), `prune --keep 3
--older-than 0` (dry run), one `check` run naming every fleet environment (`--env` each),
`apply --group fleet --dry-run`, and `apply --group fleet` for real at `--concurrency 5` and,
after one newer verified copy per region, at `--concurrency 20`. For each: wall time, CPU
(user + sys of the child, from its rusage), peak RSS, API calls (total, per environment, per
AMI) and the top operations. A real fleet apply also gets its wave floor: waves x one
environment's apply, measured after it as five `ebami apply --env` runs (untimed in the
table's own row) to a newer verified AMI; its wall time should be at most 1.2x that. A command
that outlasts `--timeout` (default 600 s: a fleet apply of L at concurrency 5 takes about 180 s,
and twice that at `--throttle 0.3`) has its process group killed and is reported as not
finished; the sandbox is stopped whatever happens.

    .venv/bin/python benchmarks/estate_scale.py [--size S|M|L]... [--command NAME]...
        [--throttle F] [--realism SPEC] [--timeout 600] [--json]

`--realism` is the sandbox's (`ebami sandbox start --realism`; default `aws`): with
`aws,late-events=0`, say, a fleet apply's wave floor is measured without late events.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import boto3
from apply import PROFILE, ebami, run_checked
from botocore.config import Config
from botocore.exceptions import ClientError

from ebami.core.errors import InputError
from ebami.image.tags import BUILD_RUN
from ebami.sandbox import world
from ebami.sandbox.clients import client_environment
from ebami.sandbox.control import start_background, stop
from ebami.sandbox.faults import Faults
from ebami.sandbox.realism import Realism

HOME = "us-east-1"
SECOND = "us-west-2"
REGIONS = (HOME, SECOND)
SIZES = {"S": (20, 10), "M": (200, 50), "L": (2000, 200)}  # size -> (AMIs, environments)
VERIFIED_SHARE = 0.6
TEMPLATES_PER_REGION = 2
PARAMETERS_PER_REGION = 2
VERIFIED_TAGS = ("ebami:verified", "ebami:verified-checks")
TAG_BATCH = 100
RETRY = Config(retries={"mode": "standard", "max_attempts": 10})
COMMANDS = ("status", "prune", "check", "apply-dry-run", "apply-5", "apply-20")
TOP = 5


@dataclass
class Measure:
    command: str
    size: str
    amis: int
    environments: int
    finished: bool = True
    failed: int = 0  # runs that exited non-zero
    runs: int = 0
    wall: float = 0.0
    cpu: float = 0.0
    peak_rss_mb: float = 0.0
    calls: dict[str, int] = field(default_factory=dict)
    error: str = ""
    # A real fleet apply: its waves; one environment's apply as `ebami apply --env` takes it
    # (the median wall time of SINGLE_RUNS such runs after the fleet's, each to a newer AMI),
    # and the fleet's wall time over the wave floor (waves x that); the median environment's
    # update as the fleet's record times it (the update and its following alone), and the wall
    # time over waves x that.
    waves: int = 0
    environment_apply: float = 0.0
    floor_ratio: float = 0.0
    environment_update: float = 0.0
    update_floor_ratio: float = 0.0

    @property
    def total_calls(self) -> int:
        return sum(self.calls.values())

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["total_calls"] = self.total_calls
        data["calls_per_environment"] = round(self.total_calls / self.environments, 2)
        data["calls_per_ami"] = round(self.total_calls / self.amis, 3)
        return data


@dataclass
class Child:
    returncode: int | None  # None: killed at the timeout
    wall: float
    cpu: float
    peak_rss_mb: float
    stderr: str


def run_child(command: list[str], env: dict[str, str], cwd: Path, timeout: float) -> Child:
    """Run `command` in its own process group, read its own rusage (wait4). At the timeout the
    whole group is killed and the run reported as unfinished."""
    with tempfile.TemporaryFile() as err:
        began = time.perf_counter()
        proc = subprocess.Popen(
            command,
            env=env,
            cwd=cwd,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=err,
            start_new_session=True,
        )
        timed_out = False
        while True:
            done, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if done:
                break
            if time.perf_counter() - began > timeout:
                timed_out = True
                _kill_group(proc.pid)
                _, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.02)
        wall = time.perf_counter() - began
        proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
        _kill_group(proc.pid)  # anything the child left running in its group
        err.seek(0)
        stderr = err.read().decode(errors="replace")
    return Child(
        None if timed_out else proc.returncode,
        wall,
        usage.ru_utime + usage.ru_stime,
        usage.ru_maxrss / 1024,
        stderr,
    )


def _kill_group(pid: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal.SIGKILL)


def api_calls(stderr: str) -> dict[str, int]:
    """The per-operation counts ebami prints after `API calls: ` with EBAMI_STATS=1."""
    if "API calls: " not in stderr:
        return {}
    counts: dict[str, int] = {}
    for line in stderr.split("API calls: ", 1)[1].splitlines()[1:]:
        if not line.startswith("  "):
            break
        operation, count = line.strip().rsplit(": ", 1)
        counts[operation] = int(count)
    return counts


class Estate:
    """A sandbox holding one size's estate, and the variables that point ebami at it."""

    def __init__(
        self, work: Path, size: str, throttle: float, realism: Realism | None = None
    ) -> None:
        self.work = work
        self.size = size
        self.amis, self.environments = SIZES[size]
        self.folder = work / "sandbox"
        info = start_background(
            self.folder,
            port=0,
            region=HOME,
            faults=Faults(throttle=throttle, realism=realism or Realism()),
            seed=0,
            fleet=self.environments,
        )
        self.endpoint = info.endpoint
        self.env = {**os.environ, **client_environment(info.endpoint, info.region)}
        self.env["CHECKPOINT_DISABLE"] = "1"
        self.homes = world.fleet_regions(self.environments, HOME)
        self.copies = 0

    def client(self, service: str, region: str) -> Any:
        return boto3.client(
            service,
            region_name=region,
            endpoint_url=self.endpoint,
            aws_access_key_id=self.env["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=self.env["AWS_SECRET_ACCESS_KEY"],
            config=RETRY,
        )

    def build(self) -> None:
        self._settings()
        ami = run_checked(
            [*ebami(), "build", "--release", "2017.09", "--copy-to", SECOND], self.env, self.work
        )
        run_checked(
            [*ebami(), "verify", "--ami", ami, "--instance-profile", PROFILE], self.env, self.work
        )
        (copy,) = [
            image["ImageId"]
            for image in self.client("ec2", SECOND).describe_images(Owners=["self"])["Images"]
        ]
        verify = ["--region", SECOND, "verify", "--ami", copy, "--instance-profile", PROFILE]
        run_checked([*ebami(), *verify], self.env, self.work)
        self.sources = {HOME: ami, SECOND: copy}
        made = self.copy_images(self.amis - 2)
        self._switch_third(made)
        self._references(made)

    def _settings(self) -> None:
        lines = ["[groups]", "fleet = [" + ", ".join(f'"{n}"' for n in self.homes) + "]", ""]
        for name, region in self.homes.items():
            if region != HOME:
                lines += [
                    f"[environments.{name}]",
                    f'application = "{world.APPLICATION}"',
                    f'environment = "{name}"',
                    f'region = "{region}"',
                    "",
                ]
        (self.work / "ebami.toml").write_text("\n".join(lines))

    def copy_images(self, count: int, *, verified_only: bool = False) -> dict[str, list[str]]:
        """`count` tagged copies of the built AMIs, alternating regions; the verified ones' ids
        per region."""
        plan = []
        for index in range(count):
            number = self.copies + index
            verified = verified_only or (number % 5) < VERIFIED_SHARE * 5
            plan.append((REGIONS[number % 2], number, verified))
        self.copies += count
        # One client per region for every copy (boto3's clients are thread-safe; making one
        # loads the service model, which took longer than the copy itself).
        clients = {region: self.client("ec2", region) for region in REGIONS}
        sources = {
            region: clients[region].describe_images(ImageIds=[ami])["Images"][0]
            for region, ami in self.sources.items()
        }

        def copy(item: tuple[str, int, bool]) -> tuple[str, str, bool]:
            region, number, verified = item
            source = sources[region]
            answer = clients[region].copy_image(
                SourceImageId=source["ImageId"],
                SourceRegion=region,
                Name=f"{source['Name']}-copy-{number:05d}",
            )
            return region, answer["ImageId"], verified

        with ThreadPoolExecutor(4) as pool:
            made = list(pool.map(copy, plan))
        verified_ids: dict[str, list[str]] = {region: [] for region in REGIONS}
        for region in REGIONS:
            tags = {t["Key"]: t["Value"] for t in sources[region].get("Tags", [])}
            plain = {k: v for k, v in tags.items() if k not in VERIFIED_TAGS}
            for flag, values in ((True, tags), (False, plain)):
                ids = [ami for r, ami, v in made if r == region and v == flag]
                if flag:
                    verified_ids[region] = ids
                self._tag(region, ids, values)
            self._own_runs(region, [ami for r, ami, _ in made if r == region], tags)
        return verified_ids

    def _own_runs(self, region: str, ids: list[str], tags: dict[str, str]) -> None:
        """Each copy its own build run, as a nightly's AMIs have: one bake each, so that prune
        has bakes to choose from (copies sharing the source's run would be one bake)."""
        ec2 = self.client("ec2", region)
        run = tags.get(BUILD_RUN, "run")

        def own(item: tuple[int, str]) -> None:
            number, ami = item
            pair = [{"Key": BUILD_RUN, "Value": f"{run}-{number:05d}"}]
            _retry_not_found(lambda: ec2.create_tags(Resources=[ami], Tags=pair))

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(own, enumerate(ids)))

    def _tag(self, region: str, ids: list[str], tags: dict[str, str]) -> None:
        ec2 = self.client("ec2", region)
        pairs = [{"Key": k, "Value": v} for k, v in tags.items()]
        for start in range(0, len(ids), TAG_BATCH):
            batch = ids[start : start + TAG_BATCH]
            _retry_not_found(lambda batch=batch: ec2.create_tags(Resources=batch, Tags=pairs))

    def _switch_third(self, verified: dict[str, list[str]]) -> None:
        names = list(self.homes)[::3]
        clients = {region: self.client("elasticbeanstalk", region) for region in REGIONS}
        for index, name in enumerate(names):
            region = self.homes[name]
            choices = verified[region] or [self.sources[region]]
            clients[region].update_environment(
                ApplicationName=world.APPLICATION,
                EnvironmentName=name,
                OptionSettings=[
                    {
                        "Namespace": "aws:autoscaling:launchconfiguration",
                        "OptionName": "ImageId",
                        "Value": choices[index % len(choices)],
                    }
                ],
            )
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            busy = [
                env["EnvironmentName"]
                for region in REGIONS
                for env in clients[region].describe_environments(
                    ApplicationName=world.APPLICATION, IncludeDeleted=False
                )["Environments"]
                if env["Status"] != "Ready"
            ]
            if not busy:
                return
            time.sleep(0.5)
        raise SystemExit(f"estate {self.size}: environments still updating: {busy[:5]}")

    def _references(self, verified: dict[str, list[str]]) -> None:
        for region in REGIONS:
            ids = verified[region] or [self.sources[region]]
            ec2, ssm = self.client("ec2", region), self.client("ssm", region)
            for number in range(TEMPLATES_PER_REGION):
                ec2.create_launch_template(
                    LaunchTemplateName=f"bench-{number}",
                    LaunchTemplateData={"ImageId": ids[number % len(ids)]},
                )
            for number in range(PARAMETERS_PER_REGION):
                ssm.put_parameter(
                    Name=f"/bench/image-{number}",
                    Value=ids[-1 - number % len(ids)],
                    Type="String",
                    DataType="aws:ec2:image",
                )

    def stop(self) -> None:
        stop(self.folder)


def _retry_not_found(call: Callable[[], Any]) -> None:
    """EC2 may not find a new image for a moment after its create (eventual consistency)."""
    for _ in range(40):
        try:
            call()
            return
        except ClientError as error:
            if not error.response["Error"]["Code"].endswith("NotFound"):
                raise
            time.sleep(0.25)
    call()


def commands(estate: Estate, name: str) -> list[list[str]]:
    """The ebami run of the command `name` (check: one run naming every environment)."""
    regions = ["--regions", SECOND]
    if name == "status":
        return [["status", *regions]]
    if name == "prune":
        return [["prune", "--keep", "3", "--older-than", "0", *regions]]
    if name == "check":
        return [["check", "--release", "2017.09", *(f"--env={env}" for env in estate.homes)]]
    if name == "apply-dry-run":
        return [["apply", "--group", "fleet", "--dry-run"]]
    concurrency = name.removeprefix("apply-")
    record = ["--record", str(estate.work / "apply-record.json")]
    return [["apply", "--group", "fleet", "--concurrency", concurrency, *record]]


SINGLE_RUNS = 5


def wave_floor(result: Measure, record: Path, single: list[float]) -> None:
    """The fleet apply's waves and wave floors, from its --record file and the wall times of
    single-environment applies."""
    try:
        entries = json.loads(record.read_text())["environments"]
    except (OSError, ValueError, KeyError):
        return
    durations = sorted(
        (
            datetime.fromisoformat(e["finished"]) - datetime.fromisoformat(e["started"])
        ).total_seconds()
        for e in entries
        if e.get("started") and e.get("finished")
    )
    if not durations:
        return
    result.waves = max(int(e.get("wave") or 0) for e in entries)
    result.environment_update = statistics.median(durations)
    floor = result.waves * result.environment_update
    result.update_floor_ratio = result.wall / floor if floor else 0.0
    if single:
        result.environment_apply = statistics.median(single)
        result.floor_ratio = result.wall / (result.waves * result.environment_apply)


def single_applies(estate: Estate, env: dict[str, str], timeout: float) -> list[float]:
    """The wall times of `ebami apply --env` of the first SINGLE_RUNS fleet environments, one
    after the other, each to a newer verified AMI than the fleet got."""
    estate.copy_images(2, verified_only=True)
    walls = []
    for name in list(estate.homes)[:SINGLE_RUNS]:
        child = run_child([*ebami(), "apply", "--env", name], env, estate.work, timeout)
        if child.returncode == 0:
            walls.append(child.wall)
    return walls


def measure(estate: Estate, name: str, timeout: float) -> Measure:
    result = Measure(name, estate.size, estate.amis, estate.environments)
    if name == "apply-20":  # the fleet already runs the newest: give it a newer one
        estate.copy_images(2, verified_only=True)
    env = {**estate.env, "EBAMI_STATS": "1"}
    calls: Counter[str] = Counter()
    began = time.perf_counter()
    for args in commands(estate, name):
        left = timeout - (time.perf_counter() - began)
        child = run_child([*ebami(), *args], env, estate.work, max(left, 0.1))
        result.runs += 1
        result.cpu += child.cpu
        result.peak_rss_mb = max(result.peak_rss_mb, child.peak_rss_mb)
        calls.update(api_calls(child.stderr))
        if child.returncode is None:
            result.finished = False
            result.error = f"did not finish in {timeout:g} s"
            break
        if child.returncode != 0:
            result.failed += 1
            last = child.stderr.strip().splitlines()
            result.error = result.error or f"exit {child.returncode}: {last[-1] if last else ''}"
    result.wall = time.perf_counter() - began
    result.calls = dict(calls.most_common())
    if name in ("apply-5", "apply-20") and result.finished and not result.failed:
        single = single_applies(estate, env, timeout)
        wave_floor(result, estate.work / "apply-record.json", single)
    return result


def table(results: list[Measure]) -> str:
    lines = [
        "| command | size | wall s | CPU s | peak RSS MB | calls | per env | per AMI "
        "| top operations |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    floors = [r for r in results if r.waves]
    for r in results:
        top = ", ".join(f"{op.split('.', 1)[-1]} {n}" for op, n in list(r.calls.items())[:TOP])
        state = "" if r.finished and not r.failed else f" **{r.error}**"
        if r.failed and r.finished:
            state = f" **{r.failed} of {r.runs} failed: {r.error}**"
        lines.append(
            f"| {r.command}{state} | {r.size} ({r.amis} AMIs, {r.environments} envs) "
            f"| {r.wall:.1f} | {r.cpu:.1f} | {r.peak_rss_mb:.0f} | {r.total_calls} "
            f"| {r.total_calls / r.environments:.1f} | {r.total_calls / r.amis:.2f} | {top} |"
        )
    if floors:
        lines += [
            "",
            "| fleet apply | size | waves | one `apply --env` s | wall / (waves x that) "
            "| median update s (record) | wall / (waves x that) |",
            "|---|---|---|---|---|---|---|",
        ]
        lines += [
            f"| {r.command} | {r.size} | {r.waves} | {r.environment_apply:.1f} "
            f"| {r.floor_ratio:.2f} | {r.environment_update:.1f} | {r.update_floor_ratio:.2f} |"
            for r in floors
        ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--size", action="append", choices=list(SIZES), help="default: S and M")
    parser.add_argument("--command", action="append", choices=COMMANDS, help="default: all")
    parser.add_argument("--throttle", type=float, default=0.0, help="sandbox throttle fraction")
    parser.add_argument("--realism", default="aws", help="the sandbox's --realism SPEC")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per command")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = parser.parse_args()
    try:
        realism = Realism.parse(args.realism)
    except InputError as exc:
        parser.error(str(exc))
    if not 0 <= args.throttle < 1:
        parser.error(f"--throttle {args.throttle}: give a fraction from 0 to below 1")
    if args.timeout <= 0:
        parser.error(f"--timeout {args.timeout}: give a number of seconds above 0")
    sizes = args.size or ["S", "M"]
    chosen = [name for name in COMMANDS if name in (args.command or COMMANDS)]

    results: list[Measure] = []
    for size in sizes:
        with tempfile.TemporaryDirectory(prefix=f"ebami-bench-estate-{size}-") as folder:
            began = time.perf_counter()
            estate = Estate(Path(folder), size, args.throttle, realism)
            try:
                estate.build()
                print(
                    f"estate {size}: built in {time.perf_counter() - began:.1f} s",
                    file=sys.stderr,
                )
                for name in chosen:
                    result = measure(estate, name, args.timeout)
                    results.append(result)
                    print(f"  {name}: {result.wall:.1f} s", file=sys.stderr)
            finally:
                estate.stop()
    if args.json:
        print(json.dumps([r.as_json() for r in results], indent=2))
    else:
        print(
            f"throttle {args.throttle:g}, realism {args.realism}, timeout {args.timeout:g} s "
            "per command"
        )
        print(table(results))
    return 0 if all(r.finished and not r.failed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
