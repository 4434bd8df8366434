"""The sandbox's image end-of-life patches: still needed against moto, and the deprecation time's
rules (rounded to the minute, never in the past, at most 10 years ahead)."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime, timezone

import pytest

from ebami.sandbox import load_extensions
from ebami.sandbox.images import InvalidParameterValue, deprecation_time

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=timezone.utc)


def test_moto_still_lacks_the_ec2_actions_the_sandbox_fills() -> None:
    script = (
        "import json, inspect\n"
        "from moto.ec2.responses import EC2Response\n"
        "print(json.dumps([n for n, _ in inspect.getmembers(EC2Response, inspect.isfunction)]))\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    methods = set(json.loads(proc.stdout))
    fills = [p for p in load_extensions() if p.kind == "fill" and p.owner.__name__ == "EC2Response"]
    assert {p.name for p in fills} == {
        "EnableImageDeprecation",
        "DisableImageDeprecation",
        "EnableImageDeregistrationProtection",
        "DisableImageDeregistrationProtection",
        "DescribeImageReferences",
    }
    assert [p.method for p in fills if p.method in methods] == []


@pytest.mark.parametrize(
    ("given", "shown"),
    [
        ("2030-01-01T00:00:29Z", "2030-01-01T00:00:00.000Z"),
        ("2030-01-01T00:00:30Z", "2030-01-01T00:01:00.000Z"),
        ("2030-01-01T02:00:00+02:00", "2030-01-01T00:00:00.000Z"),
        ("2030-01-01T00:00:00", "2030-01-01T00:00:00.000Z"),
    ],
)
def test_deprecation_time_is_utc_to_the_minute(given: str, shown: str) -> None:
    assert deprecation_time(given, NOW) == shown


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("2025-12-31T00:00:00Z", "The deprecation time cannot be in the past."),
        ("2036-02-01T00:00:00Z", "The deprecation time cannot be more than 10 years ahead."),
        ("soon", "Invalid value 'soon' for DeprecateAt"),
    ],
)
def test_deprecation_time_refusals(given: str, message: str) -> None:
    with pytest.raises(InvalidParameterValue) as refused:
        deprecation_time(given, NOW)
    assert refused.value.message.startswith(message)
