"""Fixtures the functional tests share."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from moto import mock_aws

from tests.fakes.clock import FakeClock
from tests.fakes.endpoints import SilentEndpoint, silent_endpoint_running


@pytest.fixture
def aws() -> Iterator[None]:
    """AWS as moto's in-memory mock answers it, in this process."""
    with mock_aws():
        yield


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """AWS out of reach: a command that reached it would fail at once with another error.
    The modules of refused input use it for each test (`pytest.mark.usefixtures`)."""
    # A closed port.
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")


@pytest.fixture
def silent_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[SilentEndpoint]:
    """An endpoint (`AWS_ENDPOINT_URL`) that accepts connections and never answers. It stops
    at the end of the test, or by itself after 30 s."""
    with silent_endpoint_running() as endpoint:
        monkeypatch.setenv("AWS_ENDPOINT_URL", endpoint.url)
        yield endpoint
