"""SSM Parameter Store in the sandbox: PutParameter refuses the names AWS refuses, and checks an
`aws:ec2:image` value as AWS does.

moto refuses the reserved prefixes (`aws`, `ssm`, `/aws/...`) as AWS does, and nothing else.
AWS's rules ("Requirements and constraints for parameter names", PutParameter's `Name`):
spaces at either end are removed; only `a-zA-Z0-9_.-` and `/` between levels; a name with a
`/` in it is fully qualified (starts with `/`); at most 15 levels; at most 1011 characters
counting the ARN before the name (`arn:aws:ssm:REGION:ACCOUNT:parameter/`). The error codes and
wording are AWS's where they are known.

A value of data type `aws:ec2:image` must have an AMI id's format (`ami-` and 8 or 17 hex
digits): the sandbox refuses another with ValidationException (its own wording). AWS checks that
the AMI exists *asynchronously* (PutParameter's API reference, `DataType`: "If you submit an
invalid AMI value, the PutParameter operation will return success, but the asynchronous
validation will fail and the parameter will not be created or updated"). With the realism
switch `parameter_validation` on (the default), `ebami.sandbox.parameter_validation` models
that delay and its outcome; with it off, the value is judged at once: for an id of an AMI the
region does not have, the sandbox answers success with the version the parameter would have
had and changes nothing. moto keeps every version (GetParameterHistory) as AWS does.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from moto.core.exceptions import ServiceException
from moto.ec2.models import ec2_backends
from moto.ssm.exceptions import ValidationException
from moto.ssm.models import SimpleSystemManagerBackend

from ebami.sandbox import runtime
from ebami.sandbox.parameter_validation import put_later
from ebami.sandbox.patching import hook

MAX_LEVELS = 15
MAX_LENGTH_WITH_ARN = 1011
_CHARACTERS = re.compile(r"[a-zA-Z0-9_.\-/]+")
IMAGE_DATA_TYPE = "aws:ec2:image"
_IMAGE_ID = re.compile(r"ami-(?:[0-9a-f]{8}|[0-9a-f]{17})")
# AWS's message for a name with a character outside its set, path or not.
BAD_CHARACTERS = (
    'Parameter name: can\'t be prefixed with "ssm" (case-insensitive). If formed as a path, it '
    "can consist of sub-paths divided by slash symbol; each sub-path can be formed as a mix of "
    "letters, numbers and the following 3 symbols .-_"
)
NOT_FULLY_QUALIFIED = "Parameter name must be a fully qualified name."


class HierarchyLevelLimitExceededException(ServiceException):
    code = "HierarchyLevelLimitExceededException"
    message = "A hierarchy can have a maximum of 15 levels."


def check_name(name: str, *, arn_prefix: str) -> None:
    """Raise what AWS answers to PutParameter of `name` (already stripped of end spaces)."""
    if not _CHARACTERS.fullmatch(name):
        raise ValidationException(BAD_CHARACTERS)
    if "/" in name and not name.startswith("/"):
        raise ValidationException(NOT_FULLY_QUALIFIED)
    length = len(arn_prefix) + len(name.removeprefix("/"))
    if length > MAX_LENGTH_WITH_ARN:
        raise ValidationException(
            f"Parameter name is too long: with its ARN ({arn_prefix}...) it has {length} "
            f"characters, and at most {MAX_LENGTH_WITH_ARN} are allowed."
        )
    if len(name.removeprefix("/").split("/")) > MAX_LEVELS:
        raise HierarchyLevelLimitExceededException()


@dataclass(frozen=True)
class _Unchanged:
    """What PutParameter answers for a value AWS's asynchronous validation will drop."""

    version: int
    tier: str = "Standard"


@hook(SimpleSystemManagerBackend, "put_parameter")
def _put_parameter(original: Callable[..., Any], backend: Any, *args: Any, **kwargs: Any) -> Any:
    call = inspect.signature(original).bind(backend, *args, **kwargs)
    name = str(call.arguments["name"]).strip(" ")
    region, account = backend.region_name, backend.account_id
    arn_prefix = f"arn:{backend.partition}:ssm:{region}:{account}:parameter/"
    check_name(name, arn_prefix=arn_prefix)
    call.arguments["name"] = name
    if call.arguments.get("data_type") == IMAGE_DATA_TYPE:
        value = str(call.arguments["value"])
        if not _IMAGE_ID.fullmatch(value):
            raise ValidationException(
                f"Parameter value {value!r} is not a valid AMI id for data type "
                f"{IMAGE_DATA_TYPE}: give ami- and 8 or 17 hexadecimal digits"
            )
        delay = runtime.current().faults.realism.parameter_validation
        if delay > 0:
            return put_later(original, backend, call, value, delay)
        if value not in ec2_backends[account][region].amis:
            history = backend._parameters.get(name) or []
            return _Unchanged(history[-1].version + 1 if history else 1)
    return original(*call.args, **call.kwargs)
