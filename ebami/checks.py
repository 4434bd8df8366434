"""The result of one validation step, shared by every command that reports checks."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum


class CheckStatus(str, Enum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class CheckResult:
    name: str
    status: CheckStatus
    detail: str


def failed(results: Iterable[CheckResult]) -> list[CheckResult]:
    return [result for result in results if result.status is CheckStatus.FAILED]
