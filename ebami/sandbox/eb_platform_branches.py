"""`ListPlatformBranches` in the sandbox: the branches of the platform versions it seeded and
released (`ebami.sandbox.seed`, `ebami.sandbox.catalogue`). moto has no such action.

From the API reference: each `PlatformBranchSummary` has `PlatformName`, `BranchName`,
`LifecycleState`, `BranchOrder` ("a larger BranchOrder value designates a newer platform branch
within the platform") and `SupportedTierList`. Filters (`SearchFilter`: `Attribute`,
`Operator`, `Values`) are a conjunction, at most 10, each with at most 10 values:

- `BranchName`, `PlatformName`: `=`, `!=`, `begins_with`, `ends_with`, `contains`, `in`, `not_in`
- `LifecycleState`: `=`, `!=`, `in`, `not_in` (values beta, supported, deprecated, retired)
- `TierType`: `=`, `!=` (values WebServer/Standard, Worker/SQS/HTTP)

"Most operators take a single value. The in and not_in operators can take multiple values."
The reference lists lifecycle values in lower case while answers (and the EB CLI's filters) use
`Supported`, `Retired`: the sandbox compares lifecycle states without regard to case. The three
ECS-based branches belong to Elastic Beanstalk's Docker platform. The refusal wording is the
sandbox's own.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult
from moto.elasticbeanstalk.responses import EBResponse

from ebami.sandbox.eb_requests import InvalidParameterValue, request_state
from ebami.sandbox.patching import fill

PLATFORM_NAME = "Docker"
MAX_FILTERS = 10
MAX_VALUES = 10
_TEXT = ("=", "!=", "begins_with", "ends_with", "contains", "in", "not_in")
OPERATORS: dict[str, tuple[str, ...]] = {
    "BranchName": _TEXT,
    "LifecycleState": ("=", "!=", "in", "not_in"),
    "PlatformName": _TEXT,
    "TierType": ("=", "!="),
}
_MULTIPLE = ("in", "not_in")
_CHECKS: dict[str, Callable[[str, list[str]], bool]] = {
    "=": lambda text, values: text == values[0],
    "!=": lambda text, values: text != values[0],
    "begins_with": lambda text, values: text.startswith(values[0]),
    "ends_with": lambda text, values: text.endswith(values[0]),
    "contains": lambda text, values: values[0] in text,
    "in": lambda text, values: text in values,
    "not_in": lambda text, values: text not in values,
}


def branches(platforms: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The branches of the platform versions as PlatformBranchSummary, in the order the
    sandbox's catalogue lists them (the seed lists the oldest branch first)."""
    summaries: dict[str, dict[str, Any]] = {}
    for record in platforms:
        description = record["description"]
        summaries[description["PlatformBranchName"]] = {
            "PlatformName": PLATFORM_NAME,
            "BranchName": description["PlatformBranchName"],
            "LifecycleState": description["PlatformBranchLifecycleState"],
            "SupportedTierList": list(description.get("SupportedTierList", [])),
        }
    return [
        {**summary, "BranchOrder": order} for order, summary in enumerate(summaries.values(), 1)
    ]


def _checked(filters: list[dict[str, Any]]) -> list[tuple[str, str, list[str]]]:
    if len(filters) > MAX_FILTERS:
        raise InvalidParameterValue(f"give at most {MAX_FILTERS} filters")
    checked = []
    for item in filters:
        attribute, operator = str(item.get("Attribute", "")), str(item.get("Operator", ""))
        values = [str(value) for value in item.get("Values", []) or []]
        if attribute not in OPERATORS:
            raise InvalidParameterValue(
                f"Invalid filter attribute: {attribute}. Valid attributes: {', '.join(OPERATORS)}"
            )
        if operator not in OPERATORS[attribute]:
            raise InvalidParameterValue(
                f"Invalid operator {operator} for filter attribute {attribute}: use "
                f"{' '.join(OPERATORS[attribute])}"
            )
        most = MAX_VALUES if operator in _MULTIPLE else 1
        if not 1 <= len(values) <= most:
            takes = f"1 to {MAX_VALUES} values" if most > 1 else "one value"
            raise InvalidParameterValue(f"Filter {attribute} {operator} takes {takes}")
        checked.append((attribute, operator, values))
    return checked


def _matches(branch: dict[str, Any], attribute: str, operator: str, values: list[str]) -> bool:
    if attribute == "TierType":
        supported = values[0] in branch["SupportedTierList"]
        return supported if operator == "=" else not supported
    if attribute == "LifecycleState":
        return _CHECKS[operator](branch["LifecycleState"].lower(), [v.lower() for v in values])
    return _CHECKS[operator](str(branch[attribute]), values)


@fill(EBResponse, "ListPlatformBranches")
def list_platform_branches(self: EBResponse) -> ActionResult:
    filters = _checked(self._get_param("Filters", []) or [])
    found = [
        branch
        for branch in branches(request_state(self).platforms)
        if all(_matches(branch, *item) for item in filters)
    ]
    max_records = int(self._get_param("MaxRecords") or 100)
    start = int(self._get_param("NextToken") or 0)
    result: dict[str, Any] = {"PlatformBranchSummaryList": found[start : start + max_records]}
    if start + max_records < len(found):
        result["NextToken"] = str(start + max_records)
    return ActionResult(result)
