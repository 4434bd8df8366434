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
