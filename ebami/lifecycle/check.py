"""`ebami check`: whether a build is needed (the build planner's verdict) and each
environment's drift (`ebami.lifecycle.drift`); its report for people, shells and GitHub."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ebami.core.tables import table
from ebami.image.bake import BuildVerdict
from ebami.image.stock import Need
from ebami.lifecycle.drift import Drift, DriftChecker


@dataclass(frozen=True)
class CheckReport:
    build: BuildVerdict
    drift: tuple[Drift, ...] = field(default_factory=tuple)
    # Whether the base AMI (the platform version's own) needs a custom AMI at all, by the
    # remembered verdict on it (`ebami verify --stock`); None: not asked.
    stock: Need | None = None

    @property
    def drifting(self) -> list[Drift]:
        return [item for item in self.drift if item.drifts]

    @property
    def action_needed(self) -> bool:
        return self.build.needed or self.build.verify_needed or bool(self.drifting)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.build.to_json(),
            "custom_ami": self.stock.to_json() if self.stock else None,
            "drift": [item.to_json() for item in self.drift],
            "drift_count": len(self.drifting),
        }

    @property
    def custom_ami(self) -> str:
        """The base AMI's need of a custom AMI in a few words."""
        return f"{self.stock.word}: {self.stock.detail}" if self.stock else "-"

    def rows(self) -> list[tuple[str, str]]:
        build = self.build
        rows = [
            ("Verdict", build.summary),
            ("Base AMI", build.base_ami),
            ("Platform version", build.platform_version),
            ("Bake key", build.bake_key),
            ("Custom AMI", self.custom_ami),
        ]
        rows += [(f"Environment {item.environment}", item.state) for item in self.drift]
        return rows

    def github_outputs(self) -> dict[str, str]:
        build = self.build
        return {
            "build-needed": "true" if build.needed else "false",
            "base-ami": build.base_ami,
            "platform-version": build.platform_version,
            "bake-key": build.bake_key,
            "existing-ami": build.existing or "",
            "verify-needed": "true" if build.verify_needed else "false",
            "replaces": build.replaces or "",
            "drift": "\n".join(item.line for item in self.drifting),
            "drift-count": str(len(self.drifting)),
            # true, false or unknown (no verdict on the base AMI yet: ebami verify --stock).
            "custom-ami-needed": self.stock.output if self.stock else "unknown",
            # Environments on a custom AMI they need no more (with the way back).
            "custom-ami-not-needed": "\n".join(
                item.environment for item in self.drift if item.need and item.need.back
            ),
        }

    def markdown(self) -> str:
        build = self.build
        text = "## ebami check\n\n" + table(
            ("", ""),
            [
                ("Verdict", build.summary),
                ("Base AMI", build.base_ami),
                ("Platform version", build.platform_version),
                ("Released", build.platform_released or "-"),
                ("Bake key", f"`{build.bake_key}`"),
                ("Custom AMI", self.custom_ami),
            ],
        )
        if self.drift:
            text += "\n" + table(
                ("Environment", "AMI", "Status", "Age (days)", "Detail"),
                [
                    (
                        item.environment,
                        item.image_id or "-",
                        item.status.value,
                        "-" if item.age_days is None else str(item.age_days),
                        item.full_detail,
                    )
                    for item in self.drift
                ],
            )
        return text


@dataclass(frozen=True)
class Watched:
    """An environment `check --env` names: its region when the settings configure one (None:
    the home region), its application (None: unknown) and its Elastic Beanstalk name."""

    region: str | None
    application: str | None
    environment: str


def run_check(
    build: Callable[[], BuildVerdict],
    watched: Sequence[Watched],
    checker: Callable[[str | None], DriftChecker],
    stock: Callable[[BuildVerdict], Need] | None = None,
) -> CheckReport:
    """The build verdict (`build`: the build planner's), whether its base AMI needs a custom
    AMI (`stock`), then each environment's drift, one drift checker per region
    (`checker(region)`), made once: a region's environments and their AMIs are read
    together."""
    verdict = build()
    base_need = stock(verdict) if stock else None
    regions: dict[str | None, list[int]] = {}
    for number, item in enumerate(watched):
        regions.setdefault(item.region, []).append(number)
    drift: list[Drift | None] = [None] * len(watched)
    for region, numbers in regions.items():
        found = checker(region).check_all(
            [(watched[number].environment, watched[number].application) for number in numbers]
        )
        for number, one in zip(numbers, found, strict=True):
            drift[number] = one
    return CheckReport(verdict, tuple(item for item in drift if item is not None), base_need)
