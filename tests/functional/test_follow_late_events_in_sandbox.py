"""ebami's event following (`ebami.apply.follow.EventStream` through `ebami.aws.elasticbeanstalk`)
against the sandbox's Elastic Beanstalk filing events late and out of order, on the sandbox's
clock: every event of the update is printed once, each poll's in date order, none lost."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest

from ebami.apply.events import EventStream
from ebami.aws.eb_values import Event
from ebami.aws.elasticbeanstalk import ElasticBeanstalk
from ebami.sandbox import world
from ebami.sandbox.environments import UPDATE_STEP_SECONDS
from ebami.sandbox.faults import Faults
from ebami.sandbox.realism import Realism
from tests.fakes.clock import FakeClock
from tests.sandbox_helpers import sandbox_in_process

REGION = "us-east-1"
GOOD = next(
    p for p in world.PLATFORMS if p.name == world.ECS_AL2 and p.version == "3.5.0"
).image_id(REGION)
LATE = 3.0  # exaggerated: events up to 3 s late, updates step every 0.5 s


def test_late_and_out_of_order_events_are_each_printed_once_and_none_is_lost(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FakeClock
) -> None:
    faults = Faults(realism=Realism(late_events=LATE))
    with sandbox_in_process(tmp_path, monkeypatch, clock=clock, region=REGION, faults=faults):
        client = boto3.client("elasticbeanstalk", region_name=REGION)
        eb = ElasticBeanstalk(client)
        environment = eb.get_environment("prod")
        request_id = eb.update_image(environment, GOOD)
        printed: list[Event] = []
        batches: list[list[Event]] = []
        stream = EventStream(eb, environment, printed.append, request_id=request_id)
        out_of_order = 0  # events printed after a newer one had been printed
        for _ in range(40):
            clock.advance(UPDATE_STEP_SECONDS / 2)
            newest = max((event.date for event in printed), default=None)
            batch = stream.poll()
            batches.append(batch)
            out_of_order += sum(newest is not None and event.date < newest for event in batch)
        clock.advance(10 * LATE)
        batches.append(stream.poll())
        every = client.describe_events(RequestId=request_id)["Events"]
    identities = [event.identity for event in printed]
    assert len(identities) == len(set(identities)), "an event was printed twice"
    assert {(e["EventDate"], e["Message"]) for e in every} == {
        (e.date, e.message) for e in printed
    }, "an event was lost"
    for batch in batches:
        assert [e.date for e in batch] == sorted(e.date for e in batch)
    assert out_of_order, "no event showed after a newer one: the sandbox filed none late"
