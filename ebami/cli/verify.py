"""`ebami verify`: prove over SSM that an AMI (or running instances) allow the log drivers."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from ebami.cli.context import AppContext
from ebami.cli.options import comma_list
from ebami.config.formats import is_ami_id, is_instance_id
from ebami.core.errors import CheckFailed, InputError, LeftBehind
from ebami.core.results import CheckStatus
from ebami.image.drivers import parse_drivers

if TYPE_CHECKING:
    from ebami.verify.report import VerifyReport

_MARKS = {CheckStatus.PASSED: "PASS", CheckStatus.FAILED: "FAIL", CheckStatus.SKIPPED: "SKIP"}


def verify(
    ctx: typer.Context,
    ami: Annotated[
        str | None,
        typer.Option("--ami", help="Launch a throwaway instance of this AMI and check it."),
    ] = None,
    instance: Annotated[
        list[str] | None,
        typer.Option("--instance", help="Check this running instance instead (repeatable)."),
    ] = None,
    env: Annotated[
        str | None,
        typer.Option("--env", help="Check every instance of this Elastic Beanstalk environment."),
    ] = None,
    require: Annotated[
        str | None,
        typer.Option(
            "--require",
            help="Comma-separated log drivers the agent must allow (default: the AMI's "
            "ebami:drivers tag, else the configured drivers).",
        ),
    ] = None,
    instance_type: Annotated[
        str | None,
        typer.Option("--instance-type", help="Type of the throwaway instance (default: cheapest)."),
    ] = None,
    instance_profile: Annotated[
        str | None,
        typer.Option(
            "--instance-profile",
            help="Instance profile of the throwaway instance; its role needs "
            "AmazonSSMManagedInstanceCore.",
        ),
    ] = None,
    subnet_id: Annotated[
        str | None, typer.Option("--subnet-id", help="Subnet of the throwaway instance.")
    ] = None,
    timeout: Annotated[
        float,
        typer.Option(
            "--timeout",
            help="Seconds for the whole check: AWS calls, SSM and the checks (the clean-up "
            "has its own).",
        ),
    ] = 600.0,
    dry_run: Annotated[
        bool,
        typer.Option("--dry-run", help="Show what would be launched and checked; launch nothing."),
    ] = False,
) -> None:
    """Check ecs.config (by the ECS agent's rules), the OS release and the release lock over SSM."""
    from ebami.cli.factory import Factory
    from ebami.verify.planner import VerifyOptions

    app = AppContext.of(ctx)
    check_target(ami, instance, env)
    settings = app.settings(subnet_id=subnet_id, instance_profile=instance_profile)
    application = None
    if env is not None:
        settings, application, env = settings.environment_target(env)
    options = VerifyOptions(
        default_drivers=settings.resolved_drivers(),
        required=required_drivers(require),
        timeout=timeout,
        # The instance_type setting is the builder's; verify's default is the cheapest type.
        instance_type=instance_type,
        instance_profile=settings.instance_profile,
        subnet_id=settings.subnet_id,
        copy_regions=tuple(settings.copy_to),
    )
    factory = Factory(app, settings)
    # One deadline from here on: a silent or throttling endpoint cannot stretch the run past it.
    with factory.bounded(options.timeout) as deadline:
        planner = factory.verify_planner()
        if ami is not None:
            plan = planner.plan_ami(ami, options)
        elif env is not None:
            plan = planner.plan_environment(env, application, options)
        else:
            plan = planner.plan_instances(list(instance or []), options)
        if dry_run:
            factory.display().execute(plan.steps)
            return
        report = factory.run_verify(plan, deadline)
    if app.json:
        app.terminal.out_json(report.to_json())
    else:
        app.terminal.out_text(render(report))
    github = app.github
    if github is not None:
        github.set(
            {
                "verified": "true" if report.passed else "false",
                "target": report.target,
                "ami-id": report.target if ami is not None else "",
            }
        )
        github.summary(f"## ebami verify\n\n```\n{render(report)}```\n")
        if not report.passed:
            github.annotate("error", report.failure_summary(), title=f"ebami: {report.target}")
    # A failed check keeps its exit code; the clean-up has already warned of any leftover.
    if not report.passed:
        raise CheckFailed(report.failure_summary())
    verified = f"{report.kind.value} {report.target} verified"
    if report.left_behind:
        raise LeftBehind(report.left_behind, outcome=verified)
    app.terminal.success(verified)


def check_target(ami: str | None, instances: list[str] | None, env: str | None) -> None:
    """Exactly one target, in the shape AWS gives ids."""
    given = (("--ami", ami), ("--instance", instances), ("--env", env))
    named = [name for name, value in given if value is not None]
    if len(named) != 1:
        raise InputError(
            "give exactly one of --ami AMI, --instance ID or --env NAME"
            + (f" (got {' and '.join(named)})" if named else "")
        )
    if env is not None and not env.strip():
        raise InputError(
            "--env '' is empty: give an environment name or a configured [environments.NAME]"
        )
    if ami is not None and not is_ami_id(ami):
        raise InputError(f"--ami {ami!r} is not an AMI id; write ami- and 8 or 17 hex digits")
    for instance_id in instances or []:
        if not is_instance_id(instance_id):
            raise InputError(
                f"--instance {instance_id!r} is not an instance id; write i- and 8 or 17 hex digits"
            )


def required_drivers(require: str | None) -> tuple[str, ...] | None:
    if require is None:
        return None
    try:
        return parse_drivers(comma_list(require) or [])
    except InputError as exc:
        raise InputError(f"--require: {exc.message}") from exc


def render(report: VerifyReport) -> str:
    """The report as text: per instance, one line per check and its evidence indented."""
    verdict = "verified" if report.passed else "NOT verified"
    lines = [f"{report.kind.value} {report.target}: {verdict}"]
    lines += [f"  note: {note}" for note in report.notes]
    for item in report.instances:
        if item.instance_id is None:
            where = f"{item.image_id} (no instance launched)"
        elif item.launched:
            fate = "NOT terminated" if report.left_behind else "terminated"
            where = f"{item.instance_id} (launched from {item.image_id}, {fate})"
        else:
            where = f"{item.instance_id} (runs {item.image_id})"
        lines.append(f"  {where}")
        for check in item.checks:
            lines.append(f"    {_MARKS[check.status]}  {check.name:<15}  {check.detail}")
            lines += [f"          {line}" for line in check.evidence]
    for key, value in report.verified_tags.items():
        lines.append(f"  tagged {key}={value}")
    return "\n".join(lines) + "\n"
