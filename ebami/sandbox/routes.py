"""Routes the sandbox answers on its own port beside moto's API: the marker that proves an
endpoint is an ebami sandbox (see ebami.sandbox.marker for the client side).

moto's server hands every request to one WSGI application, `DomainDispatcherApplication`, which
picks the service from the host and path; the marker is answered before that choice is made, so
it is never throttled and never reaches a service.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from ebami import __version__
from ebami.sandbox import runtime
from ebami.sandbox.marker import MARKER_PATH, marker
from ebami.sandbox.patching import hook


@hook(DomainDispatcherApplication, "__call__")
def _marker_route(
    original: Callable[..., Any],
    app: DomainDispatcherApplication,
    environ: dict[str, Any],
    start_response: Callable[..., Any],
) -> Iterable[bytes]:
    if environ.get("PATH_INFO") != MARKER_PATH:
        result: Iterable[bytes] = original(app, environ, start_response)
        return result
    if environ.get("REQUEST_METHOD") != "GET":
        body = b"the ebami sandbox marker answers GET only\n"
        start_response(
            "405 Method Not Allowed",
            [("Allow", "GET"), ("Content-Type", "text/plain"), ("Content-Length", str(len(body)))],
        )
        return [body]
    body = json.dumps(marker(__version__, runtime.current().region)).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]
