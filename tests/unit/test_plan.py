"""The plan/execute core: instructions run in order with their outputs passed on, the clean-up
always runs (within its own deadline, naming what it could not remove), and the display
executor shows exactly the plan the executor would run."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ebami.core.errors import ExitCode, LeftBehind, Leftover
from ebami.core.plan import Executor, Instruction, Plan, Ref, Step, plan_rows
from ebami.core.waiting import Deadline


class Said:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def progress(self, message: str) -> None:
        self.lines.append(message)

    def detail(self, message: str) -> None:
        self.lines.append(message)

    def warn(self, message: str) -> None:
        self.lines.append(message)


@dataclass(frozen=True)
class Thing:
    name: str
    path: Path


class Actions:
    def __init__(self, fail_on: str | None = None, signal_in_cleanup: bool = False) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail_on = fail_on
        self.signal_in_cleanup = signal_in_cleanup

    def make(self, name: str) -> Thing:
        self.calls.append(("make", {"name": name}))
        if self.fail_on == "make":
            raise RuntimeError("make failed")
        return Thing(name, Path("/tmp") / name)

    def use(self, thing: Thing, times: int) -> str:
        self.calls.append(("use", {"thing": thing, "times": times}))
        if self.fail_on == "use":
            raise KeyboardInterrupt
        return thing.name * times

    def remove(self, thing: Thing | None) -> str:
        self.calls.append(("remove", {"thing": thing}))
        if self.signal_in_cleanup:
            os.kill(os.getpid(), signal.SIGTERM)  # held back until the clean-up is done
        return "removed" if thing else "nothing"


PLAN = Plan(
    "demo",
    {"Target": "x"},
    (
        Instruction("make", "making x", {"name": "x"}, output="thing"),
        Instruction("use", "using it", {"thing": Ref("thing"), "times": 2}, output="used"),
    ),
    cleanup=(Instruction("remove", "removing it", {"thing": Ref("thing")}, output="gone"),),
)


def test_outputs_flow_to_later_instructions_and_cleanup_runs_last() -> None:
    actions, said = Actions(), Said()
    executor = Executor(actions, said)
    outputs = executor.execute(PLAN)
    assert outputs is executor.outputs
    assert [name for name, _ in actions.calls] == ["make", "use", "remove"]
    assert actions.calls[1][1]["thing"] == Thing("x", Path("/tmp/x"))
    assert executor.outputs["used"] == "xx"
    assert executor.outputs["gone"] == "removed"
    assert said.lines == ["making x", "using it", "removing it"]
    assert executor.executed == [*PLAN.instructions, *PLAN.cleanup]


def test_a_signal_during_cleanup_waits_for_it_then_interrupts() -> None:
    actions = Actions(signal_in_cleanup=True)
    executor = Executor(actions, Said())
    with pytest.raises(KeyboardInterrupt):
        executor.execute(PLAN)
    assert executor.outputs["gone"] == "removed"  # the clean-up was not cut short


def test_cleanup_gets_none_for_what_never_came_to_be() -> None:
    actions = Actions(fail_on="make")
    executor = Executor(actions, Said())
    with pytest.raises(RuntimeError, match="make failed"):
        executor.execute(PLAN)
    assert actions.calls[-1] == ("remove", {"thing": None})


def dry_run(plan: Plan) -> Any:
    """What `--dry-run -o json` prints of a plan (`ebami.cli.views.dry_run_view`)."""
    return {"dry_run": True, **plan.to_json()}


def test_the_dry_run_shows_the_plan_and_runs_nothing() -> None:
    shown = dry_run(PLAN)
    assert [item["action"] for item in shown["instructions"]] == ["make", "use"]
    assert shown["instructions"][1]["params"] == {
        "thing": {"output_of": "thing"},
        "times": 2,
    }
    assert shown["cleanup"][0]["message"] == "removing it"
    json.dumps(shown)  # plain JSON all through

    assert plan_rows(PLAN) == [
        ("Target", "x"),
        ("1.", "making x"),
        ("   name", "x"),
        ("2.", "using it"),
        ("   thing", "thing (from an earlier step)"),
        ("   times", "2"),
        ("always:", "removing it"),
        ("   thing", "thing (from an earlier step)"),
    ]


def test_long_values_are_shortened_in_the_table_only() -> None:
    text = "line\n" * 100
    plan = Plan("demo", {}, (Instruction("make", "making", {"name": text}),))
    rows = plan_rows(plan)
    assert len(rows[1][1]) == 160
    assert rows[1][1].endswith("…")
    assert dry_run(plan)["instructions"][0]["params"]["name"] == text


def test_an_empty_plan_says_there_is_nothing_to_do() -> None:
    rows = plan_rows(Plan("demo", {"Target": "y"}))
    assert rows == [("Target", "y"), ("Nothing to do", "no instruction changes anything")]


class FailingCleanUp:
    def __init__(self) -> None:
        self.calls: list[str] = []

    def work(self) -> None:
        self.calls.append("work")
        raise RuntimeError("the work failed")

    def first(self) -> None:
        self.calls.append("first")
        raise OSError("the first clean-up failed")

    def second(self) -> None:
        self.calls.append("second")


TWO_CLEANUPS = Plan(
    "demo",
    instructions=(Instruction("work", "working"),),
    cleanup=(Instruction("first", "cleaning 1"), Instruction("second", "cleaning 2")),
)


def test_a_failed_clean_up_step_neither_stops_the_others_nor_hides_the_failure() -> None:
    actions, said = FailingCleanUp(), Said()
    with pytest.raises(RuntimeError, match="the work failed"):
        Executor(actions, said).execute(TWO_CLEANUPS)
    assert actions.calls == ["work", "first", "second"]
    assert "clean-up step failed: cleaning 1: the first clean-up failed" in said.lines


def test_a_failed_clean_up_is_raised_when_nothing_else_failed() -> None:
    plan = Plan("demo", cleanup=TWO_CLEANUPS.cleanup)
    actions = FailingCleanUp()
    with pytest.raises(OSError, match="the first clean-up failed"):
        Executor(actions, Said()).execute(plan)
    assert actions.calls == ["first", "second"]


class Leaving:
    """Actions whose clean-up cannot remove one thing (and whose work may fail)."""

    def __init__(self, work_fails: bool = False) -> None:
        self.calls: list[str] = []
        self.work_fails = work_fails

    def work(self) -> str:
        self.calls.append("work")
        if self.work_fails:
            raise RuntimeError("the work failed")
        return "result"

    def remove_instance(self) -> None:
        self.calls.append("remove_instance")
        raise LeftBehind(
            [
                Leftover(
                    "instance i-1", "Throttling", "aws ec2 terminate-instances --instance-ids i-1"
                )
            ]
        )

    def remove_group(self) -> str:
        self.calls.append("remove_group")
        return "removed"


LEAVING = Plan(
    "demo",
    instructions=(Instruction("work", "working", output="result"),),
    cleanup=(
        Instruction("remove_instance", "removing the instance"),
        Instruction("remove_group", "removing the group", output="group"),
    ),
)


def test_what_a_clean_up_could_not_remove_is_named_and_the_result_stands() -> None:
    actions, said = Leaving(), Said()
    executor = Executor(actions, said)
    outputs = executor.execute(LEAVING)
    # The run's own result, every clean-up step, and the leftover recorded, not raised.
    assert outputs == {"result": "result", "group": "removed"}
    assert actions.calls == ["work", "remove_instance", "remove_group"]
    assert executor.left_behind == [
        Leftover("instance i-1", "Throttling", "aws ec2 terminate-instances --instance-ids i-1")
    ]
    assert (
        "left behind: instance i-1 (Throttling); remove it with: "
        "aws ec2 terminate-instances --instance-ids i-1"
    ) in said.lines


def test_a_failed_run_keeps_its_failure_and_still_names_what_was_left() -> None:
    executor = Executor(Leaving(work_fails=True), Said())
    with pytest.raises(RuntimeError, match="the work failed"):
        executor.execute(LEAVING)
    assert [leftover.resource for leftover in executor.left_behind] == ["instance i-1"]


def test_the_clean_up_runs_within_its_own_deadline_on_the_executor_s_clock() -> None:
    now = [0.0]
    bound: list[tuple[object, float]] = []

    class SlowWork:
        def work(self) -> None:
            now[0] += 500.0  # the run used up far more than the clean-up may take

        def remove_group(self) -> None:
            bound.append(("during", now[0]))

    @contextmanager
    def bounds(deadline: Deadline) -> Iterator[None]:
        bound.append((deadline.seconds, deadline.remaining))
        yield

    plan = Plan(
        "demo",
        instructions=(Instruction("work", "working"),),
        cleanup=(Instruction("remove_group", "removing"),),
    )
    Executor(SlowWork(), Said(), bounds=bounds, cleanup_seconds=90.0, clock=lambda: now[0]).execute(
        plan
    )
    # A fresh deadline when the clean-up starts, whatever the run left of its own.
    assert bound == [(90.0, 90.0), ("during", 500.0)]


def test_left_behind_names_each_leftover_after_the_outcome_with_its_own_exit_code() -> None:
    error = LeftBehind(
        [
            Leftover(
                "instance i-1", "Throttling", "aws ec2 terminate-instances --instance-ids i-1"
            ),
            Leftover("key pair k", "AccessDenied", "aws ec2 delete-key-pair --key-name k"),
        ],
        outcome="ami ami-1 verified",
    )
    assert error.exit_code is ExitCode.LEFT_BEHIND
    assert ExitCode.LEFT_BEHIND.value == 6
    assert error.message == (
        "ami ami-1 verified, but left behind: instance i-1 (Throttling); remove it with: "
        "aws ec2 terminate-instances --instance-ids i-1; key pair k (AccessDenied); remove it "
        "with: aws ec2 delete-key-pair --key-name k"
    )


# --- every instruction a plan may hold names a method of its command's actions ---------------


def _steps_and_actions() -> list[tuple[type[Step], type]]:
    from ebami.apply.actions import ApplyActions
    from ebami.apply.steps import ApplyStep
    from ebami.build.actions import BuildActions
    from ebami.build.steps import BuildStep
    from ebami.lifecycle.channel_actions import ChannelActions
    from ebami.lifecycle.deletion import PruneActions
    from ebami.lifecycle.promote import PromoteStep
    from ebami.lifecycle.prune import PruneStep
    from ebami.lifecycle.revoke import RevokeStep
    from ebami.lifecycle.revoke_actions import RevokeActions
    from ebami.verify.actions import VerifyActions
    from ebami.verify.planner import VerifyStep

    return [
        (BuildStep, BuildActions),
        (VerifyStep, VerifyActions),
        (ApplyStep, ApplyActions),
        (PromoteStep, ChannelActions),
        (RevokeStep, RevokeActions),
        (PruneStep, PruneActions),
    ]


@pytest.mark.parametrize(
    ("steps", "actions"), _steps_and_actions(), ids=lambda item: getattr(item, "__name__", "")
)
def test_every_step_is_a_method_of_its_actions(steps: type[Step], actions: type) -> None:
    missing = [step.value for step in steps if not callable(getattr(actions, step.value, None))]
    assert missing == []


def test_an_instruction_its_actions_cannot_perform_is_a_clear_error() -> None:
    class Nothing:
        pass

    plan = Plan("x", instructions=(Instruction("vanish", "vanishing"),))
    with pytest.raises(TypeError, match="Nothing cannot perform vanish"):
        Executor(Nothing(), Said()).execute(plan)
