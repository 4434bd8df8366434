"""Fleet apply: the waves, stopping after a wave with a failure (the rest of that wave runs to
its end, the later waves get no call), Ctrl-C in the middle of a wave (every running update
aborted; a second one stops following), and the exit code of the worst outcome.

Each environment is a scripted one on a fake clock of its own, applied by the real run_apply;
the waves run inline (`Inline`), or in real threads where the test is about threads."""

from __future__ import annotations

import io
import json
import os
import signal
import threading
from collections.abc import Callable
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import nullcontext
from typing import Any

import pytest

from ebami.apply.actions import ApplyActions
from ebami.apply.fleet import (
    ERROR,
    PENDING,
    SKIPPED,
    VERIFY_FAILED,
    EnvironmentRun,
    FleetRun,
    outcome_error,
    preflight_error,
    worst,
)
from ebami.apply.follow import Follower
from ebami.apply.run import ApplyRecord, run_apply
from ebami.apply.waves import Wave, check_sizes, expand_groups, plan_waves
from ebami.cli.terminal import Terminal
from ebami.core.errors import EbamiError, ExitCode, InputError, Interrupted, NotFoundError
from ebami.core.interrupts import Sleeper, StopSignal
from ebami.core.plan import Executor as PlanExecutor
from ebami.core.waiting import Sleep
from ebami.image.rollback import RollbackTargets
from tests.fakes.apply import SETTLE, STOCK, Change, ScriptedEb, plan_for, success
from tests.fakes.clock import FakeClock
from tests.helpers import RecordingReporter

NEW = "ami-0new"
STARTING = (("INFO", "Environment update is starting."),)


class Inline(Executor):
    """Runs each task as it is submitted: the waves without threads."""

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # handed over as a worker's would be
            future.set_exception(exc)
        return future


def failing_health() -> list[Change]:
    """An update that ends Ready on the new AMI and then turns Red: ebami switches back."""
    return [*success(NEW), Change(2, health=("Red", "Severe"))]


def stalled() -> list[Change]:
    return [Change(0, status="Updating", abortable=True, messages=STARTING)]


class Fleet:
    """Named environments, each a ScriptedEb on its own clock; `apply_one` plans and applies
    one by the real run_apply with the worker's sleep, as the CLI does."""

    def __init__(self, names: list[str], scripts: dict[str, list[list[Change]]] | None = None):
        scripts = scripts or {}
        self.ebs = {
            name: ScriptedEb(
                FakeClock(), image=STOCK, on_update=list(scripts.get(name, [success(NEW)]))
            )
            for name in names
        }
        self.started: list[str] = []
        self.reporter = RecordingReporter()
        self.plan_errors: dict[str, Exception] = {}

    def apply_one(self, name: str, sleep: Sleeper) -> ApplyRecord:
        self.started.append(name)
        if name in self.plan_errors:
            raise self.plan_errors[name]
        plan = plan_for(timeout=600)
        eb = self.ebs[name]
        follower = Follower(eb, self.reporter, ec2=eb, settle=SETTLE, on_event=lambda event: None)
        actions = ApplyActions(
            eb=eb,
            follower=follower,
            reporter=self.reporter,
            environment=plan.environment,
            enhanced_health=True,
            bounds=lambda deadline: nullcontext(),
            clock=eb.clock,
            sleep=sleep,
            require_health_after_rollback=False,
            rollback=RollbackTargets(eb, "/ebami"),
        )
        sleep.check()
        return run_apply(
            plan,
            execute=lambda steps: PlanExecutor(actions, self.reporter).execute(steps),
            actions=actions,
            reporter=self.reporter,
        )

    def sleep_of(self, name: str) -> Sleep:
        return self.ebs[name].clock.sleep

    def calls(self, name: str) -> list[tuple[str, object]]:
        return list(self.ebs[name].calls)

    def run(
        self,
        waves: tuple[Wave, ...],
        *,
        executor: Executor | None = None,
        sleep: Callable[[str], Sleep] | None = None,
        stop: StopSignal | None = None,
        verify_one: Callable[[EnvironmentRun], str | None] | None = None,
    ) -> FleetRun:
        fleet = FleetRun(
            waves,
            apply_one=self.apply_one,
            reporter=self.reporter,
            stop=stop,
            verify_one=verify_one,
            sleep=sleep or self.sleep_of,
        )
        fleet.run(executor or Inline())
        return fleet


def names(count: int) -> list[str]:
    return [f"fleet-{number:02d}" for number in range(1, count + 1)]


def results(fleet: FleetRun) -> dict[str, str]:
    return {run.name: run.result for run in fleet.runs}


# --- waves --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("count", "canary", "concurrency", "sizes"),
    [
        (20, 1, 5, [1, 5, 5, 5, 4]),
        (20, 0, 5, [5, 5, 5, 5]),
        (7, 2, 3, [2, 3, 2]),
        (1, 1, 5, [1]),
        (2, 3, 5, [2]),
        (3, 1, 1, [1, 1, 1]),
    ],
)
def test_waves_the_canary_alone_then_concurrency_at_a_time(
    count: int, canary: int, concurrency: int, sizes: list[int]
) -> None:
    waves = plan_waves(names(count), canary=canary, concurrency=concurrency)
    assert [len(wave.names) for wave in waves] == sizes
    assert [wave.number for wave in waves] == list(range(1, len(sizes) + 1))
    assert [name for wave in waves for name in wave.names] == names(count)  # order kept
    assert [wave.canary for wave in waves] == [bool(canary)] + [False] * (len(sizes) - 1)


@pytest.mark.parametrize(
    ("canary", "concurrency", "message"),
    [
        (1, 0, "--concurrency 0 is out of range: give 1 to 20"),
        (1, 21, "--concurrency 21 is out of range: give 1 to 20"),
        (-1, 5, "--canary -1 is out of range: give 0 to the --concurrency (5); the canary "
                "environments run at the same time"),
        (3, 2, "--canary 3 is out of range: give 0 to the --concurrency (2); the canary "
               "environments run at the same time"),
    ],
)  # fmt: skip
def test_wave_sizes_out_of_range_are_refused(canary: int, concurrency: int, message: str) -> None:
    with pytest.raises(InputError) as refused:
        check_sizes(canary, concurrency)
    assert refused.value.message == message


def test_groups_expand_after_the_envs_in_their_order() -> None:
    groups = {"web": ["w1", "w2"], "api": ["a1"]}
    assert expand_groups(["x"], ["api", "web"], groups) == ["x", "a1", "w1", "w2"]
    assert expand_groups([], ["web"], groups) == ["w1", "w2"]


@pytest.mark.parametrize(
    ("envs", "chosen", "message"),
    [
        ([], ["nope"], "--group 'nope' is not a group of the settings; known: api, both, web"),
        (["w1"], ["web"], "w1 is named twice (by --env and by group web): name each "
                          "environment once"),
        ([], ["web", "both"], "w2 is named twice (by group web and by group both): name each "
                              "environment once"),
    ],
)  # fmt: skip
def test_bad_groups_are_refused(envs: list[str], chosen: list[str], message: str) -> None:
    groups = {"web": ["w1", "w2"], "api": ["a1"], "both": ["a1", "w2"]}
    with pytest.raises(InputError) as refused:
        expand_groups(envs, chosen, groups)
    assert refused.value.message == message


def test_no_groups_configured_says_so() -> None:
    with pytest.raises(InputError) as refused:
        expand_groups([], ["web"], {})
    assert refused.value.message == (
        "--group 'web' is not a group of the settings; known: none: add [groups] to ebami.toml"
    )


# --- running the waves ---------------------------------------------------------------------------


def test_every_wave_applied_in_order() -> None:
    fleet = Fleet(names(7))
    run = fleet.run(plan_waves(names(7), canary=1, concurrency=3))
    assert results(run) == dict.fromkeys(names(7), "applied")
    assert fleet.started == names(7)
    for name in names(7):
        assert [call for call, _ in fleet.calls(name)] == ["update_image", "put_value"]
    assert outcome_error(run.runs, interrupted=run.interrupted) is None
    assert [run.wave.number for run in run.runs] == [1, 2, 2, 2, 3, 3, 3]
    assert "wave 1 of 3 (canary): fleet-01" in fleet.reporter.lines


def test_a_failure_in_wave_two_lets_the_wave_finish_and_leaves_later_waves_untouched() -> None:
    all_names = names(9)
    fleet = Fleet(all_names, {"fleet-03": [failing_health(), success(STOCK)]})
    run = fleet.run(plan_waves(all_names, canary=1, concurrency=3))
    got = results(run)
    # Wave 2 (fleet-02..04): the failed one rolled back, the others applied to the end.
    assert got["fleet-01"] == "applied"
    assert (got["fleet-02"], got["fleet-03"], got["fleet-04"]) == (
        "applied",
        "rolled back",
        "applied",
    )
    assert fleet.calls("fleet-03") == [("update_image", NEW), ("update_image", None)]
    assert fleet.ebs["fleet-03"].image == STOCK
    assert fleet.ebs["fleet-04"].image == NEW
    # Waves 3 and 4: skipped, never planned, not one call.
    for name in all_names[4:]:
        assert got[name] == SKIPPED
        assert fleet.calls(name) == []
        assert name not in fleet.started
        assert [r.reason for r in run.runs if r.name == name] == [
            "not started: fleet-03 failed in an earlier wave"
        ]
    error = outcome_error(run.runs, interrupted=run.interrupted)
    assert error is not None
    assert error.exit_code is ExitCode.ROLLED_BACK
    assert error.message.startswith("fleet-03: the update failed")


def test_a_failed_canary_stops_everything_else() -> None:
    fleet = Fleet(names(4), {"fleet-01": [failing_health(), success(STOCK)]})
    run = fleet.run(plan_waves(names(4), canary=1, concurrency=5))
    assert results(run) == {
        "fleet-01": "rolled back",
        **dict.fromkeys(names(4)[1:], SKIPPED),
    }
    assert fleet.started == ["fleet-01"]


def test_an_error_before_any_change_stops_the_later_waves_with_its_own_code() -> None:
    fleet = Fleet(names(4))
    fleet.plan_errors["fleet-02"] = NotFoundError("no verified ebami AMI fits fleet-02")
    run = fleet.run(plan_waves(names(4), canary=1, concurrency=2))
    assert results(run) == {
        "fleet-01": "applied",
        "fleet-02": ERROR,
        "fleet-03": "applied",
        "fleet-04": SKIPPED,
    }
    error = outcome_error(run.runs, interrupted=False)
    assert isinstance(error, NotFoundError)
    assert error.exit_code is ExitCode.NOT_FOUND


def test_a_failed_verify_stops_the_later_waves() -> None:
    fleet = Fleet(names(3))
    verified: list[str] = []

    def verify_one(run: EnvironmentRun) -> str | None:
        verified.append(run.name)
        return "1 of 1 instance(s) failed" if run.name == "fleet-02" else None

    run = fleet.run(plan_waves(names(3), canary=1, concurrency=1), verify_one=verify_one)
    assert results(run) == {"fleet-01": "applied", "fleet-02": VERIFY_FAILED, "fleet-03": SKIPPED}
    assert verified == ["fleet-01", "fleet-02"]
    error = outcome_error(run.runs, interrupted=False)
    assert error is not None
    assert error.exit_code is ExitCode.CHECK_FAILED
    assert error.message == "fleet-02: 1 of 1 instance(s) failed"


# --- Ctrl-C ---------------------------------------------------------------------------------------


class Parked:
    """Each worker's pause on its own fake clock. Once its update has run `after` fake
    seconds, a worker parks (`rounds` times at most): it waits, for real, at the barrier and
    then for the next signal, so that each signal comes while every worker of the wave is
    under way (following its update, then following its abort)."""

    def __init__(
        self, fleet: Fleet, stop: StopSignal, parties: int, *, after: float, rounds: int
    ) -> None:
        self.fleet = fleet
        self.stop = stop
        self.after = after
        self.rounds = rounds
        self.arrived = threading.Barrier(parties + 1, timeout=30)
        self.parks: dict[str, int] = {}

    def sleep_of(self, name: str) -> Sleep:
        clock = self.fleet.ebs[name].clock

        def sleep(seconds: float) -> None:
            clock.sleep(seconds)
            parks = self.parks.get(name, 0)
            if clock.now >= self.after and parks < self.rounds and self.stop.count == parks:
                self.parks[name] = parks + 1
                self.arrived.wait()
                self.stop.wait(parks, 30)

        return sleep


def signal_when_parked(parked: Parked) -> threading.Thread:
    """A thread that sends SIGINT to this process each time every worker is parked."""

    def send() -> None:
        for _ in range(parked.rounds):
            parked.arrived.wait()
            os.kill(os.getpid(), signal.SIGINT)

    thread = threading.Thread(target=send)
    thread.start()
    return thread


def test_ctrl_c_in_a_wave_aborts_every_running_update_and_starts_no_other() -> None:
    all_names = names(5)
    scripts = {name: [stalled()] for name in all_names}
    fleet = Fleet(all_names, scripts)
    for eb in fleet.ebs.values():
        eb.on_abort = [Change(1, status="Ready", image=STOCK, abortable=False)]
    stop = StopSignal()
    parked = Parked(fleet, stop, 3, after=2, rounds=1)
    sender = signal_when_parked(parked)
    with ThreadPoolExecutor(max_workers=3) as pool:
        run = fleet.run(
            (Wave(1, tuple(all_names[:3])), Wave(2, tuple(all_names[3:]))),
            executor=pool,
            sleep=parked.sleep_of,
            stop=stop,
        )
    sender.join()
    for name in all_names[:3]:
        (entry,) = [r for r in run.runs if r.name == name]
        assert entry.result == "interrupted"
        assert entry.reason == (f"interrupted; the update was aborted and prod is back on {STOCK}")
        assert fleet.calls(name) == [("update_image", NEW), ("abort_update", None)]
    for name in all_names[3:]:
        assert results(run)[name] == SKIPPED
        assert fleet.calls(name) == []
    assert run.interrupted
    error = outcome_error(run.runs, interrupted=run.interrupted)
    assert error is not None
    assert error.exit_code is ExitCode.CTRL_C
    # The handler is the previous one again.
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_a_second_ctrl_c_stops_following_the_aborts() -> None:
    all_names = names(2)
    fleet = Fleet(all_names, {name: [stalled()] for name in all_names})
    for eb in fleet.ebs.values():
        eb.on_abort = [Change(500, status="Ready", image=STOCK)]  # a long way back
    stop = StopSignal()
    parked = Parked(fleet, stop, 2, after=2, rounds=2)
    sender = signal_when_parked(parked)
    with ThreadPoolExecutor(max_workers=2) as pool:
        run = fleet.run((Wave(1, tuple(all_names)),), executor=pool, sleep=parked.sleep_of,
                        stop=stop)  # fmt: skip
    sender.join()
    for entry in run.runs:
        assert entry.result == "interrupted"
        assert entry.reason.startswith("interrupted twice: stopped following prod")
        assert fleet.calls(entry.name) == [("update_image", NEW), ("abort_update", None)]
    assert stop.count == 2


def test_a_signal_before_the_update_started_changes_nothing() -> None:
    fleet = Fleet(names(2))
    stop = StopSignal()
    stop.stop()  # came while the environment was planned
    run = FleetRun(
        (Wave(1, tuple(names(2))),), apply_one=fleet.apply_one, reporter=fleet.reporter,
        stop=stop, sleep=fleet.sleep_of,
    )  # fmt: skip
    # The wave is started by hand: a run would see the signal before it and start nothing.
    run._run_wave(run.runs[0].wave, Inline())
    assert results(run) == dict.fromkeys(names(2), "interrupted")
    assert {entry.reason for entry in run.runs} == {
        "interrupted before its update started: nothing changed"
    }
    assert all(fleet.calls(name) == [] for name in names(2))


def test_a_sleeper_raises_once_per_signal_and_wakes_at_once() -> None:
    stop = StopSignal()
    sleeper = stop.sleeper()
    sleeper(0)  # no signal: a pause
    stopper = threading.Timer(0.05, stop.stop)
    stopper.start()
    with pytest.raises(KeyboardInterrupt):
        sleeper(3600)  # woken by the signal, not by the hour
    stopper.join()
    sleeper.check()  # raised already
    stop.stop()
    with pytest.raises(KeyboardInterrupt):
        sleeper.check()


# --- the exit code of the worst outcome ----------------------------------------------------------


def ended(result: str, error: EbamiError | None = None) -> EnvironmentRun:
    name = result.replace(" ", "-")
    return EnvironmentRun(name, Wave(1, ("x",)), result, f"because {result}", error=error)


@pytest.mark.parametrize(
    ("outcomes", "code"),
    [
        (["applied", "unchanged", SKIPPED], None),
        (["refused", "applied"], ExitCode.REFUSED),
        (["refused", ERROR], ExitCode.NOT_FOUND),
        ([ERROR, "rolled back"], ExitCode.ROLLED_BACK),
        (["rolled back", VERIFY_FAILED], ExitCode.CHECK_FAILED),
        ([VERIFY_FAILED, "interrupted"], ExitCode.CTRL_C),
        (["interrupted", "lost track"], ExitCode.NEEDS_ATTENTION),
        (["rolled back", "rollback failed", "refused"], ExitCode.NEEDS_ATTENTION),
    ],
)
def test_the_exit_code_is_the_worst_outcome_s(outcomes: list[str], code: ExitCode | None) -> None:
    runs = [ended(result, NotFoundError("not found") if result == ERROR else None)
            for result in outcomes]  # fmt: skip
    error = outcome_error(runs, interrupted=False)
    assert (error.exit_code if error else None) == code


def test_an_interrupt_between_waves_ends_130_naming_what_did_not_start() -> None:
    runs = [ended("applied"), ended(SKIPPED)]
    error = outcome_error(runs, interrupted=True)
    assert error is not None
    assert error.exit_code is ExitCode.CTRL_C
    assert error.message == "interrupted; not started: skipped"
    # Worse than an interrupt stays worse.
    found = worst([ended("interrupted"), ended("rollback failed")])
    assert found is not None
    assert found.result == "rollback failed"
    needs = outcome_error([ended("rollback failed")], interrupted=True)
    assert needs is not None
    assert needs.exit_code is ExitCode.NEEDS_ATTENTION
    assert ended(PENDING).ended is False


# --- the terminal --------------------------------------------------------------------------------


def test_lines_of_each_thread_carry_its_environment() -> None:
    stderr = io.StringIO()
    terminal = Terminal(stderr=stderr, environ={"NO_COLOR": "1", "CI": "1"})
    ready = threading.Barrier(2)

    def talk(name: str) -> None:
        with terminal.prefixed(name):
            ready.wait()
            for number in range(50):
                terminal.progress(f"{name} line {number}")
            terminal.warn("done")

    threads = [threading.Thread(target=talk, args=(name,)) for name in ("a", "b")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    terminal.progress("main")
    lines = stderr.getvalue().splitlines()
    assert len(lines) == 103
    for line in lines[:-1]:
        name = line[1]
        assert line in {f"[{name}] {name} line {n}" for n in range(50)} | {
            f"[{name}] warning: done"
        }
    assert lines[-1] == "main"


# --- Ctrl-C while verifying; refusals before wave 1 ---------------------------------------------


@pytest.mark.parametrize("raised", [KeyboardInterrupt, Interrupted])
def test_ctrl_c_while_verifying_is_an_interruption_not_a_failed_verify(raised: type) -> None:
    fleet = Fleet(names(3))

    def verify_one(run: EnvironmentRun) -> str | None:
        if raised is Interrupted:
            raise Interrupted("interrupted: verify stopped")
        raise KeyboardInterrupt

    run = fleet.run(plan_waves(names(3), canary=1, concurrency=2), verify_one=verify_one)
    # fleet-01 runs the new AMI: applied, and the run ends interrupted (130).
    assert results(run) == {"fleet-01": "applied", "fleet-02": SKIPPED, "fleet-03": SKIPPED}
    assert run.runs[0].reason.endswith("; verify interrupted")
    assert run.runs[1].reason == "interrupted before its wave started"
    assert run.interrupted
    error = outcome_error(run.runs, interrupted=run.interrupted)
    assert error is not None
    assert error.exit_code is ExitCode.CTRL_C
    assert fleet.calls("fleet-02") == []


def test_the_warning_after_a_failed_wave_says_how_each_ended() -> None:
    fleet = Fleet(names(3))
    run = fleet.run(
        plan_waves(names(3), canary=1, concurrency=2),
        verify_one=lambda run: "1 of 1 instance(s) failed",
    )
    assert results(run)["fleet-01"] == VERIFY_FAILED
    assert (
        "warning: wave 1 of 2 (canary): fleet-01 (verify failed); the later waves will not start"
    ) in fleet.reporter.lines


def test_refusals_before_wave_one_are_named_every_one_with_the_worst_code() -> None:
    runs = [
        ended("applied"),
        ended("refused"),
        ended(ERROR, NotFoundError("nope was not found")),
        ended("refused"),
    ]
    runs[3].name = "other"
    error = preflight_error(runs)
    assert error is not None
    assert error.exit_code is ExitCode.NOT_FOUND
    assert error.message == (
        "3 of 4 environments may not be switched, so none is (nothing changed): refused: "
        "because refused; error: because error; other: because refused"
    )
    assert str(error) == error.message
    assert preflight_error([ended("applied"), ended(SKIPPED)]) is None


# --- the --record file ----------------------------------------------------------------------------


def test_the_record_file_is_the_results_json_as_each_environment_ends(tmp_path: Any) -> None:
    from ebami.apply.results import ApplyResults

    path = tmp_path / "record.json"
    fleet = Fleet(names(3))
    run = FleetRun(
        plan_waves(names(3), canary=1, concurrency=2),
        apply_one=fleet.apply_one,
        reporter=fleet.reporter,
        sleep=fleet.sleep_of,
    )
    saved = ApplyResults(run, path, fleet.reporter, eb_name=lambda name: name)

    def written() -> Any:
        assert path.read_text() == json.dumps(saved.to_json(), indent=2) + "\n"
        return json.loads(path.read_text())

    saved.save()
    assert [entry["environment"] for entry in written()["environments"]] == names(3)
    run.run(Inline())
    for item in run.runs:
        assert item.record is not None
        saved.save(item.name, item.record)
        written()
    saved.save()
    assert [entry["result"] for entry in written()["environments"]] == ["applied"] * 3
    # An environment whose result changes after its record was written is written anew.
    run.runs[1].result, run.runs[1].reason = VERIFY_FAILED, "1 of 1 instance(s) failed"
    saved.save()
    entries = written()["environments"]
    assert [entry["result"] for entry in entries] == ["applied", VERIFY_FAILED, "applied"]
    assert entries[1]["reason"] == "1 of 1 instance(s) failed"
