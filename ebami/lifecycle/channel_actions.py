"""What promote and revoke change: a channel's value, its deletion, an AMI's revoke tags and
its deprecation, one method per plan instruction.

Each write (with the read it depends on) fits a deadline of its own (`WRITE_SECONDS`), as
prune's deletions do: throttled calls are retried with growing pauses until it passes, past
botocore's three attempts, so a throttled account does not leave a revocation half done.

Writing a channel is done only once SSM shows the new version: SSM validates an
`aws:ec2:image` value after PutParameter answers and drops one that fails
(`ebami.aws.ssm_versions.wait_for_version`, within `VALIDATION_SECONDS`). A value dropped fails
the write (`ValueNotTaken`, exit code 3) naming the parameter and the value.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from ebami.aws.ssm_versions import VALIDATION_SECONDS, image_refusal, wait_for_version
from ebami.core.errors import GuardUnavailable
from ebami.core.plan import Bounds, unbounded
from ebami.core.times import parse_utc_timestamp
from ebami.core.waiting import Clock, Deadline, Sleep

if TYPE_CHECKING:
    from ebami.aws.ec2_values import Image
    from ebami.aws.ssm import ParameterVersion
    from ebami.image.protection import ImageGuard

# One write and the read it depends on, throttling included.
WRITE_SECONDS = 120.0


class ChannelsActionsEc2(Protocol):
    def tag_resources(self, resource_ids: list[str], tags: dict[str, str]) -> None: ...
    def deprecate_image(self, image_id: str, when: datetime) -> None: ...
    def get_image(self, image_id: str) -> Image: ...
    def disable_image(self, image_id: str) -> None: ...


class ChannelsActionsSsm(Protocol):
    def parameter_value(self, name: str) -> str | None: ...
    def publish_image_id(self, name: str, image_id: str) -> int: ...
    def delete_parameter(self, name: str) -> bool: ...
    def history(self, name: str) -> Sequence[ParameterVersion]: ...


@dataclass
class ChannelActions:
    """What promote and revoke change, one method per plan instruction."""

    ec2: ChannelsActionsEc2
    ssm: ChannelsActionsSsm
    published: dict[str, int] = field(default_factory=dict)
    # What makes the calls inside a block fit a deadline (`AwsSession.bounded`), on this clock.
    bounds: Bounds = unbounded
    clock: Clock = time.monotonic
    sleep: Sleep = time.sleep
    # Progress lines while SSM validates a value.
    report: Callable[[str], None] = lambda message: None
    # Turns on the deregistration protection of the AMI a channel will name (None: nothing).
    guard: ImageGuard | None = None
    warn: Callable[[str], None] = lambda message: None

    @contextmanager
    def _within(self) -> Iterator[None]:
        with self.bounds(Deadline(WRITE_SECONDS, clock=self.clock, sleep=self.sleep)):
            yield

    def current(self, parameter: str) -> str | None:
        """What the channel names now (read just before a write that depends on it)."""
        with self._within():
            return self.ssm.parameter_value(parameter)

    def publish(self, parameter: str, image_id: str) -> int:
        """Write `image_id` and wait until SSM shows the version it answered (a newer one of
        another writer after it is for the caller's read-back to judge)."""
        with self._within():
            version = self.ssm.publish_image_id(parameter, image_id)
        deadline = Deadline(VALIDATION_SECONDS, clock=self.clock, sleep=self.sleep)
        with self.bounds(deadline):
            wait_for_version(
                self.ssm,
                parameter,
                image_id,
                version,
                deadline,
                report=self.report,
                refusal=image_refusal(self.ec2, image_id),
            )
        self.published[parameter] = version
        return version

    def delete_channel(self, parameter: str, image_id: str) -> bool:
        """Deletes the channel only while it still names `image_id`, read just before: deleting
        takes the whole history with it, and a value promoted since the plan must not go so."""
        with self._within():
            if self.ssm.parameter_value(parameter) != image_id:
                return False
            return self.ssm.delete_parameter(parameter)

    def protect(self, image_id: str, why: str) -> None:
        """Protect the AMI from deregistration (`ebami.image.protection`)."""
        if self.guard is not None:
            with self._within():
                self.guard.protect([image_id], why)

    def disable(self, image_id: str) -> None:
        """Disable the AMI (no launch, no launch permission); where EC2's DisableImage cannot
        be used, one warning: the rest of the revocation stands."""
        try:
            with self._within():
                self.ec2.disable_image(image_id)
        except GuardUnavailable as exc:
            self.warn(f"{image_id} not disabled ({exc.message}): it is revoked and tagged only")

    def tag_revoked(self, image_id: str, tags: dict[str, str]) -> None:
        with self._within():
            self.ec2.tag_resources([image_id], tags)

    def deprecate(self, image_id: str, when: str) -> None:
        """`when`: ISO 8601 UTC, as the plan shows it."""
        with self._within():
            self.ec2.deprecate_image(image_id, parse_utc(when))


def parse_utc(text: str) -> datetime:
    """An ISO 8601 time as EC2 writes them (`2026-11-22T10:02:00.000Z`); ValueError when it is
    not one."""
    moment = parse_utc_timestamp(text)
    if moment is None:
        raise ValueError(f"{text!r} is not a time with its zone")
    return moment
