"""Ctrl-C and SIGTERM around work that must clean up after itself.

`handling` is the one way ebami sets signal handlers and restores the previous ones; the rest
is built on it. `stoppable` makes SIGTERM stop the work the way Ctrl-C does (a
KeyboardInterrupt), so that `finally` blocks run for both, and holds both back while a
clean-up runs: they are recorded and raised once it is done. Signal handlers can only be set
from the main thread; elsewhere these leave them alone. `StopSignal` carries Ctrl-C and
SIGTERM from the main thread to worker threads (fleet apply), raised at each worker's next
pause.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import FrameType

from ebami.core.waiting import Sleep

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
Handler = Callable[[int, FrameType | None], object] | int | signal.Handlers | None


@contextmanager
def handling(handlers: Mapping[signal.Signals, Handler]) -> Iterator[bool]:
    """Within the block, `handlers` handle their signals; the previous ones come back after.

    Yields whether the handlers were set (only the main thread can set them).
    """
    if threading.current_thread() is not threading.main_thread():
        yield False
        return
    previous = {sig: signal.signal(sig, handler) for sig, handler in handlers.items()}
    try:
        yield True
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


class Stop:
    """Ctrl-C and SIGTERM as one switch: they raise KeyboardInterrupt, except while `holding`,
    when they are recorded and raised as soon as the holding ends. One handler for both
    modes, so no signal can fall in a gap between them."""

    def __init__(self) -> None:
        self.received: list[signal.Signals] = []
        self._holding = False

    def handle(self, signum: int, frame: FrameType | None) -> None:
        if self._holding:
            self.received.append(signal.Signals(signum))
            return
        raise KeyboardInterrupt

    @contextmanager
    def holding(self) -> Iterator[None]:
        self._holding = True
        try:
            yield
        finally:
            self._holding = False
        if self.received:
            raise KeyboardInterrupt


@contextmanager
def stoppable() -> Iterator[Stop]:
    """Within the block, SIGINT and SIGTERM stop the work (KeyboardInterrupt) unless the
    yielded `Stop` is holding them back for a clean-up."""
    stop = Stop()
    with handling(dict.fromkeys(STOP_SIGNALS, stop.handle)):
        yield stop


class StopSignal:
    """Ctrl-C and SIGTERM counted by the main thread, raised in the workers' sleeps.

    `handle` is the main thread's signal handler: it only counts (the main thread goes on
    waiting for its workers). Each worker sleeps with its own `sleeper`, which raises one
    KeyboardInterrupt per signal counted, at the first pause after it (waking at once from a
    pause under way).
    """

    def __init__(self) -> None:
        # Reentrant: the handler may run in the main thread while it holds the lock.
        self._changed = threading.Condition(threading.RLock())
        self._count = 0

    @property
    def count(self) -> int:
        return self._count

    def stop(self) -> None:
        with self._changed:
            self._count += 1
            self._changed.notify_all()

    def handle(self, signum: int, frame: FrameType | None) -> None:
        self.stop()

    def sleeper(self, sleep: Sleep | None = None) -> Sleeper:
        """A worker's sleep: `sleep` (by default a pause a signal cuts short), then a
        KeyboardInterrupt for each signal it has not raised yet."""
        return Sleeper(self, sleep)

    def wait(self, seen: int, seconds: float) -> None:
        """Return after `seconds`, or as soon as more than `seen` signals were counted."""
        with self._changed:
            self._changed.wait_for(lambda: self._count > seen, timeout=max(seconds, 0.0))


class Sleeper:
    """The sleep of one worker's deadlines (see `StopSignal`)."""

    def __init__(self, stop: StopSignal, sleep: Sleep | None) -> None:
        self._stop = stop
        self._sleep = sleep
        self._raised = 0

    def __call__(self, seconds: float) -> None:
        self.check()
        if self._sleep is None:
            self._stop.wait(self._raised, seconds)
        else:
            self._sleep(seconds)
        self.check()

    def check(self) -> None:
        """Raise KeyboardInterrupt if a signal came that this worker has not raised yet."""
        if self._stop.count > self._raised:
            self._raised += 1
            raise KeyboardInterrupt
