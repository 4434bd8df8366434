"""A running sandbox as the end-to-end tests see it, and a polling helper."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from ebami.sandbox.control import FAKE_KEY_ID, FAKE_SECRET, SandboxInfo, client_environment


class Sandbox:
    """A running sandbox and clients for it."""

    def __init__(self, info: SandboxInfo, directory: Path) -> None:
        self.info = info
        self.directory = directory

    @property
    def endpoint(self) -> str:
        return self.info.endpoint

    def client(self, service: str, *, attempts: int = 3) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=self.info.region,
            aws_access_key_id=FAKE_KEY_ID,
            aws_secret_access_key=FAKE_SECRET,
            config=Config(retries={"mode": "standard", "total_max_attempts": attempts}),
        )

    def env(self) -> dict[str, str]:
        return client_environment(self.endpoint, self.info.region)

    def instance_root(self, instance_id: str) -> Path:
        return self.directory / "roots" / "instances" / instance_id

    def image_root(self, image_id: str) -> Path:
        return self.directory / "roots" / "images" / image_id


def wait_for(check: Callable[[], Any], *, timeout: float = 20.0, interval: float = 0.05) -> Any:
    """Poll `check` until it returns something truthy; fail the test at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout} s")
