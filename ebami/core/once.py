"""One answer per question, however many threads ask: `OnceCache` runs the read for a key once
(the first caller reads, the others wait for its answer) and keeps the answer, or the error,
for the cache's lifetime (one run of a command)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class _Slot(Generic[V]):
    def __init__(self) -> None:
        self.done = threading.Event()
        self.value: V | None = None
        self.error: BaseException | None = None


class OnceCache(Generic[K, V]):
    """Thread-safe, single-flight: `get(key, read)` calls `read()` once per key; callers that
    come while it runs wait for it; an error it raises reaches every caller of that key."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[K, _Slot[V]] = {}

    def get(self, key: K, read: Callable[[], V]) -> V:
        with self._lock:
            slot = self._slots.get(key)
            first = slot is None
            if slot is None:
                slot = self._slots[key] = _Slot()
        if first:
            try:
                slot.value = read()
            except BaseException as exc:
                slot.error = exc
                raise
            finally:
                slot.done.set()
        else:
            slot.done.wait()
            if slot.error is not None:
                raise slot.error
        return slot.value  # type: ignore[return-value]

    def known(self, key: K) -> bool:
        """Whether `key` was asked (its read may still run) or answered already."""
        with self._lock:
            return key in self._slots

    def set(self, key: K, value: V) -> None:
        """Answer `key` with `value` from now on (what this run just wrote), whatever it was;
        callers waiting on a read of it still get that read's answer."""
        slot: _Slot[V] = _Slot()
        slot.value = value
        slot.done.set()
        with self._lock:
            self._slots[key] = slot

    def put(self, key: K, value: V) -> None:
        """Answer `key` without a read (what another read found already); a key asked or
        answered before keeps its answer."""
        with self._lock:
            if key not in self._slots:
                slot: _Slot[V] = _Slot()
                slot.value = value
                slot.done.set()
                self._slots[key] = slot
