"""What an update's health says once it has ended: healthy, still in progress, or unhealthy.

Elastic Beanstalk's enhanced health ("Enhanced health colors and statuses" in its developer
guide; `InstanceHealthSummary` in the API reference) speaks of each instance and of the
environment in one vocabulary: Ok and Info are Green (Info: an operation is in progress, nothing
is wrong), Warning is Yellow, Degraded and Severe are Red, and NoData, Unknown, Pending and
Suspended are Grey (no data yet, an operation within its command timeout, or monitoring
suspended, as during an UpdateEnvironment). An environment may sit at Warning for reasons no AMI
causes (a few 5xx, a deployment message), so the verdict judges what the update changed, against
the baseline read just before it:

- **the new instances** (those running the target AMI): each must be Ok or Info. Warning on a
  new instance is accepted only when the instances it replaced were at Warning or worse already
  (the cause predates the AMI); Degraded or Severe on a new instance is never healthy;
- **the environment**: no worse than its baseline (Warning before and after is fine; Ok before
  and Degraded after is not), Ok and Info counting as one;
- Grey on a new instance or on the environment (NoData, Unknown or Pending right after a launch,
  Grey while health checks are suspended) means **in progress**: wait, never fail on it; no new
  instance yet is in progress too. Grey that the environment already had before the update
  (Suspended before and after) is its baseline, not progress.

Anything unhealthy wins over anything in progress. Basic health (no enhanced reporting) keeps
its colours: Green is healthy, Red unhealthy, Grey and Yellow not yet healthy.

The follower (`ebami.apply.follow`) asks for a verdict once the update has ended and decides on
it with its settle window: healthy must hold for the window; unhealthy fails once the window
has passed; in progress waits for the deadline.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from ebami.aws.eb_values import Health, InstanceHealth

GREEN = ("Ok", "Info")
# Grey: no data yet, an operation within its command timeout, or monitoring suspended.
GREY = ("NoData", "Unknown", "Pending", "Suspended")
# How bad each status that is not Grey is.
RANK = {"Ok": 0, "Info": 0, "Warning": 1, "Degraded": 2, "Severe": 3}
WARNING = RANK["Warning"]
# The statuses whose causes say what is wrong (Grey, Info and Ok ones say an operation runs,
# or nothing): worth a `DescribeEnvironmentHealth` of their own.
WITH_CAUSES = ("Warning", "Degraded", "Severe")


class State(str, Enum):
    HEALTHY = "healthy"
    IN_PROGRESS = "in progress"
    UNHEALTHY = "unhealthy"


@dataclass(frozen=True)
class Baseline:
    """The environment's health just before its update: colour, status (enhanced health only)
    and causes, and each instance's health (enhanced health only)."""

    color: str
    status: str = ""
    causes: tuple[str, ...] = ()
    instances: tuple[InstanceHealth, ...] = ()
    enhanced: bool = False

    @property
    def shown(self) -> str:
        return f"{self.color}/{self.status}" if self.status else (self.color or "unknown")

    @property
    def worst_instance(self) -> int:
        """The rank of the worst instance that was not Grey (0 when none)."""
        return max((RANK.get(item.status, 0) for item in self.instances), default=0)

    def describe(self) -> str:
        """One line for the plan: the health and its first cause, and the instances by status."""
        text = self.shown + (f" ({self.causes[0]})" if self.causes else "")
        if self.enhanced:
            text += f"; instances: {count_by_status(self.instances) or 'none'}"
        return text

    def to_json(self) -> dict[str, Any]:
        return {
            "color": self.color,
            "status": self.status,
            "causes": list(self.causes),
            "enhanced": self.enhanced,
            "instances": [item.to_json() for item in self.instances],
        }


@dataclass(frozen=True)
class Judgement:
    """A verdict on the health after an update, and the evidence it rests on."""

    state: State
    reason: str
    health: Health | None = None
    # The instances that run the target AMI (enhanced health only).
    new_instances: tuple[InstanceHealth, ...] = ()
    # How many other instances the environment still had (old ones, being replaced).
    other_instances: int = 0
    baseline: Baseline | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "state": self.state.value,
            "reason": self.reason,
            "environment_health": self.health.to_json() if self.health else None,
            "baseline_health": self.baseline.shown if self.baseline else None,
            "new_instances": [item.to_json() for item in self.new_instances],
            "other_instances": self.other_instances,
        }


def judge_enhanced(
    baseline: Baseline,
    health: Health,
    new: Sequence[InstanceHealth],
    *,
    others: int = 0,
) -> Judgement:
    """The verdict on enhanced health: `health` is the environment's now, `new` its instances
    that run the target AMI, `others` how many it has besides."""
    unhealthy: list[str] = []
    waiting: list[str] = []
    status = health.status
    cause = f": {health.causes[0]}" if health.causes else ""
    if status in GREY or status not in RANK:
        if status != baseline.status:
            waiting.append(f"environment health {_shown(health)}")
    elif RANK[status] > RANK.get(baseline.status, 0):
        unhealthy.append(f"environment health {_shown(health)}, was {baseline.shown}{cause}")
    if not new:
        waiting.append("no instance runs the target AMI yet")
    bad: dict[str, list[InstanceHealth]] = {}
    unsure: list[InstanceHealth] = []
    for item in new:
        rank = RANK.get(item.status)
        if rank is None:
            unsure.append(item)
        elif rank > WARNING or baseline.worst_instance < rank:
            bad.setdefault(item.status, []).append(item)
    for shown_status, items in bad.items():
        causes = next((item.causes[0] for item in items if item.causes), "")
        unhealthy.insert(
            0,
            f"{len(items)} of {len(new)} new instances {shown_status} "
            f"({', '.join(item.instance_id for item in items)})"
            + (f": {causes}" if causes else ""),
        )
    if unsure:
        waiting.append(f"new instances {count_by_status(unsure)}")
    if unhealthy and not any(text.startswith("environment") for text in unhealthy) and cause:
        unhealthy.append(f"environment health {_shown(health)}{cause}")
    if unhealthy:
        state, reason = State.UNHEALTHY, "; ".join(unhealthy)
    elif waiting:
        state, reason = State.IN_PROGRESS, "; ".join(waiting)
    else:
        state = State.HEALTHY
        reason = f"{_shown(health)} (was {baseline.shown}); new instances: {count_by_status(new)}"
    return Judgement(state, reason, health, tuple(new), others, baseline)


def judge_basic(color: str, baseline: Baseline | None = None) -> Judgement:
    """The verdict on basic health, by colour: Green healthy, Red unhealthy, Yellow healthy
    when the environment was Yellow or Red before the update (no worse than its baseline: the
    failing checks are not the update's), else waiting, as Grey is."""
    if color == "Green":
        return Judgement(State.HEALTHY, "Green", baseline=baseline)
    if color == "Red":
        return Judgement(State.UNHEALTHY, "health Red", baseline=baseline)
    if color == "Yellow" and baseline is not None and baseline.color in ("Yellow", "Red"):
        reason = f"Yellow (was {baseline.color}): no worse than before the update"
        return Judgement(State.HEALTHY, reason, baseline=baseline)
    return Judgement(State.IN_PROGRESS, f"health {color or 'unknown'}", baseline=baseline)


def count_by_status(instances: Sequence[InstanceHealth]) -> str:
    """`2 Ok, 1 Pending`: how many instances have each status, in the order first met."""
    counts: dict[str, int] = {}
    for item in instances:
        counts[item.status or "no data"] = counts.get(item.status or "no data", 0) + 1
    return ", ".join(f"{count} {status}" for status, count in counts.items())


def _shown(health: Health) -> str:
    return f"{health.color}/{health.status}" if health.status else health.color
