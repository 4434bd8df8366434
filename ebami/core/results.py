"""The result of one validation step, shared by every command that reports checks."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
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
    # What the check found, as values for a later step (the drivers the agent allows...).
    data: Mapping[str, object] = field(default_factory=dict, compare=False)

    @property
    def passed(self) -> bool:
        return self.status is CheckStatus.PASSED

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "status": self.status.value,
            "detail": self.detail,
            "evidence": list(self.evidence),
            **({"data": dict(self.data)} if self.data else {}),
        }


def failed(results: Iterable[CheckResult]) -> list[CheckResult]:
    return [result for result in results if result.status is CheckStatus.FAILED]
