"""Update policies: what an AMI change does under each, and the deadline that follows."""

from __future__ import annotations

import pytest

from ebami.apply.policy import (
    DEFAULT_PAUSE,
    DEFAULT_TIMEOUT,
    MARGIN,
    ROLLING_UPDATE,
    UpdatePolicy,
    duration_seconds,
)
from ebami.aws.eb_values import Configuration


def policy(**options: str) -> UpdatePolicy:
    values = {(ROLLING_UPDATE, key): value for key, value in options.items()}
    values[("aws:elasticbeanstalk:healthreporting:system", "SystemType")] = "enhanced"
    return UpdatePolicy.of(Configuration(values))


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("PT30M", 1800), ("PT1H5M", 3900), ("PT0S", 0), ("PT90S", 90), ("P1D", 86400),
     ("PT1.5S", 1.5), ("30", None), ("PT", None), ("P", None), ("", None), ("PT5X", None)],
)  # fmt: skip
def test_durations_as_elastic_beanstalk_writes_them(text: str, seconds: float | None) -> None:
    assert duration_seconds(text) == seconds


def test_elastic_beanstalk_defaults_are_rolling_updates_disabled() -> None:
    found = UpdatePolicy.of(Configuration({}))
    assert (found.kind, found.timeout, found.enhanced_health) == (
        "disabled",
        DEFAULT_TIMEOUT,
        False,
    )
    assert found.batches(4) == 1
    assert found.deadline(4) == MARGIN + DEFAULT_TIMEOUT
    assert found.describe(4) == "rolling updates disabled: all 4 instances replaced at once"


def test_health_based_batches_each_get_the_timeout() -> None:
    found = policy(
        RollingUpdateEnabled="true", RollingUpdateType="Health", MaxBatchSize="2",
        MinInstancesInService="1", Timeout="PT10M",
    )  # fmt: skip
    assert (found.kind, found.max_batch_size, found.min_in_service) == ("Health", 2, 1)
    assert found.batches(5) == 3
    assert found.deadline(5) == MARGIN + 3 * 600
    assert found.describe(5) == (
        "Health-based rolling update: 5 instances in 3 batches of 2, each batch healthy "
        "within 600 s"
    )
    assert found.enhanced_health


def test_time_based_batches_wait_their_pause() -> None:
    paused = policy(RollingUpdateEnabled="true", RollingUpdateType="Time", PauseTime="PT2M")
    assert paused.deadline(2) == MARGIN + 2 * 120
    computed = policy(RollingUpdateEnabled="true", RollingUpdateType="Time")
    assert computed.deadline(2) == MARGIN + 2 * DEFAULT_PAUSE
    assert "pause computed by Elastic Beanstalk" in computed.describe(2)


def test_immutable_is_one_pass_whatever_the_batch_size() -> None:
    found = policy(RollingUpdateEnabled="true", RollingUpdateType="Immutable", MaxBatchSize="1")
    assert found.batches(6) == 1
    assert found.deadline(6) == MARGIN + DEFAULT_TIMEOUT
    assert found.describe(1).startswith("Immutable: 1 instance launched in a temporary")


def test_an_unknown_type_is_read_as_elastic_beanstalk_s_default_time() -> None:
    assert policy(RollingUpdateEnabled="true", RollingUpdateType="Rolling").kind == "Time"
    # Enabled is false unless it says true.
    assert policy(RollingUpdateEnabled="TRUE", RollingUpdateType="Health").kind == "Health"
    assert policy(RollingUpdateEnabled="yes", RollingUpdateType="Health").kind == "disabled"
