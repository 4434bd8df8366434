"""The sandbox's fleet (`--fleet N`) and the per-environment "update fails health" fault.

The sandbox runs in this process on moto's in-memory mock with a fake clock, so that the test
can tell that twenty updates advance together: each step of the sandbox's clock moves every
update on, whatever the number of environments.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from ebami.core.errors import InputError
from ebami.sandbox import world
from ebami.sandbox.environments import UPDATE_STEP_SECONDS
from ebami.sandbox.faults import Faults
from ebami.sandbox.realism import Realism
from ebami.sandbox.start_checks import check_fleet
from tests.fakes.clock import FakeClock
from tests.sandbox_helpers import sandbox_in_process

REGION = "us-east-1"
SECOND = "us-west-2"
FLEET = 20
FAILING = "fleet-07"
IMAGE_ID = {"Namespace": "aws:autoscaling:launchconfiguration", "OptionName": "ImageId"}
ROLLING = {"Namespace": "aws:autoscaling:updatepolicy:rollingupdate"}
COMPLETED = "Environment update completed successfully."
WITH_ERRORS = "Update environment operation is complete, but with errors."
# An image whose ecs-init allows fluentd, which the application needs: updates end Green.
AL2 = next(p for p in world.PLATFORMS if p.name == world.ECS_AL2 and p.version == "3.5.0")


@pytest.fixture
def fleet(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> Iterator[None]:
    # The last event of each update is read as it happens: none is filed late.
    faults = Faults(update_fails_health_envs=(FAILING,), realism=Realism(late_events=0))
    with sandbox_in_process(tmp_path, monkeypatch, clock=clock, faults=faults, fleet=FLEET):
        yield


def eb(region: str) -> Any:
    return boto3.client("elasticbeanstalk", region_name=region)


def environments(region: str) -> dict[str, dict[str, Any]]:
    found = eb(region).describe_environments(ApplicationName=world.APPLICATION)["Environments"]
    return {env["EnvironmentName"]: env for env in found}


def names(first: int, last: int) -> list[str]:
    return [f"fleet-{number:02d}" for number in range(first, last + 1)]


def test_the_fleet_is_split_between_two_regions_each_like_staging(fleet: None) -> None:
    home, second = environments(REGION), environments(SECOND)
    assert sorted(home) == [*names(1, 10), "prod", "staging"]
    assert sorted(second) == names(11, 20)
    platform = world.ENVIRONMENT_PLATFORM
    for region, envs in ((REGION, home), (SECOND, second)):
        ec2 = boto3.client("ec2", region_name=region)
        for name, env in envs.items():
            if not name.startswith(world.FLEET_PREFIX):
                continue
            # Red from the start: the stock AMI's agent does not allow fluentd (ATTRIBUTE).
            assert (env["Status"], env["Health"]) == ("Ready", "Red"), name
            assert env["PlatformArn"] == platform.arn(region)
            settings = eb(region).describe_configuration_settings(
                ApplicationName=world.APPLICATION, EnvironmentName=name
            )["ConfigurationSettings"][0]["OptionSettings"]
            values = {(s["Namespace"], s["OptionName"]): s["Value"] for s in settings}
            assert values[(ROLLING["Namespace"], "RollingUpdateEnabled")] == "false"
            assert values[(IMAGE_ID["Namespace"], "ImageId")] == platform.image_id(region)
            resources = eb(region).describe_environment_resources(EnvironmentName=name)
            (instance,) = resources["EnvironmentResources"]["Instances"]
            described = ec2.describe_instances(InstanceIds=[instance["Id"]])
            assert described["Reservations"][0]["Instances"][0]["State"]["Name"] == "running"
            events = eb(region).describe_events(EnvironmentName=name)["Events"]
            assert any('"reason": "ATTRIBUTE"' in event["Message"] for event in events), name
    # The world the second region holds: its own platforms and base AMIs, no staging or prod.
    listed = eb(SECOND).list_platform_versions()["PlatformSummaryList"]
    assert {p["PlatformArn"] for p in listed} == {p.arn(SECOND) for p in world.PLATFORMS}
    ec2 = boto3.client("ec2", region_name=SECOND)
    assert ec2.describe_images(ImageIds=[AL2.image_id(SECOND)])["Images"][0]["State"] == (
        "available"
    )


def test_twenty_updates_advance_together_on_the_sandbox_clock(
    fleet: None, clock: FakeClock
) -> None:
    fleet_names = {REGION: names(1, 10), SECOND: names(11, 20)}
    for region, members in fleet_names.items():
        for name in members:
            eb(region).update_environment(
                EnvironmentName=name,
                OptionSettings=[{**IMAGE_ID, "Value": AL2.image_id(region)}],
            )
    statuses = {**environments(REGION), **environments(SECOND)}
    assert {statuses[name]["Status"] for name in names(1, FLEET)} == {"Updating"}
    # Rolling updates disabled: launch, replace, complete, one step each, for all at once.
    clock.advance(2 * UPDATE_STEP_SECONDS)
    statuses = {**environments(REGION), **environments(SECOND)}
    assert {statuses[name]["Status"] for name in names(1, FLEET)} == {"Updating"}
    clock.advance(UPDATE_STEP_SECONDS)
    statuses = {**environments(REGION), **environments(SECOND)}
    assert {statuses[name]["Status"] for name in names(1, FLEET)} == {"Ready"}
    healths = {name: statuses[name]["Health"] for name in names(1, FLEET)}
    # The per-environment fault fails fleet-07 alone; staging and prod were never touched.
    assert healths == {name: "Red" if name == FAILING else "Green" for name in names(1, FLEET)}
    last = eb(REGION).describe_events(EnvironmentName=FAILING, MaxRecords=1)["Events"][0]
    assert (last["Severity"], last["Message"].startswith(WITH_ERRORS)) == ("ERROR", True)
    last = eb(SECOND).describe_events(EnvironmentName="fleet-11", MaxRecords=1)["Events"][0]
    assert last["Message"] == COMPLETED


def test_fault_settings_name_environments() -> None:
    environ = {"EBAMI_SANDBOX_FAIL_UPDATE_HEALTH_ENVS": "fleet-07, prod,fleet-07"}
    faults = Faults.from_sources(environ)
    assert faults.update_fails_health_envs == ("fleet-07", "prod")
    assert faults.active == ["environment updates fail health in fleet-07, prod"]
    assert (faults.fails_health("prod"), faults.fails_health("staging")) == (True, False)
    assert Faults.from_json(faults.to_json()) == faults
    flagged = Faults.from_sources(environ, update_fails_health_envs=("staging",))
    assert flagged.update_fails_health_envs == ("staging",)
    assert Faults(update_fails_health=True).fails_health("anything")


@pytest.mark.parametrize(
    ("fleet", "failing", "message"),
    [
        (501, (), "--fleet 501 is out of range: give a number of environments from 0 to 500"),
        (-1, (), "--fleet -1 is out of range"),
        (
            4,
            ("fleet-05",),
            "--fail-update-health-env (or EBAMI_SANDBOX_FAIL_UPDATE_HEALTH_ENVS) fleet-05 names no "
            "sandbox environment: give staging, "
            "prod, or fleet-01 to fleet-04",
        ),
        (
            0,
            ("fleet-01",),
            "--fail-update-health-env (or EBAMI_SANDBOX_FAIL_UPDATE_HEALTH_ENVS) fleet-01 names no "
            "sandbox environment: give staging, "
            "prod (no --fleet given)",
        ),
    ],
)
def test_bad_fleet_input_is_refused(fleet: int, failing: tuple[str, ...], message: str) -> None:
    with pytest.raises(InputError) as refused:
        check_fleet(fleet, Faults(update_fails_health_envs=failing))
    assert refused.value.message.startswith(message)


def test_an_unrelated_health_fault_must_name_an_environment() -> None:
    check_fleet(0, Faults(unrelated_health=(("prod", "Warning"),)))
    with pytest.raises(InputError) as refused:
        check_fleet(2, Faults(unrelated_health=(("fleet-03", "Warning"),)))
    assert refused.value.message == (
        "--unrelated-health (or EBAMI_SANDBOX_UNRELATED_HEALTH) fleet-03 names no sandbox "
        "environment: give staging, prod, or "
        "fleet-01 to fleet-02"
    )


def test_a_fleet_in_us_west_2_puts_its_second_half_in_us_east_1() -> None:
    assert set(world.fleet_regions(3, SECOND).values()) == {SECOND, REGION}
    assert world.fleet_regions(3, SECOND)["fleet-03"] == REGION
    assert world.describe_fleet(3, "eu-west-1") == (
        "3 environments: fleet-01 to fleet-02 in eu-west-1, fleet-03 in us-west-2"
    )
    assert world.describe_fleet(0, REGION) == "none"
