"""`ebami verify`: prove over SSM that an AMI (or running instances) allow the log drivers."""

from __future__ import annotations

from typing import Annotated

import typer

from ebami.cli.context import AppContext
from ebami.cli.options import DryRunOption, PlatformOption, ReleaseOption, comma_list
from ebami.cli.present import present
from ebami.config.formats import is_ami_id, is_instance_id
from ebami.core.errors import InputError
from ebami.image.drivers import parse_drivers


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
    stock: Annotated[
        bool,
        typer.Option(
            "--stock",
            help="Check the platform's own AMI (no custom AMI) and remember for its platform "
            "version whether it allows the drivers: is a custom AMI still needed?",
        ),
    ] = False,
    platform: PlatformOption = None,
    release: ReleaseOption = None,
    platform_version: Annotated[
        str | None,
        typer.Option(
            "--platform-version", help="With --stock: this platform version (default: newest)."
        ),
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
    dry_run: DryRunOption = False,
) -> None:
    """Check ecs.config (by the ECS agent's rules), the OS release and the release lock over SSM."""
    from ebami.cli.factory import Factory
    from ebami.cli.views import dry_run_view, verify_view
    from ebami.verify.planner import VerifyOptions

    app = AppContext.of(ctx)
    check_target(ami, instance, env, stock=stock)
    check_stock_options(stock, platform=platform, release=release, version=platform_version)
    settings = app.settings(
        subnet_id=subnet_id, instance_profile=instance_profile, platform=platform, release=release
    )
    application = None
    if env is not None:
        settings, application, env = settings.environment_target(env)
    options = VerifyOptions.from_settings(
        settings, required=required_drivers(require), timeout=timeout, instance_type=instance_type
    )
    factory = Factory(app, settings)
    # One deadline from here on: a silent or throttling endpoint cannot stretch the run past it.
    with factory.bounded(options.timeout) as deadline:
        base = factory.lookup(platform_version) if stock else None
        plan = factory.verify_planner().plan_for(
            options, ami=ami, stock=base, instances=instance or [], environment=env,
            application=application,
        )  # fmt: skip
        if dry_run:
            present(app, dry_run_view([plan.steps], {"dry_run": True, **plan.steps.to_json()}))
            return
        report = factory.run_verify(plan, deadline)
    present(app, verify_view(report, ami=ami is not None))


def check_target(
    ami: str | None, instances: list[str] | None, env: str | None, *, stock: bool = False
) -> None:
    """Exactly one target, in the shape AWS gives ids."""
    given = (("--ami", ami), ("--instance", instances), ("--env", env), ("--stock", stock or None))
    named = [name for name, value in given if value is not None]
    if len(named) != 1:
        raise InputError(
            "give exactly one of --ami AMI, --instance ID, --env NAME or --stock"
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


def check_stock_options(
    stock: bool, *, platform: str | None, release: str | None, version: str | None
) -> None:
    """--platform, --release and --platform-version choose the platform's own AMI: --stock's."""
    given = [
        name
        for name, value in (
            ("--platform", platform),
            ("--release", release),
            ("--platform-version", version),
        )
        if value is not None
    ]
    if given and not stock:
        verb = "choose" if len(given) > 1 else "chooses"
        raise InputError(f"{' and '.join(given)} {verb} the platform's own AMI: add --stock")
