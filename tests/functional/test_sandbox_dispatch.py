"""The service of a request's host is found once per host (ebami.sandbox.dispatch): the same
answer as moto's, without listing moto's package folder on every request."""

from __future__ import annotations

from collections.abc import Iterable

import pytest
from moto import backends
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

from ebami.sandbox import dispatch, patching

HOSTS = (
    "ec2.us-east-1.amazonaws.com",
    "elasticbeanstalk.us-west-2.amazonaws.com",
    "ssm.us-east-1.amazonaws.com",
    "s3.amazonaws.com",
)


def test_each_host_s_service_is_moto_s_answer_found_once(monkeypatch: pytest.MonkeyPatch) -> None:
    plain = DomainDispatcherApplication(create_backend_app)
    expected = {host: plain.get_backend_for_host(host) for host in HOSTS}
    assert all(expected.values())

    listed: list[int] = []
    moto_listing = backends.list_of_moto_modules

    def counted() -> Iterable[str]:
        listed.append(1)
        return moto_listing()

    monkeypatch.setattr(backends, "list_of_moto_modules", counted)
    (patch,) = [p for p in patching.PATCHES if p.function is dispatch._backend_for_host]
    monkeypatch.setattr(patch.owner, patch.method, patching.replacement(patch))
    app = DomainDispatcherApplication(create_backend_app)
    for _ in range(3):
        assert {host: app.get_backend_for_host(host) for host in HOSTS} == expected
    assert len(listed) == len(HOSTS)  # the first request of each host only
    # What moto does not read from a host is left to moto, every time.
    assert app.get_backend_for_host(None) is None
    assert app.get_backend_for_host("moto_api") == "moto_api"
    assert app.get_backend_for_host("example.invalid") is None
    assert app.get_backend_for_host("example.invalid") is None
    assert len(listed) == len(HOSTS) + 2  # a host without a service is asked each time
