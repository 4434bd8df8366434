"""What the followers of one region's updates poll, read for all of them together.

A fleet apply follows up to `--concurrency` updates of a region at once, each in its own
thread. Polled one by one, each update would cost a `DescribeEnvironments` and a
`DescribeEvents` per poll, however long it runs; here each poll of any follower is answered
from a read newer than the one it was answered last (`ebami.core.coalesce`), and a read serves
everyone:

- **environments**: one `DescribeEnvironments` naming every environment followed (by id, 100 a
  call);
- **events**: with one update followed, `DescribeEvents` of its request, as before; with several,
  one `DescribeEvents` of the region (of their application, when they share one) from the
  earliest point any of them asks for, shared out by request id;
- **instances** (which AMI each new instance was launched from): one `DescribeInstances` by the
  `instance-id` filter for every instance asked for (an instance EC2 does not show yet is left
  out of the answer and asked for again at the next poll, not an error for the others).

An environment, a request or an instance that no follower asked for within `FORGOTTEN_AFTER`
seconds is left out of the reads (its update was followed to its end). The other calls a
follower makes (configuration, enhanced health) are its environment's own and go straight
through.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol

from ebami.apply.events import LOOKBACK, EventSource
from ebami.aws.eb_values import Configuration, Environment, Event, Health, InstanceHealth
from ebami.aws.ec2_values import Instance
from ebami.core.coalesce import NEVER, Coalesced
from ebami.core.errors import NotFoundError
from ebami.core.waiting import Clock, Deadline

# A follower asks at least every poll interval (at most 10 s); one that has not asked for this
# long has stopped following.
FORGOTTEN_AFTER = 60.0


class WatchedEb(EventSource, Protocol):
    """The Elastic Beanstalk calls behind the watch (`ebami.aws.elasticbeanstalk`): an event
    source's (`EventSource`) and these."""

    def environments_by_id(self, environment_ids: Sequence[str]) -> dict[str, Environment]: ...
    def recent_events(self, *, since: datetime, application: str | None = None) -> list[Event]: ...
    def configuration(self, environment: Environment) -> Configuration: ...
    def health(self, environment: Environment) -> Health: ...
    def instances_health(self, environment: Environment) -> list[InstanceHealth]: ...


class WatchedEc2(Protocol):
    """The EC2 call behind the watch (`ebami.aws.ec2`)."""

    def instances_with_ids(self, instance_ids: Sequence[str]) -> list[Instance]: ...


@dataclass
class _Request:
    environment: Environment
    # Where its follower's stream reads from (None: every event of the update).
    since: datetime | None
    # Where a read of the region's events starts for it when `since` is None: a look-back
    # before its first poll, which came right after UpdateEnvironment answered.
    first: datetime
    asked: float


@dataclass(frozen=True)
class _Read:
    """One shared read: what it asked for, and what it found."""

    asked: frozenset[str]
    environments: dict[str, Environment]
    events: tuple[Event, ...] = ()
    instances: tuple[Instance, ...] = ()


class RegionWatch:
    """The followers of one region share it (thread-safe); it answers the calls a follower
    polls (`refresh`, `events`) from shared reads, and passes the rest to `eb`."""

    def __init__(
        self,
        eb: WatchedEb,
        ec2: WatchedEc2,
        *,
        deadline: Callable[[], Deadline | None] = lambda: None,
        clock: Clock = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self._eb = eb
        self._ec2 = ec2
        # The deadline the calling thread's calls fit (`AwsSession.deadline`): how long it may
        # wait for a read another follower makes.
        self._deadline = deadline
        self._clock = clock
        self._now = now
        self._lock = threading.Lock()
        # Environment id -> when a follower last asked for it.
        self._environments: dict[str, float] = {}
        self._requests: dict[str, _Request] = {}
        self._instances: dict[str, float] = {}
        # The read each environment, request and instance was answered from last (ids of the
        # three kinds never collide: e-..., request UUIDs, i-...).
        self._served: dict[str, int] = {}
        self._environment_reads = Coalesced(self._read_environments)
        self._event_reads = Coalesced(self._read_events)
        self._instance_reads = Coalesced(self._read_instances)

    # --- what a follower polls ---------------------------------------------------------------

    def refresh(self, environment: Environment) -> Environment:
        """The environment as it is now (read with every other environment followed)."""
        key = environment.environment_id

        def asking() -> None:
            self._environments[key] = self._clock()

        read = self._answer(self._environment_reads, {key}, asking)
        found = read.environments.get(key)
        if found is None:
            raise NotFoundError(f"Elastic Beanstalk environment {environment.name!r} is gone")
        return found

    def events(
        self,
        environment: Environment,
        *,
        request_id: str | None = None,
        since: datetime | None = None,
        limit: int = 1000,
    ) -> list[Event]:
        """The events of the update `request_id` from `since` on (read with those of every
        other update followed), oldest first. An environment's events (no request id) are
        asked for on their own."""
        if request_id is None:
            return self._eb.events(environment, since=since, limit=limit)
        with self._lock:
            known = self._requests.get(request_id)
            first = known.first if known else self._now() - LOOKBACK

        def asking() -> None:
            self._requests[request_id] = _Request(environment, since, first, self._clock())

        read = self._answer(self._event_reads, {request_id}, asking)
        found = [
            event
            for event in read.events
            if event.request_id == request_id and (since is None or event.date >= since)
        ]
        return found[-limit:]

    def describe_instances(self, instance_ids: list[str]) -> list[Instance]:
        """Those of the instances that EC2 shows (read with those other followers ask for)."""
        wanted = set(instance_ids)

        def asking() -> None:
            self._instances.update(dict.fromkeys(wanted, self._clock()))

        read = self._answer(self._instance_reads, wanted, asking)
        found = [instance for instance in read.instances if instance.instance_id in wanted]
        with self._lock:  # what an instance was launched from never changes: asked once
            for instance in found:
                self._instances.pop(instance.instance_id, None)
        return found

    def configuration(self, environment: Environment) -> Configuration:
        return self._eb.configuration(environment)

    def health(self, environment: Environment) -> Health:
        return self._eb.health(environment)

    def instances_health(self, environment: Environment) -> list[InstanceHealth]:
        return self._eb.instances_health(environment)

    # --- the shared reads --------------------------------------------------------------------

    def _answer(self, reads: Coalesced[_Read], keys: set[str], asking: Callable[[], None]) -> _Read:
        """A read that asked for each of `keys` and is newer than any of them was answered
        from last. `asking` (called under the lock) records the keys as asked for now: before
        each read waited for, since a read that ran longer than `FORGOTTEN_AFTER` may have
        had them forgotten meanwhile."""
        with self._lock:
            after = max((self._served.get(key, NEVER) for key in keys), default=NEVER)
        deadline = self._deadline()
        while True:
            with self._lock:
                asking()
            number, read = reads.get(after, deadline=deadline)
            if keys <= read.asked:
                with self._lock:
                    self._served.update(dict.fromkeys(keys, number))
                return read
            after = number  # it started before `key` was asked for: the next one will ask

    def _live(self) -> tuple[list[str], dict[str, _Request]]:
        """The environments and requests asked for lately (the others are forgotten)."""
        with self._lock:
            horizon = self._clock() - FORGOTTEN_AFTER
            for key in [key for key, asked in self._environments.items() if asked < horizon]:
                del self._environments[key]
            for key in [key for key, item in self._requests.items() if item.asked < horizon]:
                del self._requests[key]
            for key in [key for key, asked in self._instances.items() if asked < horizon]:
                del self._instances[key]
            return list(self._environments), dict(self._requests)

    def _read_environments(self) -> _Read:
        environments, _ = self._live()
        found = self._eb.environments_by_id(environments)
        return _Read(frozenset(environments), found)

    def _read_events(self) -> _Read:
        _, requests = self._live()
        if not requests:
            return _Read(frozenset(), {})
        if len(requests) == 1:
            [(request_id, request)] = requests.items()
            events = self._eb.events(
                request.environment, request_id=request_id, since=request.since
            )
        else:
            applications = {request.environment.application for request in requests.values()}
            since = min(request.since or request.first for request in requests.values())
            application = next(iter(applications)) if len(applications) == 1 else None
            events = self._eb.recent_events(since=since, application=application)
        return _Read(frozenset(requests), {}, tuple(events))

    def _read_instances(self) -> _Read:
        with self._lock:
            wanted = list(self._instances)
        found = self._ec2.instances_with_ids(wanted) if wanted else []
        return _Read(frozenset(wanted), {}, instances=tuple(found))
