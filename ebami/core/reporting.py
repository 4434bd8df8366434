"""How library code tells the user what it is doing (the CLI's terminal implements it)."""

from __future__ import annotations

import threading
from typing import Protocol


class Reporter(Protocol):
    def progress(self, message: str) -> None: ...
    def detail(self, message: str) -> None: ...
    def warn(self, message: str) -> None: ...


class OnceEach:
    """Warns through `reporter` once per distinct message, however many threads or regions
    meet the same condition (thread-safe)."""

    def __init__(self, reporter: Reporter) -> None:
        self._reporter = reporter
        self._given: set[str] = set()
        self._lock = threading.Lock()

    def warn(self, message: str) -> None:
        with self._lock:
            if message in self._given:
                return
            self._given.add(message)
        self._reporter.warn(message)
