"""Waiting until EC2 shows what it has just made: EC2 is eventually consistent (EC2 developer
guide, "Eventual consistency in the Amazon EC2 API",
https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html): right after
RunInstances or CreateImage, a command naming the new id may answer
`InvalidInstanceID.NotFound` / `InvalidAMIID.NotFound`, which "does not mean the instance does
not exist"; retry with backoff. `once_visible` retries a call about something this run has just
created while EC2 answers NotFound, with a deadline. It is for ids ebami created: a NotFound for
an id the user gave is the answer (a typo fails at once), so callers use it only where they know
the id is new. (SSM's own late answers: `ebami.aws.ssm_versions`.)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from botocore.exceptions import ClientError

from ebami.aws.ec2_base import error_code
from ebami.core.errors import AwsError, EbamiError, NotFoundError
from ebami.core.waiting import Deadline, poll_until

T = TypeVar("T")
# How long a new instance or AMI may stay invisible: EC2's guide retries "up to a few minutes".
VISIBLE_SECONDS = 300.0
# EC2's answers for a resource it does not show (yet).
NOT_FOUND_CODES = frozenset(
    {"InvalidInstanceID.NotFound", "InvalidAMIID.NotFound", "InvalidSnapshot.NotFound"}
)


def not_visible_yet(exc: EbamiError) -> bool:
    """EC2 answered that a resource does not exist (what it answers for a while after a
    create)."""
    if isinstance(exc, NotFoundError):
        return True
    cause = exc.__cause__
    return isinstance(cause, ClientError) and error_code(cause) in NOT_FOUND_CODES


@dataclass(frozen=True)
class _Found(Generic[T]):
    value: T


def once_visible(
    call: Callable[[], T],
    deadline: Deadline,
    *,
    what: str,
    report: Callable[[str], None] | None = None,
) -> T:
    """`call()`, about `what`, which this run has just created: tried again while EC2 answers
    that it does not exist, until `deadline`; then an AwsError that says so."""
    last: EbamiError | None = None

    def attempt() -> _Found[T] | None:
        nonlocal last
        try:
            return _Found(call())
        except EbamiError as exc:
            if not not_visible_yet(exc):
                raise
            last = exc
            return None

    found = poll_until(
        attempt,
        deadline,
        waiting_for=lambda: f"waiting for EC2 to show {what}, made just now",
        report=report,
    )
    if found is None:
        raise AwsError(
            f"{what}, made by this run, still not visible after {deadline.seconds:.0f} s (EC2 "
            f"shows a new resource after a while): {last.message if last else 'not found'}"
        )
    return found.value
