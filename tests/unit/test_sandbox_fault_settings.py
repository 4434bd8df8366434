"""Fault settings: flags over environment variables, one clear line for bad values."""

from __future__ import annotations

import pytest

from ebami.core.errors import InputError
from ebami.sandbox.faults import Faults


def test_environment_then_flags() -> None:
    environ = {
        "EBAMI_SANDBOX_THROTTLE": "0.25",
        "EBAMI_SANDBOX_SSM_OFFLINE": "1",
        "EBAMI_SANDBOX_AMI_PENDING_POLLS": "3",
        "EBAMI_SANDBOX_STALL_UPDATES": "1",
    }
    faults = Faults.from_sources(environ, ssm_offline=False)
    assert faults == Faults(
        throttle=0.25, ssm_offline=False, ami_pending_polls=3, update_stalls=True
    )
    assert faults.active == [
        "throttling on 25% of API calls",
        "new AMIs stay pending for 3 polls",
        "environment updates stall",
    ]
    assert Faults.from_sources(environ, update_stalls=False).update_stalls is False
    assert Faults.from_sources({}).active == []
    assert Faults.from_json(faults.to_json()) == faults


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"EBAMI_SANDBOX_THROTTLE": "lots"}, "EBAMI_SANDBOX_THROTTLE='lots' is not a number"),
        ({"EBAMI_SANDBOX_THROTTLE": "1"}, "throttle fraction 1.0 is out of range"),
        (
            {"EBAMI_SANDBOX_SSM_OFFLINE": "maybe"},
            "EBAMI_SANDBOX_SSM_OFFLINE='maybe' is not a switch",
        ),
        ({"EBAMI_SANDBOX_AMI_PENDING_POLLS": "-1"}, "AMI pending polls -1 is negative"),
        (
            {"EBAMI_SANDBOX_STALL_UPDATES": "later"},
            "EBAMI_SANDBOX_STALL_UPDATES='later' is not a switch",
        ),
    ],
)
def test_bad_values(environ: dict[str, str], message: str) -> None:
    with pytest.raises(InputError, match=message):
        Faults.from_sources(environ)


def test_unrelated_health_from_flags_or_the_environment_variable() -> None:
    environ = {"EBAMI_SANDBOX_UNRELATED_HEALTH": "staging=warning, prod=Degraded"}
    faults = Faults.from_sources(environ)
    assert faults.unrelated_health == (("staging", "Warning"), ("prod", "Degraded"))
    assert faults.unrelated_level("prod") == "Degraded"
    assert faults.unrelated_level("fleet-01") == ""
    assert faults.active == [
        "staging held at Warning by HTTP 5xx unrelated to its AMI",
        "prod held at Degraded by HTTP 5xx unrelated to its AMI",
    ]
    flagged = Faults.from_sources(environ, unrelated_health=("prod=Warning",))
    assert flagged.unrelated_health == (("prod", "Warning"),)
    assert Faults.from_json(faults.to_json()) == faults


@pytest.mark.parametrize(
    ("given", "message"),
    [
        ("prod", "--unrelated-health 'prod' is not ENV=LEVEL"),
        ("prod=Severe", "--unrelated-health 'prod=Severe' is not ENV=LEVEL"),
        ("=Warning", "--unrelated-health '=Warning' is not ENV=LEVEL"),
    ],
)
def test_bad_unrelated_health_is_refused_in_one_line(given: str, message: str) -> None:
    with pytest.raises(InputError) as refused:
        Faults.from_sources({}, unrelated_health=(given,))
    assert refused.value.message.startswith(message)
    assert refused.value.message.endswith("give an environment name, '=', and Warning or Degraded")
    with pytest.raises(InputError, match="EBAMI_SANDBOX_UNRELATED_HEALTH 'prod=Ok'"):
        Faults.from_sources({"EBAMI_SANDBOX_UNRELATED_HEALTH": "prod=Ok"})
