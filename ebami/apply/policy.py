"""An environment's update policy (`aws:autoscaling:updatepolicy:rollingupdate`), what a change
of its AMI will do under it, and the deadline that follows.

Elastic Beanstalk replaces every instance when `ImageId` changes: all at once when rolling
updates are disabled, in batches by time or by health, or through a temporary Auto Scaling
group (Immutable). Its defaults: rolling updates disabled, type Time, `Timeout` PT30M; under
Health and Immutable each batch may take up to `Timeout` before Elastic Beanstalk gives up.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any, Protocol

ROLLING_UPDATE = "aws:autoscaling:updatepolicy:rollingupdate"
HEALTH_REPORTING = "aws:elasticbeanstalk:healthreporting:system"
DEFAULT_TIMEOUT = 30 * 60.0
# Time-based batches without a `PauseTime` wait what Elastic Beanstalk computes from the
# instance type; this is the allowance ebami gives one such batch.
DEFAULT_PAUSE = 5 * 60.0
# Elastic Beanstalk's own work around the batches (the stack update, launching, draining).
MARGIN = 10 * 60.0
KINDS = ("disabled", "Time", "Health", "Immutable")

_DURATION = re.compile(r"P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?")


class Options(Protocol):
    """An environment's configuration (`ebami.aws.elasticbeanstalk.Configuration`)."""

    def value(self, namespace: str, option: str) -> str | None: ...


def duration_seconds(text: str) -> float | None:
    """Seconds of an ISO 8601 duration as Elastic Beanstalk writes them (`PT30M`, `PT1H5M`);
    None when `text` is not one."""
    match = _DURATION.fullmatch(text.strip())
    if match is None or text.strip() in ("P", "PT"):
        return None
    days, hours, minutes, seconds = (float(part or 0) for part in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


@dataclass(frozen=True)
class UpdatePolicy:
    kind: str  # one of KINDS
    max_batch_size: int | None = None
    min_in_service: int | None = None
    pause: float | None = None
    timeout: float = DEFAULT_TIMEOUT
    enhanced_health: bool = False

    @classmethod
    def of(cls, options: Options) -> UpdatePolicy:
        def get(name: str) -> str:
            return (options.value(ROLLING_UPDATE, name) or "").strip()

        enabled = get("RollingUpdateEnabled").lower() == "true"
        kind = get("RollingUpdateType") or "Time"
        if not enabled:
            kind = "disabled"
        elif kind not in KINDS:
            kind = "Time"
        return cls(
            kind=kind,
            max_batch_size=_count(get("MaxBatchSize")),
            min_in_service=_count(get("MinInstancesInService")),
            pause=duration_seconds(get("PauseTime")) if get("PauseTime") else None,
            timeout=duration_seconds(get("Timeout") or "PT30M") or DEFAULT_TIMEOUT,
            enhanced_health=(options.value(HEALTH_REPORTING, "SystemType") or "") == "enhanced",
        )

    @property
    def rolls_back_itself(self) -> bool:
        """Whether Elastic Beanstalk reverts a failed update on its own: under Health and
        Immutable a batch that fails its health checks ends the update and the environment is
        rolled back to its previous configuration; under Time or disabled, nothing is."""
        return self.kind in ("Health", "Immutable")

    def batches(self, instances: int) -> int:
        """How many passes replace `instances` instances."""
        if self.kind in ("disabled", "Immutable") or instances <= 0:
            return 1
        return math.ceil(instances / max(1, self.max_batch_size or 1))

    def deadline(self, instances: int) -> float:
        """Seconds a change of AMI may take under this policy before ebami calls it failed."""
        if self.kind == "Time":
            per_batch = self.pause if self.pause is not None else DEFAULT_PAUSE
        else:
            per_batch = self.timeout
        return MARGIN + self.batches(instances) * per_batch

    def describe(self, instances: int) -> str:
        """What a change of AMI does, in one line."""
        count = f"{instances} instance{'s' if instances != 1 else ''}"
        if self.kind == "disabled":
            return f"rolling updates disabled: all {count} replaced at once"
        if self.kind == "Immutable":
            return (
                f"Immutable: {count} launched in a temporary Auto Scaling group, kept only if "
                f"healthy within {self.timeout:g} s"
            )
        size = max(1, self.max_batch_size or 1)
        batches = self.batches(instances)
        wait = (
            f"pause {self.pause:g} s"
            if self.kind == "Time" and self.pause is not None
            else "pause computed by Elastic Beanstalk"
            if self.kind == "Time"
            else f"each batch healthy within {self.timeout:g} s"
        )
        return (
            f"{self.kind}-based rolling update: {count} in {batches} batch"
            f"{'es' if batches != 1 else ''} of {size}, {wait}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "max_batch_size": self.max_batch_size,
            "min_instances_in_service": self.min_in_service,
            "pause_seconds": self.pause,
            "timeout_seconds": self.timeout,
            "enhanced_health": self.enhanced_health,
        }


def _count(text: str) -> int | None:
    return int(text) if text.isdigit() else None
