"""The sandbox's Elastic Beanstalk is slow, inconsistent and half-healthy the way AWS is, each
behaviour behind its realism switch: configuration drafts, enhanced health's whole vocabulary
(and DescribeInstancesHealth), the unrelated-health fault, events filed late.

The sandbox runs in this process on moto's in-memory mock with a fake clock: time moves only
when a test moves it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest

from ebami.sandbox import health_actions, world
from ebami.sandbox.environments import UPDATE_STEP_SECONDS
from ebami.sandbox.faults import Faults
from ebami.sandbox.health_report import INFO_SECONDS, PENDING_SECONDS
from ebami.sandbox.realism import Realism
from tests.fakes.clock import FakeClock
from tests.sandbox_helpers import sandbox_in_process

REGION = "us-east-1"
GOOD = next(
    p for p in world.PLATFORMS if p.name == world.ECS_AL2 and p.version == "3.5.0"
).image_id(REGION)
MISSING = "ami-0123456789abcdef0"
IMAGE_ID = ("aws:autoscaling:launchconfiguration", "ImageId")
LATE = 1.5


@pytest.fixture
def make_eb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> Iterator[Any]:
    """`make_eb(faults)`: the in-process sandbox with `faults` (once per test) and its client."""
    with ExitStack() as stack:

        def make(faults: Faults | None = None) -> Any:
            stack.enter_context(
                sandbox_in_process(tmp_path, monkeypatch, clock=clock, region=REGION, faults=faults)
            )
            return boto3.client("elasticbeanstalk", region_name=REGION)

        yield make


def update(eb: Any, env: str, image_id: str) -> str:
    answer = eb.update_environment(
        EnvironmentName=env,
        OptionSettings=[{"Namespace": IMAGE_ID[0], "OptionName": IMAGE_ID[1], "Value": image_id}],
    )
    return str(answer["ResponseMetadata"]["RequestId"])


def sets(eb: Any, env: str = "staging") -> dict[str, str]:
    """DeploymentStatus -> the set's ImageId."""
    answer = eb.describe_configuration_settings(
        ApplicationName=world.APPLICATION, EnvironmentName=env
    )
    found = {}
    for described in answer["ConfigurationSettings"]:
        (image,) = [
            option["Value"]
            for option in described["OptionSettings"]
            if (option["Namespace"], option["OptionName"]) == IMAGE_ID
        ]
        found[described["DeploymentStatus"]] = image
    return found


def health(eb: Any, env: str = "staging", names: tuple[str, ...] = ("All",)) -> dict[str, Any]:
    answer = eb.describe_environment_health(EnvironmentName=env, AttributeNames=list(names))
    answer.pop("ResponseMetadata")
    return dict(answer)


def environment(eb: Any, env: str = "staging") -> dict[str, Any]:
    return dict(eb.describe_environments(EnvironmentNames=[env])["Environments"][0])


def stock(eb: Any) -> str:
    return sets(eb)["deployed"]


# --- configuration drafts --------------------------------------------------------------------


def test_an_update_shows_a_pending_draft_that_becomes_the_deployed_set(
    make_eb: Any, clock: FakeClock
) -> None:
    eb = make_eb()
    before = stock(eb)
    update(eb, "staging", GOOD)
    assert sets(eb) == {"deployed": before, "pending": GOOD}
    clock.advance(3 * UPDATE_STEP_SECONDS)  # rolling updates disabled: three steps
    assert environment(eb)["Status"] == "Ready"
    assert sets(eb) == {"deployed": GOOD}


def test_a_failed_update_leaves_a_failed_draft_until_the_next_update(
    make_eb: Any, clock: FakeClock
) -> None:
    eb = make_eb()
    before = stock(eb)
    update(eb, "prod", MISSING)  # the launch fails: Elastic Beanstalk rolls back
    clock.advance(UPDATE_STEP_SECONDS)
    assert sets(eb, "prod") == {"deployed": before, "failed": MISSING}  # rolling back
    clock.advance(2 * UPDATE_STEP_SECONDS)
    assert environment(eb, "prod")["Status"] == "Ready"
    assert sets(eb, "prod") == {"deployed": before, "failed": MISSING}
    update(eb, "prod", GOOD)
    assert sets(eb, "prod") == {"deployed": before, "pending": GOOD}


def test_a_failed_draft_stays_until_deleted_and_a_pending_one_cannot_be(
    make_eb: Any, clock: FakeClock
) -> None:
    eb = make_eb()
    before = stock(eb)
    update(eb, "prod", MISSING)
    clock.advance(3 * UPDATE_STEP_SECONDS)
    assert sets(eb, "prod") == {"deployed": before, "failed": MISSING}
    eb.delete_environment_configuration(ApplicationName=world.APPLICATION, EnvironmentName="prod")
    assert sets(eb, "prod") == {"deployed": before}
    update(eb, "prod", GOOD)
    with pytest.raises(eb.exceptions.ClientError) as refused:
        eb.delete_environment_configuration(
            ApplicationName=world.APPLICATION, EnvironmentName="prod"
        )
    assert refused.value.response["Error"]["Code"] == "OperationInProgressFailure"
    assert sets(eb, "prod") == {"deployed": before, "pending": GOOD}


def test_an_update_that_fails_health_without_rollback_deploys_and_fails_its_draft(
    make_eb: Any, clock: FakeClock
) -> None:
    eb = make_eb(Faults(update_fails_health_envs=("staging",)))
    update(eb, "staging", GOOD)  # rolling updates disabled: nothing to roll back
    clock.advance(3 * UPDATE_STEP_SECONDS)
    assert sets(eb) == {"deployed": GOOD, "failed": GOOD}


def test_without_drafts_one_deployed_set_holds_the_new_settings_mid_update(
    make_eb: Any,
) -> None:
    eb = make_eb(Faults(realism=Realism(configuration_drafts=False)))
    update(eb, "staging", GOOD)
    assert sets(eb) == {"deployed": GOOD}


# --- enhanced health -------------------------------------------------------------------------


def test_an_update_is_grey_pending_then_info_then_info_after_it_then_ok(
    make_eb: Any, clock: FakeClock
) -> None:
    eb = make_eb(Faults(realism=Realism(late_events=0)))
    update(eb, "staging", GOOD)  # staging runs the stock AMI: Red before
    seen = health(eb, names=("Color", "HealthStatus", "Causes"))
    assert (seen["Color"], seen["HealthStatus"]) == ("Red", "Severe")  # its old instance
    assert (environment(eb)["Health"], environment(eb)["HealthStatus"]) == ("Red", "Severe")
    clock.advance(UPDATE_STEP_SECONDS)  # the new instance launched
    clock.advance(UPDATE_STEP_SECONDS)  # the old one gone; the new one settled Ok
    seen = health(eb)
    assert (seen["Status"], seen["Color"], seen["HealthStatus"]) == ("Updating", "Grey", "Info")
    assert seen["Causes"] == [
        "Configuration update in progress on 0 instances. 1 out of 1 instance completed "
        "(running for 1 second)."
    ]
    assert environment(eb)["Health"] == "Grey"
    clock.advance(UPDATE_STEP_SECONDS)
    seen = health(eb)
    assert (seen["Status"], seen["Color"], seen["HealthStatus"]) == ("Ready", "Green", "Info")
    assert seen["Causes"] == ["Configuration update completed 0 seconds ago and took 1 second."]
    clock.advance(INFO_SECONDS)
    seen = health(eb)
    assert (seen["Color"], seen["HealthStatus"], seen["Causes"]) == ("Green", "Ok", [])
    transitions = [
        event["Message"].split(".")[0]
        for event in reversed(eb.describe_events(EnvironmentName="staging")["Events"])
        if event["Message"].startswith("Environment health has transitioned")
    ]
    assert transitions[-2:] == [
        "Environment health has transitioned from Severe to Info",
        "Environment health has transitioned from Info to Ok",
    ]


def test_a_healthy_environment_turns_pending_when_an_update_starts(
    make_eb: Any, clock: FakeClock
) -> None:
    eb = make_eb(Faults(realism=Realism(late_events=0)))
    update(eb, "staging", GOOD)
    clock.advance(3 * UPDATE_STEP_SECONDS + INFO_SECONDS)
    assert health(eb)["HealthStatus"] == "Ok"
    eb.update_environment(
        EnvironmentName="staging",
        OptionSettings=[
            {"Namespace": "aws:autoscaling:asg", "OptionName": "MaxSize", "Value": "3"}
        ],
    )
    seen = health(eb)
    assert (seen["Color"], seen["HealthStatus"]) == ("Grey", "Pending")
    assert seen["Causes"] == ["Command is executing on all instances."]


def test_instances_are_pending_after_launch_then_ok_or_severe(
    make_eb: Any, clock: FakeClock
) -> None:
    eb = make_eb(Faults(realism=Realism(late_events=0)))
    update(eb, "prod", GOOD)  # health-based, one instance per batch
    clock.advance(UPDATE_STEP_SECONDS)
    listed = eb.describe_instances_health(EnvironmentName="prod", AttributeNames=["All"])
    by_status = {item["HealthStatus"]: item for item in listed["InstanceHealthList"]}
    assert set(by_status) == {"Pending", "Severe"}
    assert by_status["Pending"]["Color"] == "Grey"
    assert by_status["Pending"]["Causes"] == ["Performing initialization (running for 0 seconds)."]
    assert by_status["Pending"]["Deployment"]["Status"] == "In Progress"
    assert by_status["Pending"]["Deployment"]["DeploymentId"] == 2
    assert by_status["Severe"]["Causes"] == [
        "ECS task placement failed: the instance does not allow the log driver(s) fluentd "
        "(ATTRIBUTE)."
    ]
    assert by_status["Severe"]["Deployment"]["Status"] == "Deployed"  # the seeded one
    new_id = by_status["Pending"]["InstanceId"]
    clock.advance(PENDING_SECONDS)
    listed = eb.describe_instances_health(EnvironmentName="prod", AttributeNames=["All"])
    new = next(item for item in listed["InstanceHealthList"] if item["InstanceId"] == new_id)
    assert (new["HealthStatus"], new["Color"]) == ("Ok", "Green")
    assert new["Causes"] == ["Initialization completed 0 seconds ago and took 0 seconds."]
    assert new["InstanceType"] == "t2.micro"
    assert new["AvailabilityZone"].startswith(REGION)
    assert set(new["System"]) == {"CPUUtilization", "LoadAverage"}


def test_describe_environment_health_answers_only_the_attributes_asked_for(
    make_eb: Any,
) -> None:
    eb = make_eb()
    assert health(eb, names=()) == {"EnvironmentName": "staging"}
    assert health(eb, names=("Status",)) == {"EnvironmentName": "staging", "Status": "Ready"}
    assert set(health(eb, names=("Color", "HealthStatus", "Causes"))) == {
        "EnvironmentName", "Color", "HealthStatus", "Causes",
    }  # fmt: skip
    assert set(health(eb)) == {"EnvironmentName", *health_actions.ENVIRONMENT_ATTRIBUTES}
    with pytest.raises(eb.exceptions.ClientError, match="AttributeNames 'Colour'"):
        health(eb, names=("Colour",))


def test_describe_instances_health_answers_the_attributes_asked_for_a_page_at_a_time(
    make_eb: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    eb = make_eb()
    monkeypatch.setattr(health_actions, "INSTANCES_PER_PAGE", 1)
    first = eb.describe_instances_health(EnvironmentName="prod")
    assert [set(item) for item in first["InstanceHealthList"]] == [{"InstanceId"}]
    assert "RefreshedAt" not in first
    second = eb.describe_instances_health(
        EnvironmentName="prod", AttributeNames=["HealthStatus", "RefreshedAt"],
        NextToken=first["NextToken"],
    )  # fmt: skip
    assert [set(item) for item in second["InstanceHealthList"]] == [{"InstanceId", "HealthStatus"}]
    assert "RefreshedAt" in second
    assert "NextToken" not in second
    ids = {
        first["InstanceHealthList"][0]["InstanceId"],
        second["InstanceHealthList"][0]["InstanceId"],
    }
    assert len(ids) == world.ENVIRONMENTS["prod"]
    everything = eb.describe_instances_health(EnvironmentName="prod", AttributeNames=["All"])
    assert set(everything["InstanceHealthList"][0]) == {
        "InstanceId", *health_actions.INSTANCE_ATTRIBUTES,
    } - {"RefreshedAt"}  # fmt: skip


def test_without_the_vocabulary_health_is_green_ok_or_red_severe_only(
    make_eb: Any, clock: FakeClock
) -> None:
    eb = make_eb(Faults(realism=Realism.off()))
    update(eb, "staging", GOOD)
    assert (health(eb)["Color"], health(eb)["HealthStatus"]) == ("Red", "Severe")
    clock.advance(UPDATE_STEP_SECONDS)
    assert health(eb)["InstancesHealth"]["NoData"] == 1  # the new one, not settled yet
    clock.advance(2 * UPDATE_STEP_SECONDS)
    seen = health(eb)
    assert (seen["Status"], seen["Color"], seen["HealthStatus"]) == ("Ready", "Green", "Ok")
    listed = eb.describe_instances_health(EnvironmentName="staging", AttributeNames=["All"])
    assert [item["HealthStatus"] for item in listed["InstanceHealthList"]] == ["Ok"]


# --- the unrelated-health fault ----------------------------------------------------------------


def test_an_unrelated_cause_holds_an_environment_at_its_level_while_instances_are_fine(
    make_eb: Any, clock: FakeClock
) -> None:
    eb = make_eb(Faults(unrelated_health=(("staging", "Warning"),), realism=Realism(late_events=0)))
    cause = "5% of the requests to the ELB are failing with HTTP 5xx."
    update(eb, "staging", GOOD)
    clock.advance(3 * UPDATE_STEP_SECONDS + INFO_SECONDS)
    seen = health(eb)
    assert (seen["Color"], seen["HealthStatus"], seen["Causes"]) == ("Yellow", "Warning", [cause])
    metrics = seen["ApplicationMetrics"]
    # Counts of the requests, 5 % of them 5xx (what `eb health` divides by RequestCount).
    assert metrics["StatusCodes"]["Status5xx"] == round(metrics["RequestCount"] * 0.05)
    assert metrics["StatusCodes"]["Status5xx"] > 0
    assert sum(metrics["StatusCodes"].values()) == metrics["RequestCount"]
    assert seen["InstancesHealth"]["Ok"] == 1
    listed = eb.describe_instances_health(EnvironmentName="staging", AttributeNames=["All"])
    assert [item["HealthStatus"] for item in listed["InstanceHealthList"]] == ["Ok"]
    update(eb, "staging", GOOD)  # settings alone: the same AMI
    during = health(eb)
    assert (during["HealthStatus"], during["Causes"][0]) == ("Warning", cause)
    assert environment(eb)["Health"] == "Yellow"
    assert health(eb, "prod")["Causes"][0].startswith("ECS task placement failed")  # no fault


def test_a_degraded_level_is_red_and_shows_with_the_vocabulary_off(make_eb: Any) -> None:
    eb = make_eb(Faults(unrelated_health=(("staging", "Degraded"),), realism=Realism.off()))
    update(eb, "staging", GOOD)
    seen = health(eb)
    # The stock AMI's Severe is worse than Degraded; both causes show, the unrelated one first.
    assert seen["HealthStatus"] == "Severe"
    assert seen["Causes"][0] == "25% of the requests to the ELB are failing with HTTP 5xx."


# --- late events -------------------------------------------------------------------------------


def _events(eb: Any, request_id: str, **since: Any) -> list[dict[str, Any]]:
    return list(eb.describe_events(RequestId=request_id, **since)["Events"])


def _key(event: dict[str, Any]) -> str:
    return f"{event['EventDate'].isoformat()} {event['Message']}"


def test_late_events_show_after_newer_ones_and_a_cursor_at_the_newest_misses_them(
    make_eb: Any, clock: FakeClock
) -> None:
    eb = make_eb(Faults(realism=Realism(late_events=LATE)))
    request_id = update(eb, "prod", GOOD)
    visible: dict[str, Any] = {}  # every event visible so far, by key
    shown_late: list[str] = []  # events that showed after a newer one had shown
    cursor_client: set[str] = set()  # polls from the newest event it has seen
    window_client: set[str] = set()  # re-reads a look-back window
    newest = None
    for _ in range(24):
        clock.advance(UPDATE_STEP_SECONDS / 2)
        for event in _events(eb, request_id):
            if (
                _key(event) not in visible
                and visible
                and event["EventDate"] < max(visible.values())
            ):
                shown_late.append(_key(event))
            visible[_key(event)] = event["EventDate"]
        cursor: dict[str, Any] = {"StartTime": newest} if newest else {}
        cursor_client |= {_key(event) for event in _events(eb, request_id, **cursor)}
        window: dict[str, Any] = {"StartTime": newest - timedelta(seconds=60)} if newest else {}
        window_client |= {_key(event) for event in _events(eb, request_id, **window)}
        newest = max(visible.values(), default=None)
    assert shown_late, "no event of the update was filed late"
    assert window_client == set(visible)
    assert set(shown_late) - cursor_client, "the cursor client got every late event"


def test_without_late_events_every_event_shows_when_it_happens(
    make_eb: Any, clock: FakeClock
) -> None:
    eb = make_eb(Faults(realism=Realism(late_events=0)))
    request_id = update(eb, "prod", GOOD)
    seen: list[str] = []
    for _ in range(6):
        clock.advance(UPDATE_STEP_SECONDS)
        now = [_key(event) for event in reversed(_events(eb, request_id))]
        assert now[: len(seen)] == seen  # nothing new shows before what was already shown
        seen = now
    clock.advance(10 * LATE)
    assert len(_events(eb, request_id)) == len(seen)  # nothing more came
