"""IAM enforced (`ebami sandbox start --enforce-iam`): moto's own authorization of each request,
switched on once the world is seeded, with what AWS does that moto does not:

- The sandbox's own key (`clients.FAKE_KEY_ID`, which `sandbox start` exports) is the account's
  root user: every action allowed, as AWS allows the root user.
- The actions a request needs are AWS's, from the Service Authorization Reference, not only the
  operation's name: `UpdateTagsForResource` is authorized as `elasticbeanstalk:AddTags` and/or
  `RemoveTags`; a request that tags on create (`TagSpecification`) also needs `ec2:CreateTags`;
  `RunInstances` with an instance profile also needs `iam:PassRole`; `PutParameter` with tags
  also needs `ssm:AddTagsToResource`. A request AWS authorizes part by part asks `allows` for
  each part: DeregisterImage's DeleteAssociatedSnapshots, `ec2:DeleteSnapshot` per snapshot.
- moto knows no request's resource (it asks every policy about `*`) and no condition key: a
  statement's `Resource` and `Condition` are taken as met, and only its actions decide. The
  resource side of ebami's policies is checked by policy_sentry and parliament instead. A Deny
  statement therefore denies its actions on every resource.

Refused requests answer as AWS does: `UnauthorizedOperation` for EC2, `AccessDenied` elsewhere,
naming the user and the action.
"""

from __future__ import annotations

import copy
import json
import warnings
from collections.abc import Callable
from typing import Any

from moto import settings
from moto.core.authorization import ActionAuthenticatorMixin
from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, BaseResponse
from moto.iam.access_control import (
    IAMPolicy,
    IAMRequest,
    IAMRequestBase,
    PermissionResult,
    S3IAMRequest,
)

from ebami.sandbox.clients import FAKE_KEY_ID
from ebami.sandbox.patching import hook


def enable() -> None:
    """Authorize every request from the next one on (moto's reset-auth, in this process)."""
    settings.INITIAL_NO_AUTH_ACTION_COUNT = 0
    ActionAuthenticatorMixin.request_count = 0


@hook(ActionAuthenticatorMixin, "_authenticate_and_authorize_action")
def _root_is_allowed(
    original: Callable[..., Any], response: Any, iam_request_cls: type, resource: str = "*"
) -> None:
    if _is_root(response):
        return
    original(response, iam_request_cls, resource)


def _is_root(response: Any) -> bool:
    """Whether the request is signed with the account root's key (every action allowed)."""
    return f"Credential={FAKE_KEY_ID}/" in str(response.headers.get("Authorization", ""))


def _policies(request: IAMRequestBase) -> list[IAMPolicy]:
    """The caller's policies, as AWS reads them here (`_relaxed`)."""
    return [_relaxed(policy) for policy in request._access_key.collect_policies()]


@hook(IAMRequestBase, "check_action_permitted")
def _as_aws_authorizes(original: Callable[..., Any], request: Any, resource: str) -> None:
    if request._action == "sts:GetCallerIdentity":
        return  # allowed to anyone, as on AWS
    policies = _policies(request)
    for action in required_actions(request._action, request._data, request._body):
        if not _permitted(policies, action):
            _refuse(request, action)


def _permitted(policies: list[IAMPolicy], action: str) -> bool:
    """Allowed by one of `policies` and denied by none."""
    found = [policy.is_action_permitted(action, "*") for policy in policies]
    return PermissionResult.DENIED not in found and PermissionResult.PERMITTED in found


def allows(response: BaseResponse, operation: str) -> bool:
    """Whether the caller of `response`'s request may also make `operation` (an operation of
    the request's service, `DeleteSnapshot`): what AWS asks of some requests part by part, as
    DeregisterImage's DeleteAssociatedSnapshots asks `ec2:DeleteSnapshot` of each snapshot.
    Always, where IAM is not enforced and for the account's root."""
    if ActionAuthenticatorMixin.request_count < settings.INITIAL_NO_AUTH_ACTION_COUNT:
        return True
    if _is_root(response):
        return True
    request = IAMRequest(
        account_id=response.current_account,
        method=response.method,
        path=response.raw_path,
        data=response.data,
        body=response.raw_body,
        headers=response.headers,
        action=operation,
    )
    return _permitted(_policies(request), request._action)


def required_actions(action: str, data: Any, body: Any) -> list[str]:
    """The IAM actions AWS asks of the request `action` (`service:Operation`) with its
    parameters (`data`, query or form) and raw `body` (JSON protocols)."""
    keys = {str(key) for key in data} if isinstance(data, dict) else set()
    text = body.decode(errors="replace") if isinstance(body, bytes) else str(body or "")

    def given(name: str) -> bool:
        return any(key.startswith(name) for key in keys) or name in text

    if action == "elasticbeanstalk:UpdateTagsForResource":
        found = ["elasticbeanstalk:AddTags"] if given("TagsToAdd") else []
        found += ["elasticbeanstalk:RemoveTags"] if given("TagsToRemove") else []
        return found or ["elasticbeanstalk:AddTags"]
    found = [action]
    if action.startswith("ec2:") and action != "ec2:CreateTags" and given("TagSpecification"):
        found.append("ec2:CreateTags")
    if action == "ec2:RunInstances" and given("IamInstanceProfile"):
        found.append("iam:PassRole")
    if action == "ssm:PutParameter" and _json_has(text, "Tags"):
        found.append("ssm:AddTagsToResource")
    return found


def _json_has(text: str, key: str) -> bool:
    try:
        parsed = json.loads(text) if text else {}
    except ValueError:
        return False
    return isinstance(parsed, dict) and bool(parsed.get(key))


def _relaxed(policy: Any) -> IAMPolicy:
    """`policy` with each statement's resources and conditions taken as met."""
    found = IAMPolicy(policy)
    document = copy.deepcopy(found._policy_json)
    statements = document.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        statement.pop("Condition", None)
        statement.pop("NotResource", None)
        statement["Resource"] = "*"
    found._policy_json = document
    return found


class Refused(ServiceException):
    """A request IAM does not allow, answered in its service's protocol (`_answer`)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)


REFUSED_STATUS = 403


def _refuse(request: Any, action: str) -> None:
    if isinstance(request, S3IAMRequest):
        request._raise_access_denied()  # moto's own, in S3's format
    user = request._access_key.arn
    refused = f"User: {user} is not authorized to perform: {action}"
    if request._service == "ec2":
        raise Refused(
            "UnauthorizedOperation",
            f"You are not authorized to perform this operation. {refused} because no "
            f"identity-based policy allows the {action} action",
        )
    raise Refused("AccessDeniedException" if request._service == "ssm" else "AccessDenied", refused)


@hook(BaseResponse, "call_action")
def _answer(original: Callable[..., Any], response: BaseResponse, *args: Any, **kwargs: Any) -> Any:
    """A refusal as AWS answers it: 403, in the protocol of the request's service."""
    try:
        return original(response, *args, **kwargs)
    except Refused as refused:
        with warnings.catch_warnings():
            # AccessDenied is an error of every service, not in each one's model: moto warns.
            warnings.filterwarnings("ignore", "Exception.Refused. with code", UserWarning)
            _status, headers, body = response.serialized(ActionResult(refused))
        headers["status"] = REFUSED_STATUS
        return REFUSED_STATUS, headers, body
