"""`Coalesced`: callers that ask at once share one read, each caller's answer is newer than the
one it was served last, and the error of a read reaches the caller that made it, while the
callers that waited for it read again (each thread's deadline is its own).

Threads are synchronised on what they do, never on sleeps: a read that must be shared waits
until the other callers are waiting for it (`WatchedRead` counts the callers blocked on a
read's end)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from ebami.core import coalesce
from ebami.core.coalesce import NEVER, Coalesced

THREADS = 8
# A bound on every wait of these tests: reached only when the code under test is broken.
STUCK = 30.0


class Waiting:
    """How many times callers waited for a read's end (every read of the test)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._count = 0

    def entered(self) -> None:
        with self._changed:
            self._count += 1
            self._changed.notify_all()

    def until(self, count: int) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: self._count >= count, timeout=STUCK)

    def at_read(self, number: int, callers: int) -> Callable[[int], None]:
        """What each read does first: read `number` goes on once `callers` waited."""

        def before(read: int) -> None:
            if read == number:
                self.until(callers)

        return before


@pytest.fixture
def waiting(monkeypatch: pytest.MonkeyPatch) -> Waiting:
    """Every read a Coalesced starts counts the callers that wait for its end."""
    counter = Waiting()

    class WatchedEvent(threading.Event):
        def wait(self, timeout: float | None = None) -> bool:
            counter.entered()
            return super().wait(timeout)

    class WatchedRead(coalesce._Read[Any]):
        def __init__(self, number: int) -> None:
            super().__init__(number)
            self.done = WatchedEvent()

    monkeypatch.setattr(coalesce, "_Read", WatchedRead)
    return counter


def ask_at_once(reads: Coalesced[str], after: int = NEVER) -> list[object]:
    """`THREADS` threads call `reads.get(after)` together; what each got (or raised)."""
    start = threading.Barrier(THREADS)

    def ask(_: int) -> object:
        start.wait(STUCK)
        try:
            return reads.get(after)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(ask, range(THREADS)))


class Counted:
    """A read that answers `answers` in turn (or raises one that is an exception); `before(n)`
    runs at the start of the n-th read (from 1); `calls` counts the reads."""

    def __init__(
        self, answers: Iterator[str | Exception], before: Callable[[int], object] = int
    ) -> None:
        self._answers = answers
        self._before = before
        self.calls = 0

    def __call__(self) -> str:
        self.calls += 1
        self._before(self.calls)
        answer = next(self._answers)
        if isinstance(answer, Exception):
            raise answer
        return answer


def test_eight_callers_at_once_share_one_read(waiting: Waiting) -> None:
    # The read ends only once the seven other callers wait for it: they came while it ran.
    read = Counted(iter(["first", "second"]), before=waiting.at_read(1, THREADS - 1))
    reads: Coalesced[str] = Coalesced(read)
    assert ask_at_once(reads) == [(1, "first")] * THREADS
    assert read.calls == 1


def test_callers_that_saw_the_newest_read_share_the_next(waiting: Waiting) -> None:
    read = Counted(iter(["one", "two", "three"]), before=waiting.at_read(2, THREADS - 1))
    reads: Coalesced[str] = Coalesced(read)
    assert reads.get() == (1, "one")
    # Every caller was served read 1: they get read 2, one read for all.
    assert ask_at_once(reads, after=1) == [(2, "two")] * THREADS
    assert read.calls == 2


def test_an_answer_is_never_older_than_the_caller_s_last() -> None:
    read = Counted(iter(["one", "two", "three"]))
    reads: Coalesced[str] = Coalesced(read)
    assert reads.get() == (1, "one")
    # A caller that was served read 1 gets a new read, never read 1 again.
    assert reads.get(1) == (2, "two")
    # A caller served nothing yet (or an older read) gets the newest, without a read.
    assert reads.get() == (2, "two")
    assert reads.get(1) == (2, "two")
    assert read.calls == 2
    assert reads.get(2) == (3, "three")
    assert read.calls == 3


def test_a_caller_that_comes_while_a_read_runs_waits_for_it(waiting: Waiting) -> None:
    entered, release = threading.Event(), threading.Event()

    def before(number: int) -> None:
        if number == 2:
            entered.set()
            assert release.wait(STUCK)

    read = Counted(iter(["one", "two", "three"]), before=before)
    reads: Coalesced[str] = Coalesced(read)
    assert reads.get() == (1, "one")
    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(reads.get, 1)
        assert entered.wait(STUCK)
        second = pool.submit(reads.get, 1)  # read 2 runs: wait for it, start none
        waiting.until(1)
        release.set()
        assert (first.result(STUCK), second.result(STUCK)) == ((2, "two"), (2, "two"))
    assert read.calls == 2


def test_an_error_reaches_the_caller_whose_read_failed_and_the_others_read_again(
    waiting: Waiting,
) -> None:
    boom = RuntimeError("deadline passed")
    # The read fails once the seven other callers wait for it.
    read = Counted(iter([boom, "fine"]), before=waiting.at_read(1, THREADS - 1))
    reads: Coalesced[str] = Coalesced(read)
    answers = ask_at_once(reads)
    # The caller that made the failed read gets its error; the seven that waited for it read
    # again (one read for them all) and get its answer.
    assert answers.count(boom) == 1
    assert [answer for answer in answers if answer is not boom] == [(2, "fine")] * 7
    assert read.calls == 2
    # A caller that comes afterwards gets that answer without a read of its own.
    assert reads.get() == (2, "fine")
    assert read.calls == 2


def test_a_caller_waits_for_another_s_read_no_longer_than_its_own_deadline() -> None:
    from ebami.core.errors import AwsError
    from ebami.core.waiting import Deadline
    from tests.fakes.clock import FakeClock

    entered, release = threading.Event(), threading.Event()

    def read() -> str:
        entered.set()
        assert release.wait(STUCK)
        return "late"

    reads: Coalesced[str] = Coalesced(read)
    clock = FakeClock()
    deadline = Deadline(5, clock=clock)
    with ThreadPoolExecutor(max_workers=1) as pool:
        maker = pool.submit(reads.get)
        assert entered.wait(STUCK)
        clock.advance(5)  # this caller's deadline has passed while the other read runs
        with pytest.raises(AwsError, match=r"did not end within this call's deadline \(5 s\)"):
            reads.get(deadline=deadline)
        release.set()
        assert maker.result(STUCK) == (1, "late")
