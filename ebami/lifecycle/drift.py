"""Drift: does an environment run the newest verified ebami AMI that fits its platform and
release (`ManagedImage.fit`)? Reported, first found first: the stock AMI, an AMI that no
longer exists, a revoked AMI, an older AMI than the newest verified one, an AMI `ebami verify`
never proved (applied with `--allow-unverified`, or not ebami's) when no verified one fits, or
the newest one grown older than the age limit, each with its age."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from enum import Enum
from typing import Any, Protocol

from ebami.aws.eb_values import Configuration, Environment
from ebami.aws.ec2_values import Image
from ebami.core.errors import AwsError, InputError, NotFoundError
from ebami.core.once import OnceCache
from ebami.image import tags
from ebami.image.environment import EnvironmentPlatform
from ebami.image.managed import ManagedImage, newest_first
from ebami.image.stock import Need, StockVerdicts, environment_need
from ebami.image.version_drivers import VersionDrivers

DEFAULT_MAX_AGE_DAYS = 30
MAX_AGE_DAYS = 3650


def check_max_age(days: int) -> int:
    """`--max-age`: 1 to 3650 days."""
    if not 1 <= days <= MAX_AGE_DAYS:
        raise InputError(f"--max-age {days} is out of range: give days from 1 to {MAX_AGE_DAYS}")
    return days


class CheckEb(Protocol):
    def get_environment(self, name: str, application: str | None = None) -> Environment: ...
    def environments_named(
        self, names: Sequence[str], application: str | None = None
    ) -> dict[str, Environment]: ...
    def configuration(self, environment: Environment) -> Configuration: ...
    def describe_platform_version(self, platform_arn: str) -> Any: ...


class DriftEc2(Protocol):
    def get_image(self, image_id: str) -> Image: ...
    def find_images_with_tag(self, key: str) -> list[Image]: ...
    def images_by_id(self, image_ids: Sequence[str]) -> list[Image]: ...


class DriftStatus(str, Enum):
    CURRENT = "current"
    STOCK = "stock"
    BEHIND = "behind"
    OLD = "old"
    MISSING = "missing"
    # The AMI it runs was revoked (`ebami revoke`): switch it off.
    REVOKED = "revoked"
    # The AMI it runs never passed `ebami verify` (applied with --allow-unverified, say).
    UNVERIFIED = "unverified"


@dataclass(frozen=True)
class Drift:
    environment: str
    image_id: str | None
    status: DriftStatus
    detail: str
    newest: str | None = None
    age_days: int | None = None
    # On a custom AMI: is it still needed (`ebami.image.stock`)? None: not judged.
    need: Need | None = None

    @property
    def drifts(self) -> bool:
        return self.status is not DriftStatus.CURRENT

    @property
    def state(self) -> str:
        return f"{self.image_id or '-'} {self.status.value}: {self.full_detail}"

    @property
    def full_detail(self) -> str:
        """The detail, and whether the custom AMI is still needed where a verdict says."""
        need = self.need
        if need is None or not need.worth_saying:
            return self.detail
        return f"{self.detail}; custom AMI {need.word}: {need.detail}"

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
            "custom_ami": self.need.to_json() if self.need else None,
        }


class DriftChecker:
    """Drift of environments. Threads may share one: each question is read once for all of
    them (`OnceCache`): the verified AMIs (one scan), each platform version, each AMI."""

    def __init__(
        self,
        *,
        eb: CheckEb,
        ec2: DriftEc2,
        max_age_days: int = DEFAULT_MAX_AGE_DAYS,
        now: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        stock: StockVerdicts | None = None,
        drivers: tuple[str, ...] = (),
        versions: VersionDrivers | None = None,
    ) -> None:
        """`stock`: the verdicts on the platforms' own AMIs, to judge whether a custom AMI is
        still needed (not judged without); `drivers`: what a custom AMI without an
        `ebami:drivers` tag is taken to have been baked for (the settings'); `versions`: the
        log drivers of the deployed application versions, read where the baked drivers
        cannot answer (see `_need`)."""
        self._eb = eb
        self._ec2 = ec2
        self._max_age = max_age_days
        self._now = now
        self._stock = stock
        self._drivers = drivers
        self._versions = versions
        self._verified: OnceCache[str, list[ManagedImage]] = OnceCache()
        # Environments of one platform version share its description.
        self._platforms: OnceCache[str, EnvironmentPlatform] = OnceCache()
        # AMI id -> the AMI (None: it does not exist or is not visible).
        self._images: OnceCache[str, ManagedImage | None] = OnceCache()

    def know(self, images: Iterable[ManagedImage]) -> None:
        """AMIs read already (the estate's): their drift is judged without reading them again."""
        for image in images:
            self._images.put(image.image_id, image)

    def know_verified(self, images: Iterable[ManagedImage]) -> None:
        """The region's verified AMIs read already (the estate's: this account's available
        AMIs tagged verified), so that they are not scanned again."""
        self._verified.put(tags.VERIFIED, newest_first(images))

    def platform(self, platform_arn: str) -> EnvironmentPlatform:
        """The platform version `platform_arn`, read once for every environment on it."""
        return self._platforms.get(
            platform_arn,
            lambda: EnvironmentPlatform.of(
                platform_arn, self._eb.describe_platform_version(platform_arn)
            ),
        )

    def describe_running(self, running: Iterable[tuple[str | None, str]]) -> None:
        """Read in a batch the AMIs environments run, each given as (the AMI its configuration
        sets or None, its platform version's ARN), but for the platforms' own AMIs, whose drift
        is judged without reading them (the platform versions are read here, once each)."""
        self.describe(
            configured
            for configured, platform_arn in running
            if configured and configured != self.platform(platform_arn).default_image
        )

    def describe(self, image_ids: Iterable[str]) -> None:
        """Read the AMIs of `image_ids` not known yet in a few calls (instead of one each);
        those not found are known as missing."""
        wanted = [
            image_id
            for image_id in dict.fromkeys(image_ids)
            if image_id and not self._images.known(image_id)
        ]
        if not wanted:
            return
        found = {image.image_id: image for image in self._ec2.images_by_id(wanted)}
        for image_id in wanted:
            image = found.get(image_id)
            self._images.put(image_id, ManagedImage.of(image) if image is not None else None)

    def check(self, name: str, application: str | None) -> Drift:
        environment = self._eb.get_environment(name, application)
        configured = self._eb.configuration(environment).image_id
        return self.judge_environment(environment, configured)

    def check_all(self, wanted: Sequence[tuple[str, str | None]]) -> list[Drift]:
        """The drift of each (environment name, application or None) of `wanted`, in order:
        the environments asked for together (per application), their AMIs read in a batch."""
        by_application: dict[str | None, list[str]] = {}
        for name, application in wanted:
            by_application.setdefault(application, []).append(name)
        found = {
            (name, application): environment
            for application, names in by_application.items()
            for name, environment in self._eb.environments_named(names, application).items()
        }
        configured = {
            key: self._eb.configuration(environment).image_id for key, environment in found.items()
        }
        self.describe_running(
            (configured[key], environment.platform_arn) for key, environment in found.items()
        )
        return [self.judge_environment(found[key], configured[key]) for key in wanted]

    def judge_environment(self, environment: Environment, configured: str | None) -> Drift:
        return self.judge(
            environment.name,
            configured,
            environment.platform_arn,
            deployed=(environment.application, environment.version_label),
        )

    def judge(
        self,
        name: str,
        configured: str | None,
        platform_arn: str,
        *,
        deployed: tuple[str, str] | None,
    ) -> Drift:
        """The drift of the environment `name`, whose configuration sets `configured` (None:
        the platform's own AMI) on the platform version `platform_arn` (read already, by
        `check` or an inventory), and on a custom AMI whether it is still needed, by the log
        drivers of `deployed` (its application and version label) where it must."""
        drift = self._drift(name, configured, platform_arn)
        if drift.status is DriftStatus.MISSING or self._stock is None:
            return drift
        stock = drift.status is DriftStatus.STOCK
        need = self._need(name, None if stock else drift.image_id, platform_arn, deployed)
        if not stock or need is None or need.needed is not False:
            return dataclasses.replace(drift, need=need)
        # On the platform's own AMI, which allows the drivers: as it should be.
        return dataclasses.replace(
            drift, status=DriftStatus.CURRENT, detail="runs the platform's own AMI", need=need
        )

    def _need(
        self,
        name: str,
        image_id: str | None,
        platform_arn: str,
        deployed: tuple[str, str] | None,
    ) -> Need | None:
        """Whether the environment needs a custom AMI (`image_id`: the one it runs; None: it
        runs the platform's own).

        The drivers the custom AMI was baked for (its `ebami:drivers` tag) answer "not
        needed" with no read: the Dockerrun can use none that the AMI does not allow. Else,
        where the platform's AMI was checked, the Dockerrun's own drivers decide (read once
        per application version); where they cannot be read, the baked drivers (or the
        settings') do, and the line says so."""
        platform = self.platform(platform_arn)
        if self._stock is None or platform.platform is None or not platform.default_image:
            return None
        image = self._images.get(image_id, lambda: None) if image_id else None
        baked = image.drivers if image else None
        try:
            verdict = self._stock.of(platform)
        except AwsError as exc:
            return Need.unread(exc)
        environment = name if image_id else None
        fallback = baked or self._drivers
        by_baked = environment_need(environment, platform, verdict, fallback)
        if (
            environment is None
            or (baked and by_baked.needed is False)
            or self._versions is None
            or deployed is None
            or verdict is None
            or not verdict.checked
        ):
            return by_baked
        application, label = deployed
        try:
            uses, unknown = self._versions.of(application, label)
        except AwsError as exc:
            uses, unknown = None, exc.message
        if uses is None:
            judged = "the drivers it was baked for" if baked else "the settings' drivers"
            note = f" (judged by {judged}: its Dockerrun could not be read: {unknown})"
            return environment_need(environment, platform, verdict, fallback, note=note)
        drivers = sorted({use.driver for use in uses})
        return environment_need(environment, platform, verdict, drivers, deployed=label)

    def _drift(self, name: str, configured: str | None, platform_arn: str) -> Drift:
        platform = self.platform(platform_arn)
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
        image = self._images.get(current, lambda: self._read_image(current))
        if image is None:
            return Drift(
                name,
                current,
                DriftStatus.MISSING,
                f"{current} no longer exists: the environment cannot launch instances",
                newest.image_id if newest else None,
            )
        age = image.age_days(self._now())
        instead = f"; the newest verified ebami AMI is {newest.image_id}" if newest else ""
        if image.revocation is not None:
            return Drift(
                name,
                current,
                DriftStatus.REVOKED,
                f"{current} was {image.revocation}{instead}",
                newest.image_id if newest else None,
                age,
            )
        if newest is not None and newest.image_id != current:
            return Drift(
                name,
                current,
                DriftStatus.BEHIND,
                f"{age} days old; the newest verified ebami AMI is {newest.image_id}",
                newest.image_id,
                age,
            )
        if not image.verified:
            return Drift(
                name,
                current,
                DriftStatus.UNVERIFIED,
                f"{current} has not passed ebami verify{instead}",
                newest.image_id if newest else None,
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

    def _read_image(self, image_id: str) -> ManagedImage | None:
        try:
            return ManagedImage.of(self._ec2.get_image(image_id))
        except NotFoundError:
            return None

    def _newest(self, platform: EnvironmentPlatform) -> ManagedImage | None:
        verified = self._verified.get(
            tags.VERIFIED,
            lambda: newest_first(
                ManagedImage.of(image) for image in self._ec2.find_images_with_tag(tags.VERIFIED)
            ),
        )
        return next((image for image in verified if image.fit(platform) is None), None)
