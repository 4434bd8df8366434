"""Following an environment's events: each reported once, oldest first within a poll, an event
that Elastic Beanstalk makes visible late (after newer ones were returned) reported when it shows.

Each poll asks `DescribeEvents` (of a request, or of the environment) from `LOOKBACK` before
the newest event seen, and drops the events seen already by their identity (`Event.identity`).
`ebami apply` follows an update's events with it (`ebami.apply.follow`), `ebami events -f` an
environment's (`keep_following`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Any, Protocol

from ebami.aws.eb_values import Environment, Event
from ebami.core.waiting import Deadline, Sleep, intervals

# How far before the newest event seen each poll asks again: Elastic Beanstalk may make an event
# visible only after newer ones were returned (it files events late), and a cursor at the newest
# event would miss it for good. Late events seen so far come within seconds; two minutes is
# ample and costs one page of an update's events.
LOOKBACK = timedelta(minutes=2)


class EventSource(Protocol):
    """The one Elastic Beanstalk call an event stream makes (`ebami.aws.elasticbeanstalk`)."""

    def events(
        self,
        environment: Environment,
        *,
        request_id: str | None = None,
        since: datetime | None = None,
        limit: int = 1000,
    ) -> list[Event]: ...


class EventStream:
    """One request's events (or an environment's), each reported once, oldest first within a
    poll; an event that shows late, after newer ones, is reported when it shows."""

    def __init__(
        self,
        eb: EventSource,
        environment: Environment,
        on_event: Callable[[Event], None],
        *,
        request_id: str | None = None,
        since: datetime | None = None,
    ) -> None:
        self._eb = eb
        self._environment = environment
        self._on_event = on_event
        self._request_id = request_id
        self._since = since
        self._newest: datetime | None = None
        self._seen: dict[tuple[Any, ...], datetime] = {}
        self.events: list[Event] = []

    def skip(self, events: list[Event]) -> None:
        """Take `events` as reported already (a listing printed them): poll after them."""
        for event in events:
            self._saw(event)

    def poll(self) -> list[Event]:
        since = self._since if self._newest is None else self._newest - LOOKBACK
        found = self._eb.events(self._environment, request_id=self._request_id, since=since)
        new: list[Event] = []
        for event in sorted(found, key=lambda event: event.date):
            if event.identity in self._seen:
                continue
            self._saw(event)
            new.append(event)
            self.events.append(event)
            self._on_event(event)
        self._forget()
        return new

    def _saw(self, event: Event) -> None:
        self._seen[event.identity] = event.date
        if self._newest is None or event.date > self._newest:
            self._newest = event.date

    def _forget(self) -> None:
        """Drop the identities no poll can return again (older than the look-back)."""
        if self._newest is None:
            return
        horizon = self._newest - LOOKBACK
        for identity, date in list(self._seen.items()):
            if date < horizon:
                del self._seen[identity]


def keep_following(
    stream: EventStream,
    *,
    bounded: Callable[[float], AbstractContextManager[object]],
    poll_seconds: float,
    sleep: Sleep = time.sleep,
    polls: Iterator[float] | None = None,
    until: Deadline | None = None,
) -> None:
    """Poll `stream` (`ebami events -f`) until Ctrl-C, or `until` passes when given. Each poll's
    calls fit `poll_seconds` of their own (`bounded`): a throttled poll is retried, a silent
    endpoint does not hold the loop; between polls, `sleep`."""
    polls = polls if polls is not None else intervals(first=2.0, cap=10.0)
    while until is None or not until.expired:
        with bounded(poll_seconds):
            stream.poll()
        pause = next(polls)
        sleep(pause if until is None else min(pause, until.remaining))
