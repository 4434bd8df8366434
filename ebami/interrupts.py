"""Ctrl-C and SIGTERM around work that must clean up after itself.

`handling` is the one way ebami sets signal handlers and restores the previous ones; the rest
is built on it. `interruptible` makes SIGTERM stop the work the way Ctrl-C does (a
KeyboardInterrupt), so that `finally` blocks run for both. `held` keeps both signals from
cutting a clean-up short: they are recorded, and the caller decides what to do once the
clean-up is done. Signal handlers can only be set from the main thread; elsewhere all three
leave the handlers alone.
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


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


@contextmanager
def interruptible() -> Iterator[None]:
    """Within the block, SIGTERM raises KeyboardInterrupt, as Ctrl-C does."""
    with handling({signal.SIGTERM: _raise_interrupt}):
        yield


@contextmanager
def held() -> Iterator[list[signal.Signals]]:
    """Within the block, SIGINT and SIGTERM are recorded in the yielded list, not raised."""
    received: list[signal.Signals] = []

    def record(signum: int, frame: FrameType | None) -> None:
        received.append(signal.Signals(signum))

    with handling(dict.fromkeys(STOP_SIGNALS, record)):
        yield received
