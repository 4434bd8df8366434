"""The factory picks Packer's sandbox source only for an endpoint that is an ebami sandbox, by
the sandbox's own marker: an endpoint override alone (a FIPS or VPC endpoint) proves nothing."""

from __future__ import annotations

import pytest

from ebami.cli.context import AppContext, OutputFormat
from ebami.cli.factory import Factory
from ebami.cli.terminal import Terminal
from ebami.sandbox import marker


def factory() -> Factory:
    app = AppContext(Terminal(), OutputFormat.TABLE, None, {"region": "us-east-1"})
    return Factory(app, app.settings())


def test_a_real_endpoint_override_is_not_the_sandbox(monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[str] = []

    def is_sandbox(endpoint: str, **_: object) -> bool:
        asked.append(endpoint)
        return False

    monkeypatch.setattr(marker, "is_sandbox", is_sandbox)
    monkeypatch.setenv("AWS_ENDPOINT_URL_EC2", "https://ec2-fips.us-east-1.amazonaws.com")
    assert factory().sandbox is False
    assert asked == ["https://ec2-fips.us-east-1.amazonaws.com"]


def test_no_endpoint_override_asks_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(marker, "is_sandbox", lambda endpoint, **_: pytest.fail("asked"))
    assert factory().sandbox is False


def test_the_sandbox_s_marker_decides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(marker, "is_sandbox", lambda endpoint, **_: endpoint.endswith(":4566"))
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:4566")
    assert factory().sandbox is True
