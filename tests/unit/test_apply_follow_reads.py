"""What following an update reads: colour and status with the environment (`refresh`, one
`DescribeEnvironments`), the causes (`DescribeEnvironmentHealth`) only when the status turns
to Warning, Degraded or Severe, the configuration once the update is over (again only while a
draft is pending), and health every half settle window once it ended."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import repeat
from typing import Any

from ebami.apply.follow import Followed, Follower
from ebami.apply.outcome import Outcome
from ebami.apply.verdict import Baseline
from ebami.aws.eb_values import PENDING, ConfigurationSet
from ebami.core.waiting import Deadline
from tests.fakes.apply import ENVIRONMENT, Change, ScriptedEb
from tests.fakes.clock import FakeClock
from tests.helpers import RecordingReporter

SETTLE = 10.0
POLL = 4.0
READS = ("refresh", "health", "configuration", "instances_health", "events")


class Counted:
    """`eb` with each read it answers counted by name (the follower's calls)."""

    def __init__(self, eb: ScriptedEb) -> None:
        self._eb = eb
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._eb, name)
        if name not in READS:
            return found

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            return found(*args, **kwargs)

        return call

    def count(self, name: str) -> int:
        return self.calls.count(name)


def follow(
    eb: ScriptedEb, polls: float = POLL, *, aligned: bool = False
) -> tuple[Followed, Counted]:
    counted = Counted(eb)

    def every() -> Iterator[float]:
        return repeat(polls)

    follower = Follower(
        counted,
        RecordingReporter(),
        ec2=eb,
        settle=SETTLE,
        on_event=lambda e: None,
        polls=every,
        aligned=aligned,
    )
    request_id = eb.update_image(ENVIRONMENT, "ami-0new")
    followed = follower.follow(
        ENVIRONMENT,
        request_id,
        target="ami-0new",
        previous="ami-0old",
        deadline=Deadline(600, clock=eb.clock, sleep=eb.clock.sleep),
        enhanced_health=True,
        baseline=Baseline("Green", "Ok", enhanced=True),
    )
    return followed, counted


def starting(**kwargs: Any) -> Change:
    started = (("INFO", "Environment update is starting."),)
    return Change(0, status="Updating", messages=started, **kwargs)


def completed(at: float, **kwargs: Any) -> Change:
    ended = (("INFO", "Environment update completed successfully."),)
    return Change(at, status="Ready", messages=ended, **kwargs)


def test_an_update_that_stays_ok_never_asks_for_causes() -> None:
    clock = FakeClock()
    script = [
        starting(health=("Grey", "Pending")),
        Change(8, image="ami-0new", health=("Green", "Info")),
        completed(10, health=("Green", "Ok")),
    ]
    followed, counted = follow(ScriptedEb(clock, state=("Green", "Ok"), on_update=[script]))
    assert followed.outcome is Outcome.SUCCEEDED
    assert counted.count("health") == 0
    # Colour and status came with each poll's environment.
    assert counted.count("refresh") == counted.count("events") > 3


def test_causes_are_read_once_when_the_status_turns_warning() -> None:
    clock = FakeClock()
    script = [
        starting(health=("Grey", "Pending")),
        Change(4, image="ami-0new", health=("Yellow", "Warning"), causes=("5 % 5xx",)),
        # Warning for several polls: the causes read when it turned are kept.
        Change(20, health=("Green", "Ok"), causes=()),
        completed(21),
    ]
    followed, counted = follow(ScriptedEb(clock, state=("Green", "Ok"), on_update=[script]))
    assert followed.outcome is Outcome.SUCCEEDED
    assert counted.count("health") == 1
    assert counted.count("refresh") > 5


def test_each_turn_to_a_status_with_causes_reads_them_again() -> None:
    clock = FakeClock()
    script = [
        starting(health=("Yellow", "Warning")),
        Change(8, health=("Red", "Degraded")),
        Change(16, health=("Green", "Ok")),
        Change(24, health=("Yellow", "Warning")),
        Change(32, image="ami-0new", health=("Green", "Ok")),
        completed(33),
    ]
    followed, counted = follow(ScriptedEb(clock, state=("Green", "Ok"), on_update=[script]))
    assert followed.outcome is Outcome.SUCCEEDED
    assert counted.count("health") == 3  # Warning, Degraded, Warning again


def test_the_configuration_is_read_once_the_update_is_over_and_kept() -> None:
    clock = FakeClock()
    script = [starting(), Change(4, image="ami-0new", health=("Green", "Ok")), completed(5)]
    followed, counted = follow(ScriptedEb(clock, state=("Green", "Ok"), on_update=[script]))
    assert followed.outcome is Outcome.SUCCEEDED
    assert followed.image_id == "ami-0new"
    # Not while it ran; once when it ended; not again over the settle window.
    assert counted.count("configuration") == 1
    assert counted.calls.index("configuration") > counted.calls.index("refresh")


def test_a_pending_draft_has_the_configuration_read_again_until_it_is_deployed() -> None:
    clock = FakeClock()
    pending = (ConfigurationSet(PENDING, "ami-0new"),)
    script = [
        starting(drafts=pending),
        completed(2, health=("Green", "Ok")),
        Change(13, image="ami-0new", drafts=()),
    ]
    followed, counted = follow(ScriptedEb(clock, state=("Green", "Ok"), on_update=[script]))
    assert followed.outcome is Outcome.SUCCEEDED
    # Read at 4, 8 and 12 s (pending), 16 s (deployed), then kept.
    assert counted.count("configuration") == 4
    assert clock.now >= 16 + SETTLE


def test_the_settle_window_is_polled_every_half_window() -> None:
    clock = FakeClock()
    script = [starting(), Change(30, image="ami-0new", health=("Green", "Ok")), completed(31)]
    eb = ScriptedEb(clock, state=("Green", "Ok"), on_update=[script])
    followed, _ = follow(eb, polls=30.0)
    assert followed.outcome is Outcome.SUCCEEDED
    # Polls every 30 s until the update ended (seen at 60 s), then at the window's middle and
    # end.
    assert clock.sleeps == [30.0, 30.0, SETTLE / 2, SETTLE / 2]
    assert clock.now == 60 + SETTLE


def test_aligned_polls_end_on_multiples_of_their_pause() -> None:
    # A follower of several updates in a region: each pause ends on a multiple of itself (at
    # least half a pause away), so that the region's followers poll at the same moments.
    clock = FakeClock(now=20.0)
    script = [starting(), Change(30, image="ami-0new", health=("Green", "Ok")), completed(31)]
    eb = ScriptedEb(clock, state=("Green", "Ok"), on_update=[script])
    followed, _ = follow(eb, polls=30.0, aligned=True)
    assert followed.outcome is Outcome.SUCCEEDED
    moments = [20.0]
    for pause in clock.sleeps:
        moments.append(moments[-1] + pause)
    # Not 30 (from 20, less than half a pause away) but 60, where the update has ended; then
    # the settle window's halves: 65 and 70.
    assert moments[1:] == [60.0, 65.0, 70.0]
