"""One read for many pollers: `Coalesced` serves each caller a read newer than the one it was
served last, and shares each read among every caller that asks while it is newest.

Threads that poll the same thing (the environments of one region, each followed by its own
thread) then cost one call per poll interval together, not one each: a caller whose last
answer came from read N gets read N+1 if some other caller started it already (waiting for it
while it runs), else starts it. No answer is ever older than the caller's previous one.

A read that fails fails for the caller that made it. The callers that waited for it read again
themselves: each thread has its own deadline and its own budget of retries (a read started by
a thread whose deadline has passed fails at once, and must not fail the others).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from ebami.core.errors import AwsError
from ebami.core.waiting import Deadline

V = TypeVar("V")

# The read number of a caller that was served nothing yet.
NEVER = 0


class _Read(Generic[V]):
    def __init__(self, number: int) -> None:
        self.number = number
        self.done = threading.Event()
        self.value: V | None = None
        self.error: BaseException | None = None


class Coalesced(Generic[V]):
    """Thread-safe: `get(after)` answers `(number, value)` of a read numbered above `after`
    (a caller passes the number it was answered last, or `NEVER`); at most one read runs at a
    time. The error of a read reaches the caller that made it; a caller that waited for it
    reads again."""

    def __init__(self, read: Callable[[], V]) -> None:
        self._read = read
        self._lock = threading.Lock()
        self._count = 0
        self._newest: _Read[V] | None = None  # the last read started (running or done)

    def get(self, after: int = NEVER, *, deadline: Deadline | None = None) -> tuple[int, V]:
        """`deadline`: how long this caller waits for a read another caller makes (None: as
        long as that read takes, which its maker's own deadline bounds); past it, AwsError."""
        while True:
            read, mine = self._next(after)
            if mine:
                self._run(read)  # its error is this caller's
                return read.number, read.value  # type: ignore[return-value]
            if deadline is None:
                read.done.wait()
            elif not read.done.wait(deadline.remaining):
                raise AwsError(
                    f"a read shared with other threads did not end within this call's deadline "
                    f"({deadline.seconds:g} s)"
                )
            if read.error is None:
                return read.number, read.value  # type: ignore[return-value]
            # Another caller's read failed: read again, on this caller's own terms.

    def _next(self, after: int) -> tuple[_Read[V], bool]:
        """The read to answer from: the newest when it is running, or done and newer than
        `after`; else a new one, which this caller makes (True)."""
        with self._lock:
            newest = self._newest
            if newest is not None and not newest.done.is_set():
                return newest, False  # running: newer than any answered yet
            if newest is not None and newest.number > after and newest.error is None:
                return newest, False
            self._count += 1
            self._newest = _Read(self._count)
            return self._newest, True

    def _run(self, read: _Read[V]) -> None:
        try:
            read.value = self._read()
        except BaseException as exc:
            read.error = exc
            raise
        finally:
            read.done.set()
