"""The log drivers each application version's containers use, read once per version.

An application version's Dockerrun.aws.json lives in its source bundle in S3: one
`DescribeApplicationVersions` finds the bundle, one `s3:GetObject` reads it. Environments
(and threads) that run the same version share that read (`OnceCache` single-flight), so a
fleet on one version costs two calls per region. `apply`'s Dockerrun gate and `check` and
`status`'s "is a custom AMI still needed?" both read through it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from ebami.core.errors import EbamiError
from ebami.core.once import OnceCache
from ebami.image.dockerrun import DriverUse, log_drivers, read_dockerrun

# What an application version's containers use: their log drivers, or None and why unknown.
DriverUses = tuple[tuple[DriverUse, ...] | None, str]


class BundleEb(Protocol):
    def source_bundle(self, application: str, version_label: str) -> tuple[str, str] | None: ...


class BundleS3(Protocol):
    def read(self, bucket: str, key: str) -> bytes: ...


class VersionDrivers:
    """One region's application versions' log drivers (thread-safe); `s3` is made on the
    first bundle read."""

    def __init__(self, *, eb: BundleEb, s3: Callable[[], BundleS3]) -> None:
        self._eb = eb
        self._s3 = s3
        self._uses: OnceCache[tuple[str, str], DriverUses] = OnceCache()

    def of(self, application: str, version_label: str) -> DriverUses:
        """The log drivers of the version's containers, or None and why they are unknown.
        A bundle that cannot be read is unknown; a refused `DescribeApplicationVersions`
        raises."""
        if not version_label:
            return None, "the environment has no application version deployed"
        return self._uses.get(
            (application, version_label), lambda: self._read(application, version_label)
        )

    def _read(self, application: str, label: str) -> DriverUses:
        location = self._eb.source_bundle(application, label)
        if location is None:
            return None, f"application version {label!r} has no source bundle in S3"
        bucket, key = location
        try:
            return log_drivers(read_dockerrun(self._s3().read(bucket, key))), ""
        except EbamiError as exc:  # unreadable, missing, too large, access denied: unknown
            return None, f"s3://{bucket}/{key}: {exc}"
