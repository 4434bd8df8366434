"""Checking, inside a sandbox server, its answers to clients that are not botocore (Packer's Go
SDK), which no botocore hook sees: a WSGI middleware around the app moto's threaded server
serves. botocore's own clients are left to their `before-parse` hook (capture.py).

The operation is read from the request as AWS reads it: the service from the SigV4 credential
scope, the action from `X-Amz-Target` (json) or the `Action` parameter (query, ec2). Requests
without both (the sandbox's own routes, rest protocols) pass through unchecked.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import parse_qs

from .capture import write
from .findings import CRASH, Finding
from .validator import check_operation

_SCOPE = re.compile(r"Credential=[^/,]+/\d{8}/[^/,]+/([^/,]+)/aws4_request")
Environ = dict[str, Any]
StartResponse = Callable[..., Any]
App = Callable[[Environ, StartResponse], Iterable[bytes]]


@cache
def _service(name: str) -> Any:
    import botocore.session
    from botocore.exceptions import UnknownServiceError

    try:
        return botocore.session.get_session().get_service_model(name)
    except UnknownServiceError:
        return None


def operation_of(environ: Environ, body: bytes) -> tuple[str, str] | None:
    """(service, action) of a SigV4-signed query, ec2 or json request, else None."""
    scope = _SCOPE.search(environ.get("HTTP_AUTHORIZATION", ""))
    if scope is None:
        return None
    target = environ.get("HTTP_X_AMZ_TARGET", "")
    if target:
        return scope.group(1), target.rsplit(".", 1)[-1]
    params = parse_qs(environ.get("QUERY_STRING", ""))
    if "form-urlencoded" in environ.get("CONTENT_TYPE", ""):
        params.update(parse_qs(body.decode("utf-8", "replace")))
    actions = params.get("Action")
    return (scope.group(1), actions[0]) if actions else None


class CheckingApp:
    """`app`, with each answer to a client other than botocore checked into `folder`."""

    def __init__(self, app: App, folder: Path) -> None:
        self.app = app
        self.folder = folder

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        agent = environ.get("HTTP_USER_AGENT", "").lower()
        length = environ.get("CONTENT_LENGTH") or ""
        if "botocore/" in agent or not (length.isdigit() or environ.get("REQUEST_METHOD") == "GET"):
            return self.app(environ, start_response)
        body = environ["wsgi.input"].read(int(length)) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        called = operation_of(environ, body)
        if called is None:
            return self.app(environ, start_response)
        answer: dict[str, Any] = {}

        def remember(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            answer.update(status=int(status.split()[0]), headers=dict(headers))
            return start_response(status, headers, *args)

        chunks = self.app(environ, remember)
        try:
            content = b"".join(chunks)
        finally:
            close = getattr(chunks, "close", None)
            if close is not None:
                close()
        self._check(called, answer, content, agent)
        return [content]

    def _check(
        self, called: tuple[str, str], answer: dict[str, Any], body: bytes, agent: str
    ) -> None:
        service_name, action = called
        model = _service(service_name)
        if model is None or action not in model.operation_names:
            return
        operation = f"{model.service_name}.{action}"
        status = int(answer.get("status", 0))
        try:
            found = check_operation(
                model.operation_model(action), body, status, answer.get("headers", {})
            )
        except Exception as error:  # the check must never break the server it watches
            found = [Finding(operation, "", CRASH, f"{type(error).__name__}: {error}")]
        write(self.folder, operation, status, found, client=agent.split(" ", 1)[0] or "unknown")


def wrap_server(module: ModuleType, folder: Path) -> None:
    """Make moto's threaded server (`module`) serve its app through `CheckingApp`."""
    make_server: Callable[..., Any] = getattr(module, "make_server")  # noqa: B009 - any module

    def checking_make_server(host: str, port: int, app: App, *args: Any, **kwargs: Any) -> Any:
        return make_server(host, port, CheckingApp(app, folder), *args, **kwargs)

    setattr(module, "make_server", checking_make_server)  # noqa: B010 - any module
