"""`ebami apply` on environments whose health an unrelated cause holds below Ok (the sandbox's
`unrelated_health` fault: HTTP 5xx counted at the load balancer, before and after the update):
the update is judged by its new instances and against the baseline, so it is applied, not
rolled back, and the record shows the baseline and the verdict's evidence."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.sandbox_helpers import Sandbox, module_sandbox
from tests.support.environments import (
    configured_image,
    environment,
    instance_images,
    rollback_target,
    set_update_policy,
)
from tests.support.runs import apply, verified_ami

HEALTH = {"RollingUpdateEnabled": "true", "RollingUpdateType": "Health"}


@dataclass(frozen=True)
class World:
    sandbox: Sandbox
    work: Path
    first: str
    second: str


@pytest.fixture(scope="module")
def held(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    faults = {"unrelated_health": (("staging", "Warning"), ("prod", "Degraded"))}
    with module_sandbox(tmp_path_factory, **faults) as (sandbox, work):
        first = verified_ami(sandbox, work)
        yield World(sandbox, work, first, verified_ami(sandbox, work, "--force"))


@pytest.mark.parametrize(
    ("name", "level", "policy"),
    [("staging", "Warning", {}), ("prod", "Degraded", HEALTH)],
)
def test_an_environment_held_below_ok_by_an_unrelated_cause_is_applied(
    held: World, name: str, level: str, policy: dict[str, str]
) -> None:
    sandbox = held.sandbox
    if policy:
        set_update_policy(sandbox, name, **policy)
    # The stock AMI cannot place the seeded app's tasks (Severe): a first apply makes the
    # instances healthy, and the fault then holds the environment at its level.
    first = apply(sandbox, "--env", name, "--ami", held.first, cwd=held.work)
    assert first.returncode == 0, first.stderr
    assert environment(sandbox, name)["HealthStatus"] == level
    record_file = f"{name}.json"
    result = apply(
        sandbox, "--env", name, "--ami", held.second, "--record", record_file, cwd=held.work
    )
    assert result.returncode == 0, result.stderr
    assert "switching back" not in result.stderr
    assert configured_image(sandbox, name) == held.second
    assert set(instance_images(sandbox, name)) == {held.second}
    assert rollback_target(sandbox, name) is not None
    assert environment(sandbox, name)["HealthStatus"] == level  # still held: not the AMI's doing
    (record,) = json.loads((held.work / record_file).read_text())["environments"]
    assert record["result"] == "applied"
    assert record["baseline"]["status"] == level
    assert any("5xx" in cause for cause in record["baseline"]["causes"])
    verdict = record["update"]["verdict"]
    assert verdict["state"] == "healthy"
    assert verdict["baseline_health"].endswith(f"/{level}")
    assert verdict["environment_health"]["status"] == level
    assert verdict["new_instances"]
    assert {item["status"] for item in verdict["new_instances"]} <= {"Ok", "Info"}
    assert {item["instance_id"] for item in verdict["new_instances"]} == set(
        instances_of(sandbox, name)
    )


def instances_of(sandbox: Sandbox, name: str) -> list[str]:
    eb = sandbox.client("elasticbeanstalk")
    resources = eb.describe_environment_resources(EnvironmentName=name)
    return [item["Id"] for item in resources["EnvironmentResources"]["Instances"]]
