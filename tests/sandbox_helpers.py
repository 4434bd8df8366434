"""A running sandbox as the end-to-end tests see it (and the type of the fixture that starts
them), a sandbox for a module's tests, a polling helper, and the sandbox in the test's own
process (moto's in-memory mock) for tests that inject its clock."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.config import Config

from ebami.sandbox.clients import FAKE_KEY_ID, FAKE_SECRET, client_environment
from ebami.sandbox.control import start_background, stop
from ebami.sandbox.faults import Faults
from ebami.sandbox.state_file import SandboxInfo
from tests.support.shapecheck import capture


class Sandbox:
    """A running sandbox and clients for it."""

    def __init__(self, info: SandboxInfo, directory: Path) -> None:
        self.info = info
        self.directory = directory

    @property
    def endpoint(self) -> str:
        return self.info.endpoint

    def client(self, service: str, *, attempts: int = 3, region: str | None = None) -> Any:
        """A client of `service` in the sandbox's region, or in `region` (a fleet's second)."""
        # boto3-stubs types `boto3.client` per literal service name; this helper takes any.
        make_client: Callable[..., Any] = boto3.client
        return make_client(
            service,
            endpoint_url=self.endpoint,
            region_name=region or self.info.region,
            aws_access_key_id=FAKE_KEY_ID,
            aws_secret_access_key=FAKE_SECRET,
            config=Config(retries={"mode": "standard", "total_max_attempts": attempts}),
        )

    def env(self) -> dict[str, str]:
        """The variables that point clients at this sandbox (and keep the end-to-end suite's
        shape check on in the processes given them)."""
        return {
            **client_environment(self.endpoint, self.info.region),
            **capture.forwarded(os.environ),
        }

    def instance_root(self, instance_id: str) -> Path:
        return self.directory / "roots" / "instances" / instance_id

    def image_root(self, image_id: str) -> Path:
        """The root of an image made by CreateImage (a copy shares its source's)."""
        return self.directory / "roots" / "images" / image_id


# The `make_sandbox` fixture (tests/e2e/conftest.py): `make_sandbox(fleet=N, **faults)` starts
# a sandbox with Faults' fields `faults` and N more environments; each is stopped after the test.
SandboxFactory = Callable[..., Sandbox]


@contextmanager
def module_sandbox(
    factory: pytest.TempPathFactory, **faults: Any
) -> Iterator[tuple[Sandbox, Path]]:
    """A sandbox (with `faults`) and a working folder for a module's tests; stopped after."""
    directory = factory.mktemp("sandbox")
    info = start_background(directory, port=0, region="us-east-1", faults=Faults(**faults), seed=1)
    try:
        yield Sandbox(info, directory), factory.mktemp("work")
    finally:
        stop(directory)


def run_ebami(
    sandbox: Sandbox,
    *args: str,
    cwd: Path,
    env: dict[str, str] | None = None,
    stats: bool = True,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """Run the real `ebami ARGS` to its end against the sandbox (API call counts on stderr
    unless `stats` is False)."""
    return subprocess.run(
        [sys.executable, "-m", "ebami", *args],
        cwd=cwd,
        env={
            **os.environ,
            **sandbox.env(),
            **({"EBAMI_STATS": "1"} if stats else {}),
            **(env or {}),
        },
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def wait_for(check: Callable[[], Any], *, timeout: float = 20.0, interval: float = 0.05) -> Any:
    """Poll `check` until it returns something truthy; fail the test at the deadline."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(interval)
    pytest.fail(f"condition not met within {timeout} s")


@contextmanager
def sandbox_in_process(
    directory: Path,
    monkeypatch: pytest.MonkeyPatch,
    *,
    clock: Callable[[], float],
    region: str = "us-east-1",
    faults: Faults | None = None,
    fleet: int = 0,
) -> Iterator[None]:
    """The sandbox's extensions and seed world on moto's in-memory mock, in this process.

    The patches are set with `monkeypatch`, so moto's own methods are back after the test and
    other tests in the session see plain moto; boto3 clients made inside reach the sandbox.
    """
    from moto import mock_aws, settings

    from ebami.sandbox import load_extensions, patching, runtime
    from ebami.sandbox.rootfs import RootStore
    from ebami.sandbox.seed import seed
    from ebami.sandbox.server import ACCOUNT_ID

    # Configured as SandboxServer.start configures moto: the world's AMIs only, validated.
    monkeypatch.setenv("MOTO_EC2_LOAD_DEFAULT_AMIS", "false")
    monkeypatch.setattr(settings, "ENABLE_AMI_VALIDATION", True)
    for patch in load_extensions():
        monkeypatch.setattr(patch.owner, patch.method, patching.replacement(patch), raising=False)
    monkeypatch.setattr(runtime, "_current", None)
    with mock_aws():
        try:
            roots = RootStore(directory / "roots")
            runtime.install(runtime.Runtime(roots, faults or Faults(), region, clock=clock))
            seed(ACCOUNT_ID, region, fleet=fleet)
            yield
        finally:
            # moto re-creates the backends it holds as the mock stops, and later tests get those
            # objects: they must load moto's default AMIs again.
            monkeypatch.delenv("MOTO_EC2_LOAD_DEFAULT_AMIS")
