"""`RegionWatch`: the followers of one region's updates poll it, and each poll round costs one
`DescribeEnvironments` for every environment followed and one `DescribeEvents` for every
update; each follower gets its own environment and its own update's events, a late event too;
what nobody asked for lately is left out of the reads."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

import pytest

from ebami.apply.events import LOOKBACK, EventStream
from ebami.apply.region_watch import FORGOTTEN_AFTER, RegionWatch
from ebami.aws.eb_values import Configuration, Environment, Event, Health, InstanceHealth
from ebami.aws.ec2_values import Instance
from ebami.core.errors import NotFoundError
from tests.fakes.apply import ENVIRONMENT, EPOCH
from tests.fakes.clock import FakeClock

STUCK = 30.0
# What the watch takes as now (the first poll of an update comes right after it started).
NOW = EPOCH + timedelta(minutes=10)


def environment(number: int, application: str = "webapp") -> Environment:
    return replace(
        ENVIRONMENT,
        name=f"env-{number}",
        environment_id=f"e-{number}",
        application=application,
        status="Updating",
    )


def event(seconds: float, message: str, request_id: str, name: str = "env-1") -> Event:
    return Event(NOW + timedelta(seconds=seconds), message, "INFO", request_id, name)


@dataclass
class RegionEb:
    """A region's Elastic Beanstalk as the watch calls it: `environments` as they are,
    `visible` the events it shows so far (of environments of `applications`); `calls` records
    each call (thread-safe)."""

    environments: dict[str, Environment] = field(default_factory=dict)
    visible: list[Event] = field(default_factory=list)
    applications: dict[str, str] = field(default_factory=dict)  # environment name -> its app
    instances: dict[str, Instance] = field(default_factory=dict)  # those EC2 shows
    calls: list[tuple[Any, ...]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def _called(self, *call: Any) -> None:
        with self.lock:
            self.calls.append(call)

    def named(self, call: str) -> list[tuple[Any, ...]]:
        return [item for item in self.calls if item[0] == call]

    def environments_by_id(self, environment_ids: Sequence[str]) -> dict[str, Environment]:
        self._called("environments_by_id", tuple(sorted(environment_ids)))
        return {key: self.environments[key] for key in environment_ids if key in self.environments}

    def recent_events(self, *, since: datetime, application: str | None = None) -> list[Event]:
        self._called("recent_events", since, application)
        return sorted(
            (
                item
                for item in self.visible
                if item.date >= since
                and (application is None or self.applications.get(item.environment) == application)
            ),
            key=lambda item: item.date,
        )

    def events(
        self,
        environment: Environment,
        *,
        request_id: str | None = None,
        since: datetime | None = None,
        limit: int = 1000,
    ) -> list[Event]:
        self._called("events", environment.name, request_id, since)
        return sorted(
            (
                item
                for item in self.visible
                if item.environment == environment.name
                and (request_id is None or item.request_id == request_id)
                and (since is None or item.date >= since)
            ),
            key=lambda item: item.date,
        )[-limit:]

    def configuration(self, environment: Environment) -> Configuration:
        self._called("configuration", environment.name)
        return Configuration({})

    def health(self, environment: Environment) -> Health:
        self._called("health", environment.name)
        return Health("Green", "Ok")

    def instances_health(self, environment: Environment) -> list[InstanceHealth]:
        self._called("instances_health", environment.name)
        return []

    def instances_with_ids(self, instance_ids: Sequence[str]) -> list[Instance]:
        self._called("instances_with_ids", tuple(sorted(instance_ids)))
        return [self.instances[key] for key in instance_ids if key in self.instances]


def watch_of(eb: RegionEb, clock: FakeClock | None = None) -> RegionWatch:
    return RegionWatch(eb, eb, clock=clock or FakeClock(), now=lambda: NOW)


# --- environments ---------------------------------------------------------------------------


def test_three_followers_cost_one_describe_environments_a_poll_round() -> None:
    followed = [environment(number) for number in (1, 2, 3)]
    # Each environment's `version_label` says in which round it was changed (-1: before).
    eb = RegionEb({item.environment_id: replace(item, version_label="-1") for item in followed})
    watch = watch_of(eb)
    for item in followed:  # each follower's first poll
        assert watch.refresh(item).version_label == "-1"
    first = len(eb.named("environments_by_id"))
    rounds = 5
    start = threading.Barrier(len(followed))
    seen: dict[str, list[int]] = {item.name: [] for item in followed}

    def follow(item: Environment) -> None:
        try:
            for number in range(rounds):
                start.wait(STUCK)
                eb.environments[item.environment_id] = replace(item, version_label=str(number))
                start.wait(STUCK)  # every environment changed before any follower polls
                found = watch.refresh(item)
                assert found.environment_id == item.environment_id
                seen[item.name].append(int(found.version_label))
                start.wait(STUCK)  # the round ends when every follower polled
        except BaseException:
            start.abort()  # the other followers stop at once
            raise

    with ThreadPoolExecutor(max_workers=len(followed)) as pool:
        for done in [pool.submit(follow, item) for item in followed]:
            done.result(STUCK)
    calls = eb.named("environments_by_id")[first:]
    assert len(calls) == rounds
    assert set(calls) == {("environments_by_id", ("e-1", "e-2", "e-3"))}
    # Each follower is answered from a read newer than its last: never an older state, at
    # most one round behind.
    for states in seen.values():
        assert states == sorted(states)
        assert all(state >= number - 1 for number, state in enumerate(states))


def test_an_environment_missing_from_the_answer_is_not_found() -> None:
    kept, gone = environment(1), environment(2)
    eb = RegionEb({kept.environment_id: kept})
    watch = watch_of(eb)
    assert watch.refresh(kept) == kept
    with pytest.raises(NotFoundError, match="'env-2' is gone"):
        watch.refresh(gone)
    # The other follower is still answered.
    assert watch.refresh(kept) == kept


def test_an_environment_nobody_asked_for_lately_is_left_out_of_the_reads() -> None:
    clock = FakeClock()
    first, second = environment(1), environment(2)
    eb = RegionEb({item.environment_id: item for item in (first, second)})
    watch = watch_of(eb, clock)
    watch.refresh(first)
    watch.refresh(second)
    assert eb.calls[-1] == ("environments_by_id", ("e-1", "e-2"))
    # The first follower went on polling; the second stopped (its update was followed).
    clock.advance(FORGOTTEN_AFTER / 2)
    watch.refresh(first)
    clock.advance(FORGOTTEN_AFTER / 2 + 1)
    watch.refresh(first)
    assert eb.named("environments_by_id")[-1] == ("environments_by_id", ("e-1",))


def test_the_calls_of_an_environment_s_own_go_straight_through() -> None:
    item = environment(1)
    eb = RegionEb({item.environment_id: item})
    watch = watch_of(eb)
    watch.configuration(item)
    watch.health(item)
    watch.instances_health(item)
    watch.events(item, since=NOW)  # an environment's events, of no request
    assert eb.calls == [
        ("configuration", "env-1"),
        ("health", "env-1"),
        ("instances_health", "env-1"),
        ("events", "env-1", None, NOW),
    ]


# --- events ---------------------------------------------------------------------------------


def test_one_update_followed_reads_its_own_events() -> None:
    item = environment(1)
    eb = RegionEb(
        visible=[event(1, "starting", "req-1"), event(2, "other request", "req-0")],
        applications={"env-1": "webapp"},
    )
    watch = watch_of(eb)
    found = watch.events(item, request_id="req-1")
    assert [e.message for e in found] == ["starting"]
    since = NOW + timedelta(seconds=1) - LOOKBACK
    assert [e.message for e in watch.events(item, request_id="req-1", since=since)] == ["starting"]
    assert eb.calls == [("events", "env-1", "req-1", None), ("events", "env-1", "req-1", since)]


def two_updates(application: str = "webapp") -> tuple[RegionEb, list[Environment]]:
    followed = [environment(1), environment(2, application)]
    eb = RegionEb(applications={"env-1": "webapp", "env-2": application})
    return eb, followed


def poll_round(streams: list[EventStream]) -> list[list[str]]:
    return [[item.message for item in stream.poll()] for stream in streams]


def test_two_updates_share_one_describe_events_a_round_each_gets_its_own() -> None:
    eb, followed = two_updates()
    watch = watch_of(eb)
    shown: dict[str, list[str]] = {"req-1": [], "req-2": []}
    streams = [
        EventStream(watch, item, lambda e: shown[e.request_id].append(e.message), request_id=rid)
        for item, rid in zip(followed, ("req-1", "req-2"), strict=True)
    ]
    eb.visible += [event(1, "one starts", "req-1"), event(2, "two starts", "req-2", "env-2")]
    eb.visible.append(event(1.5, "an update nobody follows", "req-9"))
    assert poll_round(streams) == [["one starts"], ["two starts"]]
    eb.visible += [event(3, "one deployed", "req-1"), event(4, "two done", "req-2", "env-2")]
    before = len(eb.calls)
    for _ in range(3):
        poll_round(streams)
    assert shown == {"req-1": ["one starts", "one deployed"], "req-2": ["two starts", "two done"]}
    # One call a round for both updates, of their application, from the earliest point
    # either stream asks for (the look-back before the newest event each has seen).
    calls = eb.calls[before:]
    assert [(call[0], call[2]) for call in calls] == [("recent_events", "webapp")] * 3
    assert calls[-1][1] == NOW + timedelta(seconds=3) - LOOKBACK  # "one deployed", req-1's newest


def test_updates_of_two_applications_read_the_region_s_events() -> None:
    eb, followed = two_updates(application="api")
    watch = watch_of(eb)
    eb.visible += [event(1, "one", "req-1"), event(2, "two", "req-2", "env-2")]
    assert [e.message for e in watch.events(followed[0], request_id="req-1")] == ["one"]
    assert [e.message for e in watch.events(followed[1], request_id="req-2")] == ["two"]
    assert [e.message for e in watch.events(followed[1], request_id="req-2")] == ["two"]
    # Their first events are looked for from the look-back before their first poll.
    assert eb.calls == [
        ("events", "env-1", "req-1", None),
        ("recent_events", NOW - LOOKBACK, None),
        ("recent_events", NOW - LOOKBACK, None),
    ]


def test_a_late_event_still_reaches_its_stream_once() -> None:
    eb, followed = two_updates()
    watch = watch_of(eb)
    shown: dict[str, list[str]] = {"req-1": [], "req-2": []}
    streams = [
        EventStream(watch, item, lambda e: shown[e.request_id].append(e.message), request_id=rid)
        for item, rid in zip(followed, ("req-1", "req-2"), strict=True)
    ]
    eb.visible += [event(1, "starting", "req-1"), event(1, "starting", "req-2", "env-2")]
    poll_round(streams)
    eb.visible += [event(20, "added instance", "req-1"), event(30, "busy", "req-2", "env-2")]
    for _ in range(2):
        poll_round(streams)
    assert shown == {"req-1": ["starting", "added instance"], "req-2": ["starting", "busy"]}
    # Dated before the newest event of its update, shown only now.
    eb.visible.append(event(10, "created security group", "req-1"))
    for _ in range(3):
        poll_round(streams)
    assert shown == {
        "req-1": ["starting", "added instance", "created security group"],
        "req-2": ["starting", "busy"],
    }
    # Answered from the region's events (the first poll alone read its update's own).
    assert eb.named("events") == [("events", "env-1", "req-1", None)]
    assert len(eb.named("recent_events")) == 6


def test_a_finished_update_drops_out_of_the_reads() -> None:
    clock = FakeClock()
    eb, followed = two_updates()
    watch = watch_of(eb, clock)
    eb.visible += [event(1, "one", "req-1", "env-1"), event(2, "two", "req-2", "env-2")]
    watch.events(followed[0], request_id="req-1")
    watch.events(followed[1], request_id="req-2")
    assert eb.calls[-1][0] == "recent_events"
    # The second update was followed to its end: only the first one's follower asks on.
    clock.advance(FORGOTTEN_AFTER / 2)
    watch.events(followed[0], request_id="req-1")
    clock.advance(FORGOTTEN_AFTER / 2 + 1)
    assert [e.message for e in watch.events(followed[0], request_id="req-1")] == ["one"]
    assert eb.calls[-1] == ("events", "env-1", "req-1", None)


# --- instances --------------------------------------------------------------------------------


def instance(instance_id: str, image_id: str = "ami-0new") -> Instance:
    return Instance(instance_id, image_id, "running", "", "subnet-1", "vpc-1", "", "", {})


def test_the_instances_asked_for_at_once_are_read_in_one_call_and_never_again() -> None:
    eb = RegionEb(instances={"i-1": instance("i-1"), "i-2": instance("i-2", "ami-0old")})
    watch = watch_of(eb)
    # Two followers' instances are wanted before either reads: the first read asks for all.
    with watch._lock:
        watch._instances.update({"i-1": 0.0, "i-2": 0.0, "i-3": 0.0})
    first = watch.describe_instances(["i-1", "i-3"])
    second = watch.describe_instances(["i-2"])
    assert [item.instance_id for item in first] == ["i-1"]
    assert [(item.instance_id, item.image_id) for item in second] == [("i-2", "ami-0old")]
    assert eb.named("instances_with_ids") == [("instances_with_ids", ("i-1", "i-2", "i-3"))]
    # i-3 was not shown yet: asked again, alone (what was found is never asked for again).
    eb.instances["i-3"] = instance("i-3")
    assert [item.instance_id for item in watch.describe_instances(["i-3"])] == ["i-3"]
    assert eb.named("instances_with_ids")[-1] == ("instances_with_ids", ("i-3",))


def test_a_follower_waiting_through_a_read_longer_than_forgotten_after_is_still_answered() -> None:
    # Follower 2's read runs past FORGOTTEN_AFTER (throttled retries within its deadline) while
    # follower 1 waits for it: follower 1 must not be forgotten (every later read leaving it out
    # would have it ask forever).
    clock = FakeClock()
    one, two = environment(1), environment(2)
    asked = threading.Event()
    first_read = threading.Event()

    class SlowEb(RegionEb):
        def environments_by_id(self, environment_ids: Sequence[str]) -> dict[str, Environment]:
            calls = len(self.named("environments_by_id"))
            if calls == 0:
                first_read.set()
                assert asked.wait(STUCK)  # follower 1 asks while this read runs
                clock.advance(FORGOTTEN_AFTER + 1)
            assert calls < 5, "follower 1 was forgotten: it asks forever"
            return super().environments_by_id(environment_ids)

    eb = SlowEb({one.environment_id: one, two.environment_id: two})
    watch = watch_of(eb, clock)
    with ThreadPoolExecutor(max_workers=2) as pool:
        second = pool.submit(watch.refresh, two)
        assert first_read.wait(STUCK)
        first = pool.submit(watch.refresh, one)
        # Follower 1 is waiting once it has been recorded as asking.
        while one.environment_id not in watch._environments:
            threading.Event().wait(0.01)
        asked.set()
        assert first.result(STUCK) == one
        assert second.result(STUCK) == two
    assert len(eb.named("environments_by_id")) == 2
