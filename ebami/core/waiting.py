"""Deadlines for ebami's waits: an injectable clock and sleep, growing poll intervals,
progress at a steady pace instead of on every poll, and `poll_until`, the one polling loop."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TypeVar

Clock = Callable[[], float]
Sleep = Callable[[float], None]
T = TypeVar("T")
PROGRESS_EVERY = 15.0


class Deadline:
    """A point in time `seconds` from now on `clock`; `pause` never sleeps past it."""

    def __init__(
        self, seconds: float, *, clock: Clock = time.monotonic, sleep: Sleep = time.sleep
    ) -> None:
        self.seconds = seconds
        self._clock = clock
        self._sleep = sleep
        self._start = clock()

    @property
    def elapsed(self) -> float:
        return self._clock() - self._start

    @property
    def remaining(self) -> float:
        return max(0.0, self.seconds - self.elapsed)

    @property
    def expired(self) -> bool:
        return self.remaining <= 0.0

    def pause(self, seconds: float) -> None:
        self._sleep(min(seconds, self.remaining))

    @property
    def clock(self) -> Clock:
        return self._clock

    def progress(self) -> str:
        """`12 s of 600 s`, for progress lines."""
        return f"{self.elapsed:.0f} s of {self.seconds:.0f} s"


def intervals(first: float = 0.5, factor: float = 2.0, cap: float = 5.0) -> Iterator[float]:
    """Poll intervals: quick at first (most answers come fast), then every `cap` seconds."""
    interval = first
    while True:
        yield interval
        interval = min(cap, interval * factor)


class Every:
    """True once per `seconds` on `clock` (the first call included): paces progress lines."""

    def __init__(self, seconds: float, *, clock: Clock = time.monotonic) -> None:
        self._seconds = seconds
        self._clock = clock
        self._last: float | None = None

    def due(self) -> bool:
        now = self._clock()
        if self._last is None or now - self._last >= self._seconds:
            self._last = now
            return True
        return False


def poll_until(
    probe: Callable[[], T | None],
    deadline: Deadline,
    *,
    waiting_for: Callable[[], str] | None = None,
    report: Callable[[str], None] | None = None,
    every: float = PROGRESS_EVERY,
    polls: Iterator[float] | None = None,
) -> T | None:
    """Call `probe` until it returns something other than None, or the deadline passes.

    Returns what `probe` returned, or None at the deadline (`probe` has then been called at
    least once, and once more at the deadline itself). Between calls it sleeps on the
    deadline's clock, quickly at first (`intervals`), never past the deadline. With `report`,
    `waiting_for()` is reported at most once per `every` seconds, with the time spent.
    """
    pace = Every(every, clock=deadline.clock)
    polls = polls if polls is not None else intervals()
    while True:
        found = probe()
        if found is not None:
            return found
        if deadline.expired:
            return None
        if report is not None and waiting_for is not None and pace.due():
            report(f"{waiting_for()} ({deadline.progress()})")
        deadline.pause(next(polls))
