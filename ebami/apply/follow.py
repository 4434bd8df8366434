"""Following an environment update to its end: its events, its status and its health.

What the EB CLI does, without its two faults: every wait here has a deadline (its first phase,
waiting for the first event, has none), and the deadline comes from the update policy (its
fixed 10-minute wait fails CI while Elastic Beanstalk is still working).

Each poll asks `DescribeEvents` for the update's own events (its request id) from the time of
the last one seen (events a millisecond apart are not skipped; those seen already are dropped
by date and message), prints the new ones oldest first, and reads the environment's status and
health. The update is over when the environment is `Ready` again and the update's final event
has come. It succeeded when the configuration names the target AMI, no deployment failed, and
health then holds Green (enhanced health: Ok) for the settle window; it failed on a failure
event of the update, a failed deployment, or health Red (Severe) once the settle window has
passed. When it failed and the configuration is back on the previous AMI, Elastic Beanstalk
rolled back by itself: that is reported, not fought.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, Protocol

from ebami.aws.elasticbeanstalk import Configuration, Environment, Event, Health
from ebami.core.reporting import Reporter
from ebami.core.waiting import Deadline, Every, Sleep, intervals

# How the update's last event reads (success, then the endings with errors).
COMPLETED = ("Environment update completed successfully.",)
ENDED_WITH_ERRORS = (
    "Update environment operation is complete, but with errors",
    "Environment update completed, but with errors",
)
# Wording of failures the EB CLI matches, besides any ERROR or FATAL event of the update.
FAILURES = (
    "Failed to deploy configuration.",
    "The environment was reverted to the previous configuration setting.",
    "Environment health has been set to RED",
    *ENDED_WITH_ERRORS,
)
FAILED_SEVERITIES = ("ERROR", "FATAL")
PROGRESS_EVERY = 30.0


class FollowerEb(Protocol):
    """The Elastic Beanstalk calls a follower makes (`ebami.aws.elasticbeanstalk`)."""

    def refresh(self, environment: Environment) -> Environment: ...

    def events(
        self,
        environment: Environment,
        *,
        request_id: str | None = None,
        since: datetime | None = None,
        limit: int = 1000,
    ) -> list[Event]: ...

    def configuration(self, environment: Environment) -> Configuration: ...

    def health(self, environment: Environment) -> Health: ...


class Outcome(str, Enum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    # Elastic Beanstalk rolled the configuration back itself.
    REVERTED = "reverted by Elastic Beanstalk"
    TIMED_OUT = "timed out"
    # Ready again after an abort (or a wait that asked only for Ready).
    READY = "ready"


@dataclass
class Followed:
    """What following an update found."""

    outcome: Outcome
    reason: str
    environment: Environment
    image_id: str | None = None
    health: Health | None = None
    events: list[Event] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.outcome in (Outcome.SUCCEEDED, Outcome.READY)

    def to_json(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome.value,
            "reason": self.reason,
            "status": self.environment.status,
            "health": _health_text(self.environment, self.health),
            "image_id": self.image_id,
            "causes": list(self.health.causes) if self.health else [],
            "events": [event.to_json() for event in self.events],
        }


def is_failure(event: Event) -> bool:
    return event.severity in FAILED_SEVERITIES or any(
        phrase in event.message for phrase in FAILURES
    )


def is_final(event: Event) -> bool:
    return event.message in COMPLETED or any(
        phrase in event.message for phrase in ENDED_WITH_ERRORS
    )


class EventStream:
    """One request's events (or an environment's), each reported once, oldest first."""

    def __init__(
        self,
        eb: FollowerEb,
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
        self._seen: set[tuple[datetime, str]] = set()
        self.events: list[Event] = []

    def skip(self, events: list[Event]) -> None:
        """Take `events` as reported already (a listing printed them): poll after them."""
        for event in events:
            self._seen.add((event.date, event.message))
        if events:
            self._since = max(event.date for event in events)

    def poll(self) -> list[Event]:
        found = self._eb.events(self._environment, request_id=self._request_id, since=self._since)
        new = []
        for event in found:
            key = (event.date, event.message)
            if key in self._seen:
                continue
            self._seen.add(key)
            new.append(event)
            self.events.append(event)
            self._on_event(event)
        if new:
            self._since = max(event.date for event in new)
        return new


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


class Follower:
    """Follows updates of one environment; the clock, the sleep and the poll intervals are
    injectable (`deadline` carries the clock and the sleep)."""

    def __init__(
        self,
        eb: FollowerEb,
        reporter: Reporter,
        *,
        settle: float,
        on_event: Callable[[Event], None],
        polls: Callable[[], Iterator[float]] = lambda: intervals(first=0.5, cap=10.0),
    ) -> None:
        self._eb = eb
        self._reporter = reporter
        self._settle = settle
        self._on_event = on_event
        self._polls = polls
        # One stream per request: following it again (the abort of an update) goes on after
        # the events already printed.
        self._streams: dict[str, EventStream] = {}

    def _stream(self, environment: Environment, request_id: str) -> EventStream:
        if request_id not in self._streams:
            self._streams[request_id] = EventStream(
                self._eb, environment, self._on_event, request_id=request_id
            )
        return self._streams[request_id]

    def follow(
        self,
        environment: Environment,
        request_id: str,
        *,
        target: str | None,
        previous: str | None,
        deadline: Deadline,
        enhanced_health: bool,
        what: str = "update",
        require_health: bool = True,
    ) -> Followed:
        """Follow the update `request_id` that switches the environment to `target` (None:
        whatever the platform's AMI is) from `previous`. Without `require_health`, the update
        succeeds once it ended on `target`, whatever the health (a way back to an environment
        that was not healthy before)."""
        stream = self._stream(environment, request_id)
        polls = self._polls()
        pace = Every(PROGRESS_EVERY, clock=deadline.clock)
        pace.due()  # the first line after PROGRESS_EVERY seconds, not at the start
        failure: Event | None = None
        final = False
        ended_at: float | None = None
        green_since: float | None = None
        last_health = _health_text(environment, None)
        current = environment
        health: Health | None = None
        while True:
            for event in stream.poll():
                if failure is None and is_failure(event):
                    failure = event
                final = final or is_final(event)
            current = self._eb.refresh(environment)
            health = self._eb.health(environment) if enhanced_health else None
            shown = _health_text(current, health)
            if shown != last_health:
                causes = f": {health.causes[0]}" if health and health.causes else ""
                self._reporter.progress(f"{current.name}: health {last_health} -> {shown}{causes}")
                last_health = shown
            over = current.status == "Ready" and (final or failure is not None)
            if over:
                config = self._eb.configuration(environment)
                image = config.image_id
                verdict = _ended(
                    config, failure, target=target, previous=previous, shown=shown, what=what,
                    require_health=require_health,
                )  # fmt: skip
                if verdict is None:  # it ended well: health must now hold for the settle window
                    now = deadline.clock()
                    ended_at = now if ended_at is None else ended_at
                    if _good(current, health):
                        green_since = now if green_since is None else green_since
                        if now - green_since >= self._settle:
                            verdict = (Outcome.SUCCEEDED, f"{shown} held for {self._settle:g} s")
                    else:
                        green_since = None
                        if _bad(current, health) and now - ended_at >= self._settle:
                            causes = f": {health.causes[0]}" if health and health.causes else ""
                            verdict = (
                                Outcome.FAILED,
                                f"health {shown} {self._settle:g} s after the {what}{causes}",
                            )
                if verdict is not None:
                    return Followed(*verdict, current, image, health, stream.events)
            if deadline.expired:
                return Followed(
                    Outcome.TIMED_OUT,
                    f"the {what} did not finish within {deadline.seconds:g} s (status "
                    f"{current.status}, health {shown})",
                    current,
                    None,
                    health,
                    stream.events,
                )
            if pace.due():
                self._reporter.progress(
                    f"{current.name}: {current.status}, health {shown} ({deadline.progress()})"
                )
            pause = next(polls)
            if ended_at is not None:
                pause = min(pause, max(self._settle / 4, 0.1))
            deadline.pause(pause)

    def wait_ready(
        self, environment: Environment, request_id: str | None, *, deadline: Deadline
    ) -> Followed:
        """Follow until the environment is Ready again (after an abort, say): the events of
        `request_id` (none when the update's id is unknown), its status; no verdict on health."""
        stream = self._stream(environment, request_id) if request_id else None
        polls = self._polls()
        while True:
            if stream is not None:
                stream.poll()
            events = stream.events if stream is not None else []
            current = self._eb.refresh(environment)
            if current.status == "Ready":
                image = self._eb.configuration(environment).image_id
                return Followed(Outcome.READY, "Ready", current, image, None, events)
            if deadline.expired:
                return Followed(
                    Outcome.TIMED_OUT,
                    f"still {current.status} after {deadline.seconds:g} s",
                    current,
                    None,
                    None,
                    events,
                )
            deadline.pause(next(polls))


def _ended(
    config: Configuration,
    failure: Event | None,
    *,
    target: str | None,
    previous: str | None,
    shown: str,
    what: str,
    require_health: bool,
) -> tuple[Outcome, str] | None:
    """The verdict on an update that has ended, from its failure event and the configuration;
    None when it ended well and only the settle window is left to judge."""
    image = config.image_id
    if failure is not None and not require_health and image == target:
        # A way back to an environment that failed before fails as before: it is back all
        # the same.
        return (
            Outcome.SUCCEEDED,
            f"Ready on {image}, health {shown} (the {what} reported: {failure.message})",
        )
    if failure is not None:
        reverted = image == previous and image != target
        return (Outcome.REVERTED if reverted else Outcome.FAILED), failure.message
    if target is not None and image != target:
        return Outcome.FAILED, f"the update ended with ImageId {image}, not {target}"
    if "failed" in config.deployment_statuses:
        return Outcome.FAILED, "a configuration deployment of the environment failed"
    if not require_health:
        return Outcome.SUCCEEDED, f"Ready on {image}, health {shown}"
    return None


def _health_text(environment: Environment, health: Health | None) -> str:
    color = health.color if health and health.color else environment.health
    status = health.status if health and health.status else environment.health_status
    return f"{color}/{status}" if status else color


def _good(environment: Environment, health: Health | None) -> bool:
    if health is not None and health.status:
        return health.status == "Ok"
    return environment.health == "Green"


def _bad(environment: Environment, health: Health | None) -> bool:
    if health is not None and health.status:
        return health.status == "Severe" or health.color == "Red"
    return environment.health == "Red"
