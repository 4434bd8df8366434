"""The result of `ebami verify`: per instance, each check with its verdict and evidence."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ebami.core.errors import Leftover
from ebami.core.results import CheckResult, CheckStatus
from ebami.image.stock import Need, StockVerdict


class TargetKind(str, Enum):
    AMI = "ami"
    INSTANCE = "instance"
    ENVIRONMENT = "environment"
    # A platform version's own AMI (`verify --stock`).
    STOCK = "stock"


@dataclass(frozen=True)
class InstanceReport:
    """One instance's checks; `instance_id` is None when no instance was launched."""

    instance_id: str | None
    image_id: str
    launched: bool
    checks: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        return any(check.passed for check in self.checks) and not self.failed

    @property
    def failed(self) -> list[CheckResult]:
        return [check for check in self.checks if check.status is CheckStatus.FAILED]

    def to_json(self) -> dict[str, Any]:
        return {
            "instance_id": self.instance_id,
            "image_id": self.image_id,
            "launched": self.launched,
            "passed": self.passed,
            "checks": [check.to_json() for check in self.checks],
        }


@dataclass(frozen=True)
class VerifyReport:
    kind: TargetKind
    target: str
    instances: tuple[InstanceReport, ...]
    notes: tuple[str, ...] = ()
    verified_tags: Mapping[str, str] = field(default_factory=dict)
    # What the run launched and could not terminate, each with the command that does.
    left_behind: tuple[Leftover, ...] = ()
    # `verify --stock`: the verdict remembered for the platform version (None: none reached),
    # and what it says of a custom AMI, for the drivers required.
    stock: StockVerdict | None = None
    custom_ami: Need | None = None

    @property
    def passed(self) -> bool:
        return bool(self.instances) and all(report.passed for report in self.instances)

    def stock_summary(self) -> str:
        """`verify --stock`: the verdict in one line."""
        need = self.custom_ami
        if self.stock is None or need is None:
            return self.failure_summary() + "; no verdict was remembered"
        return f"a custom AMI is {need.word}: {need.detail}"

    def failure_summary(self) -> str:
        """One line: the first failed check and how many more failed."""
        failures = [
            (report.instance_id or report.image_id, check)
            for report in self.instances
            for check in report.failed
        ]
        if not failures:
            reason = self.notes[0] if self.notes else "no check passed"
            return f"{self.kind.value} {self.target} was not verified: {reason}"
        where, first = failures[0]
        on = f"{where}: " if where != self.target else ""
        more = f" (and {len(failures) - 1} more failed)" if len(failures) > 1 else ""
        return (
            f"{self.kind.value} {self.target} failed verification: {on}{first.name}: "
            f"{first.detail}{more}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "target": {"kind": self.kind.value, "id": self.target},
            "passed": self.passed,
            "notes": list(self.notes),
            "instances": [report.to_json() for report in self.instances],
            "verified_tags": dict(self.verified_tags),
            "left_behind": [leftover.to_json() for leftover in self.left_behind],
            **(
                {
                    "stock": self.stock.to_json() if self.stock else None,
                    "custom_ami": self.custom_ami.to_json() if self.custom_ami else None,
                }
                if self.kind is TargetKind.STOCK
                else {}
            ),
        }
