"""One `ebami apply` as a whole: every environment found and planned, one target for the
fleet, the waves (`ebami.apply.fleet`), and `--verify` after each environment applied.

- **Before the first change** every environment is found (`ebami.apply.finding`: on the main
  thread, one `DescribeEnvironments` per region and application for up to 100 names) and two
  names of one environment are refused. With several environments each is planned
  (reads only, `--concurrency` at a time, what they share read once: `ebami.apply.reads`): a
  refusal or an error of any stops the run before wave 1, naming every one (`Preflight`); else
  each environment's target (the `--channel`'s AMI, or the newest verified AMI) is pinned for
  its wave, so that a promote, revoke or build during the canary does not change what later
  waves get.
- **Each wave** describes its environments again (together, per region and application),
  re-plans each from its plan before wave 1 with what can have changed (`ApplyPlanner.plan`:
  the configuration, the target AMI, the health baseline; the gates run again), then switches
  them, each in a worker thread.
- **`--dry-run`** plans every environment and shows each plan with its wave; nothing changes.

What a region offers (`RegionServices`) and how `--verify` proves instances are given by the
caller (the CLI's factory): this package knows neither sessions nor `ebami verify`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from ebami.apply.finding import PLAN_SECONDS, Finder, RegionServices, Target
from ebami.apply.fleet import (
    ERROR,
    PENDING,
    SKIPPED,
    EnvironmentRun,
    FleetRun,
    outcome_error,
    preflight_error,
)
from ebami.apply.gates import Verdict
from ebami.apply.options import ApplyOptions
from ebami.apply.planner import ApplyPlan, baseline_json
from ebami.apply.results import ApplyResults, names_json, wave_json
from ebami.apply.run import ApplyRecord, Result
from ebami.apply.waves import Wave
from ebami.core.errors import EbamiError, Refused
from ebami.core.interrupts import Sleeper
from ebami.core.plan import Plan
from ebami.core.reporting import Reporter


@dataclass(frozen=True)
class InstancesVerified:
    """What `ebami verify --env` found on an environment's instances after its update."""

    passed: bool
    # The failed checks in a line (when it did not pass).
    summary: str
    report: Mapping[str, Any]
    instances: int


# `ebami verify --env` on the instances of the environment just applied (main thread).
VerifyInstances = Callable[[Target, ApplyPlan], InstancesVerified]


class FleetReporter(Reporter, Protocol):
    def prefixed(self, name: str) -> AbstractContextManager[None]:
        """Within the block, this thread's lines carry the environment's name."""
        ...


class Preflight(EbamiError):
    """Several environments were planned before wave 1 and some may not be switched: nothing
    changed; `error` names every one (its exit code is the worst one's)."""

    def __init__(self, error: EbamiError) -> None:
        super().__init__(error.message)
        self.error = error
        self.exit_code = error.exit_code


@dataclass(frozen=True)
class ShownPlan:
    """One environment of a dry run: its plan (or the error planning it met) as shown."""

    steps: Plan
    entry: Mapping[str, Any]


@dataclass(frozen=True)
class DryRun:
    plans: tuple[ShownPlan, ...]
    waves: tuple[Wave, ...]
    several: bool
    # What the run would end with (a refusal, an environment that cannot be planned).
    error: EbamiError | None

    def to_json(self) -> dict[str, Any]:
        if not self.several:
            return dict(self.plans[0].entry)
        waves = [
            {"wave": wave.number, "canary": wave.canary, "environments": list(wave.names)}
            for wave in self.waves
        ]
        return {
            "dry_run": True,
            "waves": waves,
            "environments": [dict(item.entry) for item in self.plans],
        }


class FleetApply:
    """The environments of one `ebami apply`, in waves."""

    def __init__(
        self,
        waves: tuple[Wave, ...],
        options: ApplyOptions,
        *,
        target: Callable[[str], Target],
        reporter: FleetReporter,
        record: Path | None = None,
        concurrency: int = 1,
        verify: VerifyInstances | None = None,
    ) -> None:
        self.waves = waves
        self.options = options
        self._reporter = reporter
        self.concurrency = concurrency
        self.fleet = FleetRun(waves, apply_one=self._apply_one, reporter=reporter)
        if verify is not None:
            self.fleet.verify_one = lambda run: self._verify(run, verify)
        # Several environments: their lines on stderr carry their names, the results their
        # waves.
        self.several = len(self.fleet.runs) > 1
        self._finder = Finder([run.name for run in self.fleet.runs], target)
        self.results = ApplyResults(self.fleet, record, reporter, eb_name=self._finder.eb_name)
        # Several environments: the target each one's planning before wave 1 chose (--channel
        # or the newest verified AMI), which its wave switches to whatever the channel names by
        # then.
        self._pinned: dict[str, str] = {}
        # Several environments: each one's plan before wave 1, which its wave plans from.
        self._planned: dict[str, ApplyPlan] = {}
        self._wave_of = {name: wave for wave in waves for name in wave.names}

    # --- planning ------------------------------------------------------------------------------

    def plan(
        self, name: str, *, wave: Wave | None = None, baseline: bool = True
    ) -> tuple[RegionServices, ApplyPlan]:
        """`name`'s plan: before wave 1 (`wave` None) from the environment as found; in its
        wave from the environment as the wave's start found it and its plan before wave 1."""
        target = self._finder.target(name)
        options = self.options
        if name in self._pinned:
            options = dataclasses.replace(options, pinned=self._pinned[name])
        with target.services.bounded(PLAN_SECONDS):
            environment = (
                self._finder.found[name] if wave is None else self._finder.at_start(name, wave)
            )
            plan = target.services.plan_apply(
                environment,
                options,
                wave=wave.number if wave is not None else 0,
                earlier=self._planned.get(name),
                baseline=baseline,
            )
        return target.services, plan

    def _try_plan(self, name: str, baseline: bool) -> tuple[RegionServices, ApplyPlan] | EbamiError:
        try:
            return self.plan(name, baseline=baseline)
        except EbamiError as exc:
            return exc

    def _plan_all(
        self, *, baseline: bool
    ) -> dict[str, tuple[RegionServices, ApplyPlan] | EbamiError]:
        """Every environment found, planned (reads only), --concurrency at a time."""
        names = [run.name for run in self.fleet.runs if run.name in self._finder.found]
        with ThreadPoolExecutor(
            max_workers=max(1, min(self.concurrency, len(names))), thread_name_prefix="ebami-plan"
        ) as pool:
            planned = pool.map(lambda name: self._try_plan(name, baseline), names)
            return dict(zip(names, planned, strict=True))

    def prepare(self) -> None:
        """Before any change: every environment exists and no two names are one environment;
        with several, each is planned and may be switched (else `Preflight`, nothing changed,
        the results saved), and each environment's target is pinned for its wave."""
        errors = self._finder.find(keep_errors=self.several)
        if not self.several:
            return
        planned: dict[str, tuple[RegionServices, ApplyPlan] | EbamiError] = {
            **errors,
            **self._plan_all(baseline=False),
        }
        for run in self.fleet.runs:
            outcome = planned[run.name]
            if isinstance(outcome, EbamiError):
                self._failed_before(run, outcome)
            elif outcome[1].refusal is not None:
                self._failed_before(run, outcome[1])
            else:
                self._planned[run.name] = outcome[1]
                self._pin(run.name, outcome[1])
        error = preflight_error(self.fleet.runs)
        if error is None:
            return
        failed = ", ".join(run.name for run in self.fleet.runs if run.result != PENDING)
        for run in self.fleet.runs:
            if run.result == PENDING:
                run.result, run.reason = SKIPPED, f"not started: {failed} may not be switched"
        self.results.save()
        raise Preflight(error)

    def _pin(self, name: str, plan: ApplyPlan) -> None:
        if self._chosen_once():
            self._pinned[name] = plan.target

    def _failed_before(self, run: EnvironmentRun, outcome: ApplyPlan | EbamiError) -> None:
        """`run` refused (or failed) when planned before wave 1: nothing was asked to change."""
        if isinstance(outcome, EbamiError):
            run.result, run.reason, run.error = ERROR, outcome.message, outcome
            return
        now = datetime.now(timezone.utc)
        reason = outcome.refusal or ""
        run.record = ApplyRecord(outcome, now, Result.REFUSED, reason, finished=now)
        run.result, run.reason = Result.REFUSED.value, reason

    # --- the dry run ---------------------------------------------------------------------------

    def dry_run(self) -> DryRun:
        """Every environment's plan, with its wave when there are several; nothing changes.
        With several, an environment whose planning fails is shown with its error, and every
        refused or failed one is named in the error the run ends with."""
        if not self.several:
            self._finder.find(keep_errors=False)
            _, plan = self.plan(self.fleet.runs[0].name)
            entry = {"dry_run": True, **names_json(plan.environment.name, None)}
            shown = ShownPlan(plan.steps, {**entry, **plan.steps.to_json(), **baseline_json(plan)})
            refused = Refused(f"{plan.environment.name}: {plan.refusal}") if plan.refusal else None
            return DryRun((shown,), self.waves, False, refused)
        errors = self._finder.find(keep_errors=True)
        planned: dict[str, tuple[RegionServices, ApplyPlan] | EbamiError] = {
            **errors,
            **self._plan_all(baseline=True),
        }
        shown_plans = [self._shown(run, planned[run.name]) for run in self.fleet.runs]
        return DryRun(tuple(shown_plans), self.waves, True, preflight_error(self.fleet.runs))

    def _shown(
        self, run: EnvironmentRun, outcome: tuple[RegionServices, ApplyPlan] | EbamiError
    ) -> ShownPlan:
        wave, name = run.wave, run.name
        wave_fact = {"Wave": wave.describe(len(self.waves))}
        if isinstance(outcome, EbamiError):
            self._failed_before(run, outcome)
            steps = Plan("apply", {**wave_fact, "Environment": name, "Error": outcome.message})
            entry: dict[str, Any] = {
                **names_json(self._finder.eb_name(name), name),
                **wave_json(wave),
                "error": outcome.message,
                "exit_code": int(outcome.exit_code),
            }
            return ShownPlan(steps, {"dry_run": True, **entry})
        _, plan = outcome
        if plan.refusal is not None:
            self._failed_before(run, plan)
        notes = plan.steps.notes
        if plan.refusal is None and self._chosen_once():
            notes = (
                *notes,
                "the target is chosen once, now, for every wave: a later promote, revoke or "
                "build does not change it",
            )
        steps = dataclasses.replace(
            plan.steps, facts={**wave_fact, **plan.steps.facts}, notes=notes
        )
        entry = {
            **names_json(plan.environment.name, name),
            **wave_json(wave),
            "refusal": plan.refusal,
            **steps.to_json(),
            **baseline_json(plan),
        }
        return ShownPlan(steps, {"dry_run": True, **entry})

    def _chosen_once(self) -> bool:
        """Whether the run pins its target before wave 1 (not --ami, --rollback or --stock:
        what they name cannot move)."""
        options = self.options
        return options.channel is not None or not (options.ami or options.rollback or options.stock)

    # --- the waves -----------------------------------------------------------------------------

    def apply(self) -> None:
        """Run the waves; every environment's result is in `results` (saved to --record)."""
        width = max(len(wave.names) for wave in self.waves)
        # Leaving the block waits for every worker: no thread outlives the run.
        try:
            with ThreadPoolExecutor(max_workers=width, thread_name_prefix="ebami-apply") as pool:
                self.fleet.run(pool)
        finally:
            self.results.save()  # the skipped environments too

    def outcome(self) -> EbamiError | None:
        """The error the run ends with, from its worst environment (None: every environment
        applied or unchanged)."""
        return outcome_error(self.fleet.runs, interrupted=self.fleet.interrupted)

    def _apply_one(self, name: str, sleep: Sleeper) -> ApplyRecord:
        """One environment, in a worker thread: plan, gates, then the update."""
        reporter = self._reporter
        with reporter.prefixed(name) if self.several else nullcontext():
            # Several: planned before wave 1, planned again from what its wave's start found.
            services, plan = self.plan(name, wave=self._wave_of[name] if self.several else None)
            if plan.refusal is None and not plan.unchanged:
                reporter.progress(
                    f"{plan.environment.name}: {plan.current} -> {plan.target} "
                    f"({plan.policy.describe(plan.instances)}, deadline {plan.deadline:g} s)"
                )
            for gate in plan.gates:
                # A gate that could not judge (its input unknown, a read refused) is a warning.
                show = reporter.warn if gate.verdict is Verdict.WARNED else reporter.detail
                show(f"gate {gate.name}: {gate.verdict.value}: {gate.detail}")
            sleep.check()  # a Ctrl-C while planning: stop before any change
            record = services.run_apply(
                plan, saved=lambda record: self.results.save(name, record), sleep=sleep
            )
            self.results.save(name, record)
            return record

    def _verify(self, run: EnvironmentRun, verify: VerifyInstances) -> str | None:
        """`ebami verify --env` on the instances of an environment just applied (main
        thread): None when they pass, else what failed."""
        record = run.record
        if record is None:
            return None
        plan = record.plan
        self._reporter.progress(f"verifying the instances of {plan.environment.name}")
        found = verify(self._finder.target(run.name), plan)
        record.verified = found.report
        self.results.save(run.name, record)
        if not found.passed:
            return found.summary
        self._reporter.progress(f"{plan.environment.name}: {found.instances} instance(s) verified")
        return None
