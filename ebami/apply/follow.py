"""Following an environment update to its end: its events, its status and its health.

What the EB CLI does, without its two faults: every wait here has a deadline (its first phase,
waiting for the first event, has none), and the deadline comes from the update policy (its
fixed 10-minute wait fails CI while Elastic Beanstalk is still working).

Each poll asks `DescribeEvents` for the update's own events (its request id) from `LOOKBACK`
before the newest one seen: Elastic Beanstalk may make an event visible only after newer ones
were returned, and a cursor at the newest event would miss it. Events seen already are dropped
by their identity (`Event.identity`); the new ones are printed once each, oldest first within
the poll. Then the environment's status and health are read: its colour and status come with
the environment (`DescribeEnvironments`), the causes (`DescribeEnvironmentHealth`) only when the
status turns to one whose causes say what is wrong. A fleet's followers poll their region's
`ebami.apply.region_watch.RegionWatch`, which reads the environments and the events of every
update followed there together.

The update is over when the environment is `Ready` again and the update's final event has come
(or a failure event). While `DescribeConfigurationSettings` still shows a `pending` draft, the
update is in progress whatever else it says. It succeeded when the deployed configuration names
the target AMI, no draft naming the target failed to deploy (a `failed` draft of an earlier
update, naming another AMI, is not this update's), and the verdict on health
(`ebami.apply.verdict`: the new instances, and the environment against its baseline from just
before the update) is healthy for the whole settle window: the environment's health is read at
every poll (every half window), the new instances' when it is not yet healthy, when the
environment's changes, and to close the window (between those reads, the environment's health,
which worsens with any instance's, stands for theirs). Under enhanced health the window may
start before the final event, once the environment is `Ready` after the update's first event
(Elastic Beanstalk files events late; the verdict waits for instances that run the target), but
nothing is ruled before the final event. It failed on a failure event of the
update, a failed deployment, or a verdict of unhealthy once the settle window has passed; a
verdict of in progress (Grey, Pending, no new instance yet) waits, up to the deadline. When it
failed and the configuration is back on the previous AMI, Elastic Beanstalk rolled back by
itself: that is reported, not fought.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ebami.apply.events import EventSource, EventStream
from ebami.apply.outcome import Outcome, ended
from ebami.apply.verdict import (
    WITH_CAUSES,
    Baseline,
    Judgement,
    State,
    judge_basic,
    judge_enhanced,
)
from ebami.aws.eb_values import (
    PENDING,
    Configuration,
    Environment,
    Event,
    Health,
    InstanceHealth,
)
from ebami.aws.ec2_values import Instance
from ebami.core.errors import NotFoundError
from ebami.core.reporting import Reporter
from ebami.core.waiting import Deadline, Every, intervals

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
# Polls start this far apart and back off to the cap (seconds).
FIRST_POLL = 0.5
POLL_CAP = 10.0


class FollowerEb(EventSource, Protocol):
    """The Elastic Beanstalk calls a follower makes (`ebami.aws.elasticbeanstalk`): its events'
    (`EventSource`) and these."""

    def refresh(self, environment: Environment) -> Environment: ...

    def configuration(self, environment: Environment) -> Configuration: ...

    def health(self, environment: Environment) -> Health: ...

    def instances_health(self, environment: Environment) -> list[InstanceHealth]: ...


class FollowerEc2(Protocol):
    """The EC2 call a follower makes (`ebami.aws.ec2`): which AMI each instance runs."""

    def describe_instances(self, instance_ids: list[str]) -> list[Instance]: ...


@dataclass
class Followed:
    """What following an update found."""

    outcome: Outcome
    reason: str
    environment: Environment
    image_id: str | None = None
    health: Health | None = None
    events: list[Event] = field(default_factory=list)
    # The last verdict on health after the update ended, and its evidence.
    judgement: Judgement | None = None

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
            "verdict": self.judgement.to_json() if self.judgement else None,
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


class Follower:
    """Follows updates of one environment; the clock, the sleep and the poll intervals are
    injectable (`deadline` carries the clock and the sleep)."""

    def __init__(
        self,
        eb: FollowerEb,
        reporter: Reporter,
        *,
        ec2: FollowerEc2,
        settle: float,
        on_event: Callable[[Event], None],
        polls: Callable[[], Iterator[float]] = lambda: intervals(first=FIRST_POLL, cap=POLL_CAP),
        aligned: bool = False,
    ) -> None:
        """`aligned`: each poll waits for the next multiple of its pause on the clock, so that
        the followers of a region (which share their reads: `ebami.apply.region_watch`) poll
        at the same moments and one fresh read answers them all."""
        self._eb = eb
        self._ec2 = ec2
        self._reporter = reporter
        self._settle = settle
        self._on_event = on_event
        self._polls = polls
        self._aligned = aligned
        # One stream per request: following it again (the abort of an update) goes on after
        # the events already printed.
        self._streams: dict[str, EventStream] = {}
        # The AMI each instance was launched from (it never changes): asked once per instance.
        self._launched_from: dict[str, str] = {}

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
        baseline: Baseline | None = None,
    ) -> Followed:
        """Follow the update `request_id` that switches the environment to `target` (None:
        whatever the platform's AMI is) from `previous`. `baseline`: the environment's health
        just before the update (default: as `environment` was described). Without
        `require_health`, the update succeeds once it ended on `target`, whatever the health (a
        way back to an environment that was not healthy before)."""
        if baseline is None:
            baseline = Baseline(
                environment.health, environment.health_status, enhanced=enhanced_health
            )
        stream = self._stream(environment, request_id)
        polls = self._polls()
        pace = Every(PROGRESS_EVERY, clock=deadline.clock)
        pace.due()  # the first line after PROGRESS_EVERY seconds, not at the start
        failure: Event | None = None
        final = False
        ended_at: float | None = None
        healthy_since: float | None = None
        judgement: Judgement | None = None
        last_health = _health_text(environment, None)
        current = environment
        # The baseline's causes serve until the health changes.
        health: Health | None = (
            Health(baseline.color, baseline.status, baseline.causes) if baseline.enhanced else None
        )
        # The environment's health when the new instances' was read last.
        judged_on: str | None = None
        # Read once the update is over; kept once no draft is pending (it no longer changes),
        # unless a failure event comes after it was read.
        config: Configuration | None = None
        judged: Event | None = None
        while True:
            for event in stream.poll():
                if failure is None and is_failure(event):
                    failure = event
                final = final or is_final(event)
            current = self._eb.refresh(environment)
            health = self._health(environment, current, health) if enhanced_health else None
            shown = _health_text(current, health)
            if shown != last_health:
                causes = f": {health.causes[0]}" if health and health.causes else ""
                self._reporter.progress(f"{current.name}: health {last_health} -> {shown}{causes}")
                last_health = shown
            over = current.status == "Ready" and (final or failure is not None)
            if over and (config is None or config.drafts(PENDING) or failure is not judged):
                # Read again when a failure came after it was read: Elastic Beanstalk may have
                # rolled the configuration back since.
                config = self._eb.configuration(environment)
                judged = failure
            if config is not None and config.drafts(PENDING):
                over = False  # the draft is still being deployed: in progress
            elif require_health and self._early_window(
                current, health, stream, final=final, failure=failure
            ):
                # Ready after the update began, its final event not in yet (Elastic Beanstalk
                # files events late): the new instances' health is judged already, so that the
                # settle window runs while the event is on its way. Nothing is ruled before
                # the event and the configuration are in.
                now = deadline.clock()
                if judgement is None or judgement.state is not State.HEALTHY or shown != judged_on:
                    judgement = self._judge(environment, current, health, baseline, target)
                    judged_on = shown
                if judgement.state is State.HEALTHY:
                    healthy_since = now if healthy_since is None else healthy_since
                else:
                    healthy_since = None
            if config is not None and over:
                image = config.image_id
                verdict = ended(
                    config, failure, target=target, previous=previous, shown=shown, what=what,
                    require_health=require_health,
                )  # fmt: skip
                if verdict is not None:  # it failed: the health it left is the record's evidence
                    judgement = self._judge(environment, current, health, baseline, target)
                else:  # it ended well: health must now hold for the settle window
                    now = deadline.clock()
                    ended_at = now if ended_at is None else ended_at
                    # The new instances' health is read until it is healthy, when the
                    # environment's changes, and to close the window; in between, the
                    # environment's (which worsens with any instance's) stands for it.
                    closing = healthy_since is not None and now - healthy_since >= self._settle
                    if (
                        judgement is None
                        or judgement.state is not State.HEALTHY
                        or closing
                        or shown != judged_on
                    ):
                        judgement = self._judge(environment, current, health, baseline, target)
                        judged_on = shown
                    if judgement.state is State.HEALTHY:
                        healthy_since = now if healthy_since is None else healthy_since
                        if now - healthy_since >= self._settle:
                            verdict = (
                                Outcome.SUCCEEDED,
                                f"{judgement.reason}, held for {self._settle:g} s",
                            )
                    else:
                        healthy_since = None
                        if judgement.state is State.UNHEALTHY and now - ended_at >= self._settle:
                            verdict = (
                                Outcome.FAILED,
                                f"unhealthy {self._settle:g} s after the {what}: "
                                f"{judgement.reason}",
                            )
                if verdict is not None:
                    return Followed(*verdict, current, image, health, stream.events, judgement)
            if deadline.expired:
                waiting = f"; {judgement.reason}" if judgement is not None else ""
                return Followed(
                    Outcome.TIMED_OUT,
                    f"the {what} did not finish within {deadline.seconds:g} s (status "
                    f"{current.status}, health {shown}){waiting}",
                    current,
                    None,
                    health,
                    stream.events,
                    judgement,
                )
            if pace.due():
                self._reporter.progress(
                    f"{current.name}: {current.status}, health {shown} ({deadline.progress()})"
                )
            pause = next(polls)
            if ended_at is not None or healthy_since is not None:
                # health is read at the window's start, middle and end
                pause = min(pause, max(self._settle / 2, 0.1))
            deadline.pause(self._aligned_pause(pause, deadline))

    @staticmethod
    def _early_window(
        current: Environment,
        health: Health | None,
        stream: EventStream,
        *,
        final: bool,
        failure: Event | None,
    ) -> bool:
        """Whether the settle window may start before the update's final event: under
        enhanced health (whose verdict waits for instances that run the target), once one of
        the update's events has shown (a `Ready` before that is the environment's state from
        before the update) and the environment is `Ready`, with no final or failure event."""
        return (
            health is not None
            and bool(stream.events)
            and current.status == "Ready"
            and not final
            and failure is None
        )

    def _aligned_pause(self, pause: float, deadline: Deadline) -> float:
        """`pause`, or with `aligned` the wait for the first multiple of `pause` on the clock
        at least half a pause away."""
        if not self._aligned or pause <= 0:
            return pause
        wait = pause - deadline.clock() % pause
        return wait + pause if wait < pause / 2 else wait

    def _health(
        self, environment: Environment, current: Environment, known: Health | None
    ) -> Health:
        """The environment's enhanced health now. Its colour and status come with the
        environment (`DescribeEnvironments`); the causes are asked for
        (`DescribeEnvironmentHealth`) only when the status turns to one that needs them
        (Warning, Degraded, Severe): an update's Grey, Pending, Info and Ok need none."""
        color, status = current.health, current.health_status
        if known is not None and (known.color, known.status) == (color, status):
            return known
        if status in WITH_CAUSES:
            return self._eb.health(environment)
        return Health(color, status)

    def _judge(
        self,
        environment: Environment,
        current: Environment,
        health: Health | None,
        baseline: Baseline,
        target: str | None,
    ) -> Judgement:
        """The verdict on health now: by colour under basic health; else on the instances that
        run `target` (None: those the baseline did not have) and the environment's health."""
        if health is None:
            return judge_basic(current.health, baseline)
        instances = self._eb.instances_health(environment)
        if target is None:
            before = {item.instance_id for item in baseline.instances}
            new = [item for item in instances if item.instance_id not in before]
        else:
            images = self._images([item.instance_id for item in instances])
            new = [item for item in instances if images.get(item.instance_id) == target]
        return judge_enhanced(baseline, health, new, others=len(instances) - len(new))

    def _described(self, instance_id: str) -> list[Instance]:
        try:
            return self._ec2.describe_instances([instance_id])
        except NotFoundError:
            return []

    def _images(self, instance_ids: Sequence[str]) -> dict[str, str]:
        """The AMI each instance runs, as EC2 describes it: what the instance was launched
        from, whatever the configuration says now. An instance EC2 does not show yet (its
        Describe calls are eventually consistent) is asked again at the next poll."""
        unknown = [iid for iid in instance_ids if iid not in self._launched_from]
        try:
            described = self._ec2.describe_instances(unknown) if unknown else []
        except NotFoundError:  # one id EC2 does not show yet fails the call: ask one by one
            described = [found for iid in unknown for found in self._described(iid)]
        for instance in described:
            self._launched_from[instance.instance_id] = instance.image_id
        return {iid: self._launched_from[iid] for iid in instance_ids if iid in self._launched_from}

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
            deadline.pause(self._aligned_pause(next(polls), deadline))


def _health_text(environment: Environment, health: Health | None) -> str:
    color = health.color if health and health.color else environment.health
    status = health.status if health and health.status else environment.health_status
    return f"{color}/{status}" if status else color
