"""The places where AWS's own model is wrong, so the shape check lets them through, each with
its reason; and the report of every finding outside them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from .findings import ENUM, UNKNOWN, Finding


@dataclass(frozen=True)
class Allowed:
    """What the model lacks but AWS sends, in `operation` ("service.Operation", or any
    operation when empty): with `kind` ENUM, `values` of the enum shape `shape`; with `kind`
    UNKNOWN, members named `values` of the structure `shape`."""

    shape: str
    values: frozenset[str]
    reason: str
    operation: str = ""
    kind: str = ENUM

    def covers(self, finding: Finding) -> bool:
        if finding.kind != self.kind or finding.shape != self.shape:
            return False
        if self.operation not in ("", finding.operation):
            return False
        found = finding.value if self.kind == ENUM else finding.pattern.rsplit(".", 1)[-1]
        return found in self.values


ALLOWED = (
    Allowed(
        shape="EnvironmentHealth",
        values=frozenset({"Ready", "Updating"}),
        operation="elasticbeanstalk.DescribeEnvironmentHealth",
        reason=(
            "DescribeEnvironmentHealth's Status is the environment's status (Ready, Updating...) "
            "as the API reference documents it and the service answers; botocore's model "
            "gives it the EnvironmentHealth enum of colours"
        ),
    ),
    Allowed(
        shape="ApplicationVersionStatus",
        values=frozenset({"PROCESSED"}),
        reason=(
            "Elastic Beanstalk answers an application version's status in capitals (PROCESSED) "
            "where the model's enum spells Processed"
        ),
    ),
    Allowed(
        shape="ConfigurationSettingsDescription",
        values=frozenset({"Tier"}),
        kind=UNKNOWN,
        reason=(
            "Elastic Beanstalk answers each configuration set with its environment's Tier (the "
            "EB CLI's own bundled model has the member, and `eb health` reads it); botocore's "
            "model leaves it out (ebami.sandbox.service_models)"
        ),
    ),
)


def outside(findings: Iterable[Finding], allowed: Iterable[Allowed] = ALLOWED) -> list[Finding]:
    """The findings no allow-list entry covers."""
    entries = tuple(allowed)
    return [f for f in findings if not any(entry.covers(f) for entry in entries)]


def report(findings: list[Finding], *, answers: int, limit: int = 60) -> str:
    """One line per distinct finding (operation, member path, what was wrong), most frequent
    first, with how often it was seen."""
    counted = Counter((f.operation, f.pattern, f.kind, f.detail) for f in findings)
    lines = [
        f"{operation} {path or '(answer)'}: {kind}: {detail}" + (f" (x{n})" if n > 1 else "")
        for (operation, path, kind, detail), n in counted.most_common(limit)
    ]
    more = len(counted) - len(lines)
    head = (
        f"{len(findings)} finding(s) outside the allow-list (tests/support/shapecheck/allowed.py)"
        f" in {answers} sandbox answers checked against botocore's output shapes:"
    )
    return "\n".join(
        [head, *(f"  {line}" for line in lines), *([f"  ... {more} more"] * (more > 0))]
    )
