"""`ebami apply`: switch Elastic Beanstalk environments to a custom AMI, follow each update,
roll back on failure; several environments in waves (`ebami.apply.fleet`)."""

from __future__ import annotations

import dataclasses
import json
import threading
from contextlib import nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ebami.cli.context import AppContext
from ebami.cli.verify import check_target
from ebami.errors import EbamiError, InputError, Refused

if TYPE_CHECKING:
    from ebami.apply.fleet import EnvironmentRun, FleetRun, Sleeper, Wave
    from ebami.apply.planner import ApplyOptions, ApplyPlan
    from ebami.apply.run import ApplyRecord
    from ebami.cli.factory import Factory
    from ebami.settings import Settings

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
    from ebami.files import require_folder

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
    waves = plan_waves(names, canary=canary, concurrency=concurrency)
    if record is not None:
        require_folder(record, "--record")
    run = _Run(app, settings, options, record, waves)
    if dry_run:
        run.dry_run()
        return
    # Every environment exists before the first one changes: a typo in the last --env must not
    # leave the first switched and the rest undone.
    run.check_exist(names)
    try:
        run.apply(verify=verify)
    except EbamiError:
        run.report()  # what was done before the failure is still the result
        raise
    run.finish()


class _Run:
    """The environments of one `ebami apply`, in waves (`ebami.apply.fleet`)."""

    def __init__(
        self,
        app: AppContext,
        settings: Settings,
        options: ApplyOptions,
        record: Path | None,
        waves: tuple[Wave, ...],
    ) -> None:
        from ebami.apply.fleet import FleetRun
        from ebami.cli.factory import Factory

        self.app = app
        self.settings = settings
        self.options = options
        self.record = record
        self.waves = waves
        self.fleet: FleetRun = FleetRun(waves, apply_one=self._apply_one, reporter=app.terminal)
        # Several environments: their lines on stderr carry their names, the results their
        # waves.
        self.several = len(self.fleet.runs) > 1
        # Records of the environments being switched, by --env name, as they stand.
        self._records: dict[str, ApplyRecord] = {}
        self._saving = threading.Lock()
        # One factory per region, shared by the environments' threads: clients are
        # thread-safe, and each thread's calls fit its own deadline (DeadlineBounds). Made on
        # the main thread by `check_exist` before any wave starts.
        self._root = Factory(app, settings)
        self._factories: dict[str | None, Factory] = {}
        self._making = threading.Lock()

    def factory(self, settings: Settings) -> Factory:
        with self._making:
            if settings.region not in self._factories:
                self._factories[settings.region] = self._root.sibling(settings)
            return self._factories[settings.region]

    def plan(self, name: str) -> tuple[Factory, ApplyPlan]:
        settings, application, env_name = self.settings.environment_target(name)
        factory = self.factory(settings)
        with factory.bounded(PLAN_SECONDS):
            plan = factory.plan_apply(env_name, application, self.options)
        return factory, plan

    def check_exist(self, names: list[str]) -> None:
        for name in names:
            settings, application, env_name = self.settings.environment_target(name)
            factory = self.factory(settings)
            with factory.bounded(PLAN_SECONDS):
                factory.eb.get_environment(env_name, application)
            # The planner's other clients, made here rather than by the first worker threads.
            factory.ec2, factory.ssm  # noqa: B018

    def dry_run(self) -> None:
        """Every environment's plan, with its wave when there are several; nothing changes."""
        shown: list[dict[str, Any]] = []
        refused: list[ApplyPlan] = []
        for wave in self.waves:
            for name in wave.names:
                factory, plan = self.plan(name)
                steps = plan.steps
                if self.several:
                    facts = {"Wave": wave.describe(len(self.waves)), **steps.facts}
                    steps = dataclasses.replace(steps, facts=facts)
                if not self.app.json:
                    factory.display().execute(steps)
                shown.append({"dry_run": True, **_wave_json(wave, self.several), **steps.to_json()})
                if plan.refusal:
                    refused.append(plan)
        if self.app.json:
            if self.several:
                waves = [
                    {"wave": wave.number, "canary": wave.canary, "environments": list(wave.names)}
                    for wave in self.waves
                ]
                self.app.terminal.out_json({"dry_run": True, "waves": waves, "environments": shown})
            else:
                self.app.terminal.out_json(shown[0])
        if refused:
            raise Refused(f"{refused[0].environment.name}: {refused[0].refusal}")

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
            self.save()  # the skipped environments too

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
                plan, saved=lambda record: self.save(name, record), sleep=sleep
            )
            self.save(name, record)
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
        self.save(run.name, record)
        if not report.passed:
            return report.failure_summary()
        self.app.terminal.progress(
            f"{plan.environment.name}: {len(report.instances)} instance(s) verified"
        )
        return None

    def save(self, name: str | None = None, record: ApplyRecord | None = None) -> None:
        """Keep `record` (the environment `name` being switched, as it stands) and write the
        file: a failure to write it is warned about, never the run's outcome."""
        from ebami.files import write_atomically

        with self._saving:
            if name is not None and record is not None:
                self._records[name] = record
            if self.record is not None:
                text = json.dumps(self._json(), indent=2) + "\n"
                try:
                    write_atomically(self.record, text, option="--record")
                except InputError as exc:
                    self.app.terminal.warn(f"could not write the record: {exc}")

    def _json(self) -> dict[str, Any]:
        return {"environments": [self._entry(run) for run in self._shown()]}

    def _shown(self) -> list[EnvironmentRun]:
        """The environments the results list: all of them when there are several; else the
        one, once it has a record (an error before its update is the error line alone)."""
        if self.several:
            return self.fleet.runs
        return [run for run in self.fleet.runs if self._record_of(run) is not None]

    def _record_of(self, run: EnvironmentRun) -> ApplyRecord | None:
        return run.record or self._records.get(run.name)

    def _entry(self, run: EnvironmentRun) -> dict[str, Any]:
        from ebami.apply.fleet import PENDING

        record = self._record_of(run)
        entry: dict[str, Any] = {"environment": run.name}
        if record is not None:
            entry = record.to_json()
        entry.update(_wave_json(run.wave, True))
        if run.result != PENDING:
            entry["result"] = run.result
            entry["reason"] = run.reason
        return entry

    def report(self) -> None:
        """The result of every environment (switched, tried or skipped) so far, on stdout."""
        runs = self._shown()
        if self.app.json:
            self.app.terminal.out_json(self._json())
        elif runs:
            self.app.terminal.out_text("".join(line + "\n" for line in self._lines(runs)))
        github = self.app.github
        if github is not None and runs:
            self._github(github, runs)

    def _lines(self, runs: list[EnvironmentRun]) -> list[str]:
        if not self.several:
            return [_line(record) for run in runs if (record := self._record_of(run))]
        width = max(len(run.name) for run in runs)
        lines = []
        for run in runs:
            record = self._record_of(run)
            what = f"{record.plan.target}  (was {record.plan.current})" if record else run.reason
            wave = f"wave {run.wave.number}" + (" canary" if run.wave.canary else "")
            lines.append(f"{wave:<12}  {run.name:<{width}}  {_result(run, record):<15}  {what}")
        return lines

    def _github(self, github: Any, runs: list[EnvironmentRun]) -> None:
        from ebami.apply.fleet import worst
        from ebami.github import table

        records = [record for run in runs if (record := self._record_of(run))]
        shown = worst(runs) or runs[-1]
        github.set(
            {
                "result": _result(shown, self._record_of(shown)),
                "ami-id": records[-1].plan.target if records else "",
                "results": "\n".join(self._lines(runs)),
            }
        )
        rows = []
        for run in runs:
            record = self._record_of(run)
            rows.append(
                (
                    run.name,
                    str(run.wave.number) + (" (canary)" if run.wave.canary else ""),
                    _result(run, record),
                    record.plan.target if record else "-",
                    (record.plan.current or "-") if record else "-",
                    run.reason,
                )
            )
        github.summary(
            "## ebami apply\n\n"
            + table(("Environment", "Wave", "Result", "AMI", "Was", "Why"), rows)
        )
        for run in runs:
            if run.ended and not run.ok and run.result != "skipped":
                github.annotate("error", run.reason, title=f"ebami: {run.name}")

    def finish(self) -> None:
        from ebami.apply.fleet import outcome_error

        self.report()
        error = outcome_error(self.fleet.runs, interrupted=self.fleet.interrupted)
        if error is not None:
            raise error
        for run in self.fleet.runs:
            record = run.record
            if record is None:
                continue
            plan = record.plan
            if run.result == "applied":
                shown = f"now on {plan.target} ({record.reason})"
            else:
                shown = f"already on {plan.target}"
            self.app.terminal.success(f"{plan.environment.name}: {shown}")


def _environment_names(envs: list[str], groups: list[str]) -> list[str]:
    for name in envs:
        if not name.strip():
            raise InputError(
                "--env '' is empty: give an environment name or a configured [environments.NAME]"
            )
    if len(set(envs)) != len(envs):
        raise InputError(f"--env names an environment twice: {', '.join(envs)}")
    if not envs and not groups:
        raise InputError(
            "Missing option '--env': give --env NAME (repeat it for several) or --group NAME"
        )
    return envs


def _wave_json(wave: Wave, several: bool) -> dict[str, Any]:
    return {"wave": wave.number, "canary": wave.canary} if several else {}


def _result(run: EnvironmentRun, record: ApplyRecord | None) -> str:
    from ebami.apply.fleet import PENDING

    if run.result != PENDING:
        return run.result
    return record.result.value if record is not None and record.result else "started"


def _line(record: ApplyRecord) -> str:
    plan = record.plan
    result = record.result.value if record.result else "started"
    return f"{plan.environment.name}  {result}  {plan.target}  (was {plan.current})"
