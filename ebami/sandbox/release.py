"""Asking a running sandbox to add a platform version ("AWS shipped a new base AMI", on demand)
or to replace an environment's instance (as its Auto Scaling group does).

The client side of the sandbox's control routes `POST /__ebami__/release` (ebami.sandbox.catalogue
does the work inside the server) and `POST /__ebami__/replace-instance` (ebami.sandbox.scaling).
Like ebami.sandbox.marker, it uses the standard library only (no moto, boto3 or botocore) and
asks loopback addresses only.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any

from ebami.core.errors import InputError, one_line
from ebami.sandbox.marker import loopback_url, open_loopback
from ebami.sandbox.state_file import SandboxError

# The route the sandbox answers on its own port, beside moto's API and the marker.
RELEASE_PATH = "/__ebami__/release"
REPLACE_INSTANCE_PATH = "/__ebami__/replace-instance"
# The fields of the route's answer, all strings.
RELEASE_FIELDS = (
    "platform_arn",
    "platform_name",
    "platform_version",
    "os_version",
    "image_id",
    "released",
)
TIMEOUT = 30.0
_MAX_BODY = 64 * 1024


def release_platform(
    endpoint: str, platform: str, release: str | None, *, timeout: float = TIMEOUT
) -> dict[str, str]:
    """Add the next patch version of `platform` (alias or full name) to the sandbox at `endpoint`,
    after the newest version of `release` when given (else of the platform); return the route's
    answer (RELEASE_FIELDS).

    InputError when the sandbox refuses the platform or release (HTTP 400); SandboxError when
    the endpoint is not on a loopback address, cannot be reached or answers otherwise."""
    document = _post(endpoint, RELEASE_PATH, {"platform": platform, "release": release}, timeout)
    if not all(isinstance(document.get(key), str) for key in RELEASE_FIELDS):
        raise _unexpected(endpoint, RELEASE_PATH, 200, document)
    return {key: str(document[key]) for key in RELEASE_FIELDS}


def replace_instance(
    endpoint: str, environment: str, region: str | None = None, *, timeout: float = TIMEOUT
) -> dict[str, str | None]:
    """Have the sandbox at `endpoint` terminate one instance of `environment` (in `region`,
    default the sandbox's) and launch its replacement from the environment's AMI. Returns
    `terminated` (an instance id), `launched` (the new instance's id, or None when the AMI can
    no longer launch) and `error` (the ERROR event's message then, else None).

    InputError when the sandbox refuses (no such environment, it is updating); SandboxError as
    for `release_platform`."""
    body = {"environment": environment, "region": region}
    document = _post(endpoint, REPLACE_INSTANCE_PATH, body, timeout)
    if not isinstance(document.get("terminated"), str) or not all(
        document.get(key) is None or isinstance(document.get(key), str)
        for key in ("launched", "error")
    ):
        raise _unexpected(endpoint, REPLACE_INSTANCE_PATH, 200, document)
    return {key: document.get(key) for key in ("terminated", "launched", "error")}


def _post(endpoint: str, path: str, body: dict[str, Any], timeout: float) -> dict[str, Any]:
    """POST `body` as JSON to a control route; the answer's JSON object (HTTP 200)."""
    url = loopback_url(endpoint, path)
    if url is None:
        raise SandboxError(
            f"{endpoint} is not an http(s) endpoint on a loopback address; "
            "a sandbox serves 127.0.0.1 only"
        )
    request = urllib.request.Request(  # noqa: S310 - http(s) only, checked by loopback_url
        url,
        data=json.dumps(body).encode(),
        method="POST",
        headers={"Content-Type": "application/json", "Accept": "application/json"},
    )
    try:
        with open_loopback(request, timeout=timeout) as response:
            status, raw = int(response.status), response.read(_MAX_BODY)
    except urllib.error.HTTPError as exc:  # a 4xx or 5xx answer (a subclass of OSError)
        status, raw = exc.code, exc.read(_MAX_BODY)
    except (OSError, http.client.HTTPException) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise SandboxError(
            f"cannot reach the sandbox at {endpoint} ({one_line(str(reason))}); "
            "is it running? see 'ebami sandbox status'"
        ) from None
    document = _json_object(raw)
    error = document.get("error") if document is not None else None
    if status == 400 and isinstance(error, str):
        raise InputError(error)
    if status != 200 or document is None:
        raise _unexpected(endpoint, path, status, document)
    return document


def _unexpected(
    endpoint: str, path: str, status: int, document: dict[str, Any] | None
) -> SandboxError:
    error = document.get("error") if document is not None else None
    detail = f": {one_line(error)}" if isinstance(error, str) else ""
    return SandboxError(
        f"the sandbox at {endpoint} answered {path} with HTTP {status}{detail}; "
        "is it an ebami sandbox of this version? see its server.log"
    )


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        document = json.loads(raw)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None
