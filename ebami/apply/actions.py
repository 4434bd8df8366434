"""The actions of an apply plan: switch the environment's AMI, follow the update, remember the
AMI it left. Also what Ctrl-C does in the middle of an update: abort it and follow the abort."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Protocol

from ebami.apply.follow import Followed, Follower
from ebami.apply.outcome import Outcome
from ebami.apply.verdict import Baseline
from ebami.aws.eb_values import Configuration, Environment
from ebami.core.errors import AwsError, EbamiError, Refused
from ebami.core.reporting import Reporter
from ebami.core.waiting import Clock, Deadline, Sleep
from ebami.image.protection import ImageGuard
from ebami.image.rollback import RollbackTargets

# The request id of an update that started although UpdateEnvironment answered an error.
UNKNOWN_REQUEST = "unknown"


class UpdateFailed(EbamiError):
    """Following an update found it failed (or out of time); `followed` says how."""

    def __init__(self, followed: Followed) -> None:
        super().__init__(followed.reason)
        self.followed = followed


class UpdateRefused(Refused):
    """UpdateEnvironment's first attempt was refused because the environment is not Ready
    (another update runs): this call started nothing."""


class ActionsEb(Protocol):
    """The Elastic Beanstalk calls of the actions (`ebami.aws.elasticbeanstalk`)."""

    def update_image(self, environment: Environment, image_id: str | None) -> str: ...
    def abort_update(self, environment: Environment) -> None: ...
    def refresh(self, environment: Environment) -> Environment: ...
    def configuration(self, environment: Environment) -> Configuration: ...


@dataclass
class ApplyActions:
    eb: ActionsEb
    follower: Follower
    reporter: Reporter
    environment: Environment
    enhanced_health: bool
    # Makes the AWS calls inside a block fit a deadline (`AwsSession.bounded`).
    bounds: Callable[[Deadline], AbstractContextManager[object]]
    clock: Clock
    sleep: Sleep
    # Whether health must hold Green after the update: not for a way back to an environment
    # that was not Green before.
    require_health_after_rollback: bool = True
    # The environment's health just before the update (the plan's), which the verdict on its
    # health, and on the way back's, compares with.
    baseline: Baseline | None = None
    # Where the environment's rollback target is recorded (None: nowhere).
    rollback: RollbackTargets | None = None
    # Turns on the deregistration protection of the AMIs it leaves in use (None: nothing does).
    guard: ImageGuard | None = None
    # The update in flight, once UpdateEnvironment answered.
    request_id: str | None = None

    def protect_images(self, image_ids: list[str], why: str) -> None:
        """Protect the AMIs from deregistration before the update (`ebami.image.protection`)."""
        if self.guard is not None:
            self.guard.protect(image_ids, why)

    def update_image(self, image_id: str | None) -> str:
        try:
            self.request_id = self.eb.update_image(self.environment, image_id)
        except AwsError as exc:
            now = self.eb.refresh(self.environment)
            if now.status == "Ready":
                raise
            if _first_attempt(exc) and _not_ready(exc):
                # Refused at once: someone else's update runs (this call started nothing).
                raise UpdateRefused(
                    f"{now.name} is {now.status}, not Ready: another update is in progress "
                    f"and Elastic Beanstalk refused this one ({exc}); nothing was changed. "
                    f"Follow it with ebami events --env {now.name} -f, then run again"
                ) from exc
            # A retried call whose first attempt did start the update is refused (the
            # environment is no longer Ready): then an update runs that ebami has no id of.
            self.request_id = UNKNOWN_REQUEST
            raise
        self.reporter.detail(f"UpdateEnvironment request id {self.request_id}")
        return self.request_id

    def follow_update(
        self,
        request_id: str,
        target: str | None,
        previous: str | None,
        deadline: float,
        rollback: bool,
    ) -> Followed:
        watch = Deadline(deadline, clock=self.clock, sleep=self.sleep)
        with self.bounds(watch):
            followed = self.follower.follow(
                self.environment,
                request_id,
                target=target,
                previous=previous,
                deadline=watch,
                enhanced_health=self.enhanced_health,
                what="rollback" if rollback else "update",
                require_health=not rollback or self.require_health_after_rollback,
                baseline=self.baseline,
            )
        if not followed.ok:
            raise UpdateFailed(followed)
        self.request_id = None
        return followed

    def remember_previous(self, image_id: str) -> None:
        """Record the AMI the environment left as its rollback target (an SSM parameter:
        nothing is written to the environment); a failure here does not undo the apply."""
        if self.rollback is None:
            return
        name = self.environment.name
        try:
            self.rollback.record(self.environment.environment_id, name, image_id)
        except AwsError as exc:
            self.reporter.warn(
                f"could not record {image_id} as {name}'s rollback target ({exc}); "
                f"--rollback will need --ami {image_id}"
            )

    def configured_image(self) -> str | None:
        return self.eb.configuration(self.environment).image_id

    def abort(self, deadline: float) -> Followed | None:
        """Abort the update in flight, if Elastic Beanstalk reports one it can abort, and
        follow the environment back to Ready. None when there was nothing to abort."""
        watch = Deadline(deadline, clock=self.clock, sleep=self.sleep)
        with self.bounds(watch):
            current = self.eb.refresh(self.environment)
            if not current.abortable:
                return None
            self.reporter.warn(f"aborting the update of {self.environment.name}")
            self.eb.abort_update(self.environment)
            known = self.request_id if self.request_id != UNKNOWN_REQUEST else None
            return self.follower.wait_ready(self.environment, known, deadline=watch)


def _first_attempt(exc: AwsError) -> bool:
    """Whether AWS answered the error to the call's first attempt (botocore's count of the
    retries it made; unknown counts as retried)."""
    cause = exc.__cause__
    response = getattr(cause, "response", None)
    if not isinstance(response, Mapping):
        return False
    metadata = response.get("ResponseMetadata") or {}
    return metadata.get("RetryAttempts") == 0


def _not_ready(exc: AwsError) -> bool:
    """Elastic Beanstalk's refusal of an update while the environment is not Ready
    (InvalidParameterValue: "... is in an invalid state for this operation. Must be Ready.")."""
    return "InvalidParameterValue" in exc.message and "Must be Ready" in exc.message


def back_on(followed: Followed | None, previous: str | None) -> bool:
    """Whether a wait ended Ready with the configuration on the previous AMI."""
    return (
        followed is not None and followed.outcome is Outcome.READY and followed.image_id == previous
    )
