"""Error answers (status 300 and above, as botocore reads them) checked for the basics every
protocol's error carries: a code and a message, where that protocol puts them.

query: `<ErrorResponse><Error><Code/><Message/></Error><RequestId/></ErrorResponse>`; ec2:
`<Response><Errors><Error><Code/><Message/></Error></Errors><RequestID/></Response>`; rest-xml:
`<Error><Code/><Message/></Error>` (a HEAD request's error has no body); json and rest-json:
an object with `__type` (or `code`, or the `x-amzn-errortype` header) and `message`/`Message`.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping

from .findings import BODY, ERROR, Findings
from .scalars import JSON_PROTOCOLS
from .xml_body import tag

# Where each XML protocol puts its <Error>: the element names from the root down.
_XML_ERROR_PATHS = {
    "query": (("ErrorResponse", "Error"),),
    "ec2": (("Response", "Errors", "Error"),),
    "rest-xml": (("Error",), ("ErrorResponse", "Error")),
}


def check_error(
    findings: Findings, protocol: str, body: bytes, headers: Mapping[str, str], method: str
) -> None:
    if protocol in JSON_PROTOCOLS:
        _json_error(findings, body, headers)
    elif protocol in _XML_ERROR_PATHS:
        if not body.strip() and protocol == "rest-xml" and method == "HEAD":
            return
        _xml_error(findings, protocol, body)
    else:
        findings.add("", BODY, f"protocol {protocol} is not checked")


def _json_error(findings: Findings, body: bytes, headers: Mapping[str, str]) -> None:
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        findings.add("", BODY, f"error body is not JSON: {body[:80]!r}")
        return
    if not isinstance(parsed, dict):
        findings.add("", BODY, f"error body is not a JSON object: {body[:80]!r}")
        return
    lowered = {name.lower(): value for name, value in headers.items()}
    code = parsed.get("__type") or parsed.get("code") or lowered.get("x-amzn-errortype")
    if not code:
        findings.add("", ERROR, "no error code (__type, code or x-amzn-errortype)")
    if not isinstance(parsed.get("message", parsed.get("Message")), str):
        findings.add("", ERROR, "no error message (message or Message)")


def _xml_error(findings: Findings, protocol: str, body: bytes) -> None:
    try:
        root = ET.fromstring(body)  # noqa: S314 - a local sandbox's answer, in tests
    except ET.ParseError as error:
        findings.add("", BODY, f"error body is not XML ({error}): {body[:80]!r}")
        return
    for names in _XML_ERROR_PATHS[protocol]:
        element: ET.Element | None = root if tag(root) == names[0] else None
        for name in names[1:]:
            nodes = () if element is None else element
            element = next((node for node in nodes if tag(node) == name), None)
        if element is not None:
            break
    else:
        expected = " or ".join("/".join(names) for names in _XML_ERROR_PATHS[protocol])
        findings.add("", ERROR, f"<{tag(root)}> is not a {protocol} error ({expected})")
        return
    fields = {tag(node): (node.text or "") for node in element}
    if not fields.get("Code"):
        findings.add("", ERROR, "no <Code> in <Error>")
    if "Message" not in fields:
        findings.add("", ERROR, "no <Message> in <Error>")
