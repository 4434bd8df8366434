"""Asking a running sandbox to add a platform version: "AWS shipped a new base AMI", on demand.

The client side of the sandbox's `POST /__ebami__/release` route (ebami.sandbox.catalogue does
the work inside the server). Like ebami.sandbox.marker, it uses the standard library only (no
moto, boto3 or botocore) and asks loopback addresses only.
"""

from __future__ import annotations

import http.client
import json
import urllib.error
import urllib.request
from typing import Any

from ebami.errors import InputError, one_line
from ebami.sandbox.control import SandboxError
from ebami.sandbox.marker import loopback_url, open_loopback

# The route the sandbox answers on its own port, beside moto's API and the marker.
RELEASE_PATH = "/__ebami__/release"
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
    url = loopback_url(endpoint, RELEASE_PATH)
    if url is None:
        raise SandboxError(
            f"{endpoint} is not an http(s) endpoint on a loopback address; "
            "a sandbox serves 127.0.0.1 only"
        )
    body = json.dumps({"platform": platform, "release": release}).encode()
    request = urllib.request.Request(  # noqa: S310 - http(s) only, checked by loopback_url
        url,
        data=body,
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
    if status != 200 or document is None or not _is_answer(document):
        detail = f": {one_line(error)}" if isinstance(error, str) else ""
        raise SandboxError(
            f"the sandbox at {endpoint} answered {RELEASE_PATH} with HTTP {status}{detail}; "
            "is it an ebami sandbox of this version? see its server.log"
        )
    return {key: str(document[key]) for key in RELEASE_FIELDS}


def _json_object(raw: bytes) -> dict[str, Any] | None:
    try:
        document = json.loads(raw)
    except ValueError:
        return None
    return document if isinstance(document, dict) else None


def _is_answer(document: dict[str, Any]) -> bool:
    return all(isinstance(document.get(key), str) for key in RELEASE_FIELDS)
