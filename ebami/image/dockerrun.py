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
from dataclasses import dataclass
from typing import Any

from ebami.core.errors import EbamiError

DOCKERRUN = "Dockerrun.aws.json"


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
    if bundle[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
                if DOCKERRUN not in archive.namelist():
                    raise DockerrunError(f"the source bundle has no {DOCKERRUN} at its root")
                text = archive.read(DOCKERRUN)
        except zipfile.BadZipFile as exc:
            raise DockerrunError(f"the source bundle is not a readable zip: {exc}") from None
    else:
        text = bundle
    try:
        document = json.loads(text)
    except (ValueError, UnicodeDecodeError) as exc:
        raise DockerrunError(f"{DOCKERRUN} is not JSON: {exc}") from None
    if not isinstance(document, dict):
        raise DockerrunError(f"{DOCKERRUN} is not a JSON object")
    return document


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
