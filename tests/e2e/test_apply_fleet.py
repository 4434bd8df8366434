"""Fleet apply as a user runs it: 20 environments in two regions (the sandbox's `--fleet 20`),
named through `[groups]` and `[environments.NAME] region`, switched in waves (a canary, then 5
at a time) by the real CLI process.

Before wave 1, every environment is planned: a refusal or an error of any of them (an AMI
another region lacks, an environment that does not exist) stops the run with nothing changed,
naming each; two names of one environment are refused; a channel is read once, so what the
canary got is what the later waves get.

Two sandboxes: one where every update goes well (an AMI baked with a copy to the second region,
each copy passed by the real `ebami verify`), and one where the updates of fleet-04, in wave 2,
end Red: fleet-04 is switched back, the rest of wave 2 is applied, and waves 3 to 5 get no
call that changes anything.
"""

from __future__ import annotations

import json
import os
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
from tests.sandbox_helpers import Sandbox
from tests.support.environments import PREVIOUS, STARTING
from tests.support.runs import (
    PROFILE,
    api_calls,
    apply,
    baked,
    ebami,
    ebami_command,
    last_error,
    mutating,
)
from tests.support.visibility import put_image_parameter

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
    amis = baked_in_both_regions(sandbox, work)
    settings_file(work)
    result, record = fleet_apply(sandbox, work)
    return Run(sandbox, work, amis, result, record)


def baked_in_both_regions(sandbox: Sandbox, work: Path) -> dict[str, str]:
    """An AMI baked with a copy to the second region, each passed by ebami verify."""
    first = baked(sandbox, work, "--copy-to", SECOND)
    (copy,) = [
        image["ImageId"]
        for image in sandbox.client("ec2", region=SECOND).describe_images(Owners=["self"])["Images"]
    ]
    for region, ami in (("us-east-1", first), (SECOND, copy)):
        checked = ebami(sandbox, "--region", region, "verify", "--ami", ami, *PROFILE, cwd=work)
        assert checked.returncode == 0, checked.stderr
    return {"us-east-1": first, SECOND: copy}


@pytest.fixture(scope="module")
def failed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Run]:
    with fleet_sandbox(tmp_path_factory, update_fails_health_envs=("fleet-04",)) as (
        sandbox,
        work,
    ):
        yield failed_run(sandbox, work)


def failed_run(sandbox: Sandbox, work: Path) -> Run:
    # Every environment is planned before wave 1: the second region's need an AMI there too.
    amis = baked_in_both_regions(sandbox, work)
    settings_file(work)
    result, record = fleet_apply(sandbox, work)
    return Run(sandbox, work, amis, result, record)


def test_twenty_environments_in_two_regions_all_applied(applied: Run) -> None:
    result, sandbox = applied.result, applied.sandbox
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    for name in FLEET:
        ami = applied.amis[REGION_OF[name]]
        assert image_of(sandbox, name) == ami, name
    calls = api_calls(result.stderr)
    assert calls["elasticbeanstalk.UpdateEnvironment"] == 20
    assert calls["ssm.PutParameter"] == 20  # each one's rollback target
    # Each region's target AMI protected once, whatever the number of environments it serves.
    assert calls["ec2.EnableImageDeregistrationProtection"] == 2

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


def test_a_wave_starts_only_after_the_previous_one(applied: Run) -> None:
    by_wave: dict[int, list[dict[str, Any]]] = {}
    for entry in applied.record:
        by_wave.setdefault(entry["wave"], []).append(entry)
    for number in range(2, 6):
        wave, before = by_wave[number], by_wave[number - 1]
        # Each starts once every environment of the previous wave has ended (an order of the
        # run's own records; that a wave's environments run at once is proved with a barrier
        # in tests/unit/test_apply_fleet_waves.py, not by timing).
        assert min(when(e["started"]) for e in wave) >= max(when(e["finished"]) for e in before)


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
    (line,) = [line for line in result.stdout.splitlines() if " fleet-07 " in line]
    assert line.split()[:4] == ["wave", "3", "fleet-07", "skipped"]


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


# --- before wave 1 (in the sandbox of the failed run: fleet-07 to fleet-20 are still stock) -----


def test_a_refusal_of_a_later_wave_changes_nothing_and_names_each(failed: Run) -> None:
    ami = failed.amis["us-east-1"]  # not in us-west-2, where fleet-11 and fleet-12 live
    argv = ("--env", "fleet-07", "--env", "nope", "--env", "fleet-11", "--env", "fleet-12",
            "--ami", ami)  # fmt: skip
    shown = apply(failed.sandbox, *argv, "--dry-run", cwd=failed.work, json_output=True)
    ran = apply(failed.sandbox, *argv, "--record", "refused.json", cwd=failed.work, stats=True)
    for result in (shown, ran):
        # The worst outcome's code: nope is not found (4), worse than the refusals (7).
        assert result.returncode == 4, result.stderr
        line = last_error(result)
        assert line.startswith("error: 3 of 4 environments may not be switched, so none is"), line
        assert "nope: " in line
        assert f"fleet-11: image gate: {ami} does not exist in {SECOND}" in line
        assert f"fleet-12: image gate: {ami} does not exist in {SECOND}" in line
    # The dry run shows every environment, the one that could not be planned with its error.
    entries = json.loads(shown.stdout)["environments"]
    assert [entry["environment"] for entry in entries] == ["fleet-07", "nope", "fleet-11",
                                                           "fleet-12"]  # fmt: skip
    assert entries[0]["refusal"] is None
    assert entries[1]["exit_code"] == 4
    assert "nope" in entries[1]["error"]
    assert entries[2]["refusal"].startswith(f"image gate: {ami} does not exist in {SECOND}")
    # The real run: not one change, fleet-07 (the canary) still on its AMI.
    assert mutating(api_calls(ran.stderr)) == []
    assert image_of(failed.sandbox, "fleet-07") in (None, stock("fleet-07"))
    record = json.loads((failed.work / "refused.json").read_text())["environments"]
    assert [(entry["environment"], entry["result"]) for entry in record] == [
        ("fleet-07", "skipped"), ("nope", "error"), ("fleet-11", "refused"),
        ("fleet-12", "refused"),
    ]  # fmt: skip
    assert record[0]["reason"] == "not started: nope, fleet-11, fleet-12 may not be switched"


def test_two_names_of_one_environment_are_refused_before_any_change(
    failed: Run, tmp_path: Path
) -> None:
    (tmp_path / "ebami.toml").write_text(
        f'[environments.seven]\napplication = "{world.APPLICATION}"\nenvironment = "fleet-07"\n'
    )
    result = apply(failed.sandbox, "--env", "seven", "--env", "fleet-08", "--env", "fleet-07",
                   "--ami", failed.amis["us-east-1"], cwd=tmp_path, stats=True)  # fmt: skip
    assert result.returncode == 2, result.stderr
    assert last_error(result) == (
        "error: seven and fleet-07 are one environment (webapp/fleet-07 in us-east-1): name "
        "each environment once"
    )
    assert mutating(api_calls(result.stderr)) == []


def test_the_channel_is_read_once_for_every_wave(failed: Run, tmp_path: Path) -> None:
    """The channel moves while the canary runs: the later wave still gets the canary's AMI."""
    sandbox, ami = failed.sandbox, failed.amis["us-east-1"]
    ssm = sandbox.client("ssm", region="us-east-1")
    stable = "/ebami/multicontainer-docker/2017.09/stable"
    put_image_parameter(ssm, stable, ami)
    (tmp_path / "ebami.toml").write_text(
        f'[environments.eight]\napplication = "{world.APPLICATION}"\nenvironment = "fleet-08"\n'
    )
    output = tmp_path / "output"
    github = {"GITHUB_OUTPUT": str(output), "GITHUB_STEP_SUMMARY": str(tmp_path / "summary")}
    # fleet-01 already runs the AMI (the failed run's canary): it ends unchanged, last.
    process = subprocess.Popen(
        ebami_command("-o", "github", "apply", "--env", "eight", "--env", "fleet-09", "--env",
                      "fleet-01", "--channel", "stable", "--settle", "3", "--record", "r.json"),
        cwd=tmp_path, env={**os.environ, **sandbox.env(), **github},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    assert process.stderr is not None
    seen = []
    for line in process.stderr:
        seen.append(line)
        if line.startswith("wave 1 of 2 (canary): eight"):
            break
    # The canary is under way: the channel now names the platform's own AMI (and SSM shows it).
    put_image_parameter(ssm, stable, stock("fleet-09"), Overwrite=True)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 0, "".join(seen) + stderr
    record = json.loads((tmp_path / "r.json").read_text())["environments"]
    assert [(e["environment"], e.get("name"), e["result"], e["target_image_id"])
            for e in record] == [
        ("fleet-08", "eight", "applied", ami), ("fleet-09", None, "applied", ami),
        ("fleet-01", None, "unchanged", ami),
    ]  # fmt: skip
    assert image_of(sandbox, "fleet-09") == ami
    # The fleet's result: applied (two were), not the last one's.
    written = output.read_text()
    assert "result=applied\n" in written
    assert f"eight={ami}\nfleet-09={ami}\nfleet-01={ami}\n" in written
