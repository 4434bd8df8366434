"""Deadlines for ebami's waits: an injectable clock and sleep, growing poll intervals, and
progress at a steady pace instead of on every poll."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator

Clock = Callable[[], float]
Sleep = Callable[[float], None]


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
