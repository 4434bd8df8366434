"""Ctrl-C and SIGTERM around work that must clean up after itself.

`handling` is the one way ebami sets signal handlers and restores the previous ones; the rest
is built on it. `stoppable` makes SIGTERM stop the work the way Ctrl-C does (a
KeyboardInterrupt), so that `finally` blocks run for both, and holds both back while a
clean-up runs: they are recorded and raised once it is done. Signal handlers can only be set
from the main thread; elsewhere these leave them alone.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from types import FrameType

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
