"""Fleet apply: several environments switched in waves, the environments of a wave at the same
time.

Waves: the first `canary` environments alone (wave 1, the canary), then the rest `concurrency`
at a time, in the order given. A wave starts only when every environment of the previous one
ended applied or unchanged (and passed `--verify`, when asked). When one fails (refused, rolled
back, rollback failed, lost track, verify failed, or an error before any change), the other
environments of its wave still run to their end (a healthy update is never cut short; each
failed one is rolled back by its own run, `ebami.apply.run`), and no later wave starts: their
environments are reported `skipped`, and no change is asked of AWS for them.

Before wave 1 (`ebami.apply.orchestrator`), every environment is found and planned (reads only): two
names of one environment, or any refusal or error, stops the run with nothing changed
(`preflight_error` names every one); each wave plans again, with the target chosen then.

Threads and signals: each environment's run (its plan, its update, the following, the way
back) runs in a worker thread. Signals reach only the main thread, and `ebami.core.interrupts`'s
handlers can be set only there: while the waves run, the main thread's handler only counts
Ctrl-C and SIGTERM (`StopSignal`), and each worker's sleep (`StopSignal.sleeper`, the sleep of
its update's deadlines) raises KeyboardInterrupt at its first pause after each new signal. So
the worker takes run_apply's own Ctrl-C path: the first signal aborts its update and follows
the abort; a second one stops following. A worker that had not started its update yet stops
before any change. The main thread waits for every worker, then the run ends with 130.

AWS sessions: the workers share one session per region (the CLI's factory per region, made
on the main thread): botocore's clients are thread-safe, and the deadline that bounds a call
(`AwsSession.bounded`) is each thread's own.

Outcomes, worst first; the run's exit code is its worst environment's:

1. rollback failed, lost track: a person must look (9)
2. interrupted (130); a run interrupted between waves ends so too
3. verify failed: the environment runs the new AMI and its instances failed `ebami verify` (5)
4. rolled back: the update failed and the environment is back where it was (8)
5. error: the run stopped before changing the environment (planning found no AMI, AWS
   refused a call...): the error's own code (4, 3...)
6. refused: a gate refused, or the environment was not Ready; nothing changed (7)
7. skipped, unchanged, applied (0)
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, Future, wait
from dataclasses import dataclass

from ebami.apply.run import ApplyRecord, Result
from ebami.apply.waves import Wave
from ebami.core.errors import (
    CheckFailed,
    EbamiError,
    Interrupted,
    NeedsAttention,
    Refused,
    RolledBack,
)
from ebami.core.interrupts import STOP_SIGNALS, Sleeper, StopSignal, handling
from ebami.core.reporting import Reporter
from ebami.core.waiting import Sleep

# Results besides run_apply's own (`ebami.apply.run.Result`).
PENDING = "pending"  # its wave has not ended yet
SKIPPED = "skipped"
ERROR = "error"
VERIFY_FAILED = "verify failed"
# Worst first (see the module's docstring).
SEVERITY = (
    Result.ROLLBACK_FAILED.value,
    Result.LOST.value,
    Result.INTERRUPTED.value,
    VERIFY_FAILED,
    Result.ROLLED_BACK.value,
    ERROR,
    Result.REFUSED.value,
    SKIPPED,
    Result.UNCHANGED.value,
    Result.APPLIED.value,
    PENDING,
)


# --- running the waves ----------------------------------------------------------------------------


@dataclass
class EnvironmentRun:
    """One environment of the fleet: its wave, how it ended and why."""

    name: str
    wave: Wave
    result: str = PENDING
    reason: str = ""
    record: ApplyRecord | None = None
    error: EbamiError | None = None

    @property
    def ended(self) -> bool:
        """Whether it was tried and ended (not pending, not skipped)."""
        return self.result not in (PENDING, SKIPPED)

    @property
    def ok(self) -> bool:
        return self.result in (Result.APPLIED.value, Result.UNCHANGED.value)

    @property
    def severity(self) -> int:
        return SEVERITY.index(self.result)


# Apply to one environment (in a worker thread) with this sleep; raises an EbamiError when it
# stopped before any change, KeyboardInterrupt when a signal came before the update started.
ApplyOne = Callable[[str, Sleeper], ApplyRecord]
# Verify the instances of an environment just applied (in the main thread): None when they
# pass, else what failed.
VerifyOne = Callable[["EnvironmentRun"], str | None]


class FleetRun:
    """Runs the waves (see the module's docstring); `runs` lists every environment in order,
    `interrupted` whether a signal stopped the run."""

    def __init__(
        self,
        waves: Sequence[Wave],
        *,
        apply_one: ApplyOne,
        reporter: Reporter,
        stop: StopSignal | None = None,
        verify_one: VerifyOne | None = None,
        sleep: Callable[[str], Sleep] | None = None,
    ) -> None:
        """`sleep(name)` is the pause of the worker of environment `name` (by default a pause
        a signal cuts short), under its `StopSignal.sleeper`."""
        self._waves = tuple(waves)
        self._apply_one = apply_one
        self._reporter = reporter
        self.verify_one = verify_one
        self._sleep = sleep
        self.stop = stop or StopSignal()
        self.runs = [EnvironmentRun(name, wave) for wave in self._waves for name in wave.names]
        self.interrupted = False
        self._several = len(self.runs) > 1

    def run(self, executor: Executor) -> list[EnvironmentRun]:
        """Run the waves; `executor` runs each environment's `apply_one` (a pool of threads as
        wide as the widest wave)."""
        with handling(dict.fromkeys(STOP_SIGNALS, self.stop.handle)):
            for wave in self._waves:
                if self.stop.count:
                    self.interrupted = True
                    self._skip(wave, "interrupted before its wave started")
                    continue
                failed = self._failed()
                if failed:
                    self._skip(wave, f"not started: {failed} failed in an earlier wave")
                    continue
                self._run_wave(wave, executor)
            self.interrupted = self.interrupted or self.stop.count > 0
        return self.runs

    def _run_wave(self, wave: Wave, executor: Executor) -> None:
        if self._several:
            self._reporter.progress(f"{wave.describe(len(self._waves))}: {', '.join(wave.names)}")
        runs = [run for run in self.runs if run.wave is wave]
        futures: list[Future[None]] = [
            executor.submit(self._apply, run, self.stop.sleeper(self._sleep_of(run.name)))
            for run in runs
        ]
        # Every worker runs to its end; the handler keeps counting signals meanwhile.
        pending = set(futures)
        while pending:
            _, pending = wait(pending, timeout=1.0)
        for future in futures:
            future.result()  # a bug in a worker is raised here, once all have ended
        if self.verify_one is not None:
            for run in runs:
                if run.result == Result.APPLIED.value and not self.stop.count:
                    self._verify(run, self.verify_one)
        bad = [f"{run.name} ({run.result})" for run in runs if not run.ok]
        if bad and wave is not self._waves[-1]:
            self._reporter.warn(
                f"{wave.describe(len(self._waves))}: {', '.join(bad)}; "
                "the later waves will not start"
            )

    def _sleep_of(self, name: str) -> Sleep | None:
        return self._sleep(name) if self._sleep is not None else None

    def _apply(self, run: EnvironmentRun, sleep: Sleeper) -> None:
        try:
            record = self._apply_one(run.name, sleep)
        except EbamiError as exc:
            run.result, run.reason, run.error = ERROR, exc.message, exc
            return
        except KeyboardInterrupt:
            run.result = Result.INTERRUPTED.value
            run.reason = "interrupted before its update started: nothing changed"
            return
        run.record = record
        run.result = record.result.value if record.result else ERROR
        run.reason = record.reason

    def _verify(self, run: EnvironmentRun, verify_one: VerifyOne) -> None:
        try:
            failure = verify_one(run)
        except (KeyboardInterrupt, Interrupted):
            # ebami verify cleaned up after itself. The environment runs the new AMI: it stays
            # applied, and the run ends interrupted (later waves do not start).
            self.stop.stop()
            run.reason = f"{run.reason}; verify interrupted" if run.reason else "verify interrupted"
            return
        except EbamiError as exc:
            failure = exc.message
        if failure is not None:
            run.result, run.reason = VERIFY_FAILED, failure

    def _failed(self) -> str | None:
        bad = [run.name for run in self.runs if run.ended and not run.ok]
        return ", ".join(bad) if bad else None

    def _skip(self, wave: Wave, reason: str) -> None:
        for run in self.runs:
            if run.wave is wave:
                run.result, run.reason = SKIPPED, reason


def worst(runs: Sequence[EnvironmentRun]) -> EnvironmentRun | None:
    """The environment that ended worst, if any did not end well (the first of equals)."""
    bad = [run for run in runs if run.ended and not run.ok]
    return min(bad, key=lambda run: run.severity) if bad else None


def outcome_error(runs: Sequence[EnvironmentRun], *, interrupted: bool) -> EbamiError | None:
    """The error the run ends with (None: every environment applied or unchanged), from its
    worst environment's outcome."""
    run = worst(runs)
    if interrupted and (run is None or run.severity > SEVERITY.index(Result.INTERRUPTED.value)):
        skipped = [item.name for item in runs if item.result == SKIPPED]
        left = f"; not started: {', '.join(skipped)}" if skipped else ""
        return Interrupted(f"interrupted{left}")
    if run is None:
        return None
    return _error_of(run)


def preflight_error(runs: Sequence[EnvironmentRun]) -> EbamiError | None:
    """The error of a fleet that may not start (None: it may): every environment the planning
    before wave 1 refused or failed, named with why; the worst one's exit code."""
    failed = [run for run in runs if run.result in (ERROR, Result.REFUSED.value)]
    if not failed:
        return None
    error = copy.copy(_error_of(min(failed, key=lambda run: run.severity)))
    why = "; ".join(f"{run.name}: {run.reason}" for run in failed)
    message = (
        f"{len(failed)} of {len(runs)} environments may not be switched, so none is "
        f"(nothing changed): {why}"
    )
    error.message = message
    error.args = (message,)
    return error


def _error_of(run: EnvironmentRun) -> EbamiError:
    name, reason = run.name, run.reason
    if run.result == ERROR and run.error is not None:
        return run.error
    if run.result == Result.REFUSED.value:
        return Refused(f"{name}: {reason}")
    if run.result == Result.ROLLED_BACK.value:
        return RolledBack(f"{name}: {reason}")
    if run.result == VERIFY_FAILED:
        return CheckFailed(f"{name}: {reason}")
    if run.result == Result.INTERRUPTED.value:
        return Interrupted(f"{name}: {reason}")
    if run.result == Result.ROLLBACK_FAILED.value and run.record is not None:
        record = run.record
        events = [
            event.message
            for followed in (record.update, record.rollback, record.abort)
            if followed is not None
            for event in followed.events
        ][-3:]
        last = f"; last events: {' | '.join(events)}" if events else ""
        return NeedsAttention(f"{name}: {reason}; a person must look: {record.console_url}{last}")
    return NeedsAttention(f"{name}: {reason}")
