"""`ebami build`: bake the custom AMI with Packer, or find the one already baked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ebami.build import Builder, BuildOptions, BuildPlan, Communicator
from ebami.cli.context import AppContext, OutputFormat
from ebami.cli.options import PlatformOption, ReleaseOption, comma_list
from ebami.errors import InputError
from ebami.files import require_folder, write_atomically
from ebami.settings import Settings


def build(
    ctx: typer.Context,
    platform: PlatformOption = None,
    release: ReleaseOption = None,
    platform_version: Annotated[
        str | None, typer.Option("--platform-version", help="Bake from this platform version.")
    ] = None,
    base_ami: Annotated[
        str | None, typer.Option("--base-ami", help="Bake from this AMI instead of looking it up.")
    ] = None,
    drivers: Annotated[
        str | None,
        typer.Option("--drivers", help="Comma-separated log drivers the agent must allow."),
    ] = None,
    no_ssm_agent: Annotated[
        bool,
        typer.Option(
            "--no-ssm-agent",
            help="Do not install the SSM agent where the base AMI lacks it (Amazon Linux 1); "
            "`ebami verify` then cannot reach the instances.",
        ),
    ] = False,
    instance_type: Annotated[
        str | None, typer.Option("--instance-type", help="Builder instance type.")
    ] = None,
    subnet_id: Annotated[
        str | None, typer.Option("--subnet-id", help="Builder subnet (default VPC if unset).")
    ] = None,
    instance_profile: Annotated[
        str | None, typer.Option("--instance-profile", help="Builder instance profile.")
    ] = None,
    communicator: Annotated[
        Communicator,
        typer.Option("--communicator", help="How Packer reaches the builder on real AWS."),
    ] = Communicator.SSH,
    ssh_cidr: Annotated[
        list[str] | None,
        typer.Option("--ssh-cidr", help="CIDR allowed to SSH to the builder (repeatable)."),
    ] = None,
    encrypt: Annotated[
        bool, typer.Option("--encrypt", help="Encrypt the AMI's snapshots (default EBS key).")
    ] = False,
    kms_key_id: Annotated[
        str | None, typer.Option("--kms-key-id", help="Encrypt with this KMS key.")
    ] = None,
    copy_to: Annotated[
        list[str] | None,
        typer.Option("--copy-to", help="Also copy the AMI to this region (repeatable)."),
    ] = None,
    share_with: Annotated[
        list[str] | None,
        typer.Option("--share-with", help="Share the AMI with this account id (repeatable)."),
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="Extra AMI tag KEY=VALUE (repeatable).")
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Build even if an AMI carries the same bake key.")
    ] = False,
    record: Annotated[
        Path | None,
        typer.Option("--record", help="Write the build record (JSON) to FILE.", dir_okay=False),
    ] = None,
    ssm_parameter: Annotated[
        str | None,
        typer.Option("--ssm-parameter", help="Publish the AMI id as this SSM parameter."),
    ] = None,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Show the base AMI, bake key and Packer variables; build nothing."
        ),
    ] = False,
) -> None:
    """Bake the custom AMI: lookup, render, Packer, provenance tags, record."""
    app = AppContext.of(ctx)
    settings = app.settings(
        platform=platform,
        release=release,
        drivers=comma_list(drivers),
        instance_type=instance_type,
        subnet_id=subnet_id,
        instance_profile=instance_profile,
    )
    spec = settings.resolved_platform()
    # BuildOptions refuses what cannot work as it is made, before any AWS call.
    options = BuildOptions(
        platform=spec,
        release=settings.resolved_release(spec),
        drivers=settings.resolved_drivers(),
        base_ami=base_ami,
        platform_version=platform_version,
        ssm_agent=not no_ssm_agent,
        instance_type=settings.instance_type,
        subnet_id=settings.subnet_id,
        instance_profile=settings.instance_profile,
        communicator=communicator,
        ssh_cidrs=tuple(ssh_cidr or ()),
        encrypt=encrypt,
        kms_key_id=kms_key_id,
        copy_to=tuple(copy_to or ()),
        share_with=tuple(share_with or ()),
        tags={**settings.tags, **parse_tags(tag or [])},
        force=force,
        ssm_parameter=ssm_parameter,
    )
    if record is not None:
        require_folder(record, "--record")

    builder = make_builder(app, settings)
    plan = builder.plan(options)
    if dry_run:
        show_plan(app, plan)
        return
    result = builder.bake(plan, options)
    if record is not None:
        write_atomically(record, json.dumps(result.to_json(), indent=2) + "\n")
        app.terminal.detail(f"wrote the build record to {record}")
    if app.output is OutputFormat.JSON:
        app.terminal.out_json(result.to_json())
        return
    app.terminal.success(
        f"{result.image_id} {'already built' if result.skipped else 'built'} ({result.ami_name})"
    )
    app.terminal.out_text(result.image_id + "\n")


def parse_tags(items: list[str]) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise InputError(f"--tag {item!r} is not KEY=VALUE; write --tag team=platform")
        tags[key.strip()] = value.strip()
    return tags


def make_builder(app: AppContext, settings: Settings) -> Builder:
    """Wire the build's collaborators: AWS clients, the Packer runner, the terminal."""
    from ebami.aws.ec2 import Ec2
    from ebami.aws.elasticbeanstalk import ElasticBeanstalk
    from ebami.aws.ssm import Ssm
    from ebami.packer.process import SubprocessRunner
    from ebami.packer.runner import Packer

    aws = app.aws(settings)
    # Packer reads credentials itself; the profile ebami uses must be the one Packer uses.
    packer_environ = dict(app.environ)
    if settings.profile:
        packer_environ["AWS_PROFILE"] = settings.profile
    return Builder(
        eb=ElasticBeanstalk(aws.client("elasticbeanstalk")),
        ec2=Ec2(aws.client("ec2")),
        ssm=lambda: Ssm(aws.client("ssm")),
        packer=lambda: Packer.find(SubprocessRunner(), packer_environ),
        region=aws.region,
        endpoint=aws.endpoint_url_for("ec2"),
        environ=app.environ,
        reporter=app.terminal,
    )


def show_plan(app: AppContext, plan: BuildPlan) -> None:
    summary = {
        "dry_run": True,
        "action": plan.action,
        "base_ami": plan.base.image_id,
        "platform_version": plan.base.platform_version,
        "bake_key": plan.bake_key.value,
        "bake_key_inputs": dict(plan.bake_key.inputs),
        "existing_image_id": plan.existing.image_id if plan.existing else None,
        "packer_source": plan.source,
        "packer_variables": plan.variables,
    }
    if app.output is OutputFormat.JSON:
        app.terminal.out_json(summary)
        return
    rows = [
        ("Action", plan.action),
        ("Base AMI", plan.base.image_id),
        ("Platform version", plan.base.platform_version or "-"),
        ("Bake key", plan.bake_key.value),
        ("Packer source", plan.source),
    ]
    rows += [
        (f"var.{name}", value if isinstance(value, str) else json.dumps(value))
        for name, value in plan.variables.items()
    ]
    app.terminal.out_table(rows)
