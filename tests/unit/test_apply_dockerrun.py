"""Reading the log drivers of an application version's containers from its source bundle."""

from __future__ import annotations

import io
import json
import zipfile
from typing import Any

import pytest

from ebami.image.dockerrun import (
    MAX_DOCKERRUN_BYTES,
    DockerrunError,
    DriverUse,
    log_drivers,
    read_dockerrun,
)
from ebami.sandbox import world


def bundle(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def dockerrun(*drivers: str | None) -> dict[str, Any]:
    containers: list[dict[str, Any]] = []
    for number, driver in enumerate(drivers):
        container: dict[str, Any] = {"name": f"c{number}", "image": "nginx"}
        if driver is not None:
            container["logConfiguration"] = {"logDriver": driver}
        containers.append(container)
    return {"AWSEBDockerrunVersion": 2, "containerDefinitions": containers}


def test_the_seeded_application_needs_fluentd() -> None:
    assert log_drivers(read_dockerrun(world.dockerrun_bundle())) == (DriverUse("web", "fluentd"),)


def test_each_container_s_driver_and_none_for_those_without_one() -> None:
    document = dockerrun("fluentd", None, "awslogs")
    found = log_drivers(read_dockerrun(bundle({"Dockerrun.aws.json": json.dumps(document)})))
    assert found == (DriverUse("c0", "fluentd"), DriverUse("c2", "awslogs"))


def test_a_bare_dockerrun_is_a_bundle_too() -> None:
    assert log_drivers(read_dockerrun(json.dumps(dockerrun("syslog")).encode())) == (
        DriverUse("c0", "syslog"),
    )


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (bundle({"app/Dockerrun.aws.json": "{}"}), "no Dockerrun.aws.json at its root"),
        (bundle({"Dockerrun.aws.json": "{not json"}), "is not JSON"),
        (b"PK\x03\x04 truncated", "not a readable zip"),
        (b"[1, 2]", "is not a JSON object"),
        (b"\xff\xfe", "is not JSON"),
    ],
)
def test_unreadable_bundles_say_why(data: bytes, message: str) -> None:
    with pytest.raises(DockerrunError, match=message):
        read_dockerrun(data)


def corrupt_deflate() -> bytes:
    """A zip whose Dockerrun's deflate stream is damaged after its header."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Dockerrun.aws.json", json.dumps(dockerrun("fluentd")) * 50)
    data = bytearray(buffer.getvalue())
    start = 30 + len("Dockerrun.aws.json")  # the local header, then the compressed bytes
    data[start : start + 16] = b"\xff" * 16
    return bytes(data)


def inflating() -> bytes:
    """A zip whose small compressed Dockerrun inflates to over the limit."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("Dockerrun.aws.json", " " * (MAX_DOCKERRUN_BYTES + 10))
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (corrupt_deflate(), "not a readable zip"),
        (inflating(), f"over {MAX_DOCKERRUN_BYTES} bytes"),
        (b"[" * 100_000 + b"]" * 100_000, "is not JSON"),
    ],
)
def test_damaged_or_hostile_bundles_are_unreadable_not_a_crash(data: bytes, message: str) -> None:
    with pytest.raises(DockerrunError, match=message):
        read_dockerrun(data)


def test_container_definitions_must_be_a_list() -> None:
    with pytest.raises(DockerrunError, match="not a list"):
        log_drivers({"containerDefinitions": {"web": {}}})
