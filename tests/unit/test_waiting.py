"""Deadlines on an injected clock, growing poll intervals, paced progress."""

from __future__ import annotations

from itertools import islice

from ebami.core.waiting import Deadline, Every, intervals
from tests.fakes.clock import FakeClock


def test_pause_never_sleeps_past_the_deadline() -> None:
    clock = FakeClock(100.0)
    deadline = Deadline(10, clock=clock, sleep=clock.sleep)
    deadline.pause(4)
    assert (deadline.elapsed, deadline.remaining, deadline.expired) == (4, 6, False)
    deadline.pause(100)
    assert (deadline.elapsed, deadline.expired) == (10, True)
    assert deadline.progress() == "10 s of 10 s"


def test_intervals_grow_then_stay_at_the_cap() -> None:
    assert list(islice(intervals(), 6)) == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]


def test_every_is_due_once_per_period() -> None:
    clock = FakeClock(100.0)
    every = Every(15, clock=clock)
    seen = []
    for _ in range(8):
        seen.append(every.due())
        clock.now += 5
    assert seen == [True, False, False, True, False, False, True, False]


def test_poll_until_returns_the_first_answer_and_paces_progress() -> None:
    from ebami.core.waiting import poll_until

    clock = FakeClock(100.0)
    answers = iter([None, None, None, "ready"])
    said: list[str] = []
    found = poll_until(
        lambda: next(answers),
        Deadline(60, clock=clock, sleep=clock.sleep),
        waiting_for=lambda: "waiting for the thing",
        report=said.append,
        every=1.0,
    )
    assert found == "ready"
    # Slept 0.5, 1, 2 s: progress at 0 s, at 1.5 s (paced: not at 0.5 s).
    assert clock.now == 103.5
    assert said == ["waiting for the thing (0 s of 60 s)", "waiting for the thing (2 s of 60 s)"]


def test_poll_until_gives_up_at_the_deadline_after_a_last_look() -> None:
    from ebami.core.waiting import poll_until

    clock = FakeClock(100.0)
    looks: list[float] = []

    def probe() -> None:
        looks.append(clock.now - 100)

    assert poll_until(probe, Deadline(3, clock=clock, sleep=clock.sleep)) is None
    assert looks == [0, 0.5, 1.5, 3.0]
