"""Planning an environment again in its wave, from its plan before wave 1: the configuration is
read again only when the environment's DateUpdated moved (or it is not Ready), what the run
shares is not read again, and the health baseline reads causes only for a status that has
them."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from ebami.apply.options import ApplyOptions
from ebami.apply.planner import ApplyPlanner
from ebami.apply.policy import HEALTH_REPORTING
from ebami.aws.eb_values import Environment
from tests.fakes.apply import ENVIRONMENT, EPOCH, STOCK, PlannerWorld, ami, planner, world_with

READY = replace(ENVIRONMENT, health="Green", health_status="Ok", updated=EPOCH)
ENHANCED = {(HEALTH_REPORTING, "SystemType"): "enhanced"}


def enhanced_world(environment: Environment = READY) -> tuple[PlannerWorld, ApplyPlanner]:
    found = world_with(ami("ami-0new"), environment=environment, options=dict(ENHANCED))
    return found, planner(found).planner


def test_a_wave_plan_with_an_unchanged_date_updated_reads_no_configuration() -> None:
    found, plans = enhanced_world()
    before = plans.plan(READY, ApplyOptions(), baseline=False)
    assert before.target == "ami-0new"
    assert found.reads.count("DescribeConfigurationSettings") == 1
    # It decides only whether, and to what: its wave's plan counts the instances.
    assert "DescribeEnvironmentResources" not in found.reads
    assert before.instances == 0
    found.reads.clear()
    wave = plans.plan(
        READY, ApplyOptions(pinned=before.target), wave=1, earlier=before, baseline=True
    )
    assert "DescribeConfigurationSettings" not in found.reads
    assert wave.configuration is before.configuration
    assert (wave.current, wave.target, wave.refusal) == (STOCK, "ami-0new", None)
    # Nor what the run shares (platform, drivers, instances): only the AMI again, in its
    # wave, and the health baseline just before the update.
    assert sorted(found.reads) == ["DescribeImages", "DescribeInstancesHealth"]
    # Counted from the enhanced baseline's instances: no DescribeEnvironmentResources.
    assert wave.instances == found.instances > 0


def test_a_wave_plan_after_date_updated_moved_reads_the_configuration_once() -> None:
    found, plans = enhanced_world()
    before = plans.plan(READY, ApplyOptions(), baseline=False)
    found.reads.clear()
    found.configured = "ami-0new"  # someone switched it between the two plans
    moved = replace(READY, updated=EPOCH + timedelta(minutes=5))
    wave = plans.plan(moved, ApplyOptions(pinned="ami-0new"), wave=1, earlier=before)
    assert found.reads.count("DescribeConfigurationSettings") == 1
    assert wave.current == "ami-0new"
    assert wave.unchanged


@pytest.mark.parametrize(
    ("before", "now"),
    [
        (READY, replace(READY, status="Updating")),  # an update runs: its settings may change
        (replace(READY, updated=None), replace(READY, updated=None)),  # DateUpdated unknown
    ],
    ids=["not-ready", "no-date-updated"],
)
def test_a_wave_plan_reads_the_configuration_when_it_cannot_know_it_is_unchanged(
    before: Environment, now: Environment
) -> None:
    found, plans = enhanced_world(before)
    earlier = plans.plan(before, ApplyOptions(), baseline=False)
    found.reads.clear()
    plans.plan(now, ApplyOptions(pinned=earlier.target), wave=1, earlier=earlier)
    assert found.reads.count("DescribeConfigurationSettings") == 1


def test_a_plan_without_a_baseline_reads_no_health() -> None:
    found, plans = enhanced_world(replace(READY, health="Red", health_status="Severe"))
    plan = plans.plan(found.environment, ApplyOptions(), baseline=False)
    assert plan.refusal is None
    assert plan.baseline is None
    assert "DescribeEnvironmentHealth" not in found.reads
    assert "DescribeInstancesHealth" not in found.reads


@pytest.mark.parametrize(
    ("color", "status", "causes_read"),
    [
        ("Green", "Ok", False),
        ("Green", "Info", False),
        ("Grey", "Pending", False),
        ("Yellow", "Warning", True),
        ("Red", "Degraded", True),
        ("Red", "Severe", True),
        ("Grey", "", True),  # no status given: ask
    ],
)
def test_the_baseline_reads_causes_only_for_a_status_that_has_them(
    color: str, status: str, causes_read: bool
) -> None:
    environment = replace(READY, health=color, health_status=status)
    found, plans = enhanced_world(environment)
    found.causes = ("Load balancer reports 5xx",) if causes_read else ()
    plan = plans.plan(environment, ApplyOptions(ami="ami-0new"))
    assert plan.baseline is not None
    assert found.reads.count("DescribeEnvironmentHealth") == int(causes_read)
    assert found.reads.count("DescribeInstancesHealth") == 1
    # The colour and status come from the environment as described.
    assert (plan.baseline.color, plan.baseline.status) == (color, status)
    assert plan.baseline.causes == found.causes
