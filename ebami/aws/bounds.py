"""API calls that fit a deadline: each attempt's read timeout is at most the time left, and
throttled or failing calls are retried with growing pauses on the deadline's clock until it
passes; none starts after it. One botocore retry loop, steered by its own events."""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from ebami.core.waiting import Deadline

# Standard mode's own default, written out: with it the longest a silent endpoint can hold one
# call is known, 3 x (connect + read timeout) plus under 3 s of backoff.
MAX_ATTEMPTS = 3

# Inside a deadline, an attempt waits for an answer at least this long, even when less time is
# left: a call made at the deadline (a diagnosis, a clean-up) still gets one real chance.
MIN_READ_TIMEOUT = 1.0
# Pauses between attempts of a throttled call inside a deadline: doubling from the first,
# up to the cap, each with jitter (a random part of its second half), as AWS advises for
# throttling, so that runs throttled together do not retry together.
RETRY_FIRST = 0.25
RETRY_CAP = 5.0
# The error codes AWS answers when it throttles a caller (botocore's standard mode's list)
# and those of a failure on AWS's side that a later attempt may not meet.
THROTTLING_CODES = frozenset(
    {
        "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
        "TooManyRequestsException", "ProvisionedThroughputExceededException",
        "TransactionInProgressException", "RequestLimitExceeded", "BandwidthLimitExceeded",
        "LimitExceededException", "RequestThrottled", "SlowDown", "PriorRequestNotComplete",
        "EC2ThrottledException",
    }
)  # fmt: skip
SERVER_ERROR_CODES = frozenset(
    {"InternalError", "InternalFailure", "ServiceUnavailable", "Unavailable"}
)
RETRY_STATUS_CODES = frozenset({429, 500, 502, 503, 504})


class DeadlineBounds:
    """Makes the calls of a session's clients fit the deadline in force (`bound`), if any.

    Through botocore's own events, so the call stays one botocore call (one idempotency
    token, one retry loop):

    - `before-send`, each attempt: the attempt's read timeout is the setting, or the time left
      when less (at least `MIN_READ_TIMEOUT`), through the request context's `read_timeout`
      (botocore 1.43.68 and newer send it as the attempt's timeout).
    - `needs-retry`, registered before botocore's retry handler: an attempt that was
      throttled, or failed on AWS's side (5xx), is tried again after a growing pause on the
      deadline's clock, as long as the deadline leaves time for it; once it has passed, no
      attempt is made whatever botocore's handler would do. Other outcomes (timeouts and lost
      connections included, which botocore retries its usual number of times) are left to
      botocore.

    The deadline in force is each thread's own: threads that share a session (fleet apply's
    environments) each bound their own calls.
    """

    def __init__(
        self,
        read_timeout: float,
        *,
        report: Callable[[str], None] | None = None,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self._read_timeout = read_timeout
        self._report = report
        self._jitter = jitter
        self._local = threading.local()

    @property
    def _deadlines(self) -> list[Deadline]:
        stack: list[Deadline] | None = getattr(self._local, "stack", None)
        if stack is None:
            stack = self._local.stack = []
        return stack

    @property
    def deadline(self) -> Deadline | None:
        return self._deadlines[-1] if self._deadlines else None

    @contextmanager
    def bound(self, deadline: Deadline) -> Iterator[Deadline]:
        """Within the block, calls fit `deadline` (an inner one replaces it until it ends)."""
        self._deadlines.append(deadline)
        try:
            yield deadline
        finally:
            self._deadlines.pop()

    def install(self, events: Any, service_id: str) -> None:
        """Apply to one client (`client.meta.events`, its hyphenized service id)."""
        events.register_first(f"before-send.{service_id}", self.before_send)
        # botocore calls the handlers of the most specific event first, in order of
        # registration; `register_first` puts this one before its own retry handler there.
        events.register_first(f"needs-retry.{service_id}", self.needs_retry)

    def read_timeout(self, remaining: float) -> float:
        return min(self._read_timeout, max(remaining, MIN_READ_TIMEOUT))

    def before_send(self, *, request: Any, **_: Any) -> None:
        deadline = self.deadline
        if deadline is not None:
            request.context["read_timeout"] = self.read_timeout(deadline.remaining)

    def needs_retry(
        self,
        *,
        attempts: int,
        response: Any = None,
        caught_exception: BaseException | None = None,
        operation: Any = None,
        **_: Any,
    ) -> float | bool | None:
        """0 (retry now: the pause is over) or False (no more attempts); None leaves the
        decision to botocore."""
        deadline = self.deadline
        if deadline is None:
            return None
        failed = caught_exception is not None or _error_code(response) is not None
        if not failed:
            return None
        if deadline.expired:
            return False
        if not _retryable_inside_deadline(response):
            return None
        pause = self.pause(attempts)
        if pause >= deadline.remaining:
            return False
        if self._report is not None and attempts >= MAX_ATTEMPTS:
            # Past the attempts botocore alone would make: say why the call takes long.
            self._report(
                f"{operation.service_model.service_name} {operation.name}: "
                f"{_error_code(response)} on {attempts} attempts; trying again in "
                f"{pause:.1f} s ({deadline.progress()})"
            )
        deadline.pause(pause)
        return 0

    def pause(self, attempts: int) -> float:
        """The pause after the `attempts`-th attempt: doubling, capped, with jitter."""
        ceiling = min(RETRY_CAP, RETRY_FIRST * 2.0 ** min(attempts - 1, 32))
        return ceiling / 2 + self._jitter() * ceiling / 2


def _error_code(response: Any) -> str | None:
    if response is None:
        return None
    http_response, parsed = response
    code = (parsed or {}).get("Error", {}).get("Code")
    if code:
        return str(code)
    return str(http_response.status_code) if http_response.status_code >= 400 else None


def _retryable_inside_deadline(response: Any) -> bool:
    """Throttled, or failed on AWS's side: another attempt may well succeed."""
    if response is None:
        return False
    code = _error_code(response)
    return (
        code in THROTTLING_CODES
        or code in SERVER_ERROR_CODES
        or response[0].status_code in RETRY_STATUS_CODES
    )
