"""Calls the sandbox does not implement answer as AWS answers a call it does not support.

moto raises NotImplementedError for an action its response class has no method for (and for a
few options of actions it has); its Flask application runs in debug mode, so the exception
leaves the application and the WSGI server answers an HTML "500 Internal Server Error" page,
which botocore cannot parse (`ResponseParserError`) and which clients such as the EB CLI retry
ten times. AWS answers an action it does not support with the common error `InvalidAction`,
HTTP 400 ("The action or operation requested is invalid", listed in every service's "Common
Errors" of the API references), in the protocol of the service: an XML `ErrorResponse` for
query protocols, EC2's `Response/Errors`, a JSON body for JSON protocols. Amazon S3 (REST-XML)
names it `NotImplemented`, HTTP 501 (S3's error codes).

This module wraps every action moto dispatches (`BaseResponse.call_action`) and turns the
NotImplementedError into that error, serialized by moto's own serializers for the service's
protocol. Services moto answers without `call_action` (Amazon S3) are caught at the WSGI
application (`DomainDispatcherApplication`), where the error is written in the service's
protocol from botocore's model.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable
from typing import Any
from xml.sax.saxutils import escape

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, BaseResponse
from moto.core.utils import camelcase_to_underscores, get_service_model
from moto.moto_server.werkzeug_app import DomainDispatcherApplication

from ebami.core.errors import one_line
from ebami.sandbox.patching import hook

INVALID_ACTION_STATUS = 400
NOT_IMPLEMENTED_STATUS = 501  # Amazon S3's status for NotImplemented


class InvalidAction(ServiceException):
    code = "InvalidAction"


class InvalidParameterValue(ServiceException):
    code = "InvalidParameterValue"


@hook(BaseResponse, "call_action")
def _unsupported_action(
    original: Callable[..., Any], self: BaseResponse, *args: Any, **kwargs: Any
) -> Any:
    try:
        return original(self, *args, **kwargs)
    except NotImplementedError as exc:
        return unsupported_answer(self, str(exc))


def unsupported_answer(response: BaseResponse, detail: str) -> tuple[int, dict[str, Any], Any]:
    """The answer to a call the sandbox cannot serve: (status, headers, body) in the protocol
    of the request's service. An action the sandbox lacks is AWS's `InvalidAction`; a part of
    an action it has (a filter, an option) is `InvalidParameterValue` naming that part, as AWS
    answers a parameter it does not accept: AWS never says a supported action is invalid."""
    action = _action_name(response)
    if hasattr(response, camelcase_to_underscores(action)):
        error: ServiceException = InvalidParameterValue(
            f"the ebami sandbox does not implement this part of {action}: {one_line(detail)}"
        )
    else:
        # moto's "The x action has not been implemented" says no more than the action.
        error = InvalidAction(_message(action))
    _status, headers, body = response.serialized(ActionResult(error))
    headers["status"] = INVALID_ACTION_STATUS
    return INVALID_ACTION_STATUS, headers, body


def _message(action: str, detail: str = "") -> str:
    text = f"The action {action} is not valid for this web service: the ebami sandbox does not "
    return text + (f"implement it ({one_line(detail)})." if detail else "implement it.")


def _action_name(response: BaseResponse) -> str:
    try:
        return str(response._get_action() or "requested")
    except Exception:  # the name only words the message
        return "requested"


@hook(DomainDispatcherApplication, "__call__")
def _unsupported_request(
    original: Callable[..., Any],
    app: DomainDispatcherApplication,
    environ: dict[str, Any],
    start_response: Callable[..., Any],
) -> Iterable[bytes]:
    try:
        result: Iterable[bytes] = original(app, environ, start_response)
    except NotImplementedError as exc:
        service = str(getattr(app.get_application(environ), "service", ""))
        status, content_type, body = error_document(service, str(exc))
        start_response(
            f"{status} {'Not Implemented' if status == NOT_IMPLEMENTED_STATUS else 'Bad Request'}",
            [("Content-Type", content_type), ("Content-Length", str(len(body)))],
        )
        return [body]
    return result


def error_document(service: str, detail: str) -> tuple[int, str, bytes]:
    """(status, content type, body) of the error a service answers for a request the sandbox
    does not implement, written in the service's protocol (botocore's model says which)."""
    try:
        protocol = str(get_service_model(service).metadata.get("protocol", "query"))
    except Exception:  # a service botocore does not know: query's form
        protocol = "query"
    request_id = str(uuid.uuid4())
    message = escape(_message("requested", detail))
    if protocol == "rest-xml":
        code, status = "NotImplemented", NOT_IMPLEMENTED_STATUS
        text = f"<Error><Code>{code}</Code><Message>{message}</Message>"
        text += f"<RequestId>{request_id}</RequestId></Error>"
        return status, "application/xml", text.encode()
    code, status = "InvalidAction", INVALID_ACTION_STATUS
    if protocol in ("json", "rest-json"):
        document = {"__type": code, "message": _message("requested", detail)}
        return status, "application/x-amz-json-1.1", json.dumps(document).encode()
    if protocol == "ec2":
        text = f"<Response><Errors><Error><Code>{code}</Code><Message>{message}</Message>"
        text += f"</Error></Errors><RequestID>{request_id}</RequestID></Response>"
        return status, "text/xml", text.encode()
    text = f"<ErrorResponse><Error><Type>Sender</Type><Code>{code}</Code>"
    text += f"<Message>{message}</Message></Error><RequestId>{request_id}</RequestId>"
    text += "</ErrorResponse>"
    return status, "text/xml", text.encode()
