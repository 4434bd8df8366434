"""What earlier runs may have left behind, found with read-only calls while a build plans.

A run killed with SIGKILL (or on a machine that went away) cleans up nothing: its builder
instance, Packer's temporary security group and key pair, and an AMI still pending stay. The
next build names each with the command that removes it, and removes nothing itself: the same
things exist while another build is running, here or on another machine.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from ebami.core.errors import AccessDenied, Leftover
from ebami.core.reporting import Reporter
from ebami.image import tags
from ebami.image.managed import launched_for

if TYPE_CHECKING:
    from ebami.aws.ec2_values import Image, Instance, KeyPair, SecurityGroup

# Packer names its temporary security groups and key pairs `packer_<uuid>`.
PACKER_TEMPORARY = "packer_*"
# Every AMI ebami bakes is named `ebami-...` (`ebami.build.planner.ami_name`); Packer tags it
# only once it is available, so a pending one is known by its name.
AMI_NAMES = "ebami-*"


class AwsCommands(Protocol):
    """AWS CLI commands for the session's profile and region (`ebami.aws.session.AwsCli`)."""

    def command(self, service: str, operation: str, *args: str) -> str: ...


class LeftoverEc2(Protocol):
    """The EC2 calls the check makes (`ebami.aws.ec2.Ec2` has them)."""

    def find_instances_by_tag(self, key: str, value: str) -> list[Instance]: ...

    def find_unfinished_images(self, name_pattern: str) -> list[Image]: ...

    def find_security_groups(self, name_pattern: str) -> list[SecurityGroup]: ...

    def find_key_pairs(self, name_pattern: str) -> list[KeyPair]: ...


def find_leftovers(ec2: LeftoverEc2, cli: AwsCommands, reporter: Reporter) -> tuple[Leftover, ...]:
    """Instances ebami launched that still exist, pending or failed ebami AMIs, and Packer's
    temporary security groups and key pairs, each with its removal command; reported as
    warnings, with what the user must make sure of first."""
    try:
        found = _leftovers(ec2, cli)
    except AccessDenied as exc:
        reporter.warn(f"what earlier runs left was not checked: {exc.message}")
        return ()
    if found:
        reporter.warn(
            f"{len(found)} resource(s) that an earlier run may have left (killed before it could "
            "clean up); they may also belong to a run still going (a build or a verify, here "
            "or elsewhere): remove them only once none is"
        )
        for leftover in found:
            reporter.warn(str(leftover))
    return found


def _leftovers(ec2: LeftoverEc2, cli: AwsCommands) -> tuple[Leftover, ...]:
    found = [
        Leftover(
            f"instance {instance.instance_id} ({launched_for(instance.tags)})",
            instance.state,
            cli.command("ec2", "terminate-instances", "--instance-ids", instance.instance_id),
        )
        for instance in ec2.find_instances_by_tag(tags.MANAGED, "true")
        if instance.state != "shutting-down"
    ]
    found += [
        Leftover(
            f"AMI {image.image_id} ({image.name})",
            image.state,
            " && ".join(
                [
                    cli.command("ec2", "deregister-image", "--image-id", image.image_id),
                    *(
                        cli.command("ec2", "delete-snapshot", "--snapshot-id", snapshot_id)
                        for snapshot_id in image.snapshot_ids
                    ),
                ]
            ),
        )
        for image in ec2.find_unfinished_images(AMI_NAMES)
    ]
    found += [
        Leftover(
            f"security group {group.group_id} ({group.name})",
            group.description or "Packer's",
            cli.command("ec2", "delete-security-group", "--group-id", group.group_id),
        )
        for group in ec2.find_security_groups(PACKER_TEMPORARY)
    ]
    found += [
        Leftover(
            f"key pair {key.name}",
            f"Packer's, created {key.created}",
            cli.command("ec2", "delete-key-pair", "--key-name", key.name),
        )
        for key in ec2.find_key_pairs(PACKER_TEMPORARY)
    ]
    return tuple(found)
