"""Fleet apply as a user runs it: 20 environments in two regions (the sandbox's `--fleet 20`),
named through `[groups]` and `[environments.NAME] region`, switched in waves (a canary, then 5
at a time) by the real CLI process.

Two sandboxes: one where every update goes well (an AMI baked with a copy to the second region,
each copy passed by the real `ebami verify`), and one where the updates of fleet-04, in wave 2,
end Red: fleet-04 is switched back, the rest of wave 2 is applied, and waves 3 to 5 get no
call that changes anything.
"""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ebami.sandbox import world
from ebami.sandbox.control import start_background, stop
from ebami.sandbox.faults import Faults
from tests.e2e.test_apply import (
    PREVIOUS,
    STARTING,
    apply,
    ebami,
    last_error,
    mutating,
)
from tests.e2e.test_build import api_calls
from tests.e2e.test_verify import PROFILE, baked
from tests.sandbox_helpers import Sandbox

FLEET = [f"fleet-{number:02d}" for number in range(1, 21)]
SECOND = "us-west-2"
REGION_OF = world.fleet_regions(20, "us-east-1")
WAVES = {name: 1 if index == 0 else 2 + (index - 1) // 5 for index, name in enumerate(FLEET)}
NAMESPACE = "aws:autoscaling:launchconfiguration"


def settings_file(work: Path) -> None:
    """`[groups] fleet` and the second region's environments, as a user writes them."""
    lines = ["[groups]", "fleet = [" + ", ".join(f'"{name}"' for name in FLEET) + "]", ""]
    for name, region in REGION_OF.items():
        if region != "us-east-1":
            lines += [f"[environments.{name}]", f'application = "{world.APPLICATION}"',
                      f'environment = "{name}"', f'region = "{region}"', ""]  # fmt: skip
    (work / "ebami.toml").write_text("\n".join(lines))


def eb(sandbox: Sandbox, name: str) -> Any:
    return sandbox.client("elasticbeanstalk", attempts=10, region=REGION_OF[name])


def image_of(sandbox: Sandbox, name: str) -> str | None:
    """The environment's ImageId option (None: unset, the platform's AMI)."""
    sets = eb(sandbox, name).describe_configuration_settings(
        ApplicationName=world.APPLICATION, EnvironmentName=name
    )["ConfigurationSettings"]
    (deployed,) = [s for s in sets if s.get("DeploymentStatus", "deployed") == "deployed"]
    return next(
        (
            str(option["Value"])
            for option in deployed["OptionSettings"]
            if option["Namespace"] == NAMESPACE and option["OptionName"] == "ImageId"
        ),
        None,
    )


def update_events(sandbox: Sandbox, name: str) -> list[str]:
    events = eb(sandbox, name).describe_events(EnvironmentName=name)["Events"]
    return [event["Message"] for event in events if event["Message"] == STARTING]


def stock(name: str) -> str:
    return world.ENVIRONMENT_PLATFORM.image_id(REGION_OF[name])


def when(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass(frozen=True)
class Run:
    sandbox: Sandbox
    work: Path
    amis: dict[str, str]  # per region
    result: subprocess.CompletedProcess[str]
    record: list[dict[str, Any]]


def fleet_apply(sandbox: Sandbox, work: Path) -> tuple[subprocess.CompletedProcess[str], list[Any]]:
    result = apply(
        sandbox, "--group", "fleet", "--canary", "1", "--concurrency", "5", "--record",
        "fleet.json", cwd=work, stats=True, timeout=180,
    )  # fmt: skip
    record = json.loads((work / "fleet.json").read_text())["environments"]
    return result, record


@contextmanager
def fleet_sandbox(factory: pytest.TempPathFactory, **faults: Any) -> Iterator[tuple[Sandbox, Path]]:
    directory = factory.mktemp("sandbox")
    info = start_background(
        directory, port=0, region="us-east-1", faults=Faults(**faults), seed=1, fleet=20
    )
    try:
        yield Sandbox(info, directory), factory.mktemp("work")
    finally:
        stop(directory)


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    with fleet_sandbox(tmp_path_factory) as (sandbox, work):
        yield applied_run(sandbox, work)


def applied_run(sandbox: Sandbox, work: Path) -> Run:
    first = baked(sandbox, work, "--copy-to", SECOND)
    (copy,) = [
        image["ImageId"]
        for image in sandbox.client("ec2", region=SECOND).describe_images(Owners=["self"])["Images"]
    ]
    for region, ami in (("us-east-1", first), (SECOND, copy)):
        checked = ebami(sandbox, "--region", region, "verify", "--ami", ami, *PROFILE, cwd=work)
        assert checked.returncode == 0, checked.stderr
    settings_file(work)
    result, record = fleet_apply(sandbox, work)
    return Run(sandbox, work, {"us-east-1": first, SECOND: copy}, result, record)


@pytest.fixture(scope="module")
def failed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    with fleet_sandbox(tmp_path_factory, update_fails_health_envs=("fleet-04",)) as (
        sandbox,
        work,
    ):
        yield failed_run(sandbox, work)


def failed_run(sandbox: Sandbox, work: Path) -> Run:
    ami = baked(sandbox, work)  # waves 1 and 2 live in us-east-1; later waves never plan
    checked = ebami(sandbox, "verify", "--ami", ami, *PROFILE, cwd=work)
    assert checked.returncode == 0, checked.stderr
    settings_file(work)
    result, record = fleet_apply(sandbox, work)
    return Run(sandbox, work, {"us-east-1": ami}, result, record)


def test_twenty_environments_in_two_regions_all_applied(applied: Run) -> None:
    result, sandbox = applied.result, applied.sandbox
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    for name in FLEET:
        ami = applied.amis[REGION_OF[name]]
        assert image_of(sandbox, name) == ami, name
    calls = api_calls(result.stderr)
    assert calls["elasticbeanstalk.UpdateEnvironment"] == 20
    assert calls["elasticbeanstalk.UpdateTagsForResource"] == 20

    # The results: every environment, its wave and result, in order.
    rows = [line.split() for line in result.stdout.splitlines()]
    assert [row[2 if row[2].startswith("fleet") else 3] for row in rows] == FLEET
    assert rows[0][:5] == ["wave", "1", "canary", "fleet-01", "applied"]
    assert rows[1][:4] == ["wave", "2", "fleet-02", "applied"]
    assert [entry["environment"] for entry in applied.record] == FLEET
    assert {entry["result"] for entry in applied.record} == {"applied"}
    assert [entry["wave"] for entry in applied.record] == [WAVES[name] for name in FLEET]
    assert [entry["canary"] for entry in applied.record] == [True] + [False] * 19
    for entry in applied.record:
        assert entry["target_image_id"] == applied.amis[entry["region"]]
        assert entry["previous_image_id"] == stock(entry["environment"])


def test_a_wave_runs_at_once_and_only_after_the_previous_one(applied: Run) -> None:
    by_wave: dict[int, list[dict[str, Any]]] = {}
    for entry in applied.record:
        by_wave.setdefault(entry["wave"], []).append(entry)
    for number in range(2, 6):
        wave, before = by_wave[number], by_wave[number - 1]
        # Each starts once every environment of the previous wave has ended.
        assert min(when(e["started"]) for e in wave) >= max(when(e["finished"]) for e in before)
        # The environments of a wave are under way together.
        assert max(when(e["started"]) for e in wave) < min(when(e["finished"]) for e in wave)


def test_each_line_names_its_environment(applied: Run) -> None:
    lines = applied.result.stderr.splitlines()
    assert sum("sandbox: talking to the ebami sandbox" in line for line in lines) == 1
    starting = [line for line in lines if line.endswith(STARTING)]
    assert len(starting) == 20
    assert {line.split("]", 1)[0] + "]" for line in starting} == {f"[{n}]" for n in FLEET}
    assert "wave 1 of 5 (canary): fleet-01" in lines
    assert "wave 5 of 5: fleet-17, fleet-18, fleet-19, fleet-20" in lines


def test_a_failure_in_wave_two_rolls_it_back_and_leaves_later_waves_untouched(
    failed: Run,
) -> None:
    result, sandbox = failed.result, failed.sandbox
    ami = failed.amis["us-east-1"]
    assert result.returncode == 8, result.stderr
    assert last_error(result).startswith("error: fleet-04: the update failed (")
    results = {entry["environment"]: entry["result"] for entry in failed.record}
    assert results == {
        "fleet-01": "applied",
        **dict.fromkeys(["fleet-02", "fleet-03", "fleet-05", "fleet-06"], "applied"),
        "fleet-04": "rolled back",
        **dict.fromkeys(FLEET[6:], "skipped"),
    }
    # The failed one is back on its AMI, the others of its wave on the new one.
    assert image_of(sandbox, "fleet-04") in (None, stock("fleet-04"))
    for name in ("fleet-01", "fleet-02", "fleet-03", "fleet-05", "fleet-06"):
        assert image_of(sandbox, name) == ami
    # Waves 3 to 5: not one update, in either region.
    calls = api_calls(result.stderr)
    assert calls["elasticbeanstalk.UpdateEnvironment"] == 1 + 5 + 1  # canary, wave 2, way back
    for name in FLEET[6:]:
        assert image_of(sandbox, name) in (None, stock(name)), name
        assert update_events(sandbox, name) == [], name
        tags = eb(sandbox, name).list_tags_for_resource(
            ResourceArn=eb(sandbox, name).describe_environments(EnvironmentNames=[name])[
                "Environments"
            ][0]["EnvironmentArn"]
        )["ResourceTags"]
        assert PREVIOUS not in {tag["Key"] for tag in tags}
    skipped = [entry for entry in failed.record if entry["result"] == "skipped"]
    assert {entry["reason"] for entry in skipped} == {
        "not started: fleet-04 failed in an earlier wave"
    }
    assert "fleet-07" in result.stdout.split("\n")[6]
    assert "skipped" in result.stdout.split("\n")[6]


def test_the_dry_run_shows_the_waves_and_changes_nothing(applied: Run) -> None:
    shown = ebami(
        applied.sandbox, "apply", "--group", "fleet", "--concurrency", "8", "--dry-run",
        cwd=applied.work, json_output=True, stats=True,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    assert mutating(api_calls(shown.stderr)) == []
    plan = json.loads(shown.stdout)
    assert [(w["wave"], w["canary"], len(w["environments"])) for w in plan["waves"]] == [
        (1, True, 1), (2, False, 8), (3, False, 8), (4, False, 3),
    ]  # fmt: skip
    assert [p["wave"] for p in plan["environments"]] == [1] + [2] * 8 + [3] * 8 + [4] * 3
    assert plan["environments"][0]["facts"]["Wave"] == "wave 1 of 4 (canary)"
    assert plan["environments"][19]["facts"]["Environment"] == f"webapp/fleet-20 in {SECOND}"
