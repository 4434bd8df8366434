"""Ctrl-C and SIGTERM around work that must clean up after itself.

`interruptible` makes SIGTERM stop the work the way Ctrl-C does (a KeyboardInterrupt), so
that `finally` blocks run for both. `held` keeps both signals from cutting a clean-up short:
they are recorded, and the caller decides what to do once the clean-up is done. Signal
handlers can only be set from the main thread; elsewhere both are no-ops.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def _main_thread() -> bool:
    return threading.current_thread() is threading.main_thread()


@contextmanager
def interruptible() -> Iterator[None]:
    """Within the block, SIGTERM raises KeyboardInterrupt, as Ctrl-C does."""
    if not _main_thread():
        yield
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def held() -> Iterator[list[signal.Signals]]:
    """Within the block, SIGINT and SIGTERM are recorded in the yielded list, not raised."""
    received: list[signal.Signals] = []
    if not _main_thread():
        yield received
        return

    def record(signum: int, frame: FrameType | None) -> None:
        received.append(signal.Signals(signum))

    previous = {sig: signal.signal(sig, record) for sig in _SIGNALS}
    try:
        yield received
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
