"""Whether an endpoint is an ebami sandbox: a loopback address whose marker route says so.

Commands that change behaviour for a sandbox (such as picking Packer's sandbox source) ask
`is_sandbox(endpoint)` instead of trusting that any endpoint override is one: a real AWS
endpoint (a FIPS one, a VPC endpoint) is never on a loopback address, and nothing but an ebami
sandbox answers the marker route. This module uses the standard library only (no moto, boto3 or
botocore), so asking costs no heavy import.
"""

from __future__ import annotations

import http.client
import ipaddress
import json
import socket
import urllib.error
import urllib.parse
import urllib.request
from typing import Any

# The route the sandbox answers on its own port, beside moto's API.
MARKER_PATH = "/__ebami__/sandbox"
MARKER_KEY = "ebami_sandbox"
_MAX_BODY = 64 * 1024
_LOCALHOST = "localhost"


def marker(version: str, region: str) -> dict[str, Any]:
    """The marker route's JSON document."""
    return {MARKER_KEY: True, "version": version, "region": region}


def is_sandbox(endpoint: str, *, timeout: float = 2.0) -> bool:
    """True only when `endpoint`'s host is a loopback address and its marker route answers as
    an ebami sandbox. Never contacts another host; any failure to ask is False."""
    url = loopback_url(endpoint, MARKER_PATH)
    if url is None:
        return False
    request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 - http(s) only, checked by loopback_url
    try:
        with open_loopback(request, timeout=timeout) as response:
            if response.status != 200:
                return False
            document = json.loads(response.read(_MAX_BODY))
    except (OSError, ValueError, http.client.HTTPException):
        return False
    return isinstance(document, dict) and document.get(MARKER_KEY) is True


def loopback_url(endpoint: str, path: str) -> str | None:
    """`path` on `endpoint`'s scheme, host and port; None unless the endpoint is http(s) on a
    loopback address (a sandbox's routes are never asked of another host)."""
    try:
        parts = urllib.parse.urlsplit(endpoint)
        host = parts.hostname
    except ValueError:  # such as an unbalanced [ in an IPv6 address
        return None
    if parts.scheme not in ("http", "https") or not host or not _is_loopback(host):
        return None
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, path, "", ""))


def open_loopback(request: urllib.request.Request, *, timeout: float) -> Any:
    """Send `request` (to a URL from `loopback_url`) with no proxy and no redirect followed."""
    return _OPENER.open(request, timeout=timeout)


def _is_loopback(host: str) -> bool:
    if host.lower() == _LOCALHOST:
        # Only if every address the name has is a loopback one (the hosts file decides).
        try:
            addresses = {str(info[4][0]) for info in socket.getaddrinfo(host, None)}
        except OSError:
            return False
        return bool(addresses) and all(_is_loopback_address(a) for a in addresses)
    return _is_loopback_address(host)


def _is_loopback_address(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).is_loopback
    except ValueError:
        return False  # a name other than localhost: it could resolve anywhere


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect could lead off the loopback address: treat it as "not a sandbox"."""

    def redirect_request(self, *_args: Any, **_kwargs: Any) -> None:
        return None


# No proxy either: a proxy from HTTP_PROXY would be a non-loopback host to contact.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}), _NoRedirect())
