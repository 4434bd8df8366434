"""What the shape check reports about one answer: a finding names the operation, the member's
path in the output shape, the kind of problem and what was wrong."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Any

# The kinds of finding.
UNKNOWN = "unknown member"  # a member the shape lacks
MISSING = "missing required member"
ENUM = "value not in enum"
TYPE = "wrong type"
BODY = "unreadable body"  # not XML/JSON, or the protocol's envelope is wrong
ERROR = "malformed error"  # an error answer without its code or message
CRASH = "checker failed"  # the check itself raised: never hidden

_INDEX = re.compile(r"\[\d+\]")


@dataclass(frozen=True)
class Finding:
    operation: str  # "ec2.DescribeImages"
    path: str  # the member in the output shape: "Images[0].RootDeviceType"; "" is the answer
    kind: str  # one of the kinds above
    detail: str  # what was wrong, and what the model says
    shape: str = ""  # the name of the shape the value was held against
    value: str | None = None  # the offending scalar, as sent

    @property
    def pattern(self) -> str:
        """The path with its list indexes as `[]`: `Images[].RootDeviceType`."""
        return _INDEX.sub("[]", self.path)

    def line(self) -> str:
        where = f"{self.operation} {self.path}" if self.path else self.operation
        return f"{where}: {self.kind}: {self.detail}"

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Finding:
        return cls(**data)


class Findings:
    """The findings of one answer, gathered while its body is walked."""

    def __init__(self, operation: str) -> None:
        self.operation = operation
        self.items: list[Finding] = []

    def add(
        self, path: str, kind: str, detail: str, *, shape: str = "", value: str | None = None
    ) -> None:
        self.items.append(Finding(self.operation, path, kind, detail, shape, value))


def child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name
