"""One fake clock for every test that injects time: it moves only when the test says so
(`advance`, or setting `now`) or when the code under test sleeps."""

from __future__ import annotations

from collections.abc import Callable


class FakeClock:
    """Callable as a clock (`clock()` is `now`); `sleep` moves it on at once, keeps each pause
    in `sleeps` and then calls `on_sleep` (a test's way to act, or to raise, mid-wait)."""

    def __init__(self, now: float = 0.0) -> None:
        self.now = now
        self.sleeps: list[float] = []
        self.on_sleep: Callable[[], object] | None = None

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        if self.on_sleep is not None:
            self.on_sleep()
