"""Sandboxes for the end-to-end tests: real server processes, real HTTP, real bubblewrap.

Every test in this folder carries the `e2e` marker, so `pytest -m "not e2e"` is the quick run
(unit and functional tests only).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ebami.sandbox.control import start_background, stop
from ebami.sandbox.faults import Faults
from tests.sandbox_helpers import Sandbox, SandboxFactory
from tests.support.shapecheck import capture
from tests.support.shapecheck.allowed import outside, report
from tests.support.shapecheck.findings import Finding

HOST_ECS = Path("/etc/ecs")
E2E = Path(__file__).resolve().parent


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects anything
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test of this folder `e2e` (the hook sees the whole session's items)."""
    for item in items:
        if item.path.is_relative_to(E2E):
            item.add_marker(pytest.mark.e2e)


def _host_ecs_fingerprint() -> str | None:
    if not HOST_ECS.exists():
        return None
    digest = hashlib.sha256()
    for path in sorted(HOST_ECS.rglob("*")):
        digest.update(str(path).encode())
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()


@pytest.fixture(scope="session", autouse=True)
def host_etc_ecs_untouched() -> Iterator[None]:
    """Nothing a sandbox runs may create or change the host's /etc/ecs."""
    before = _host_ecs_fingerprint()
    yield
    assert _host_ecs_fingerprint() == before, (
        "a sandbox test created or changed the host's /etc/ecs"
    )


@pytest.fixture(scope="session")
def shape_check_folder(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Every sandbox answer of this session's end-to-end tests (this worker's, under xdist),
    held against botocore's output shapes: the session fails on any finding outside the
    allow-list (tests/support/shapecheck/allowed.py)."""
    folder = tmp_path_factory.mktemp("shape-check")
    capture.install()
    # For the sandbox servers module fixtures start (between tests: each test's own variables
    # come from `shape_check`, as the suite clears EBAMI_* per test).
    before = {name: os.environ.get(name) for name in (capture.ENV, "PYTHONPATH")}
    os.environ.update(capture.environment(folder, os.environ))
    yield folder
    for name, value in before.items():
        if value is None:
            os.environ.pop(name, None)
        else:
            os.environ[name] = value
    capture.set_folder(None)
    capture.uninstall()
    answers = list(capture.records(folder))
    findings = [Finding.from_json(item) for answer in answers for item in answer["findings"]]
    wrong = outside(findings)
    if wrong:
        pytest.fail(report(wrong, answers=len(answers)), pytrace=False)


@pytest.fixture(autouse=True)
def shape_check(
    shape_check_folder: Path, isolated_environment: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """This test's botocore clients and the Python processes it starts record their answers'
    shape checks (after the suite's environment is cleared, so the variables stay)."""
    for name, value in capture.environment(shape_check_folder, os.environ).items():
        monkeypatch.setenv(name, value)
    capture.set_folder(shape_check_folder)
    yield
    capture.set_folder(None)


@pytest.fixture
def make_sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxFactory]:
    started: list[Path] = []

    def make(*, fleet: int = 0, enforce_iam: bool = False, **faults: Any) -> Sandbox:
        """A sandbox with `faults` (Faults' fields) and `fleet` more environments
        (fleet-01 ...: the first half in us-east-1, the rest in us-west-2); IAM decides each
        request with `enforce_iam` (the job users: `ebami.cli.sandbox_iam.create_job_users`)."""
        directory = tmp_path_factory.mktemp("sandbox")
        info = start_background(
            directory, port=0, region="us-east-1", faults=Faults(**faults), seed=1, fleet=fleet,
            enforce_iam=enforce_iam,
        )  # fmt: skip
        started.append(directory)
        return Sandbox(info, directory)

    yield make
    for directory in started:
        stop(directory)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    """One sandbox shared by a module's tests that do not change the seeded environments."""
    directory = tmp_path_factory.mktemp("sandbox")
    info = start_background(directory, port=0, region="us-east-1", faults=Faults(), seed=1)
    yield Sandbox(info, directory)
    stop(directory)
