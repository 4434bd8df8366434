"""The throttling fault: a fraction of API calls answered as AWS answers when it throttles."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, BaseResponse

from ebami.sandbox import runtime
from ebami.sandbox.patching import hook


class Throttling(ServiceException):
    code = "Throttling"
    message = "Rate exceeded"


class ThrottlingException(ServiceException):
    code = "ThrottlingException"
    message = "Rate exceeded"


@hook(BaseResponse, "call_action")
def _call_action(
    original: Callable[..., Any], self: BaseResponse, *args: Any, **kwargs: Any
) -> Any:
    state = runtime.current()
    fraction = state.faults.throttle
    if fraction:
        with state.lock:
            throttled = state.rng.random() < fraction
        if throttled:
            # JSON protocols (SSM) name the error ThrottlingException, query protocols Throttling.
            json_protocol = bool(
                self.headers.get("X-Amz-Target") or self.headers.get("x-amz-target")
            )
            error = ThrottlingException() if json_protocol else Throttling()
            _status, headers, body = self.serialized(ActionResult(error))
            return 400, headers, body
    return original(self, *args, **kwargs)
