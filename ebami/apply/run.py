"""Performing an apply plan, and what happens when the update fails or is interrupted:

- Elastic Beanstalk rolled back by itself (a Health-based or Immutable update): followed and
  reported, never fought;
- the update failed (events, health, the configuration): the rollback plan switches back to
  the previous AMI and is followed the same way;
- the deadline passed: the update is aborted when Elastic Beanstalk can abort it, else the
  rollback plan runs once the environment is Ready; otherwise a person must look;
- Ctrl-C (or SIGTERM): the update is aborted and the abort followed to Ready; a second one
  stops following.

The record says which, with the events of each update, the health baseline read before it and
the evidence of each verdict (the new instances' health, the environment's against the
baseline); it is what `-o json` prints and `--record` writes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import Any

from ebami.apply.actions import ApplyActions, UpdateFailed, UpdateRefused, back_on
from ebami.apply.follow import Followed
from ebami.apply.outcome import Outcome
from ebami.apply.planner import ApplyPlan, baseline_json
from ebami.core.errors import EbamiError
from ebami.core.interrupts import stoppable
from ebami.core.plan import Plan
from ebami.core.reporting import Reporter


class Result(str, Enum):
    APPLIED = "applied"
    UNCHANGED = "unchanged"
    REFUSED = "refused"
    ROLLED_BACK = "rolled back"
    ROLLBACK_FAILED = "rollback failed"
    # Following the update failed (AWS kept refusing a call): where it ends is unknown.
    LOST = "lost track"
    INTERRUPTED = "interrupted"


@dataclass
class ApplyRecord:
    plan: ApplyPlan
    started: datetime
    result: Result | None = None
    reason: str = ""
    finished: datetime | None = None
    update: Followed | None = None
    rollback: Followed | None = None
    abort: Followed | None = None
    verified: Mapping[str, Any] | None = None
    request_ids: list[str] = field(default_factory=list)

    @property
    def console_url(self) -> str:
        return self.plan.environment.console_url(self.plan.region)

    def to_json(self) -> dict[str, Any]:
        plan = self.plan
        return {
            "environment": plan.environment.name,
            "application": plan.environment.application,
            "region": plan.region,
            "environment_arn": plan.environment.arn,
            "result": self.result.value if self.result else "started",
            "reason": self.reason,
            "previous_image_id": plan.current,
            "target_image_id": plan.target,
            "platform": plan.platform.to_json(),
            "health_before": plan.health_before,
            **baseline_json(plan),
            "gates": [gate.to_json() for gate in plan.gates],
            "policy": plan.policy.to_json(),
            "instances": plan.instances,
            "deadline_seconds": plan.deadline,
            "request_ids": list(self.request_ids),
            "update": self.update.to_json() if self.update else None,
            "rollback": self.rollback.to_json() if self.rollback else None,
            "abort": self.abort.to_json() if self.abort else None,
            "verify": dict(self.verified) if self.verified is not None else None,
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat() if self.finished else None,
            "console_url": self.console_url,
        }


def run_apply(
    plan: ApplyPlan,
    *,
    execute: Callable[[Plan], dict[str, Any]],
    actions: ApplyActions,
    reporter: Reporter,
    saved: Callable[[ApplyRecord], None] = lambda record: None,
    now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
) -> ApplyRecord:
    """Perform the plan; the record's result says how it ended. `saved` is called when the
    record changes (before the update starts, and at the end)."""
    record = ApplyRecord(plan, started=now())
    if plan.refusal:
        return _end(record, Result.REFUSED, plan.refusal, now)
    if plan.unchanged:
        return _end(record, Result.UNCHANGED, f"already on {plan.target}", now)
    saved(record)
    try:
        try:
            outputs = execute(plan.steps)
            record.update = outputs["followed"]
            _end(record, Result.APPLIED, record.update.reason if record.update else "", now)
        except UpdateFailed as failed:
            record.update = failed.followed
            try:
                _recover(plan, record, failed.followed, execute, actions, reporter)
            except KeyboardInterrupt:  # during the way back or the abort: abort that too
                _interrupted(plan, record, actions, reporter)
        except KeyboardInterrupt:
            _interrupted(plan, record, actions, reporter)
        except UpdateRefused as exc:  # nothing started: refused, as the plan's refusals are
            record.result = Result.REFUSED
            record.reason = exc.message
        except EbamiError as exc:
            if actions.request_id is None:
                raise  # no update started: nothing changed, the error says why
            record.result = Result.LOST
            record.reason = (
                f"following the update failed ({exc}); it goes on without ebami: see where it "
                f"ends with ebami events --env {plan.environment.name} -f, or {record.console_url}"
            )
        finally:
            record.request_ids = _request_ids(record, actions)
    finally:
        record.finished = now()
        saved(record)
    return record


def _recover(
    plan: ApplyPlan,
    record: ApplyRecord,
    followed: Followed,
    execute: Callable[[Plan], dict[str, Any]],
    actions: ApplyActions,
    reporter: Reporter,
) -> None:
    name = plan.environment.name
    back = plan.current
    if followed.outcome is Outcome.REVERTED:
        record.result = Result.ROLLED_BACK
        record.reason = (
            f"the update failed ({followed.reason}); Elastic Beanstalk rolled {name} back to "
            f"{back} itself"
        )
        return
    if followed.outcome is Outcome.TIMED_OUT:
        reporter.warn(f"{name}: {followed.reason}")
        record.abort = actions.abort(plan.policy.deadline(plan.instances))
        if record.abort is not None:
            if back_on(record.abort, back):
                record.result = Result.ROLLED_BACK
                record.reason = f"{followed.reason}; the update was aborted, {name} is on {back}"
            else:
                record.result = Result.ROLLBACK_FAILED
                record.reason = (
                    f"{followed.reason}; the abort ended {record.abort.reason} with ImageId "
                    f"{record.abort.image_id}"
                )
            return
        if followed.environment.status != "Ready":
            record.result = Result.ROLLBACK_FAILED
            record.reason = (
                f"{followed.reason}; Elastic Beanstalk reports no operation it can abort, so "
                "ebami cannot switch back"
            )
            return
    reporter.warn(f"{name}: the update failed ({followed.reason}); switching back to {back}")
    try:
        outputs = execute(plan.rollback_steps)
        record.rollback = outputs["followed"]
        record.result = Result.ROLLED_BACK
        record.reason = f"the update failed ({followed.reason}); {name} is back on {back}"
    except UpdateFailed as failed:
        record.rollback = failed.followed
        record.result = Result.ROLLBACK_FAILED
        record.reason = (
            f"the update failed ({followed.reason}), and so did the way back to {back} "
            f"({failed.followed.reason})"
        )
    except EbamiError as exc:
        record.result = Result.ROLLBACK_FAILED
        record.reason = (
            f"the update failed ({followed.reason}); switching back to {back} failed: {exc}"
        )


def _interrupted(
    plan: ApplyPlan, record: ApplyRecord, actions: ApplyActions, reporter: Reporter
) -> None:
    name = plan.environment.name
    record.result = Result.INTERRUPTED
    with stoppable():  # SIGTERM, too, is a second Ctrl-C from here on
        try:
            reporter.warn(
                f"interrupted: aborting {name}'s update if one runs (Ctrl-C again to stop "
                "following)"
            )
            record.abort = actions.abort(plan.policy.deadline(plan.instances))
        except KeyboardInterrupt:
            record.reason = (
                f"interrupted twice: stopped following {name}; see where it is with ebami "
                f"events --env {name} -f, or {record.console_url}"
            )
            return
    if record.abort is None:
        current = actions.configured_image()
        record.reason = f"interrupted; {name} had no update ebami could abort (it is on {current})"
        if current == plan.target and plan.current is not None and current != plan.current:
            # The update had ended: keep the way back, as a finished apply does.
            actions.remember_previous(plan.current)
            record.reason += f"; {plan.current} recorded as its rollback target"
    elif back_on(record.abort, plan.current):
        record.reason = f"interrupted; the update was aborted and {name} is back on {plan.current}"
    else:
        record.reason = (
            f"interrupted; the abort ended {record.abort.reason} with ImageId "
            f"{record.abort.image_id}"
        )


def _request_ids(record: ApplyRecord, actions: ApplyActions) -> list[str]:
    ids = []
    for followed in (record.update, record.rollback):
        if followed is not None:
            ids += [event.request_id for event in followed.events if event.request_id]
    if actions.request_id:
        ids.append(actions.request_id)
    return list(dict.fromkeys(ids))


def _end(
    record: ApplyRecord, result: Result, reason: str, now: Callable[[], datetime]
) -> ApplyRecord:
    record.result = result
    record.reason = reason
    record.finished = now()
    return record
