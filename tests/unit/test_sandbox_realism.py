"""How the sandbox's realism switches are read: `--realism SPEC`, EBAMI_SANDBOX_REALISM, JSON."""

from __future__ import annotations

import pytest

from ebami.core.errors import InputError
from ebami.sandbox.faults import Faults
from ebami.sandbox.realism import ENV_REALISM, Realism


def test_default_is_like_aws_and_off_turns_everything_off() -> None:
    assert Realism.from_sources({}) == Realism()
    assert Realism().configuration_drafts
    assert Realism().late_events > 0
    # SSM validates aws:ec2:image values late and EC2 hides new ids for a while, as on AWS.
    assert (Realism().parameter_validation, Realism().ec2_not_found) == (1.0, 1.0)
    assert "aws:ec2:image parameters validated after 1 s" in Realism().active
    assert "EC2 NotFound for 1 s after a create" in Realism().active
    off = Realism.off()
    assert not off.active
    assert (off.parameter_validation, off.ec2_not_found) == (0, 0)
    assert not off.health_vocabulary


def test_one_behaviour_is_turned_off_by_its_key() -> None:
    realism = Realism.parse("parameter-validation=0")
    assert realism.parameter_validation == 0
    assert realism.ec2_not_found == Realism().ec2_not_found
    assert not any("aws:ec2:image" in phrase for phrase in realism.active)
    assert Realism.parse("ec2-not-found=0").ec2_not_found == 0


def test_items_change_one_behaviour_over_a_base() -> None:
    realism = Realism.parse("off,late-events=5,configuration-drafts=on")
    assert realism == Realism(
        configuration_drafts=True,
        health_vocabulary=False,
        late_events=5.0,
        parameter_validation=0.0,
        ec2_not_found=0.0,
    )
    assert Realism.parse("parameter-validation=10").parameter_validation == 10.0
    assert Realism.parse("parameter-validation=10").late_events == Realism().late_events


def test_off_turns_a_number_of_seconds_off_too() -> None:
    assert Realism.parse("late-events=off").late_events == 0.0
    assert Realism.parse("late-events=OFF,ec2-not-found=0").ec2_not_found == 0.0


def test_flag_wins_over_environment() -> None:
    environ = {ENV_REALISM: "off"}
    assert Realism.from_sources(environ) == Realism.off()
    assert Realism.from_sources(environ, "aws") == Realism()


@pytest.mark.parametrize(
    ("spec", "named"),
    [
        ("fast", "'fast' is not known"),
        ("late-events", "'late-events' is not known"),
        ("late-events=soon", "--realism late-events='soon' is not a number of seconds"),
        ("late-events=-1", "--realism late-events='-1' is out of range"),
        ("late-events=inf", "--realism late-events='inf' is out of range"),
        ("health-vocabulary=maybe", "health-vocabulary='maybe' is not a switch"),
    ],
)
def test_bad_specs_are_refused_in_one_line_naming_the_input(spec: str, named: str) -> None:
    with pytest.raises(InputError) as caught:
        Realism.parse(spec)
    assert named in caught.value.message
    assert "\n" not in caught.value.message


def test_environment_variable_is_named_when_refused() -> None:
    with pytest.raises(InputError, match=ENV_REALISM):
        Realism.from_sources({ENV_REALISM: "nonsense"})


def test_realism_rides_in_the_faults_json() -> None:
    faults = Faults(throttle=0.1, realism=Realism.parse("off,ec2-not-found=3"))
    again = Faults.from_json(faults.to_json())
    assert again == faults
    assert again.realism.ec2_not_found == 3.0
    # A state file written before realism existed reads as AWS-like.
    assert Faults.from_json({"throttle": 0.0}).realism == Realism()
