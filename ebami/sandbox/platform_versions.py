"""Elastic Beanstalk's platform versions in the sandbox: `ListPlatformVersions` (with EB's
filters, by version or by text) and `DescribePlatformVersion`, from the platforms the sandbox
seeded and released (`ebami.sandbox.seed`, `ebami.sandbox.catalogue`). moto has neither."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.core.responses import ActionResult
from moto.elasticbeanstalk.responses import EBResponse

from ebami.image.lookup import version_key
from ebami.sandbox.eb_requests import InvalidParameterValue, request_state
from ebami.sandbox.patching import fill

_FILTER_FIELDS = {
    "PlatformName": "PlatformName",
    "PlatformVersion": "PlatformVersion",
    "PlatformStatus": "PlatformStatus",
    "PlatformBranchName": "PlatformBranchName",
    "PlatformLifecycleState": "PlatformLifecycleState",
    "PlatformOwner": "PlatformOwner",
    "SupportedTier": "SupportedTierList",
    "SupportedAddon": "SupportedAddonList",
    "ProgrammingLanguageName": "ProgrammingLanguageName",
    "OperatingSystemName": "OperatingSystemName",
}
_STRING_OPERATORS = {"=", "!=", "contains", "begins_with", "ends_with"}
_VERSION_OPERATORS = {"=", "!=", "<", "<=", ">", ">="}


def _matches(platform: dict[str, Any], kind: str, operator: str, value: str) -> bool:
    field = _FILTER_FIELDS[kind]
    actual = platform.get(field, "")
    values = actual if isinstance(actual, list) else [actual]
    if kind == "PlatformName":
        values = [platform["PlatformArn"].split("/")[1]]
    if kind == "PlatformVersion":
        have, want = version_key(str(values[0])), version_key(value)
        comparisons = {
            "=": have == want, "!=": have != want, "<": have < want,
            "<=": have <= want, ">": have > want, ">=": have >= want,
        }  # fmt: skip
        return comparisons[operator]
    checks: dict[str, Callable[[str], bool]] = {
        "=": lambda text: text == value,
        "!=": lambda text: text != value,
        "contains": lambda text: value in text,
        "begins_with": lambda text: text.startswith(value),
        "ends_with": lambda text: text.endswith(value),
    }
    if operator == "!=":
        return all(checks["!="](str(text)) for text in values)
    return any(checks[operator](str(text)) for text in values)


@fill(EBResponse, "ListPlatformVersions")
def list_platform_versions(self: EBResponse) -> ActionResult:
    filters = self._get_param("Filters", []) or []
    for item in filters:
        kind, operator, values = item.get("Type"), item.get("Operator", "="), item.get("Values", [])
        if kind not in _FILTER_FIELDS:
            raise InvalidParameterValue(
                f"Invalid filter type: {kind}. Valid types: {', '.join(_FILTER_FIELDS)}"
            )
        allowed = _VERSION_OPERATORS if kind == "PlatformVersion" else _STRING_OPERATORS
        if operator not in allowed:
            raise InvalidParameterValue(f"Invalid operator {operator} for filter type {kind}")
        if len(values) != 1:
            raise InvalidParameterValue(f"Filter {kind} must have exactly one value")
    found = [
        platform["summary"]
        for platform in request_state(self).platforms
        if all(
            _matches(platform["description"], f["Type"], f.get("Operator", "="), f["Values"][0])
            for f in filters
        )
    ]
    max_records = int(self._get_param("MaxRecords") or 100)
    start = int(self._get_param("NextToken") or 0)
    page = found[start : start + max_records]
    result: dict[str, Any] = {"PlatformSummaryList": page}
    if start + max_records < len(found):
        result["NextToken"] = str(start + max_records)
    return ActionResult(result)


@fill(EBResponse, "DescribePlatformVersion")
def describe_platform_version(self: EBResponse) -> ActionResult:
    arn = self._get_param("PlatformArn")
    for platform in request_state(self).platforms:
        if platform["description"]["PlatformArn"] == arn:
            return ActionResult({"PlatformDescription": platform["description"]})
    raise InvalidParameterValue(f"No Platform found for PlatformArn = '{arn}'.")
