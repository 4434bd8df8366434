"""Routes the sandbox answers on its own port beside moto's API: the marker that proves an
endpoint is an ebami sandbox (see ebami.sandbox.marker for the client side), and the control
route that adds a platform version, as when AWS ships a new base AMI (ebami.sandbox.release is
the client side, ebami.sandbox.catalogue does the work).

moto's server hands every request to one WSGI application, `DomainDispatcherApplication`, which
picks the service from the host and path; these routes are answered before that choice is made,
so they are never throttled and never reach a service.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from typing import Any

from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from ebami import __version__
from ebami.core.errors import InputError, one_line
from ebami.sandbox import catalogue, runtime, scaling
from ebami.sandbox.marker import MARKER_PATH, loopback_url, marker
from ebami.sandbox.patching import hook
from ebami.sandbox.release import RELEASE_PATH, REPLACE_INSTANCE_PATH

_MAX_BODY = 64 * 1024
_RELEASE_KEYS = {"platform", "release"}
_REPLACE_KEYS = {"environment", "region"}

StartResponse = Callable[..., Any]


@hook(DomainDispatcherApplication, "__call__")
def _sandbox_routes(
    original: Callable[..., Any],
    app: DomainDispatcherApplication,
    environ: dict[str, Any],
    start_response: StartResponse,
) -> Iterable[bytes]:
    path = environ.get("PATH_INFO")
    if path == MARKER_PATH:
        return _marker_route(environ, start_response)
    if path == RELEASE_PATH:
        return _release_route(environ, start_response)
    if path == REPLACE_INSTANCE_PATH:
        return _replace_instance_route(environ, start_response)
    result: Iterable[bytes] = original(app, environ, start_response)
    return result


def _marker_route(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    if environ.get("REQUEST_METHOD") != "GET":
        body = b"the ebami sandbox marker answers GET only\n"
        start_response(
            "405 Method Not Allowed",
            [("Allow", "GET"), ("Content-Type", "text/plain"), ("Content-Length", str(len(body)))],
        )
        return [body]
    return _json(start_response, "200 OK", marker(__version__, runtime.current().region))


def _release_route(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
    """`POST {"platform": ALIAS_OR_NAME, "release": RELEASE_OR_NULL}`: 200 with the new version,
    400 with `{"error": ...}` for input the sandbox refuses."""
    refused = _refuse_request(environ, start_response, "the release route")
    if refused is not None:
        return refused
    try:
        platform, release = _release_request(environ)
        answer = catalogue.release_version(platform, release)
    except InputError as exc:
        return _error(start_response, "400 Bad Request", exc.message)
    return _json(start_response, "200 OK", answer)


def _replace_instance_route(
    environ: dict[str, Any], start_response: StartResponse
) -> Iterable[bytes]:
    """`POST {"environment": NAME, "region": REGION_OR_NULL}`: 200 with what was terminated and
    launched (`launched` null and `error` set when the AMI can no longer launch), 400 with
    `{"error": ...}` for input the sandbox refuses."""
    refused = _refuse_request(environ, start_response, "the replace-instance route")
    if refused is not None:
        return refused
    try:
        document = _json_body(environ, _REPLACE_KEYS, "environment and region (optional)")
        environment, region = document.get("environment"), document.get("region")
        if not isinstance(environment, str) or not environment.strip():
            raise InputError("give environment: the name of an Elastic Beanstalk environment")
        if region is not None and not isinstance(region, str):
            raise InputError("region is a string such as us-west-2, or null for the sandbox's")
        answer = scaling.replace_instance(environment, region)
    except InputError as exc:
        return _error(start_response, "400 Bad Request", exc.message)
    return _json(start_response, "200 OK", answer)


def _refuse_request(
    environ: dict[str, Any], start_response: StartResponse, route: str
) -> Iterable[bytes] | None:
    """The answer to a request a control route refuses whatever its body, or None."""
    if environ.get("REQUEST_METHOD") != "POST":
        # Nor OPTIONS: no cross-origin preflight is ever granted, so no web page can post here.
        return _error(
            start_response,
            "405 Method Not Allowed",
            f"{route} answers POST only",
            ("Allow", "POST"),
        )
    if not _from_loopback(environ):
        return _error(start_response, "403 Forbidden", f"{route} answers loopback clients only")
    content_type = str(environ.get("CONTENT_TYPE", "")).split(";")[0].strip().lower()
    if content_type != "application/json":
        return _error(
            start_response, "415 Unsupported Media Type", f"{route} takes application/json"
        )
    return None


def _from_loopback(environ: dict[str, Any]) -> bool:
    """The peer and the Host header both loopback ones (a DNS name pointed at 127.0.0.1 by
    another site is refused by its Host)."""
    peer = str(environ.get("REMOTE_ADDR", ""))
    host = str(environ.get("HTTP_HOST", ""))
    return bool(peer and host) and all(
        loopback_url(f"http://{address}", "/") is not None
        for address in (f"[{peer}]" if ":" in peer else peer, host)
    )


def _json_body(environ: dict[str, Any], keys: set[str], accepted: str) -> dict[str, Any]:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = -1
    if not 0 < length <= _MAX_BODY:
        raise InputError(f"give a JSON body of 1 to {_MAX_BODY} bytes")
    try:
        document = json.loads(environ["wsgi.input"].read(length))
    except ValueError:
        raise InputError("the body is not JSON") from None
    if not isinstance(document, dict):
        raise InputError(f"the body is not a JSON object: give {accepted}")
    unknown = sorted(set(document) - keys)
    if unknown:
        raise InputError(f"unknown field {unknown[0]!r}: give {accepted}")
    return document


def _release_request(environ: dict[str, Any]) -> tuple[str, str | None]:
    document = _json_body(environ, _RELEASE_KEYS, "platform and release (optional)")
    platform, release = document.get("platform"), document.get("release")
    if not isinstance(platform, str) or not platform.strip():
        raise InputError("give platform: an alias such as multicontainer-docker or a full name")
    if release is not None and not isinstance(release, str):
        raise InputError("release is a string such as 2017.09, or null for the newest version")
    return platform, release


def _error(
    start_response: StartResponse, status: str, message: str, *headers: tuple[str, str]
) -> Iterable[bytes]:
    return _json(start_response, status, {"error": one_line(message)}, *headers)


def _json(
    start_response: StartResponse, status: str, document: Any, *headers: tuple[str, str]
) -> Iterable[bytes]:
    body = json.dumps(document).encode()
    start_response(
        status,
        [
            *headers,
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(body))),
        ],
    )
    return [body]
