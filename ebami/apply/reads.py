"""What the plans of one `ebami apply` share in one region, each read once however many
environments (and threads) ask: `OnceCache` single-flight.

- **once per run**: the scan of the verified ebami AMIs (one paginated `DescribeImages`), each
  platform version (by ARN), each application version's log drivers
  (`ebami.image.version_drivers`), each environment's instance count;
- **once per wave**: an AMI by id, since its state and revocation can change between waves
  (wave 0 is the planning before wave 1, where the AMIs the scan found need no call of their
  own).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

from ebami.aws.eb_values import Environment
from ebami.aws.ec2_values import Image
from ebami.core.errors import NotFoundError
from ebami.core.once import OnceCache
from ebami.image import tags
from ebami.image.environment import EnvironmentPlatform
from ebami.image.managed import ManagedImage, newest_first
from ebami.image.version_drivers import BundleS3, DriverUses, VersionDrivers


class ReadsEb(Protocol):
    def describe_platform_version(self, platform_arn: str) -> Any: ...
    def source_bundle(self, application: str, version_label: str) -> tuple[str, str] | None: ...
    def instance_ids(self, environment: Environment) -> list[str]: ...


class ReadsEc2(Protocol):
    def get_image(self, image_id: str) -> Image: ...
    def find_images_with_tag(self, key: str) -> list[Image]: ...


class SharedReads:
    """One region's reads for one run's plans (thread-safe)."""

    def __init__(
        self, *, eb: ReadsEb, ec2: ReadsEc2, s3: Callable[[], BundleS3], region: str
    ) -> None:
        self._eb = eb
        self._ec2 = ec2
        self.region = region
        self._verified: OnceCache[str, tuple[ManagedImage, ...]] = OnceCache()
        self._platforms: OnceCache[str, EnvironmentPlatform] = OnceCache()
        self._uses = VersionDrivers(eb=eb, s3=s3)
        self._instances: OnceCache[str, int] = OnceCache()
        self._images: OnceCache[tuple[str, int], ManagedImage | None] = OnceCache()

    def verified(self) -> tuple[ManagedImage, ...]:
        """Every verified ebami AMI of the region, newest first (read once per run)."""
        return self._verified.get(tags.VERIFIED, self._scan)

    def _scan(self) -> tuple[ManagedImage, ...]:
        found = newest_first(
            ManagedImage.of(image, self.region)
            for image in self._ec2.find_images_with_tag(tags.VERIFIED)
        )
        for image in found:
            self._images.put((image.image_id, 0), image)
        return tuple(found)

    def platform(self, platform_arn: str) -> EnvironmentPlatform:
        def read() -> EnvironmentPlatform:
            description = self._eb.describe_platform_version(platform_arn)
            return EnvironmentPlatform.of(platform_arn, description)

        return self._platforms.get(platform_arn, read)

    def driver_uses(self, application: str, version_label: str) -> DriverUses:
        """The log drivers of the version's containers, or None and why they are unknown."""
        return self._uses.of(application, version_label)

    def instances(self, environment: Environment) -> int:
        """How many instances serve the environment (read once per run)."""
        return self._instances.get(
            environment.environment_id, lambda: len(self._eb.instance_ids(environment))
        )

    def image(self, image_id: str, wave: int = 0) -> ManagedImage | None:
        """The AMI as it is in `wave` (None: EC2 does not know it)."""

        def read() -> ManagedImage | None:
            try:
                return ManagedImage.of(self._ec2.get_image(image_id), self.region)
            except NotFoundError:
                return None

        return self._images.get((image_id, wave), read)
