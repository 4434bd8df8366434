"""`ebami check`: is a build needed, and does each environment run the newest verified AMI?

The build verdict is the build planner's own answer (`ebami.build.planner.plan_build`, with the
same options from the same settings): the bake key a build would compute now, and whether an
AMI carries it. So `check` and `build` agree by construction. When nothing is new that costs
three calls: ListPlatformVersions, DescribePlatformVersion, DescribeImages by the bake key.

Drift compares an environment's `ImageId` with the newest verified ebami AMI that fits its
platform and release (`ebami.apply.gates.misfit`), and reports the stock AMI, an older AMI, an
AMI older than the age limit, or one that no longer exists, each with its age.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from enum import Enum
from typing import TYPE_CHECKING, Any, Protocol

from ebami import tags
from ebami.apply.gates import EnvironmentPlatform, misfit
from ebami.aws.ec2 import Image
from ebami.aws.elasticbeanstalk import Configuration, Environment
from ebami.errors import NotFoundError
from ebami.github import table
from ebami.provenance import parse_utc_timestamp

if TYPE_CHECKING:
    from ebami.build.planner import BuildPlan

DEFAULT_MAX_AGE_DAYS = 30


class CheckEb(Protocol):
    def get_environment(self, name: str, application: str | None = None) -> Environment: ...
    def configuration(self, environment: Environment) -> Configuration: ...
    def describe_platform_version(self, platform_arn: str) -> Any: ...


class DriftEc2(Protocol):
    def get_image(self, image_id: str) -> Image: ...
    def find_images_with_tag(self, key: str) -> list[Image]: ...


class ImagesByTag(Protocol):
    def find_images_by_tag(self, key: str, value: str) -> list[Image]: ...


@dataclass(frozen=True)
class BuildVerdict:
    needed: bool
    base_ami: str
    platform_version: str
    platform_released: str
    bake_key: str
    existing: str | None
    # The newest ebami AMI of the platform and release, which a new build would replace.
    replaces: str | None
    # Whether the AMI carrying the bake key passed `ebami verify` (a bake whose verify failed
    # must not count as done: the nightly job verifies it again).
    existing_verified: bool = False

    @property
    def verify_needed(self) -> bool:
        return self.existing is not None and not self.existing_verified

    @classmethod
    def of(cls, plan: BuildPlan, replaces: Image | None) -> BuildVerdict:
        return cls(
            needed=plan.existing is None,
            base_ami=plan.base.image_id,
            platform_version=plan.base.platform_version,
            platform_released=plan.base.released,
            bake_key=plan.bake_key.value,
            existing=plan.existing.image_id if plan.existing else None,
            replaces=replaces.image_id if replaces else None,
            existing_verified=bool(plan.existing and plan.existing.tags.get(tags.VERIFIED)),
        )

    @property
    def summary(self) -> str:
        if self.verify_needed:
            return (
                f"verify needed: {self.existing} carries the bake key but has not passed ebami "
                f"verify (run ebami verify --ami {self.existing})"
            )
        if not self.needed:
            return f"up to date: {self.existing} carries the bake key"
        released = f", released {self.platform_released[:10]}" if self.platform_released else ""
        replaced = f"; it replaces {self.replaces}" if self.replaces else "; no ebami AMI yet"
        return (
            f"build needed: base AMI {self.base_ami} (platform version {self.platform_version}"
            f"{released}) has no ebami AMI{replaced}"
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "build_needed": self.needed,
            "base_ami": self.base_ami,
            "platform_version": self.platform_version,
            "platform_released": self.platform_released,
            "bake_key": self.bake_key,
            "existing_ami": self.existing,
            "existing_verified": self.existing_verified,
            "verify_needed": self.verify_needed,
            "replaces": self.replaces,
        }


class DriftStatus(str, Enum):
    CURRENT = "current"
    STOCK = "stock"
    BEHIND = "behind"
    OLD = "old"
    MISSING = "missing"


@dataclass(frozen=True)
class Drift:
    environment: str
    image_id: str | None
    status: DriftStatus
    detail: str
    newest: str | None = None
    age_days: int | None = None

    @property
    def drifts(self) -> bool:
        return self.status is not DriftStatus.CURRENT

    @property
    def state(self) -> str:
        return f"{self.image_id or '-'} {self.status.value}: {self.detail}"

    @property
    def line(self) -> str:
        return f"{self.environment} {self.state}"

    def to_json(self) -> dict[str, Any]:
        return {
            "environment": self.environment,
            "image_id": self.image_id,
            "status": self.status.value,
            "detail": self.detail,
            "newest_verified": self.newest,
            "age_days": self.age_days,
        }


@dataclass(frozen=True)
class CheckReport:
    build: BuildVerdict
    drift: tuple[Drift, ...] = field(default_factory=tuple)

    @property
    def drifting(self) -> list[Drift]:
        return [item for item in self.drift if item.drifts]

    @property
    def action_needed(self) -> bool:
        return self.build.needed or self.build.verify_needed or bool(self.drifting)

    def to_json(self) -> dict[str, Any]:
        return {
            **self.build.to_json(),
            "drift": [item.to_json() for item in self.drift],
            "drift_count": len(self.drifting),
        }

    def rows(self) -> list[tuple[str, str]]:
        build = self.build
        rows = [
            ("Verdict", build.summary),
            ("Base AMI", build.base_ami),
            ("Platform version", build.platform_version),
            ("Bake key", build.bake_key),
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
                        item.detail,
                    )
                    for item in self.drift
                ],
            )
        return text


def replaced_image(ec2: ImagesByTag, plan: BuildPlan) -> Image | None:
    """The newest ebami AMI of the plan's platform and release: what a new build replaces."""
    release = plan.user_data.release or ""
    found = [
        image
        for image in ec2.find_images_by_tag(tags.PLATFORM, plan.base.platform)
        if image.tags.get(tags.MANAGED) == "true" and image.tags.get(tags.RELEASE, "") == release
    ]
    return found[0] if found else None


class DriftChecker:
    """Drift of environments; the verified AMIs are read once for all of them."""

    def __init__(
        self,
        *,
        eb: CheckEb,
        ec2: DriftEc2,
        max_age_days: int = DEFAULT_MAX_AGE_DAYS,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
    ) -> None:
        self._eb = eb
        self._ec2 = ec2
        self._max_age = max_age_days
        self._now = now
        self._verified: list[Image] | None = None
        # Environments of one platform version share its description.
        self._platforms: dict[str, EnvironmentPlatform] = {}

    def check(self, name: str, application: str | None) -> Drift:
        environment = self._eb.get_environment(name, application)
        configured = self._eb.configuration(environment).image_id
        return self.judge(environment.name, configured, environment.platform_arn)

    def judge(self, name: str, configured: str | None, platform_arn: str) -> Drift:
        """The drift of the environment `name`, whose configuration sets `configured` (None:
        the platform's own AMI) on the platform version `platform_arn` (read already, by
        `check` or an inventory)."""
        platform = self._platforms.get(platform_arn)
        if platform is None:
            description = self._eb.describe_platform_version(platform_arn)
            platform = EnvironmentPlatform.of(platform_arn, description)
            self._platforms[platform_arn] = platform
        current = configured or platform.default_image
        newest = self._newest(platform)
        if current is None or current == platform.default_image:
            return Drift(
                name,
                current,
                DriftStatus.STOCK,
                "runs the platform's own AMI"
                + (f"; the newest verified ebami AMI is {newest.image_id}" if newest else ""),
                newest.image_id if newest else None,
            )
        try:
            image = self._ec2.get_image(current)
        except NotFoundError:
            return Drift(
                name,
                current,
                DriftStatus.MISSING,
                f"{current} no longer exists: the environment cannot launch instances",
                newest.image_id if newest else None,
            )
        age = self._age_days(image)
        if newest is not None and newest.image_id != current:
            return Drift(
                name,
                current,
                DriftStatus.BEHIND,
                f"{age} days old; the newest verified ebami AMI is {newest.image_id}",
                newest.image_id,
                age,
            )
        if age is not None and age > self._max_age:
            return Drift(
                name,
                current,
                DriftStatus.OLD,
                f"{age} days old, over {self._max_age}",
                newest.image_id if newest else None,
                age,
            )
        return Drift(
            name,
            current,
            DriftStatus.CURRENT,
            "the newest verified ebami AMI" + (f", {age} days old" if age is not None else ""),
            current,
            age,
        )

    def _newest(self, platform: EnvironmentPlatform) -> Image | None:
        if self._verified is None:
            self._verified = self._ec2.find_images_with_tag(tags.VERIFIED)
        return next((image for image in self._verified if misfit(image, platform, set()) is None),
                    None)  # fmt: skip

    def _age_days(self, image: Image) -> int | None:
        created = parse_utc_timestamp(image.creation_date)
        return None if created is None else max(0, (self._now() - created).days)
