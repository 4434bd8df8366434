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
    """A check's verdict, a one-line detail, and the evidence it rests on (file lines...)."""

    name: str
    status: CheckStatus
    detail: str
    evidence: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return self.status is CheckStatus.PASSED

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "status": self.status.value,
            "detail": self.detail,
            "evidence": list(self.evidence),
        }


def failed(results: Iterable[CheckResult]) -> list[CheckResult]:
    return [result for result in results if result.status is CheckStatus.FAILED]
