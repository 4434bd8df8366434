"""`ebami build`: bake the custom AMI with Packer, or find the one already baked."""

from __future__ import annotations

from typing import Annotated

import typer

from ebami.build.options import BuildOptions, Communicator
from ebami.cli.context import AppContext
from ebami.cli.factory import Factory
from ebami.cli.options import (
    DryRunOption,
    PlatformOption,
    RecordOption,
    ReleaseOption,
    comma_list,
    parse_tags,
)
from ebami.cli.present import present


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
    ssm_agent: Annotated[
        bool | None,
        typer.Option(
            "--ssm-agent/--no-ssm-agent",
            help="Install the SSM agent where the base AMI lacks it (Amazon Linux 1; default "
            "yes); without it `ebami verify` cannot reach the instances.",
            show_default=False,
        ),
    ] = None,
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
        bool | None,
        typer.Option(
            "--encrypt/--no-encrypt",
            help="Encrypt the AMI's snapshots (default EBS key).",
            show_default=False,
        ),
    ] = None,
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
    record: RecordOption = None,
    ssm_parameter: Annotated[
        str | None,
        typer.Option("--ssm-parameter", help="Publish the AMI id as this SSM parameter."),
    ] = None,
    no_wait: Annotated[
        bool,
        typer.Option(
            "--no-wait",
            help="Exit 1 at once if another build of the same bake key is running, instead of "
            "waiting for it (and reusing its AMI).",
        ),
    ] = False,
    dry_run: DryRunOption = False,
) -> None:
    """Bake the custom AMI: lookup, render, Packer, provenance tags, record."""
    from ebami.build.run import save_record
    from ebami.cli.views import build_view, dry_run_view
    from ebami.core.files import require_folder

    app = AppContext.of(ctx)
    settings = app.settings(
        platform=platform, release=release, drivers=comma_list(drivers),
        instance_type=instance_type, subnet_id=subnet_id, instance_profile=instance_profile,
        ssm_agent=ssm_agent, ssh_cidrs=ssh_cidr, encrypt=encrypt, kms_key_id=kms_key_id,
        copy_to=copy_to, share_with=share_with,
    )  # fmt: skip
    # BuildOptions refuses what cannot work as it is made, before any AWS call.
    options = BuildOptions.from_settings(
        settings, base_ami=base_ami, platform_version=platform_version, communicator=communicator,
        extra_tags=parse_tags(tag or [], "--tag"), force=force, ssm_parameter=ssm_parameter,
        wait=not no_wait,
    )  # fmt: skip
    if record is not None:
        require_folder(record, "--record")
    factory = Factory(app, settings)
    plan, steps = factory.plan_build(options, bake=not dry_run)
    if dry_run:
        present(app, dry_run_view([steps], {"dry_run": True, **steps.to_json()}))
        return
    result = factory.run_build(plan, options, steps)
    if record is not None:
        save_record(result, record, app.terminal)
    present(app, build_view(result))
