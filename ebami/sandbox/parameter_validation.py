"""SSM's asynchronous validation of `aws:ec2:image` parameter values, in the sandbox.

What AWS does (PutParameter API reference, `DataType`; Systems Manager user guide, "Native
parameter support for Amazon Machine Image IDs",
https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-ec2-aliases.html):
PutParameter of an `aws:ec2:image` value answers HTTP 200 before the value is validated ("a
successful HTTP 200 response does not guarantee that your parameter was successfully created or
updated"); "a parameter version number might be generated before the validation operation is
complete"; validation checks that the value is an AMI available to the account, and a value
that fails it is neither created nor updated: the parameter keeps its previous version. The
outcome is reported only as an EventBridge "Parameter Store Change" event, whose `detail`
carries the failure (`"exception": "Unable to Describe Resource"`).

The sandbox, with `Realism.parameter_validation` seconds (`ebami.sandbox.realism`) above 0:
PutParameter makes the new version at once (so every synchronous refusal stays synchronous)
and answers its number, but hides it; once that many seconds have passed on the sandbox's
clock, the next SSM call that reads or writes parameters of that account and region validates
it: the AMI must be among the region's images (not deregistered) and `available`. A valid
version then joins the parameter (GetParameter, GetParameters, GetParametersByPath,
GetParameterHistory, DescribeParameters show it, dated when it joined); an invalid one never
does. A version number handed out is never handed out again, even when its value was dropped
(AWS does not say; this keeps "a newer version" meaning "another write"). No EventBridge event
is sent: the sandbox has no EventBridge. DeleteParameter also drops the versions still waiting.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from moto.ec2.models import ec2_backends
from moto.ssm.exceptions import ParameterAlreadyExists
from moto.ssm.responses import SimpleSystemManagerResponse

from ebami.sandbox import runtime
from ebami.sandbox.patching import hook, kept_on

_PENDING = "ebami_pending_parameters"
_ISSUED = "ebami_issued_versions"


@dataclass
class PendingVersion:
    """A version PutParameter answered that is not visible yet."""

    name: str
    parameter: Any  # moto's Parameter, kept out of the parameter's versions until it is due
    due: float  # on the sandbox's clock


def _pending(backend: Any) -> list[PendingVersion]:
    pending: list[PendingVersion] = kept_on(backend, _PENDING, list)
    return pending


def _issued(backend: Any) -> dict[str, int]:
    issued: dict[str, int] = kept_on(backend, _ISSUED, dict)
    return issued


def put_later(
    original: Callable[..., Any], backend: Any, call: Any, image_id: str, delay: float
) -> Any:
    """Make the version now, hidden until `delay` seconds have passed; moto's Parameter (its
    `version` is what PutParameter answers)."""
    state = runtime.current()
    name = call.arguments["name"]
    with state.lock:
        settle(backend)
        visible = backend._parameters.get(name) or []
        if visible and not call.arguments.get("overwrite"):
            raise ParameterAlreadyExists()
        parameter = original(*call.args, **call.kwargs)
        versions = backend._parameters[name]
        versions.remove(parameter)
        if not versions:
            del backend._parameters[name]  # moto reads an empty list as a parameter
        issued = _issued(backend)
        parameter.version = max(parameter.version, issued.get(name, 0) + 1)
        issued[name] = parameter.version
        _pending(backend).append(PendingVersion(name, parameter, state.clock() + delay))
    return parameter


def settle(backend: Any) -> None:
    """Validate the versions whose time has come: valid ones join their parameter, the others
    are dropped."""
    pending = getattr(backend, _PENDING, None)
    if not pending:
        return
    state = runtime.current()
    with state.lock:
        now = state.clock()
        due = [item for item in pending if item.due <= now]
        for item in sorted(due, key=lambda found: (found.due, found.parameter.version)):
            pending.remove(item)
            if valid_image(backend, str(item.parameter.value)):
                item.parameter.last_modified_date = datetime.now(timezone.utc)
                versions = backend._parameters[item.name]
                versions.append(item.parameter)
                versions.sort(key=lambda version: version.version)


def valid_image(backend: Any, image_id: str) -> bool:
    """What AWS's validation checks: an AMI of the region, available to the account."""
    images = ec2_backends[backend.account_id][backend.region_name].amis
    image = images.get(image_id)
    return image is not None and image.state == "available"


def _drop_pending(backend: Any, names: list[str]) -> None:
    pending = getattr(backend, _PENDING, None)
    if pending:
        pending[:] = [item for item in pending if item.name not in names]


def _settled_first(original: Callable[..., Any], response: Any, *args: Any, **kwargs: Any) -> Any:
    settle(response.ssm_backend)
    return original(response, *args, **kwargs)


# Every action that reads or labels parameters sees the versions validated by now (hooked on
# the actions, not on the backend's methods, which call each other while iterating).
for _action in (
    "get_parameter",
    "get_parameters",
    "get_parameters_by_path",
    "get_parameter_history",
    "describe_parameters",
    "label_parameter_version",
    "unlabel_parameter_version",
):
    hook(SimpleSystemManagerResponse, _action)(_settled_first)


@hook(SimpleSystemManagerResponse, "delete_parameter")
def _delete_parameter(original: Callable[..., Any], response: Any) -> Any:
    backend = response.ssm_backend
    with runtime.current().lock:
        settle(backend)
        _drop_pending(backend, [str(response._get_param("Name"))])
        return original(response)


@hook(SimpleSystemManagerResponse, "delete_parameters")
def _delete_parameters(original: Callable[..., Any], response: Any) -> Any:
    backend = response.ssm_backend
    with runtime.current().lock:
        settle(backend)
        _drop_pending(backend, [str(name) for name in response._get_param("Names", []) or []])
        return original(response)
