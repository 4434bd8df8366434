"""Is a custom AMI still needed? The verdict on a platform version's own AMI (its stock AMI).

`ebami verify --stock` launches the platform version's own AMI and checks, by the rules of every
verify, which log drivers its ECS agent allows. The verdict is remembered per platform version
in an SSM parameter, `{prefix}/stock-ami/{platform alias}/{platform version}` (prefix: the
channels' folder, `/ebami` by default), so that `check`, `status` and the nightly read it instead
of launching an instance each time. Its value is JSON: the AMI checked, the drivers its agent
allows (null when it could not be checked, with why), the ecs-init version and when.

An environment on a custom AMI needs it only while its platform's own AMI lacks a log driver its
deployed Dockerrun uses (`need`): since ecs-init 1.45.0 the default list includes fluentd, so on
Amazon Linux 2023 the custom AMI is usually not needed any more. The drivers the custom AMI was
baked for stand in for the Dockerrun's while the platform's AMI allows them all (the Dockerrun
can use no driver its AMI does not allow: its tasks would not be placed).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

from ebami.core.once import OnceCache
from ebami.image.channels import stock_folder
from ebami.image.environment import EnvironmentPlatform


@dataclass(frozen=True)
class StockVerdict:
    """What `ebami verify --stock` found on a platform version's own AMI."""

    image_id: str
    platform_arn: str
    # The drivers its agent allows; None: it could not be checked, () its agent would not
    # start (`detail` says why).
    allows: tuple[str, ...] | None
    ecs_init: str | None
    checked_at: str
    detail: str

    @property
    def checked(self) -> bool:
        """Whether its agent was read and starts: an empty list is an agent that stops."""
        return bool(self.allows)

    def lacking(self, drivers: Iterable[str]) -> list[str]:
        """Which of `drivers` its agent does not allow (all of them when not checked)."""
        allowed = set(self.allows or ())
        return [driver for driver in drivers if driver not in allowed]

    @property
    def agent(self) -> str:
        return f"ecs-init {self.ecs_init}" if self.ecs_init else "ecs-init of unknown version"

    def to_json(self) -> dict[str, Any]:
        return {
            "image_id": self.image_id,
            "platform_arn": self.platform_arn,
            "allows": list(self.allows) if self.allows is not None else None,
            "ecs_init": self.ecs_init,
            "checked_at": self.checked_at,
            "detail": self.detail,
        }

    def to_value(self) -> str:
        return json.dumps(self.to_json(), separators=(",", ":"))

    @classmethod
    def from_value(cls, value: str | None) -> StockVerdict | None:
        """The verdict a parameter holds; None for none, or for a value not written by ebami."""
        try:
            data = json.loads(value or "")
            allows = data["allows"]
            return cls(
                image_id=str(data["image_id"]),
                platform_arn=str(data["platform_arn"]),
                allows=None if allows is None else tuple(str(item) for item in allows),
                ecs_init=data.get("ecs_init"),
                checked_at=str(data.get("checked_at", "")),
                detail=str(data.get("detail", "")),
            )
        except (ValueError, TypeError, KeyError):
            return None


@dataclass(frozen=True)
class Need:
    """Whether an environment still needs its custom AMI: False (not needed), True, or None
    (unknown: no verdict on its platform's AMI yet), and the sentence that says so."""

    needed: bool | None
    detail: str
    # The verdict could not be read (AWS refused): said, where a verdict not yet made is not.
    unreadable: bool = False
    # The command that goes back to the platform's AMI (none for one that runs it already).
    back: str = ""

    @property
    def word(self) -> str:
        return {True: "needed", False: "not needed", None: "unknown"}[self.needed]

    @property
    def output(self) -> str:
        """For GitHub's outputs: true, false or unknown."""
        return {True: "true", False: "false", None: "unknown"}[self.needed]

    @property
    def worth_saying(self) -> bool:
        return self.needed is not None or self.unreadable

    @classmethod
    def unread(cls, reason: object) -> Need:
        return cls(None, f"the verdict on the platform's AMI could not be read: {reason}", True)

    def to_json(self) -> dict[str, Any]:
        return {
            "needed": self.needed,
            "detail": self.detail,
            "unreadable": self.unreadable,
            "back": self.back or None,
        }


def need(
    verdict: StockVerdict | None,
    drivers: Iterable[str],
    *,
    stock: str,
    alias: str,
    version: str,
    back: str = "",
    deployed: str = "",
    note: str = "",
) -> Need:
    """Whether a custom AMI baked to allow `drivers` is still needed on platform version
    `version` of `alias`, whose own AMI is `stock`, by the verdict on that AMI; `back`: the
    command that goes back to it. `deployed`: the application version whose Dockerrun uses
    `drivers`, when they are its drivers rather than those the custom AMI was baked for;
    `note`: said after a judgement by drivers (how they were chosen)."""
    drivers = tuple(drivers)
    if verdict is None:
        return Need(
            None,
            f"no verdict yet on the platform's AMI {stock} ({alias} {version}): ebami verify "
            f"--stock --platform {alias} --platform-version {version}",
        )
    if verdict.allows is None:
        return Need(True, f"the platform's AMI {stock} could not be checked: {verdict.detail}")
    if not verdict.allows:
        return Need(
            True, f"the platform's AMI {stock}'s ECS agent would not start: {verdict.detail}"
        )
    lacking = verdict.lacking(drivers)
    which = f", which application version {deployed!r} uses" if deployed else ""
    if lacking:
        return Need(
            True,
            f"the platform's AMI {stock} does not allow {', '.join(lacking)}{which} "
            f"({verdict.agent}){note}",
        )
    judged = (
        f"application version {deployed!r} sets no log driver, which the platform's AMI "
        f"{stock} takes ({verdict.agent})"
        if deployed and not drivers
        else f"the platform's AMI {stock} allows {', '.join(drivers)}{which} ({verdict.agent})"
    )
    return Need(
        False,
        judged + note + (f"; go back with `{back}`" if back else ""),
        back=back,
    )


def environment_need(
    environment: str | None,
    platform: EnvironmentPlatform,
    verdict: StockVerdict | None,
    drivers: Iterable[str],
    deployed: str = "",
    note: str = "",
) -> Need:
    """Whether `environment`, on a custom AMI baked to allow `drivers` (or whose deployed
    application version `deployed` uses them), still needs it (None: an environment on the
    platform's own AMI, with nothing to go back to); `note`: as `need`'s."""
    return need(
        verdict,
        drivers,
        stock=platform.default_image or "unknown",
        alias=platform.alias,
        version=platform.version,
        back=f"ebami apply --env {environment} --stock" if environment else "",
        deployed=deployed,
        note=note,
    )


class StockSsm(Protocol):
    def parameter_value(self, name: str) -> str | None: ...
    def put_value(self, name: str, value: str, *, description: str) -> int: ...


class StockVerdicts:
    """The verdicts of one region (`prefix`: the channels' folder); each read once per run."""

    def __init__(self, ssm: StockSsm, prefix: str) -> None:
        self._ssm = ssm
        self.folder = stock_folder(prefix)
        self._read: OnceCache[str, StockVerdict | None] = OnceCache()

    def parameter(self, alias: str, version: str) -> str:
        return f"{self.folder}/{alias}/{version}"

    def of(self, platform: EnvironmentPlatform) -> StockVerdict | None:
        """The verdict on the platform version's own AMI; None when there is none, when the
        platform is not one ebami bakes for, or when it was given on another AMI."""
        known = platform.platform
        if known is None or platform.default_image is None:
            return None
        return self.of_version(known.alias, platform.version, platform.default_image)

    def of_version(self, alias: str, version: str, image_id: str) -> StockVerdict | None:
        """The verdict on `image_id`, the own AMI of `alias`'s platform version `version`."""
        name = self.parameter(alias, version)
        verdict = self._read.get(
            name, lambda: StockVerdict.from_value(self._ssm.parameter_value(name))
        )
        return verdict if verdict and verdict.image_id == image_id else None

    def remember(self, alias: str, version: str, verdict: StockVerdict) -> str:
        name = self.parameter(alias, version)
        self._ssm.put_value(
            name,
            verdict.to_value(),
            description=f"ebami: which log drivers the own AMI of {alias} {version} allows "
            "(ebami verify --stock)",
        )
        self._read.set(name, verdict)
        return name
