"""The log drivers an application version's containers use, read from its source bundle.

Elastic Beanstalk's ECS-based platforms take a `Dockerrun.aws.json` (version 2) at the root of
the source bundle (a zip) or as the bundle itself. Each container definition's
`logConfiguration.logDriver` must be a driver the ECS agent on the instances allows, else the
task cannot be placed (`ATTRIBUTE`).
"""

from __future__ import annotations

import io
import json
import zipfile
import zlib
from dataclasses import dataclass
from typing import Any

from ebami.core.errors import EbamiError

DOCKERRUN = "Dockerrun.aws.json"
# A Dockerrun.aws.json is a few KB.
MAX_DOCKERRUN_BYTES = 1024 * 1024
# What a damaged or unusual zip raises: bad headers, a corrupt or truncated deflate stream, an
# unsupported compression method (NotImplementedError), an encrypted member (RuntimeError).
UNREADABLE_ZIP = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    NotImplementedError,
    RuntimeError,
)


class DockerrunError(EbamiError):
    """The source bundle holds no readable Dockerrun.aws.json."""


@dataclass(frozen=True)
class DriverUse:
    container: str
    driver: str

    def to_json(self) -> dict[str, str]:
        return {"container": self.container, "driver": self.driver}


def read_dockerrun(bundle: bytes) -> dict[str, Any]:
    """The Dockerrun.aws.json of a source bundle (a zip with it at the root, or the file)."""
    text = _from_zip(bundle) if bundle[:4] == b"PK\x03\x04" else bundle
    if len(text) > MAX_DOCKERRUN_BYTES:
        raise DockerrunError(f"{DOCKERRUN} is over {MAX_DOCKERRUN_BYTES} bytes")
    try:
        document = json.loads(text)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise DockerrunError(f"{DOCKERRUN} is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise DockerrunError(f"{DOCKERRUN} is not a JSON object")
    return document


def _from_zip(bundle: bytes) -> bytes:
    """The Dockerrun at the zip's root, read no further than the limit (a member that claims
    to be small may inflate to much more)."""
    try:
        with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
            if DOCKERRUN not in archive.namelist():
                raise DockerrunError(f"the source bundle has no {DOCKERRUN} at its root")
            with archive.open(DOCKERRUN) as member:
                return member.read(MAX_DOCKERRUN_BYTES + 1)
    except UNREADABLE_ZIP as exc:
        raise DockerrunError(f"the source bundle is not a readable zip: {exc}") from None


def log_drivers(dockerrun: dict[str, Any]) -> tuple[DriverUse, ...]:
    """Each container's log driver (containers without `logConfiguration` use none that the
    agent must allow)."""
    uses = []
    containers = dockerrun.get("containerDefinitions") or []
    if not isinstance(containers, list):
        raise DockerrunError(f"{DOCKERRUN}: containerDefinitions is not a list")
    for number, container in enumerate(containers, 1):
        if not isinstance(container, dict):
            continue
        config = container.get("logConfiguration") or {}
        driver = config.get("logDriver") if isinstance(config, dict) else None
        if isinstance(driver, str) and driver:
            uses.append(DriverUse(str(container.get("name") or f"#{number}"), driver))
    return tuple(uses)
