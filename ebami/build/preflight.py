"""What only AWS can tell about a build's inputs, asked with read-only calls while planning:
the builder's subnet, its instance type in the region, its instance profile and the KMS key.
Each refusal is one line naming where the value came from, before anything is launched.

A caller whose role may not ask (a CI role scoped to what Packer needs, a key of another
account) gets a warning instead: the check is skipped, and Packer finds out as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Protocol

from ebami.build.options import BuildOptions
from ebami.core.errors import AccessDenied, InputError
from ebami.core.reporting import Reporter

if TYPE_CHECKING:
    from ebami.aws.iam import Iam
    from ebami.aws.kms import Kms


class PreflightEc2(Protocol):
    """What preflight asks EC2 (`ebami.aws.ec2.Ec2` has it)."""

    def subnet_exists(self, subnet_id: str) -> bool: ...

    def instance_type_offered(self, instance_type: str) -> bool: ...


# Prefixes an InputError raised inside with where the setting `key` came from
# (`Settings.blame`): `--subnet-id: ...`, `ebami.toml: key 'subnet_id': ...`.
Blame = Callable[[str], AbstractContextManager[None]]


def check_aws_inputs(
    options: BuildOptions,
    *,
    region: str,
    ec2: PreflightEc2,
    iam: Callable[[], Iam],
    kms: Callable[[], Kms],
    blame: Blame,
    instance_type_chosen: bool,
    reporter: Reporter,
) -> None:
    """`instance_type_chosen`: the user set the builder's type. The default is offered in every
    commercial region, so it costs no call."""
    if options.subnet_id:
        with blame("subnet_id"), _unless_denied(reporter, "subnet_id"):
            if not ec2.subnet_exists(options.subnet_id):
                raise InputError(
                    f"subnet {options.subnet_id} does not exist in {region} (or this account "
                    "cannot see it); give a subnet of the build region"
                )
    if instance_type_chosen:
        with blame("instance_type"), _unless_denied(reporter, "instance_type"):
            if not ec2.instance_type_offered(options.instance_type):
                raise InputError(
                    f"instance type {options.instance_type} is not offered in {region}; pick "
                    "one the region offers (aws ec2 describe-instance-type-offerings)"
                )
    if options.instance_profile:
        with blame("instance_profile"), _unless_denied(reporter, "instance_profile"):
            if not iam().instance_profile_exists(options.instance_profile):
                raise InputError(
                    f"instance profile {options.instance_profile} does not exist; give the "
                    "name of an existing instance profile"
                )
    if options.kms_key_id:
        with blame("kms_key_id"), _unless_denied(reporter, "kms_key_id"):
            state = kms().key_state(options.kms_key_id)
            if state is None:
                raise InputError(
                    f"KMS key {options.kms_key_id} does not exist in {region}; give a key id, "
                    "alias/NAME or ARN of the build region"
                )
            if state != "Enabled":
                raise InputError(
                    f"KMS key {options.kms_key_id} is {state}, not Enabled: it cannot encrypt "
                    "the AMI's snapshots"
                )


@contextmanager
def _unless_denied(reporter: Reporter, key: str) -> Iterator[None]:
    try:
        yield
    except AccessDenied as exc:
        reporter.warn(f"{key} was not checked before the build: {exc.message}")
