"""`ebami apply`: switch Elastic Beanstalk environments to a custom AMI, follow each update,
roll back on failure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from ebami.cli.context import AppContext
from ebami.cli.verify import check_target
from ebami.errors import (
    CheckFailed,
    EbamiError,
    InputError,
    Interrupted,
    NeedsAttention,
    Refused,
    RolledBack,
)

if TYPE_CHECKING:
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
        list[str],
        typer.Option(
            "--env",
            help="Environment to switch (a configured [environments.NAME] or an environment "
            "name); repeat for several, switched in order, stopping at the first failure.",
        ),
    ],
    ami: Annotated[
        str | None,
        typer.Option(
            "--ami",
            help="The AMI to switch to (default: the newest verified ebami AMI that fits).",
        ),
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
    from ebami.apply.planner import ApplyOptions
    from ebami.files import require_folder

    app = AppContext.of(ctx)
    names = _environment_names(env)
    if ami is not None:
        check_target(ami, None, None)
    options = ApplyOptions(
        ami=ami, rollback=rollback, allow_unverified=allow_unverified, timeout=timeout
    )
    settings = app.settings(settle=settle)
    if record is not None:
        require_folder(record, "--record")
    run = _Run(app, settings, options, record)
    if dry_run:
        for name in names:
            run.show(name)
        run.finish_dry_run()
        return
    # Every environment exists before the first one changes: a typo in the last --env must not
    # leave the first switched and the rest undone.
    run.check_exist(names)
    try:
        for name in names:
            if not run.apply(name, verify=verify):
                break
    except EbamiError:
        run.report()  # what was done before the failure is still the result
        raise
    run.finish()


class _Run:
    """The environments of one `ebami apply`, one after the other."""

    def __init__(
        self, app: AppContext, settings: Settings, options: ApplyOptions, record: Path | None
    ) -> None:
        self.app = app
        self.settings = settings
        self.options = options
        self.record = record
        self.records: list[ApplyRecord] = []
        self.plans: list[ApplyPlan] = []
        self.verify_failure: str | None = None
        self._factories: dict[str | None, Factory] = {}

    def factory(self, settings: Settings) -> Factory:
        from ebami.cli.factory import Factory

        if settings.region not in self._factories:
            self._factories[settings.region] = Factory(self.app, settings)
        return self._factories[settings.region]

    def plan(self, name: str) -> tuple[Factory, ApplyPlan, str | None]:
        settings, application, env_name = self.settings.environment_target(name)
        factory = self.factory(settings)
        with factory.bounded(PLAN_SECONDS):
            plan = factory.plan_apply(env_name, application, self.options)
        self.plans.append(plan)
        return factory, plan, application

    def check_exist(self, names: list[str]) -> None:
        for name in names:
            settings, application, env_name = self.settings.environment_target(name)
            factory = self.factory(settings)
            with factory.bounded(PLAN_SECONDS):
                factory.eb.get_environment(env_name, application)

    def show(self, name: str) -> None:
        factory, plan, _ = self.plan(name)
        if not self.app.json:
            factory.display().execute(plan.steps)

    def apply(self, name: str, *, verify: bool) -> bool:
        """Apply to one environment; whether the next one may follow."""
        from ebami.apply.run import Result

        factory, plan, application = self.plan(name)
        if plan.refusal is None and not plan.unchanged:
            self.app.terminal.progress(
                f"{plan.environment.name}: {plan.current} -> {plan.target} "
                f"({plan.policy.describe(plan.instances)}, deadline {plan.deadline:g} s)"
            )
        for gate in plan.gates:
            self.app.terminal.detail(f"gate {gate.name}: {gate.verdict.value}: {gate.detail}")
        record = factory.run_apply(plan, saved=self.save)
        self.save(record)
        if record.result is Result.APPLIED and verify:
            self._verify(factory, plan, application, record)
        return record.result in (Result.APPLIED, Result.UNCHANGED) and not self.verify_failure

    def _verify(
        self, factory: Factory, plan: ApplyPlan, application: str | None, record: ApplyRecord
    ) -> None:
        from ebami.verify.planner import VerifyOptions

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
        self.save()
        if not report.passed:
            self.verify_failure = f"{plan.environment.name}: {report.failure_summary()}"
        else:
            self.app.terminal.progress(
                f"{plan.environment.name}: {len(report.instances)} instance(s) verified"
            )

    def save(self, record: ApplyRecord | None = None) -> None:
        """Keep `record` (the environment being switched, as it stands) and write the file: a
        failure to write it is warned about, never the run's outcome."""
        from ebami.files import write_atomically

        if record is not None and record not in self.records:
            self.records.append(record)
        if self.record is not None:
            text = json.dumps(self._json(), indent=2) + "\n"
            try:
                write_atomically(self.record, text, option="--record")
            except InputError as exc:
                self.app.terminal.warn(f"could not write the record: {exc}")

    def _json(self) -> dict[str, Any]:
        return {"environments": [record.to_json() for record in self.records]}

    def report(self) -> None:
        """The result of every environment switched (or tried) so far, on stdout."""
        from ebami.apply.run import Result

        if self.app.json:
            self.app.terminal.out_json(self._json())
        elif self.records:
            self.app.terminal.out_text("".join(_line(record) + "\n" for record in self.records))
        github = self.app.github
        if github is not None and self.records:
            from ebami.github import table

            last = self.records[-1]
            github.set(
                {
                    "result": last.result.value if last.result else "started",
                    "ami-id": last.plan.target,
                    "results": "\n".join(_line(record) for record in self.records),
                }
            )
            rows = [
                (
                    record.plan.environment.name,
                    record.result.value if record.result else "started",
                    record.plan.target,
                    record.plan.current or "-",
                    record.reason,
                )
                for record in self.records
            ]
            github.summary(
                "## ebami apply\n\n" + table(("Environment", "Result", "AMI", "Was", "Why"), rows)
            )
            for record in self.records:
                if record.result not in (Result.APPLIED, Result.UNCHANGED):
                    github.annotate(
                        "error", record.reason, title=f"ebami: {record.plan.environment.name}"
                    )

    def finish(self) -> None:
        from ebami.apply.run import Result

        self.report()
        if self.records:
            _raise_for(self.records[-1])
        if self.verify_failure:
            raise CheckFailed(self.verify_failure)
        for record in self.records:
            plan = record.plan
            if record.result is Result.APPLIED:
                shown = f"now on {plan.target} ({record.reason})"
            else:
                shown = f"already on {plan.target}"
            self.app.terminal.success(f"{plan.environment.name}: {shown}")

    def finish_dry_run(self) -> None:
        if self.app.json:
            shown = [{"dry_run": True, **plan.steps.to_json()} for plan in self.plans]
            self.app.terminal.out_json(
                shown[0] if len(shown) == 1 else {"dry_run": True, "environments": shown}
            )
        refused = [plan for plan in self.plans if plan.refusal]
        if refused:
            raise Refused(f"{refused[0].environment.name}: {refused[0].refusal}")


def _environment_names(names: list[str]) -> list[str]:
    for name in names:
        if not name.strip():
            raise InputError(
                "--env '' is empty: give an environment name or a configured [environments.NAME]"
            )
    if len(set(names)) != len(names):
        raise InputError(f"--env names an environment twice: {', '.join(names)}")
    return names


def _line(record: ApplyRecord) -> str:
    plan = record.plan
    result = record.result.value if record.result else "started"
    return f"{plan.environment.name}  {result}  {plan.target}  (was {plan.current})"


def _raise_for(record: ApplyRecord) -> None:
    from ebami.apply.run import Result

    name = record.plan.environment.name
    error: EbamiError | None = None
    if record.result is Result.REFUSED:
        error = Refused(f"{name}: {record.reason}")
    elif record.result is Result.ROLLED_BACK:
        error = RolledBack(f"{name}: {record.reason}")
    elif record.result is Result.LOST:
        error = NeedsAttention(f"{name}: {record.reason}")
    elif record.result is Result.ROLLBACK_FAILED:
        events = [
            event.message
            for followed in (record.update, record.rollback, record.abort)
            if followed is not None
            for event in followed.events
        ][-3:]
        last = f"; last events: {' | '.join(events)}" if events else ""
        error = NeedsAttention(
            f"{name}: {record.reason}; a person must look: {record.console_url}{last}"
        )
    elif record.result is Result.INTERRUPTED:
        error = Interrupted(f"{name}: {record.reason}")
    if error is not None:
        raise error
