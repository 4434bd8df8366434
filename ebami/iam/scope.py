"""What a policy is scoped to (`Scope`), from the settings in force and `ebami iam policy`'s
options: the account, the regions, the environments, the parameter paths, the instance
profile (and its role) and the KMS key."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from ebami.config.settings import Settings
from ebami.core.errors import InputError

_ACCOUNT = re.compile(r"[0-9]{12}")


@dataclass(frozen=True)
class Scope:
    """The resources a policy names: the account, the regions, the environments (application,
    name; `*` where unknown), SSM parameter paths, the instance profile (and the role it
    passes) and the KMS key, each from the settings in force."""

    account: str
    regions: tuple[str, ...]
    environments: tuple[tuple[str, str], ...] = (("*", "*"),)
    channel_prefix: str = "/ebami/"
    published: tuple[str, ...] = ()
    instance_profile: str | None = None
    role: str | None = None
    kms_key: str | None = None
    partition: str = "aws"

    @property
    def applications(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(application for application, _ in self.environments))


def check_account(account: str) -> str:
    if not _ACCOUNT.fullmatch(account):
        raise InputError(f"--account {account!r} is not an AWS account id: give its 12 digits")
    return account


def channel_prefix(template: str) -> str:
    """The fixed folder of the channel parameters: `/ebami/{platform}/{release}/{channel}` ->
    `/ebami/`."""
    fixed = template.split("{", 1)[0]
    return fixed[: fixed.rfind("/") + 1] or "/"


def scope_of(
    settings: Settings,
    *,
    account: str,
    region: str,
    environments: Sequence[str] = (),
    published: Sequence[str] = (),
    instance_profile: str | None = None,
    role: str | None = None,
) -> Scope:
    """The scope of the settings in force: the home `region`, the copy regions and each
    configured environment's region; the environments configured (`[environments.NAME]`) and
    those named (`environments`: configured keys or Elastic Beanstalk names, in any
    application); the instance profile's role (its own name unless `role` says otherwise)."""
    regions = [region, *settings.copy_to]
    named: list[tuple[str, str]] = []
    for target in settings.environments.values():
        named.append((target.application, target.environment))
        regions.append(target.region or region)
    for name in environments:
        target_settings, application, environment = settings.environment_target(name)
        pair = (application or "*", environment)
        if pair not in named:
            named.append(pair)
        regions.append(target_settings.region or region)
    profile = instance_profile or settings.instance_profile
    return Scope(
        account=check_account(account),
        regions=tuple(dict.fromkeys(regions)),
        environments=tuple(named) or (("*", "*"),),
        channel_prefix=channel_prefix(settings.channel_parameter),
        published=tuple(dict.fromkeys(published)),
        instance_profile=profile,
        role=role or profile,
        kms_key=settings.kms_key_id,
    )
