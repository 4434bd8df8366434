"""Performing an apply: success, Elastic Beanstalk's own rollback, ebami's rollback, a failed
rollback, the deadline, and Ctrl-C, each with the calls it makes (on a fake clock)."""

from __future__ import annotations

from contextlib import nullcontext
from typing import Any

from ebami.apply.actions import ApplyActions
from ebami.apply.follow import Follower
from ebami.apply.options import ApplyOptions
from ebami.apply.planner import ApplyPlan
from ebami.apply.run import ApplyRecord, Result, run_apply
from ebami.aws.eb_values import Environment, Event
from ebami.core.plan import Executor
from ebami.image import tags
from ebami.image.rollback import RollbackTargets
from tests.fakes.apply import (
    SETTLE,
    STOCK,
    Change,
    ScriptedEb,
    ami,
    plan_for,
    planner,
    success,
    world_with,
)
from tests.fakes.clock import FakeClock
from tests.helpers import RecordingReporter

# Where prod's rollback target is recorded (its environment id is e-123).
ROLLBACK = "/ebami/rollback-target/e-123"


def run(
    eb: ScriptedEb, plan: ApplyPlan, *, interrupt_at: float | None = None
) -> tuple[ApplyRecord, RecordingReporter]:
    reporter = RecordingReporter()
    clock = eb.clock

    def sleep(seconds: float) -> None:
        before = clock.now
        clock.sleep(seconds)
        if interrupt_at is not None and before < interrupt_at <= clock.now:
            raise KeyboardInterrupt

    follower = Follower(eb, reporter, ec2=eb, settle=SETTLE, on_event=lambda event: None)
    actions = ApplyActions(
        eb=eb,
        follower=follower,
        reporter=reporter,
        environment=plan.environment,
        enhanced_health=True,
        bounds=lambda deadline: nullcontext(),
        clock=clock,
        sleep=sleep,
        require_health_after_rollback=False,
        rollback=RollbackTargets(eb, "/ebami"),
    )
    saved: list[str] = []
    record = run_apply(
        plan,
        execute=lambda steps: Executor(actions, reporter).execute(steps),
        actions=actions,
        reporter=reporter,
        saved=lambda record: saved.append(record.result.value if record.result else "started"),
    )
    assert saved[0] == "started"
    assert record.result is not None
    assert saved[-1] == record.result.value
    return record, reporter


def mutations(eb: ScriptedEb) -> list[tuple[str, object]]:
    return list(eb.calls)


def test_applied_switches_follows_and_records_the_previous_ami() -> None:
    eb = ScriptedEb(FakeClock(), image=STOCK, on_update=[success("ami-0new")])
    record, _ = run(eb, plan_for())
    assert record.result is Result.APPLIED
    # The way back goes to SSM: nothing is written to the environment after its update.
    assert mutations(eb) == [
        ("update_image", "ami-0new"),
        ("put_value", (ROLLBACK, STOCK)),
    ]
    shown = record.to_json()
    assert shown["result"] == "applied"
    assert shown["request_ids"] == ["req-1"]
    assert shown["update"]["outcome"] == "succeeded"
    assert [event["message"] for event in shown["update"]["events"]][-1] == (
        "Environment update completed successfully."
    )


def test_refused_and_unchanged_make_no_call() -> None:
    eb = ScriptedEb(FakeClock(), image=STOCK)
    found = world_with(ami("ami-0new", **{tags.DRIVERS: "json-file"}))
    refused = planner(found).plan("prod", None, ApplyOptions(ami="ami-0new"))
    record, _ = run_refused(eb, refused)
    assert record.result is Result.REFUSED
    assert eb.calls == []


def run_refused(eb: ScriptedEb, plan: ApplyPlan) -> tuple[ApplyRecord, RecordingReporter]:
    reporter = RecordingReporter()
    follower = Follower(eb, reporter, ec2=eb, settle=1, on_event=lambda e: None)
    actions = ApplyActions(eb, follower, reporter, plan.environment, True,
                           lambda d: nullcontext(), eb.clock, eb.clock.sleep)  # fmt: skip
    record = run_apply(plan, execute=lambda steps: {}, actions=actions, reporter=reporter)
    return record, reporter


def test_elastic_beanstalk_s_own_rollback_is_followed_not_fought() -> None:
    reverted = [
        Change(0, status="Updating", messages=(("INFO", "Environment update is starting."),)),
        Change(1, image="ami-0new", messages=(("ERROR", "Failed to deploy configuration."),)),
        Change(3, image=STOCK, status="Ready", messages=(
            ("WARN", "The environment was reverted to the previous configuration setting."),)),
    ]  # fmt: skip
    eb = ScriptedEb(FakeClock(), image=STOCK, on_update=[reverted])
    record, _ = run(eb, plan_for())
    assert record.result is Result.ROLLED_BACK
    assert record.reason.endswith(f"Elastic Beanstalk rolled prod back to {STOCK} itself")
    assert mutations(eb) == [("update_image", "ami-0new")]


def test_a_failed_update_is_switched_back_and_that_is_followed() -> None:
    red_after = success("ami-0new")
    red_after.append(Change(2, health=("Red", "Severe")))
    back = success(STOCK)
    eb = ScriptedEb(FakeClock(), image=STOCK, on_update=[red_after, back])
    record, reporter = run(eb, plan_for())
    assert record.result is Result.ROLLED_BACK
    # Back to the platform's AMI: the option is removed, not set.
    assert mutations(eb) == [("update_image", "ami-0new"), ("update_image", None)]
    assert record.rollback is not None
    assert record.rollback.image_id == STOCK
    assert record.request_ids == ["req-1", "req-2"]
    assert any("switching back to" in line for line in reporter.lines)


def test_a_failed_way_back_needs_a_person() -> None:
    red_after = success("ami-0new")
    red_after.append(Change(2, health=("Red", "Severe")))
    stuck_back = [Change(0, status="Updating", abortable=False)]
    eb = ScriptedEb(FakeClock(), image=STOCK, on_update=[red_after, stuck_back])
    record, _ = run(eb, plan_for(timeout=60))
    assert record.result is Result.ROLLBACK_FAILED
    assert "and so did the way back" in record.reason
    assert "the rollback did not finish within 60 s" in record.reason


def test_the_deadline_aborts_and_follows_the_abort() -> None:
    stuck = [Change(0, status="Updating", abortable=True,
                    messages=(("INFO", "Environment update is starting."),))]  # fmt: skip
    eb = ScriptedEb(FakeClock(), image=STOCK, on_update=[stuck])
    eb.on_abort = [Change(2, status="Ready", image=STOCK, abortable=False)]
    record, _ = run(eb, plan_for(timeout=30))
    assert record.result is Result.ROLLED_BACK
    assert mutations(eb) == [("update_image", "ami-0new"), ("abort_update", None)]
    assert record.reason == (
        f"the update did not finish within 30 s (status Updating, health Red/Severe); the "
        f"update was aborted, prod is on {STOCK}"
    )


def test_a_deadline_with_nothing_to_abort_needs_a_person() -> None:
    stuck = [Change(0, status="Updating", abortable=False)]
    eb = ScriptedEb(FakeClock(), image=STOCK, on_update=[stuck])
    record, _ = run(eb, plan_for(timeout=30))
    assert record.result is Result.ROLLBACK_FAILED
    assert "reports no operation it can abort" in record.reason
    assert mutations(eb) == [("update_image", "ami-0new")]


def test_ctrl_c_aborts_the_update_and_follows_the_abort_to_ready() -> None:
    slow = success("ami-0new", after=100)
    eb = ScriptedEb(FakeClock(), image=STOCK, on_update=[slow])
    eb.on_abort = [Change(3, status="Ready", image=STOCK, abortable=False)]
    record, reporter = run(eb, plan_for(), interrupt_at=10)
    assert record.result is Result.INTERRUPTED
    assert record.reason == f"interrupted; the update was aborted and prod is back on {STOCK}"
    assert mutations(eb) == [("update_image", "ami-0new"), ("abort_update", None)]
    assert record.abort is not None
    assert record.abort.environment.status == "Ready"
    assert any("interrupted: aborting prod's update" in line for line in reporter.lines)


def test_a_second_ctrl_c_stops_following_and_says_where_to_look() -> None:
    slow = success("ami-0new", after=100)
    eb = ScriptedEb(FakeClock(), image=STOCK, on_update=[slow])
    eb.on_abort = [Change(50, status="Ready", image=STOCK)]
    reporter = RecordingReporter()
    clock = eb.clock
    interrupts = [10.0, 20.0]

    def sleep(seconds: float) -> None:
        clock.sleep(seconds)
        if interrupts and clock.now >= interrupts[0]:
            interrupts.pop(0)
            raise KeyboardInterrupt

    actions = ApplyActions(eb, Follower(eb, reporter, ec2=eb, settle=1, on_event=lambda e: None),
                           reporter, plan_for().environment, True, lambda d: nullcontext(),
                           clock, sleep)  # fmt: skip
    plan = plan_for()
    record = run_apply(
        plan,
        execute=lambda steps: Executor(actions, reporter).execute(steps),
        actions=actions,
        reporter=reporter,
    )
    assert record.result is Result.INTERRUPTED
    assert record.reason.startswith("interrupted twice: stopped following prod; see where it is")
    assert "ebami events --env prod -f" in record.reason
    assert "console.aws.amazon.com" in record.reason


def test_losing_track_of_a_running_update_sends_a_person_to_look() -> None:
    from ebami.core.errors import AwsError

    class Failing(ScriptedEb):
        def events(self, environment: object, **kwargs: object) -> list[Event]:
            raise AwsError("elasticbeanstalk:DescribeEvents failed: Throttling")

    eb = Failing(FakeClock(), image=STOCK, on_update=[success("ami-0new")])
    record, _ = run(eb, plan_for())
    assert record.result is Result.LOST
    assert record.reason.startswith(
        "following the update failed (elasticbeanstalk:DescribeEvents failed: "
        "Throttling); it goes on without ebami: see where it ends with ebami events --env prod -f"
    )
    assert mutations(eb) == [("update_image", "ami-0new")]


def test_ctrl_c_during_the_way_back_aborts_that_too() -> None:
    red_after = success("ami-0new")
    red_after.append(Change(2, health=("Red", "Severe")))
    slow_back = success(STOCK, after=100)
    eb = ScriptedEb(FakeClock(), image=STOCK, on_update=[red_after, slow_back])
    eb.on_abort = [Change(2, status="Ready", image="ami-0new", abortable=False)]
    # The update fails after the settle window (about 8 s); the way back runs from then on.
    record, _ = run(eb, plan_for(), interrupt_at=20)
    assert record.result is Result.INTERRUPTED
    assert mutations(eb) == [
        ("update_image", "ami-0new"),
        ("update_image", None),
        ("abort_update", None),
    ]
    assert record.reason == ("interrupted; the abort ended Ready with ImageId ami-0new")


def test_ctrl_c_after_the_update_ended_keeps_the_way_back() -> None:
    eb = ScriptedEb(FakeClock(), image=STOCK, on_update=[success("ami-0new")])
    # Interrupted in the settle window: the update is over, nothing to abort.
    record, _ = run(eb, plan_for(), interrupt_at=3)
    assert record.result is Result.INTERRUPTED
    assert record.reason == (
        f"interrupted; prod had no update ebami could abort (it is on ami-0new); "
        f"{STOCK} recorded as its rollback target"
    )
    assert mutations(eb) == [
        ("update_image", "ami-0new"),
        ("put_value", (ROLLBACK, STOCK)),
    ]


def test_an_update_started_by_a_refused_retry_is_not_called_nothing_changed() -> None:
    from ebami.core.errors import AwsError

    class Retried(ScriptedEb):
        def update_image(self, environment: Environment, image_id: str | None) -> str:
            super().update_image(environment, image_id)
            raise AwsError("elasticbeanstalk:UpdateEnvironment failed: InvalidParameterValue")

    eb = Retried(FakeClock(), image=STOCK, on_update=[success("ami-0new", after=100)])
    record, _ = run(eb, plan_for())
    assert record.result is Result.LOST
    assert record.reason.startswith(
        "following the update failed (elasticbeanstalk:UpdateEnvironment failed"
    )


def not_ready_error(retries: int) -> Exception:
    """UpdateEnvironment's refusal while another update runs, as botocore raises it after
    `retries` retries, and as ebami.aws words it."""
    from botocore.exceptions import ClientError

    from ebami.core.errors import AwsError

    message = "Environment named prod is in an invalid state for this operation. Must be Ready."
    response: Any = {
        "Error": {"Code": "InvalidParameterValue", "Message": message},
        "ResponseMetadata": {"RetryAttempts": retries},
    }
    cause = ClientError(response, "UpdateEnvironment")
    error = AwsError(
        f"elasticbeanstalk:UpdateEnvironment prod failed: InvalidParameterValue: {message}"
    )
    error.__cause__ = cause
    return error


class Busy(ScriptedEb):
    """Someone else's update runs: the environment is Updating, UpdateEnvironment refused."""

    retries = 0

    def update_image(self, environment: Environment, image_id: str | None) -> str:
        self.status = "Updating"
        raise not_ready_error(self.retries)


def test_an_update_refused_at_once_because_another_runs_is_a_refusal() -> None:
    eb = Busy(FakeClock(), image=STOCK, on_update=[])
    record, _ = run(eb, plan_for())
    assert record.result is Result.REFUSED
    assert record.reason.startswith(
        "prod is Updating, not Ready: another update is in progress and Elastic Beanstalk "
        "refused this one (elasticbeanstalk:UpdateEnvironment prod failed: InvalidParameterValue"
    )
    assert record.reason.endswith("nothing was changed. Follow it with ebami events --env prod "
                                  "-f, then run again")  # fmt: skip
    assert mutations(eb) == []  # no abort, no tag


def test_the_same_refusal_of_a_retried_call_may_be_this_run_s_update() -> None:
    eb = Busy(FakeClock(), image=STOCK, on_update=[])
    eb.retries = 1
    record, _ = run(eb, plan_for())
    assert record.result is Result.LOST


def enhanced_plan(color: str, status: str) -> ApplyPlan:
    """The plan of `apply --env prod --ami ami-0new` for an environment with enhanced health
    at `color`/`status` (its two instances too)."""
    from dataclasses import replace

    from ebami.apply.policy import HEALTH_REPORTING
    from tests.fakes.apply import ENVIRONMENT

    found = world_with(
        ami("ami-0new"),
        environment=replace(ENVIRONMENT, health=color, health_status=status),
        options={(HEALTH_REPORTING, "SystemType"): "enhanced"},
        causes=("3 % of the requests are erroring with HTTP 5xx",) if status == "Warning" else (),
    )
    plan = planner(found).plan("prod", None, ApplyOptions(ami="ami-0new"))
    assert found.reads.count("DescribeInstancesHealth") == 1
    return plan


def test_an_environment_at_warning_is_applied_and_the_record_has_baseline_and_evidence() -> None:
    stays_warning = success("ami-0new")
    stays_warning.append(Change(1.2, health=("Yellow", "Warning"), instances=("Green", "Ok")))
    eb = ScriptedEb(FakeClock(), image=STOCK, state=("Yellow", "Warning"),
                    on_update=[stays_warning])  # fmt: skip
    record, _ = run(eb, enhanced_plan("Yellow", "Warning"))
    assert record.result is Result.APPLIED
    shown = record.to_json()
    assert shown["baseline"]["status"] == "Warning"
    assert shown["baseline"]["causes"] == ["3 % of the requests are erroring with HTTP 5xx"]
    assert [item["status"] for item in shown["baseline"]["instances"]] == ["Warning", "Warning"]
    verdict = shown["update"]["verdict"]
    assert verdict["state"] == "healthy"
    assert verdict["baseline_health"] == "Yellow/Warning"
    assert verdict["environment_health"]["status"] == "Warning"
    assert [item["status"] for item in verdict["new_instances"]] == ["Ok", "Ok"]


def test_new_instances_that_cannot_place_tasks_are_rolled_back_with_the_evidence() -> None:
    severe = success("ami-0new")
    severe.append(Change(1.2, health=("Red", "Severe"), causes=("ATTRIBUTE on 2 instances",)))
    eb = ScriptedEb(FakeClock(), image=STOCK, state=("Green", "Ok"),
                    on_update=[severe, success(STOCK)])  # fmt: skip
    record, _ = run(eb, enhanced_plan("Green", "Ok"))
    assert record.result is Result.ROLLED_BACK
    assert mutations(eb) == [("update_image", "ami-0new"), ("update_image", None)]
    verdict = record.to_json()["update"]["verdict"]
    assert verdict["state"] == "unhealthy"
    assert [item["status"] for item in verdict["new_instances"]] == ["Severe", "Severe"]
    assert record.reason.startswith(
        "the update failed (unhealthy 5 s after the update: 2 of 2 new instances Severe"
    )
