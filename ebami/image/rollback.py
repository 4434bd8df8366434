"""An environment's rollback target: the AMI it ran before `ebami apply` switched it, which
`ebami apply --rollback` goes back to and which no prune may remove.

Kept in an SSM parameter, `{prefix}/rollback-target/{environment id}` (prefix: the folder of the
channel parameters, `/ebami` by default), a plain String whose versions SSM keeps. Writing it
changes nothing about the environment: a tag on the environment propagates through its
CloudFormation stack, and changing one can start an environment update of its own just after a
production update settled. Only the current version names the rollback target; the older ones
are history, and protect nothing.

For compatibility, an environment without that parameter still has the rollback target earlier
versions of ebami tagged it with (`ebami:previous-image-id`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Protocol

from ebami.image.channels import rollback_folder
from ebami.image.managed import rollback_target


class RollbackReader(Protocol):
    def parameter_values(self, path: str) -> dict[str, str]: ...


class RollbackSsm(RollbackReader, Protocol):
    def parameter_value(self, name: str) -> str | None: ...
    def put_value(self, name: str, value: str, *, description: str) -> int: ...


def recorded(ssm: RollbackReader, folder: str) -> dict[str, str]:
    """Environment id -> rollback target, of every environment that has a parameter in
    `folder` (GetParametersByPath: ten a call)."""
    return {
        name.rsplit("/", 1)[-1]: value
        for name, value in ssm.parameter_values(folder).items()
        if value
    }


class RollbackTargets:
    """The rollback targets of one region's environments (`prefix`: the channels' folder)."""

    def __init__(self, ssm: RollbackSsm, prefix: str) -> None:
        self._ssm = ssm
        self.folder = rollback_folder(prefix)

    def parameter(self, environment_id: str) -> str:
        return f"{self.folder}/{environment_id}"

    def record(self, environment_id: str, environment: str, image_id: str) -> None:
        self._ssm.put_value(
            self.parameter(environment_id),
            image_id,
            description=f"ebami: the AMI environment {environment} ran before ebami apply "
            "switched it (its rollback target)",
        )

    def of(self, environment_id: str, legacy_tags: Callable[[], Mapping[str, str]]) -> str | None:
        """The environment's rollback target: its parameter's value, else the tag earlier
        versions wrote (`legacy_tags()` reads the environment's tags, only then)."""
        return self._ssm.parameter_value(self.parameter(environment_id)) or rollback_target(
            legacy_tags()
        )
