"""`OnceCache`: however many threads ask a question at once, it is read once, and its answer
(or its error) reaches every one of them."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from ebami.core.once import OnceCache

THREADS = 8


def ask_at_once(cache: OnceCache[str, int], read: Callable[[], int]) -> list[object]:
    """`THREADS` threads ask `cache` for "q" together; what each got (a value or an error)."""
    started = threading.Barrier(THREADS)

    def ask(_: int) -> object:
        started.wait()
        try:
            return cache.get("q", read)
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        return list(pool.map(ask, range(THREADS)))


def test_threads_on_a_cold_cache_read_once_and_share_the_answer() -> None:
    cache: OnceCache[str, int] = OnceCache()
    reads: list[str] = []

    def read() -> int:
        reads.append("read")
        return 42

    assert ask_at_once(cache, read) == [42] * THREADS
    assert reads == ["read"]
    # Asked again later: still the one answer.
    assert cache.get("q", read) == 42
    assert reads == ["read"]


def test_an_error_of_the_read_reaches_every_caller() -> None:
    cache: OnceCache[str, int] = OnceCache()
    reads: list[str] = []
    boom = RuntimeError("scan failed")

    def read() -> int:
        reads.append("read")
        raise boom

    assert ask_at_once(cache, read) == [boom] * THREADS
    assert reads == ["read"]
    with pytest.raises(RuntimeError, match="scan failed"):
        cache.get("q", lambda: 1)


def test_callers_wait_for_the_read_under_way() -> None:
    cache: OnceCache[str, int] = OnceCache()
    entered, release = threading.Event(), threading.Event()

    def slow() -> int:
        entered.set()
        assert release.wait(30)
        return 7

    with ThreadPoolExecutor(max_workers=2) as pool:
        first = pool.submit(cache.get, "q", slow)
        assert entered.wait(30)
        # The read is under way: a second caller gets its answer, not a read of its own.
        second = pool.submit(cache.get, "q", lambda: 99)
        release.set()
        assert (first.result(), second.result()) == (7, 7)


def test_each_key_is_its_own_question_and_put_answers_one_without_a_read() -> None:
    cache: OnceCache[str, int] = OnceCache()
    cache.put("known", 1)
    assert cache.get("known", lambda: 2) == 1
    assert cache.get("other", lambda: 3) == 3
    cache.put("other", 4)  # answered already: kept
    assert cache.get("other", lambda: 5) == 3


def test_known_tells_a_key_asked_or_answered_from_one_never_asked() -> None:
    cache: OnceCache[str, int] = OnceCache()
    cache.put("answered", 1)
    cache.get("asked", lambda: 2)
    assert [cache.known(key) for key in ("answered", "asked", "never")] == [True, True, False]
