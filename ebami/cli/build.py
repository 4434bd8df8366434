"""`ebami build`: bake the custom AMI with Packer, or find the one already baked."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ebami.build.options import BuildOptions, Communicator
from ebami.cli.context import AppContext
from ebami.cli.factory import Factory
from ebami.cli.options import PlatformOption, ReleaseOption, comma_list, parse_tags
from ebami.core.errors import LeftBehind

if TYPE_CHECKING:
    from ebami.build.run import BuildRecord


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
    record: Annotated[
        Path | None,
        typer.Option("--record", help="Write the build record (JSON) to FILE.", dir_okay=False),
    ] = None,
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
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Show the plan (base AMI, bake key, Packer run).")
    ] = False,
) -> None:
    """Bake the custom AMI: lookup, render, Packer, provenance tags, record."""
    from ebami.core.files import require_folder, write_atomically

    app = AppContext.of(ctx)
    settings = app.settings(
        platform=platform,
        release=release,
        drivers=comma_list(drivers),
        instance_type=instance_type,
        subnet_id=subnet_id,
        instance_profile=instance_profile,
        ssm_agent=ssm_agent,
        ssh_cidrs=ssh_cidr,
        encrypt=encrypt,
        kms_key_id=kms_key_id,
        copy_to=copy_to,
        share_with=share_with,
    )
    # BuildOptions refuses what cannot work as it is made, before any AWS call.
    options = BuildOptions.from_settings(
        settings,
        base_ami=base_ami,
        platform_version=platform_version,
        communicator=communicator,
        extra_tags=parse_tags(tag or [], "--tag"),
        force=force,
        ssm_parameter=ssm_parameter,
        wait=not no_wait,
    )
    if record is not None:
        require_folder(record, "--record")
    factory = Factory(app, settings)
    if not dry_run:
        factory.prefetch_packer_version()
    plan, steps = factory.plan_build(options)
    if dry_run:
        factory.display().execute(steps)
        return
    result = factory.run_build(plan, options, steps)
    if record is not None:
        write_atomically(record, json.dumps(result.to_json(), indent=2) + "\n", option="--record")
        app.terminal.detail(f"wrote the build record to {record}")
    outcome = f"{result.image_id} {'already built' if result.skipped else 'built'}"
    github = app.github
    if github is not None:
        github.set(
            {
                "ami-id": result.image_id,
                "bake-key": result.bake_key,
                "built": "false" if result.skipped else "true",
                "ssm-parameter": result.ssm_parameter or "",
            }
        )
        github.summary(build_summary(result))
    if app.json:
        app.terminal.out_json(result.to_json())
    else:
        app.terminal.out_text(result.image_id + "\n")
    # The AMI is made and printed; what the clean-up could not remove decides the exit code.
    if result.left_behind:
        raise LeftBehind(result.left_behind, outcome=outcome)
    if not app.json:
        app.terminal.success(f"{outcome} ({result.ami_name})")


def build_summary(result: BuildRecord) -> str:
    """The build as a Markdown table, for the job summary (`-o github`)."""
    from ebami.core.tables import table

    how = "reused: it carries the bake key" if result.skipped else "built"
    rows = [
        ("AMI", f"{result.image_id} ({how})"),
        ("Name", result.ami_name),
        ("Base AMI", result.base_ami.get("image_id", "")),
        ("Platform version", result.base_ami.get("platform_version", "")),
        ("Release", result.release or "-"),
        ("Drivers", ", ".join(result.drivers)),
        ("Bake key", f"`{result.bake_key}`"),
        ("SSM parameter", result.ssm_parameter or "-"),
    ]
    return "## ebami build\n\n" + table(("", ""), rows)
