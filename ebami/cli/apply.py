"""`ebami apply`: switch Elastic Beanstalk environments to a custom AMI, follow each update,
roll back on failure; several environments in waves (`ebami.apply.fleet`)."""

from __future__ import annotations

import dataclasses
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ebami.cli.apply_results import ApplyResults, names_json, wave_json
from ebami.cli.context import AppContext
from ebami.cli.verify import check_target
from ebami.core.errors import EbamiError, InputError, Refused

if TYPE_CHECKING:
    from ebami.apply.fleet import EnvironmentRun, FleetRun, Sleeper, Wave
    from ebami.apply.planner import ApplyOptions, ApplyPlan
    from ebami.apply.run import ApplyRecord
    from ebami.aws.elasticbeanstalk import Environment
    from ebami.cli.factory import Factory
    from ebami.config.settings import Settings

# Planning reads a handful of things; throttling may stretch it, nothing should more.
PLAN_SECONDS = 300.0
VERIFY_SECONDS = 600.0


def apply(
    ctx: typer.Context,
    env: Annotated[
        list[str] | None,
        typer.Option(
            "--env",
            help="Environment to switch (a configured [environments.NAME] or an environment "
            "name); repeat for several: they are switched in waves (--canary, --concurrency), "
            "stopping after the first wave with a failure.",
        ),
    ] = None,
    group: Annotated[
        list[str] | None,
        typer.Option(
            "--group",
            help="A [groups] entry of the settings: its environments, after those of --env; "
            "repeatable.",
        ),
    ] = None,
    canary: Annotated[
        int,
        typer.Option(
            "--canary",
            help="How many environments (the first ones) go alone, as the first wave (0 to "
            "--concurrency).",
        ),
    ] = 1,
    concurrency: Annotated[
        int,
        typer.Option(
            "--concurrency",
            help="How many environments each later wave switches at the same time (1 to 20).",
        ),
    ] = 5,
    ami: Annotated[
        str | None,
        typer.Option(
            "--ami",
            help="The AMI to switch to (default: the newest verified ebami AMI that fits).",
        ),
    ] = None,
    channel: Annotated[
        str | None,
        typer.Option("--channel", help="Switch to the AMI this channel (ebami promote) names."),
    ] = None,
    rollback: Annotated[
        bool,
        typer.Option("--rollback", help="Switch back to the AMI the last apply replaced."),
    ] = False,
    allow_unverified: Annotated[
        bool,
        typer.Option("--allow-unverified", help="Accept an AMI ebami verify has not passed."),
    ] = False,
    timeout: Annotated[
        float | None,
        typer.Option(
            "--timeout",
            help="Seconds each update may take (default: what its update policy allows).",
        ),
    ] = None,
    settle: Annotated[
        float | None,
        typer.Option(
            "--settle", help="Seconds health must hold Green after an update (default 60)."
        ),
    ] = None,
    verify: Annotated[
        bool,
        typer.Option("--verify", help="Then run ebami verify --env on the new instances."),
    ] = False,
    record: Annotated[
        Path | None,
        typer.Option("--record", help="Write what happened (JSON) to this file.", dir_okay=False),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan and the gates; change nothing.")
    ] = False,
) -> None:
    """Plan, gate, perform and follow the switch of each environment's ImageId."""
    from ebami.apply.fleet import check_sizes, expand_groups, plan_waves
    from ebami.apply.planner import ApplyOptions
    from ebami.core.files import require_folder

    app = AppContext.of(ctx)
    envs = _environment_names(env or [], group or [])
    if ami is not None:
        check_target(ami, None, None)
    check_sizes(canary, concurrency)
    options = ApplyOptions(
        ami=ami,
        rollback=rollback,
        allow_unverified=allow_unverified,
        timeout=timeout,
        channel=channel,
    )
    settings = app.settings(settle=settle)
    names = expand_groups(envs, group or [], settings.groups)
    for name in names:
        # A name no environment can have is refused before any AWS call (a group's names
        # were checked when the settings loaded).
        settings.environment_target(name)
    waves = plan_waves(names, canary=canary, concurrency=concurrency)
    if record is not None:
        require_folder(record, "--record")
    run = _Run(app, settings, options, record, waves, concurrency=concurrency)
    if dry_run:
        run.dry_run()
        return
    # Before the first change: every environment exists, no two names are one environment, and
    # (several) every one is planned and may be switched. A typo in the last --env, or an AMI
    # a later region lacks, must not leave the first switched and the rest undone.
    run.prepare()
    try:
        run.apply(verify=verify)
    except EbamiError:
        run.results.report()  # what was done before the failure is still the result
        raise
    run.results.finish()


class _Run:
    """The environments of one `ebami apply`, in waves (`ebami.apply.fleet`)."""

    def __init__(
        self,
        app: AppContext,
        settings: Settings,
        options: ApplyOptions,
        record: Path | None,
        waves: tuple[Wave, ...],
        *,
        concurrency: int = 1,
    ) -> None:
        from ebami.apply.fleet import FleetRun
        from ebami.cli.factory import Factory

        self.app = app
        self.settings = settings
        self.options = options
        self.waves = waves
        self.concurrency = concurrency
        self.fleet: FleetRun = FleetRun(waves, apply_one=self._apply_one, reporter=app.terminal)
        # Several environments: their lines on stderr carry their names, the results their
        # waves.
        self.several = len(self.fleet.runs) > 1
        self.results = ApplyResults(app, self.fleet, record, eb_name=self._eb_name)
        # One factory per region, shared by the environments' threads (`Factory.in_region`),
        # made on the main thread by `_resolve` before any plan or wave starts.
        self._root = Factory(app, settings)
        # Each name's environment, once found (its Elastic Beanstalk name, for the results).
        self._found: dict[str, Environment] = {}
        # Several environments: the target each one's planning before wave 1 chose (--channel
        # or the newest verified AMI), which its wave switches to whatever the channel names by
        # then.
        self._pinned: dict[str, str] = {}

    def factory(self, settings: Settings) -> Factory:
        return self._root.in_region(settings.region)

    def plan(self, name: str) -> tuple[Factory, ApplyPlan]:
        settings, application, env_name = self.settings.environment_target(name)
        factory = self.factory(settings)
        options = self.options
        if name in self._pinned:
            options = dataclasses.replace(options, pinned=self._pinned[name])
        with factory.bounded(PLAN_SECONDS):
            plan = factory.plan_apply(env_name, application, options)
        return factory, plan

    def _try_plan(self, name: str) -> tuple[Factory, ApplyPlan] | EbamiError:
        try:
            return self.plan(name)
        except EbamiError as exc:
            return exc

    def _plan_all(self) -> dict[str, tuple[Factory, ApplyPlan] | EbamiError]:
        """Every environment found, planned (reads only), --concurrency at a time."""
        from concurrent.futures import ThreadPoolExecutor

        names = [run.name for run in self.fleet.runs if run.name in self._found]
        with ThreadPoolExecutor(
            max_workers=max(1, min(self.concurrency, len(names))), thread_name_prefix="ebami-plan"
        ) as pool:
            return dict(zip(names, pool.map(self._try_plan, names), strict=True))

    def _resolve(self, *, keep_errors: bool) -> dict[str, EbamiError]:
        """Find every environment (on the main thread, which makes each region's factory and
        clients), and refuse two names of one environment. An environment not found raises,
        or with `keep_errors` is returned as that name's error."""
        errors: dict[str, EbamiError] = {}
        by_environment: dict[tuple[str, str], str] = {}
        for run in self.fleet.runs:
            name = run.name
            settings, application, env_name = self.settings.environment_target(name)
            factory = self.factory(settings)
            try:
                with factory.bounded(PLAN_SECONDS):
                    environment = factory.eb.get_environment(env_name, application)
            except EbamiError as exc:
                if not keep_errors:
                    raise
                errors[name] = exc
                continue
            # The planner's other clients, made here rather than by the worker threads.
            factory.ec2, factory.ssm, factory.s3  # noqa: B018
            region = factory.session.region or ""
            key = (region, environment.environment_id)
            other = by_environment.get(key)
            if other is not None:
                raise InputError(
                    f"{other} and {name} are one environment ({environment.application}/"
                    f"{environment.name} in {region}): name each environment once"
                )
            by_environment[key] = name
            self._found[name] = environment
        return errors

    def prepare(self) -> None:
        """Before any change (see `apply`). With several environments, each is planned: a
        refusal or an error of any stops the run before wave 1, naming every one; else each
        environment's target is pinned for its wave."""
        from ebami.apply.fleet import PENDING, SKIPPED, preflight_error

        errors = self._resolve(keep_errors=self.several)
        if not self.several:
            return
        planned: dict[str, tuple[Factory, ApplyPlan] | EbamiError] = {
            **errors,
            **self._plan_all(),
        }
        for run in self.fleet.runs:
            outcome = planned[run.name]
            if isinstance(outcome, EbamiError):
                self._failed_before(run, outcome)
            elif outcome[1].refusal is not None:
                self._failed_before(run, outcome[1])
            else:
                self._pin(run.name, outcome[1])
        error = preflight_error(self.fleet.runs)
        if error is None:
            return
        failed = ", ".join(run.name for run in self.fleet.runs if run.result != PENDING)
        for run in self.fleet.runs:
            if run.result == PENDING:
                run.result, run.reason = SKIPPED, f"not started: {failed} may not be switched"
        self.results.save()
        self.results.report()
        raise error

    def _pin(self, name: str, plan: ApplyPlan) -> None:
        if self.options.channel is not None or (
            self.options.ami is None and not self.options.rollback
        ):
            self._pinned[name] = plan.target

    def _failed_before(self, run: EnvironmentRun, outcome: ApplyPlan | EbamiError) -> None:
        """`run` refused (or failed) when planned before wave 1: nothing was asked to change."""
        from datetime import datetime, timezone

        from ebami.apply.fleet import ERROR
        from ebami.apply.run import ApplyRecord, Result

        if isinstance(outcome, EbamiError):
            run.result, run.reason, run.error = ERROR, outcome.message, outcome
            return
        now = datetime.now(timezone.utc)
        reason = outcome.refusal or ""
        run.record = ApplyRecord(outcome, now, Result.REFUSED, reason, finished=now)
        run.result, run.reason = Result.REFUSED.value, reason

    def dry_run(self) -> None:
        """Every environment's plan, with its wave when there are several; nothing changes.
        With several, an environment whose planning fails is shown with its error, and every
        refused or failed one is named at the end."""
        from ebami.apply.fleet import preflight_error
        from ebami.core.plan import Plan

        if not self.several:
            factory, plan = self.plan(self.fleet.runs[0].name)
            if self.app.json:
                self.app.terminal.out_json(
                    {
                        "dry_run": True,
                        **names_json(plan.environment.name, None),
                        **plan.steps.to_json(),
                    }
                )
            else:
                factory.display().execute(plan.steps)
            if plan.refusal:
                raise Refused(f"{plan.environment.name}: {plan.refusal}")
            return
        errors = self._resolve(keep_errors=True)
        planned: dict[str, tuple[Factory, ApplyPlan] | EbamiError] = {
            **errors,
            **self._plan_all(),
        }
        shown: list[dict[str, Any]] = []
        for run in self.fleet.runs:
            wave, name = run.wave, run.name
            outcome = planned[name]
            wave_fact = {"Wave": wave.describe(len(self.waves))}
            if isinstance(outcome, EbamiError):
                self._failed_before(run, outcome)
                factory = self.factory(self.settings.environment_target(name)[0])
                steps = Plan("apply", {**wave_fact, "Environment": name, "Error": outcome.message})
                entry: dict[str, Any] = {
                    **names_json(self._eb_name(name), name),
                    **wave_json(wave),
                    "error": outcome.message,
                    "exit_code": int(outcome.exit_code),
                }
            else:
                factory, plan = outcome
                if plan.refusal is not None:
                    self._failed_before(run, plan)
                notes = plan.steps.notes
                if plan.refusal is None and name in self._chosen_once():
                    notes = (
                        *notes,
                        "the target is chosen once, now, for every wave: a later promote, "
                        "revoke or build does not change it",
                    )
                steps = dataclasses.replace(
                    plan.steps, facts={**wave_fact, **plan.steps.facts}, notes=notes
                )
                entry = {
                    **names_json(plan.environment.name, name),
                    **wave_json(wave),
                    "refusal": plan.refusal,
                    **steps.to_json(),
                }
            if not self.app.json:
                factory.display().execute(steps)
            shown.append({"dry_run": True, **entry})
        if self.app.json:
            waves = [
                {"wave": wave.number, "canary": wave.canary, "environments": list(wave.names)}
                for wave in self.waves
            ]
            self.app.terminal.out_json({"dry_run": True, "waves": waves, "environments": shown})
        error = preflight_error(self.fleet.runs)
        if error is not None:
            raise error

    def _chosen_once(self) -> set[str]:
        """The names whose target a run pins before wave 1 (not --ami, not --rollback)."""
        if self.options.channel is None and (self.options.ami or self.options.rollback):
            return set()
        return {run.name for run in self.fleet.runs}

    def _eb_name(self, name: str) -> str:
        """The Elastic Beanstalk name of the environment `name` (--env or a group) stands for."""
        found = self._found.get(name)
        return found.name if found is not None else self.settings.environment_target(name)[2]

    def apply(self, *, verify: bool) -> None:
        from concurrent.futures import ThreadPoolExecutor

        if verify:
            self.fleet.verify_one = self._verify
        width = max(len(wave.names) for wave in self.waves)
        # Leaving the block waits for every worker: no thread outlives the run.
        try:
            with ThreadPoolExecutor(max_workers=width, thread_name_prefix="ebami-apply") as pool:
                self.fleet.run(pool)
        finally:
            self.results.save()  # the skipped environments too

    def _apply_one(self, name: str, sleep: Sleeper) -> ApplyRecord:
        """One environment, in a worker thread: plan, gates, then the update."""
        with self.app.terminal.prefixed(name) if self.several else nullcontext():
            factory, plan = self.plan(name)
            if plan.refusal is None and not plan.unchanged:
                self.app.terminal.progress(
                    f"{plan.environment.name}: {plan.current} -> {plan.target} "
                    f"({plan.policy.describe(plan.instances)}, deadline {plan.deadline:g} s)"
                )
            for gate in plan.gates:
                self.app.terminal.detail(f"gate {gate.name}: {gate.verdict.value}: {gate.detail}")
            sleep.check()  # a Ctrl-C while planning: stop before any change
            record = factory.run_apply(
                plan, saved=lambda record: self.results.save(name, record), sleep=sleep
            )
            self.results.save(name, record)
            return record

    def _verify(self, run: EnvironmentRun) -> str | None:
        """ebami verify --env on the instances of an environment just applied (main thread)."""
        from ebami.verify.planner import VerifyOptions

        record = run.record
        if record is None:
            return None
        plan = record.plan
        factory = self.factory(self.settings.environment_target(run.name)[0])
        options = VerifyOptions(
            default_drivers=self.settings.resolved_drivers(), timeout=VERIFY_SECONDS
        )
        self.app.terminal.progress(f"verifying the instances of {plan.environment.name}")
        with factory.bounded(options.timeout) as deadline:
            verify_plan = factory.verify_planner().plan_environment(
                plan.environment.name, plan.environment.application, options
            )
            report = factory.run_verify(verify_plan, deadline)
        record.verified = report.to_json()
        self.results.save(run.name, record)
        if not report.passed:
            return report.failure_summary()
        self.app.terminal.progress(
            f"{plan.environment.name}: {len(report.instances)} instance(s) verified"
        )
        return None


def _environment_names(envs: list[str], groups: list[str]) -> list[str]:
    for name in envs:
        if not name.strip():
            raise InputError(
                "--env '' is empty: give an environment name or a configured [environments.NAME]"
            )
    if not envs and not groups:
        raise InputError(
            "Missing option '--env': give --env NAME (repeat it for several) or --group NAME"
        )
    return envs
