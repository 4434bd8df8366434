"""One answer (raw body bytes, status, headers) against botocore's model of its operation.

A success is walked member by member against the output shape, inside the protocol's envelope:
query's `<OpResponse><OpResult>...</OpResult><ResponseMetadata>`, ec2's `<OpResponse>` with
`requestId` beside the members, rest-xml's root element, json's object (rest-json's members that
travel in headers are not looked for). An error is checked for its code and message only.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from typing import Any

from botocore.model import OperationModel, ServiceModel, StructureShape

from .errors import check_error
from .findings import BODY, MISSING, TYPE, UNKNOWN, Finding, Findings
from .json_body import JsonWalk
from .scalars import JSON_PROTOCOLS
from .xml_body import XmlWalk, tag

# ec2 answers `<return>true</return>` for the operations botocore models without an output
# (CreateTags, DeleteSnapshot...): the EC2 API reference lists `return` in their responses.
_EC2_BARE_RESULT = "return"


def protocol_of(service: ServiceModel) -> str:
    """The protocol botocore reads `service`'s answers in. Older botocore (the EB CLI's and the
    AWS CLI's own, in processes the tests start) has only the model's single `protocol`."""
    resolved = getattr(service, "resolved_protocol", None)
    return str(resolved or service.metadata["protocol"])


def check(
    service: ServiceModel,
    operation: str,
    body: bytes,
    status: int,
    headers: Mapping[str, str],
) -> list[Finding]:
    """The findings about one answer of `service`'s `operation`."""
    return check_operation(service.operation_model(operation), body, status, headers)


def check_operation(
    model: OperationModel, body: bytes, status: int, headers: Mapping[str, str]
) -> list[Finding]:
    service = model.service_model
    protocol = protocol_of(service)
    findings = Findings(f"{service.service_name}.{model.name}")
    if status >= 300:
        check_error(findings, protocol, body, headers, str(model.http.get("method", "")))
        return findings.items
    output = model.output_shape
    if model.has_streaming_output or model.has_event_stream_output:
        return findings.items
    if protocol == "query":
        _query(findings, model, output, body)
    elif protocol == "ec2":
        _ec2(findings, model, output, body)
    elif protocol == "rest-xml":
        _rest_xml(findings, output, body)
    elif protocol in JSON_PROTOCOLS:
        _json(findings, protocol, output, body)
    else:
        findings.add("", BODY, f"protocol {protocol} is not checked")
    return findings.items


def _xml_root(findings: Findings, body: bytes) -> ET.Element | None:
    try:
        return ET.fromstring(body)  # noqa: S314 - a local sandbox's answer, in tests
    except ET.ParseError as error:
        findings.add("", BODY, f"not XML ({error}): {body[:80]!r}")
        return None


def _envelope(findings: Findings, model: OperationModel, body: bytes) -> ET.Element | None:
    root = _xml_root(findings, body)
    if root is not None and tag(root) != f"{model.name}Response":
        findings.add("", BODY, f"root <{tag(root)}>, not <{model.name}Response>")
    return root


def _query(
    findings: Findings, model: OperationModel, output: StructureShape | None, body: bytes
) -> None:
    root = _envelope(findings, model, body)
    if root is None:
        return
    wrapper = output.serialization.get("resultWrapper") if output is not None else None
    walk = XmlWalk(findings, "query")
    seen: set[str] = set()
    for node in root:
        name = tag(node)
        if name in seen:
            findings.add(name, TYPE, f"<{name}> appears more than once")
            continue
        seen.add(name)
        if name == "ResponseMetadata":
            _response_metadata(findings, node)
        elif output is not None and name == wrapper:
            walk.structure(output, node, "")
        elif output is None or wrapper is not None:
            findings.add(name, UNKNOWN, f"<{name}> is not part of {model.name}'s answer")
    if output is not None and wrapper is None:
        walk.structure(output, root, "", protocol_members=("ResponseMetadata",))
    if "ResponseMetadata" not in seen:
        findings.add("ResponseMetadata", MISSING, "no <ResponseMetadata> with the RequestId")
    if wrapper is not None and wrapper not in seen:
        findings.add(str(wrapper), MISSING, f"no <{wrapper}> (botocore cannot read the answer)")


def _response_metadata(findings: Findings, node: ET.Element) -> None:
    names = [tag(child) for child in node]
    for name in names:
        if name != "RequestId":
            findings.add(f"ResponseMetadata.{name}", UNKNOWN, "ResponseMetadata holds RequestId")
    if "RequestId" not in names:
        findings.add("ResponseMetadata.RequestId", MISSING, "no RequestId")


def _ec2(
    findings: Findings, model: OperationModel, output: StructureShape | None, body: bytes
) -> None:
    root = _envelope(findings, model, body)
    if root is None:
        return
    names = [tag(node) for node in root]
    if "requestId" not in names:
        findings.add("requestId", MISSING, "no <requestId>")
    if output is not None:
        XmlWalk(findings, "ec2").structure(output, root, "", protocol_members=("requestId",))
        return
    for node in root:
        name = tag(node)
        if name == _EC2_BARE_RESULT:
            if (node.text or "") not in ("true", "false"):
                findings.add(name, TYPE, f"{node.text!r} is not true or false", value=node.text)
        elif name != "requestId":
            findings.add(name, UNKNOWN, f"<{name}>: {model.name} has no output members")


def _payload(output: StructureShape) -> tuple[str, Any] | None:
    name = output.serialization.get("payload")
    return (str(name), output.members[name]) if name else None


def _rest_xml(findings: Findings, output: StructureShape | None, body: bytes) -> None:
    if output is None or not body.strip():
        _empty_body(findings, output, body)
        return
    shape, path = output, ""
    payload = _payload(output)
    if payload is not None:
        path, shape = payload
        if not isinstance(shape, StructureShape):
            return  # a blob or string payload: any bytes
    root = _xml_root(findings, body)
    if root is not None:
        XmlWalk(findings, "rest-xml").structure(shape, root, path)


def _json(findings: Findings, protocol: str, output: StructureShape | None, body: bytes) -> None:
    if output is None or not body.strip():
        _empty_body(findings, output, body)
        return
    try:
        parsed = json.loads(body)
    except ValueError as error:
        findings.add("", BODY, f"not JSON ({error}): {body[:80]!r}")
        return
    shape, path = output, ""
    payload = _payload(output)
    if payload is not None:
        path, shape = payload
        if not isinstance(shape, StructureShape):
            return
    JsonWalk(findings, protocol).structure(shape, parsed, path)


def _empty_body(findings: Findings, output: StructureShape | None, body: bytes) -> None:
    """An answer without a body, or an operation without an output: nothing may be required,
    and an output-less operation's body may hold nothing but an empty object."""
    if output is None:
        if body.strip() not in (b"", b"{}"):
            findings.add("", UNKNOWN, f"a body where the operation has no output: {body[:80]!r}")
        return
    for name in output.required_members:
        if not output.members[name].serialization.get("location"):
            findings.add(name, MISSING, f"{output.name} requires {name}; the body is empty")
