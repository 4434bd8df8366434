"""Environment updates in the sandbox run on its clock, not on polls, and every event of an
update carries the RequestId that UpdateEnvironment answered with.

The sandbox runs in this process on moto's in-memory mock with a fake clock: time moves only
when a test moves it, so what each read sees is exact.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from ebami.core.waiting import Deadline, poll_until
from ebami.sandbox import world
from ebami.sandbox.environments import UPDATE_STEP_SECONDS
from ebami.sandbox.health_report import INFO_SECONDS
from ebami.sandbox.realism import Realism
from tests.fakes.clock import FakeClock
from tests.sandbox_helpers import sandbox_in_process

REGION = "us-east-1"
# An image whose ecs-init allows fluentd, which the application needs: the update ends Green.
AL2 = next(p for p in world.PLATFORMS if p.name == world.ECS_AL2 and p.version == "3.5.0").image_id(
    REGION
)
IMAGE_ID = {"Namespace": "aws:autoscaling:launchconfiguration", "OptionName": "ImageId"}
STARTING = "Environment update is starting."
COMPLETED = "Environment update completed successfully."


@pytest.fixture
def eb(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock) -> Iterator[Any]:
    with sandbox_in_process(tmp_path, monkeypatch, clock=clock, region=REGION):
        yield boto3.client("elasticbeanstalk", region_name=REGION)


def update_to(eb: Any, image_id: str) -> str:
    answer = eb.update_environment(
        EnvironmentName="prod", OptionSettings=[{**IMAGE_ID, "Value": image_id}]
    )
    assert answer["Status"] == "Updating"
    return str(answer["ResponseMetadata"]["RequestId"])


def events_of(eb: Any, request_id: str) -> list[dict[str, Any]]:
    """The request's events, oldest first."""
    return list(reversed(eb.describe_events(RequestId=request_id)["Events"]))


def messages(events: list[dict[str, Any]]) -> list[str]:
    return [event["Message"] for event in events]


def status(eb: Any) -> str:
    return str(eb.describe_environments(EnvironmentNames=["prod"])["Environments"][0]["Status"])


def test_polls_alone_never_advance_an_update(eb: Any, clock: FakeClock) -> None:
    request_id = update_to(eb, AL2)
    for _ in range(5):
        assert messages(events_of(eb, request_id)) == [STARTING]
        assert status(eb) == "Updating"
        eb.describe_environment_health(EnvironmentName="prod", AttributeNames=["All"])
    clock.advance(UPDATE_STEP_SECONDS)  # prod is health-based, one instance per batch
    first_batch = messages(events_of(eb, request_id))
    assert first_batch[1].startswith("Rolling update initiated. Terminating 2 obsolete")
    assert len([m for m in first_batch if m.startswith("Added instance [")]) == 1
    assert status(eb) == "Updating"
    for _ in range(world.ENVIRONMENTS["prod"]):  # the other batch, then completion
        assert messages(events_of(eb, request_id))[-1] != COMPLETED
        clock.advance(UPDATE_STEP_SECONDS)
    assert messages(events_of(eb, request_id))[-1] == COMPLETED
    assert status(eb) == "Ready"


def test_a_client_polling_only_describe_events_sees_the_update_complete(
    eb: Any, clock: FakeClock
) -> None:
    request_id = update_to(eb, AL2)

    def completed() -> list[dict[str, Any]] | None:
        events = events_of(eb, request_id)
        return events if events[-1]["Message"] == COMPLETED else None

    events = poll_until(completed, Deadline(60, clock=clock, sleep=clock.advance))
    assert events is not None, "the update never completed for a client reading only events"
    assert messages(events)[0] == STARTING
    assert "Successfully deployed new configuration to environment." in messages(events)
    assert {event["RequestId"] for event in events} == {request_id}


def test_a_client_polling_only_describe_environment_health_sees_the_update_complete(
    eb: Any, clock: FakeClock
) -> None:
    update_to(eb, AL2)

    def ready() -> dict[str, Any] | None:
        health = eb.describe_environment_health(EnvironmentName="prod", AttributeNames=["All"])
        return health if health["Status"] == "Ready" else None

    first = eb.describe_environment_health(EnvironmentName="prod", AttributeNames=["All"])
    assert (first["Status"], first["Color"]) == ("Updating", "Red")  # the stock AMI's health
    health = poll_until(ready, Deadline(60, clock=clock, sleep=clock.advance))
    assert health is not None, "the update never completed for a client reading only health"
    # Enhanced health says Info for a while after an update, then Ok.
    assert (health["Color"], health["HealthStatus"]) == ("Green", "Info")
    assert health["Causes"][0].startswith("Configuration update completed ")
    clock.advance(INFO_SECONDS)
    health = eb.describe_environment_health(EnvironmentName="prod", AttributeNames=["All"])
    assert (health["Color"], health["HealthStatus"], health["Causes"]) == ("Green", "Ok", [])
    assert health["InstancesHealth"]["Ok"] == world.ENVIRONMENTS["prod"]


def test_every_event_of_an_update_carries_its_request_id_and_health_events_none(
    eb: Any, clock: FakeClock
) -> None:
    first = update_to(eb, AL2)
    clock.advance(3 * UPDATE_STEP_SECONDS)
    second = update_to(eb, "ami-0123456789abcdef0")  # missing: fails and rolls back
    clock.advance(2 * UPDATE_STEP_SECONDS + Realism().late_events)  # late events shown by then
    failed = messages(events_of(eb, second))
    assert failed[0] == STARTING
    assert failed[-3:] == [
        "Failed to deploy configuration.",
        "The environment was reverted to the previous configuration setting.",
        "Update environment operation is complete, but with errors. For more information, "
        "see troubleshooting documentation.",
    ]
    assert first != second
    everything = eb.describe_events(EnvironmentName="prod")["Events"]
    ours = [event for event in everything if event.get("RequestId") in (first, second)]
    assert len(ours) == len(events_of(eb, first)) + len(failed)
    transitions = [e for e in everything if e["Message"].startswith("Environment health has")]
    assert transitions[0]["Message"] == "Environment health has transitioned from Info to Ok."
    assert all("RequestId" not in event for event in transitions)
