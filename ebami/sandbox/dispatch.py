"""Which service a request is for, found once per host rather than once per request.

moto's server hands every request to `DomainDispatcherApplication`, which finds the service of
the request's host (`get_backend_for_host`) by listing moto's own package folder on disk (a stat
of each of some 200 service folders) and matching the host against every service's URL
patterns, under the dispatcher's one lock: several milliseconds of every call, each call waiting
for the others'. The answer depends on the host alone (the folders and patterns do not change
while the server runs), so the sandbox keeps it per host; a host moto finds no service for is
asked again each time (moto prints a hint for it).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from ebami.sandbox.patching import argument, hook, kept_on

_HOSTS = "ebami_backend_of_host"


@hook(DomainDispatcherApplication, "get_backend_for_host")
def _backend_for_host(
    original: Callable[..., Any], app: DomainDispatcherApplication, *args: Any, **kwargs: Any
) -> Any:
    host = argument(original, "host", app, *args, **kwargs)
    if host is None:
        return original(app, *args, **kwargs)
    known: dict[str, Any] = kept_on(app, _HOSTS, dict)
    backend = known.get(host)
    if backend is None:
        backend = original(app, *args, **kwargs)
        if backend is not None:
            known[host] = backend
    return backend
