"""What the sandbox does around every call, whatever the service or action.

Environment updates advance on the sandbox's clock: before any call is answered, the updates
are brought up to the clock's now (`ebami.sandbox.rollout.catch_up`), so what a client sees does
not depend on which action it polls. And the response's own RequestId is set without touching
the body's other RequestIds, keeping the one an action chose (`REQUEST_ID_HEADER`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from moto.core.responses import BaseResponse
from moto.utilities.aws_headers import gen_amzn_requestid_long

from ebami.sandbox import rollout, runtime
from ebami.sandbox.patching import fix, hook

# moto's response header for the request id (botocore reads it for JSON protocols).
REQUEST_ID_HEADER = "x-amzn-requestid"

_RESPONSE_REQUEST_ID = re.compile(r"(<ResponseMetadata>\s*<RequestId>)[^<]*(</RequestId>)")


@fix(
    BaseResponse,
    "_enrich_response",
    gap="moto sets the request id with a greedy regex over the whole body, which corrupts the "
    "XML of any response holding a RequestId of its own (DescribeEvents)",
)
def enrich_response(headers: dict[str, str], body: Any) -> tuple[dict[str, str], Any]:
    """moto's `_enrich_response`, touching only the response's own RequestId, and keeping the
    request id an action chose (UpdateEnvironment's, which its events carry)."""
    if "status" in headers:
        headers["status"] = str(headers["status"])
    request_id = headers.get(REQUEST_ID_HEADER) or gen_amzn_requestid_long(headers)
    if isinstance(body, str):
        body = _RESPONSE_REQUEST_ID.sub(lambda m: m.group(1) + request_id + m.group(2), body)
    return headers, body


@hook(BaseResponse, "call_action")
def _catch_up(original: Callable[..., Any], self: BaseResponse, *args: Any, **kwargs: Any) -> Any:
    """Bring environment updates up to the sandbox's clock before answering any call, whatever
    the service or action: progress then depends on time, never on what a client polls."""
    sandbox = runtime.current()
    with sandbox.lock:
        rollout.catch_up(sandbox.eb_states, sandbox.clock())
    return original(self, *args, **kwargs)
