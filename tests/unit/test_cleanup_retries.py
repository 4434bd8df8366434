"""How calls inside a deadline behave (`DeadlineBounds`), decided on a fake clock: throttled
attempts are retried with growing pauses until the deadline, nothing is attempted after it,
and each attempt's read timeout fits the time left."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from botocore.exceptions import ReadTimeoutError

from ebami.aws.bounds import MIN_READ_TIMEOUT, RETRY_CAP, DeadlineBounds
from ebami.core.waiting import Deadline
from tests.fakes.clock import FakeClock


class Http:
    def __init__(self, status_code: int) -> None:
        self.status_code = status_code


def answer(status: int, code: str | None = None) -> tuple[Http, dict[str, Any]]:
    """What botocore hands `needs-retry` for an answered attempt."""
    return Http(status), ({"Error": {"Code": code}} if code else {})


THROTTLED = answer(400, "Throttling")


class Request:
    def __init__(self) -> None:
        self.context: dict[str, Any] = {}


def bounded(seconds: float, *, jitter: float = 1.0) -> tuple[DeadlineBounds, Deadline, FakeClock]:
    clock = FakeClock()
    bounds = DeadlineBounds(30.0, jitter=lambda: jitter)
    deadline = Deadline(seconds, clock=clock, sleep=clock.sleep)
    return bounds, deadline, clock


def test_without_a_deadline_botocore_decides() -> None:
    bounds = DeadlineBounds(30.0)
    assert bounds.needs_retry(attempts=5, response=THROTTLED) is None
    request = Request()
    bounds.before_send(request=request)
    assert "read_timeout" not in request.context


# botocore's OperationModel, as far as the report reads it.
OPERATION = SimpleNamespace(
    name="TerminateInstances", service_model=SimpleNamespace(service_name="ec2")
)


def test_throttled_attempts_are_retried_with_doubling_pauses_up_to_the_cap() -> None:
    clock = FakeClock()
    said: list[str] = []
    bounds = DeadlineBounds(30.0, report=said.append, jitter=lambda: 1.0)
    deadline = Deadline(120.0, clock=clock, sleep=clock.sleep)
    with bounds.bound(deadline):
        decisions = [
            bounds.needs_retry(attempts=n, response=THROTTLED, operation=OPERATION)
            for n in range(1, 10)
        ]
    # 0: retry at once, the pause is over (taken on the deadline's clock, not botocore's).
    assert decisions == [0] * 9
    assert clock.sleeps == [0.25, 0.5, 1.0, 2.0, 4.0, RETRY_CAP, RETRY_CAP, RETRY_CAP, RETRY_CAP]
    assert RETRY_CAP == 5.0
    # Said once past the attempts botocore alone would make, each time.
    assert said[0] == (
        "ec2 TerminateInstances: Throttling on 3 attempts; trying again in 1.0 s (1 s of 120 s)"
    )
    assert len(said) == 7


def test_jitter_takes_a_random_part_of_each_pause_s_second_half() -> None:
    bounds, deadline, clock = bounded(120.0, jitter=0.0)
    with bounds.bound(deadline):
        bounds.needs_retry(attempts=3, response=THROTTLED)
    assert clock.sleeps == [0.5]  # half of the 1.0 s ceiling of a third attempt


@pytest.mark.parametrize(
    "response",
    [answer(503, "ServiceUnavailable"), answer(500, "InternalError"), answer(429), THROTTLED],
    ids=["503", "500", "429", "throttling"],
)
def test_failures_on_aws_s_side_are_retried_too(response: Any) -> None:
    bounds, deadline, _ = bounded(60.0)
    with bounds.bound(deadline):
        assert bounds.needs_retry(attempts=7, response=response) == 0


def test_a_pause_that_would_reach_the_deadline_is_not_taken() -> None:
    bounds, deadline, clock = bounded(10.0)
    clock.now = 8.5  # 1.5 s left; a fourth attempt's pause would be 2 s
    with bounds.bound(deadline):
        assert bounds.needs_retry(attempts=4, response=THROTTLED) is False
    assert clock.sleeps == []


def test_no_attempt_starts_after_the_deadline_whatever_the_failure() -> None:
    bounds, deadline, clock = bounded(10.0)
    clock.now = 10.0
    timeout = ReadTimeoutError(endpoint_url="http://127.0.0.1:1")
    with bounds.bound(deadline):
        # False overrides botocore's own retry handler, which runs after this one.
        assert bounds.needs_retry(attempts=1, response=THROTTLED) is False
        assert bounds.needs_retry(attempts=1, caught_exception=timeout) is False


def test_timeouts_and_refusals_inside_the_deadline_are_left_to_botocore() -> None:
    bounds, deadline, clock = bounded(60.0)
    timeout = ReadTimeoutError(endpoint_url="http://127.0.0.1:1")
    with bounds.bound(deadline):
        assert bounds.needs_retry(attempts=1, caught_exception=timeout) is None
        assert bounds.needs_retry(attempts=1, response=answer(400, "InvalidAMIID.NotFound")) is None
        assert bounds.needs_retry(attempts=1, response=answer(200)) is None
    assert clock.sleeps == []


def test_each_attempt_s_read_timeout_fits_the_time_left() -> None:
    bounds, deadline, clock = bounded(50.0)
    seen = []
    with bounds.bound(deadline):
        for now in (0.0, 30.0, 49.5, 60.0):
            clock.now = now
            request = Request()
            bounds.before_send(request=request)
            seen.append(request.context["read_timeout"])
    # The setting while it fits, then the time left, never under the floor.
    assert seen == [30.0, 20.0, MIN_READ_TIMEOUT, MIN_READ_TIMEOUT]


def test_an_inner_deadline_replaces_the_outer_one_until_it_ends() -> None:
    bounds, run, clock = bounded(20.0)
    cleanup = Deadline(120.0, clock=clock, sleep=clock.sleep)
    clock.now = 25.0  # the run's deadline has passed: its clean-up still gets its own
    with bounds.bound(run):
        with bounds.bound(cleanup):
            assert bounds.deadline is cleanup
            assert bounds.needs_retry(attempts=1, response=THROTTLED) == 0
        assert bounds.deadline is run
        assert bounds.needs_retry(attempts=1, response=THROTTLED) is False
    assert bounds.deadline is None
