"""How library code tells the user what it is doing (the CLI's terminal implements it)."""

from __future__ import annotations

from typing import Protocol


class Reporter(Protocol):
    def progress(self, message: str) -> None: ...
    def detail(self, message: str) -> None: ...
    def warn(self, message: str) -> None: ...
