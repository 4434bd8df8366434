"""`FleetApply` finds its environments in batches: before wave 1 one `find_environments` per
region and application for all of them, and at each wave's start one for the wave's
environments of a region and application; each wave plans its environments again from their
plans before wave 1, with the environments as its start found them."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from typing import Any

from ebami.apply.finding import Target
from ebami.apply.fleet import ERROR
from ebami.apply.options import ApplyOptions
from ebami.apply.orchestrator import FleetApply
from ebami.apply.planner import ApplyPlan
from ebami.apply.run import ApplyRecord, Result
from ebami.apply.waves import plan_waves
from ebami.aws.eb_values import Environment
from ebami.core.errors import EbamiError, NotFoundError
from ebami.core.waiting import Deadline, Sleep
from tests.fakes.apply import ENVIRONMENT, plan_for
from tests.helpers import RecordingReporter


class FleetReporter(RecordingReporter):
    def prefixed(self, name: str) -> nullcontext[None]:
        return nullcontext()


@dataclass
class Region:
    """One region's services as FleetApply uses them: `environments` by (application, name);
    what each call was asked (thread-safe)."""

    region: str
    environments: dict[tuple[str, str], Environment] = field(default_factory=dict)
    found: list[tuple[tuple[str, ...], str | None]] = field(default_factory=list)
    planned: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # How many times each environment was described so far (its `version_label`).
    described: dict[str, int] = field(default_factory=dict)

    @contextmanager
    def bounded(self, seconds: float) -> Iterator[Deadline]:
        yield Deadline(seconds)

    def find_environments(
        self, names: Sequence[str], application: str | None
    ) -> dict[str, Environment | EbamiError]:
        with self.lock:
            self.found.append((tuple(names), application))
            answers: dict[str, Environment | EbamiError] = {}
            for name in names:
                key = (application or "webapp", name)
                if key not in self.environments:
                    answers[name] = NotFoundError(f"environment {name!r} does not exist")
                    continue
                self.described[name] = self.described.get(name, 0) + 1
                answers[name] = replace(
                    self.environments[key], version_label=f"read-{self.described[name]}"
                )
            return answers

    def plan_apply(
        self,
        environment: Environment,
        options: ApplyOptions,
        *,
        wave: int = 0,
        earlier: ApplyPlan | None = None,
        baseline: bool = True,
    ) -> ApplyPlan:
        with self.lock:
            self.planned.append(
                {
                    "name": environment.name,
                    "described": environment.version_label,
                    "wave": wave,
                    "earlier": earlier,
                    "baseline": baseline,
                }
            )
        return replace(PLAN, environment=environment, region=self.region)

    def run_apply(
        self, plan: ApplyPlan, saved: Callable[[ApplyRecord], None], *, sleep: Sleep
    ) -> ApplyRecord:
        now = datetime.now(timezone.utc)
        return ApplyRecord(plan, now, Result.APPLIED, "switched", finished=now)


PLAN = plan_for()


def environment(name: str, application: str = "webapp") -> Environment:
    return replace(ENVIRONMENT, name=name, environment_id=f"e-{name}", application=application)


def fleet(
    targets: dict[str, tuple[Region, str | None]], *, canary: int = 1, concurrency: int = 3
) -> FleetApply:
    """`targets`: each --env name's region and application (the Elastic Beanstalk name is the
    --env name)."""
    waves = plan_waves(list(targets), canary=canary, concurrency=concurrency)

    def target(name: str) -> Target:
        region, application = targets[name]
        return Target(region, application, name)

    return FleetApply(
        waves, ApplyOptions(ami="ami-0new"), target=target, reporter=FleetReporter(),
        concurrency=concurrency,
    )  # fmt: skip


def regions() -> tuple[Region, Region]:
    east, west = Region("us-east-1"), Region("us-west-2")
    for name, application in (("a", "webapp"), ("b", "webapp"), ("c", "webapp"), ("d", "api")):
        east.environments[(application, name)] = environment(name, application)
    west.environments[("webapp", "e")] = environment("e")
    return east, west


def test_environments_are_found_once_per_region_and_application_then_once_per_wave() -> None:
    east, west = regions()
    run = fleet({"a": (east, "webapp"), "b": (east, "webapp"), "c": (east, "webapp"),
                 "d": (east, "api"), "e": (west, "webapp")}, concurrency=4)  # fmt: skip
    assert [wave.names for wave in run.waves] == [("a",), ("b", "c", "d", "e")]
    run.prepare()
    # Before wave 1: one call per region and application, naming all of its environments.
    assert east.found == [(("a", "b", "c"), "webapp"), (("d",), "api")]
    assert west.found == [(("e",), "webapp")]
    before = {item["name"]: item for item in east.planned + west.planned}
    assert {item["wave"] for item in before.values()} == {0}
    assert {item["baseline"] for item in before.values()} == {False}
    assert {item["earlier"] for item in before.values()} == {None}
    east.found.clear()
    west.found.clear()
    east.planned.clear()
    west.planned.clear()

    run.apply()
    assert {r.name: r.result for r in run.fleet.runs} == dict.fromkeys("abcde", "applied")
    # At each wave's start: one call for the wave's environments of a region and application,
    # however many threads plan them.
    assert sorted(east.found) == [(("a",), "webapp"), (("b", "c"), "webapp"), (("d",), "api")]
    assert west.found == [(("e",), "webapp")]
    # Each is planned from its plan before wave 1, with the environment as its wave's start
    # described it (the second description of each), with the health baseline.
    waves = {item["name"]: item for item in east.planned + west.planned}
    assert {name: item["wave"] for name, item in waves.items()} == {
        "a": 1, "b": 2, "c": 2, "d": 2, "e": 2,
    }  # fmt: skip
    assert {item["described"] for item in waves.values()} == {"read-2"}
    assert {item["baseline"] for item in waves.values()} == {True}
    for name, item in waves.items():
        assert item["earlier"] is not None
        assert item["earlier"].environment.name == name
        assert item["earlier"].environment.version_label == "read-1"


def test_an_environment_gone_by_its_wave_fails_alone() -> None:
    east, _ = regions()
    run = fleet({"a": (east, "webapp"), "b": (east, "webapp"), "c": (east, "webapp")})
    run.prepare()
    del east.environments[("webapp", "c")]
    run.apply()
    results = {r.name: (r.result, r.reason) for r in run.fleet.runs}
    assert results["c"] == (ERROR, "environment 'c' does not exist")
    assert results["a"][0] == results["b"][0] == "applied"
    # The wave's start asked for both of its environments once.
    assert east.found[-1] == (("b", "c"), "webapp")
    assert len([call for call in east.found if call[0] == ("b", "c")]) == 1
