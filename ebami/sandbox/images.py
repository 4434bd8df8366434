"""An AMI's end of life in the sandbox: deprecation, deregistration and its snapshots.

moto already does what AWS does for deregistering (the image leaves DescribeImages and
RunInstances refuses it with `InvalidAMIID.NotFound`; its snapshots stay) and for deleting a
snapshot a registered image still uses (`InvalidSnapshot.InUse`, "The snapshot SNAP is currently
in use by AMI"). What it lacks:

- `EnableImageDeprecation` / `DisableImageDeprecation`, and `DeprecationTime` in DescribeImages.
  AWS's rules (EC2 API reference, EnableImageDeprecation's `DeprecateAt`): seconds are rounded
  to the nearest minute; a time in the past is refused; at most 10 years ahead. Only the owner
  may set it (the sandbox's wording for that refusal, and for a time out of range).
- the message of `InvalidSnapshot.NotFound`: moto sends none; AWS says
  "The snapshot 'SNAP' does not exist." (the EC2 error codes reference names the code).
- the root device of a new image: moto gives every image it makes `RootDeviceType: standard`,
  a value outside the model's DeviceType enum (`ebs`, `instance-store`), and `/dev/sda1`.
  CreateImage "creates an Amazon EBS-backed AMI from an Amazon EBS-backed instance" (EC2 API
  reference), so its image has the instance's root device (type `ebs`, the instance's device
  name); CopyImage's copy keeps its source's.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.ec2.models.amis import Ami
from moto.ec2.models.elastic_block_store import EBSBackend
from moto.ec2.responses import EC2Response

from ebami.sandbox import runtime
from ebami.sandbox.patching import argument, fill, hook

MAX_DEPRECATION_AHEAD = timedelta(days=3650)


class InvalidParameterValue(ServiceException):
    code = "InvalidParameterValue"


class InvalidSnapshotNotFound(ServiceException):
    code = "InvalidSnapshot.NotFound"


class AuthFailure(ServiceException):
    code = "AuthFailure"


def own_image(self: EC2Response) -> Any:
    """The request's ImageId, which must be the caller's (InvalidAMIID.NotFound if missing)."""
    image_id = str(self._get_param("ImageId") or "")
    image = self.ec2_backend.describe_images(ami_ids=[image_id])[0]
    if image.owner_id != self.ec2_backend.account_id:
        raise AuthFailure(f"Not authorized for image: {image_id}")
    return image


def deprecation_time(deprecate_at: str, now: datetime) -> str:
    """`DeprecateAt` as DescribeImages shows it: UTC, rounded to the nearest minute, ISO 8601."""
    try:
        moment = datetime.fromisoformat(deprecate_at.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidParameterValue(
            f"Invalid value '{deprecate_at}' for DeprecateAt: give a UTC time such as "
            "2030-01-01T00:00:00Z"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(timezone.utc)
    rounded = moment.replace(second=0, microsecond=0)
    if moment.second * 1_000_000 + moment.microsecond >= 30_000_000:
        rounded += timedelta(minutes=1)
    if rounded < now:
        raise InvalidParameterValue("The deprecation time cannot be in the past.")
    if rounded > now + MAX_DEPRECATION_AHEAD:
        raise InvalidParameterValue("The deprecation time cannot be more than 10 years ahead.")
    return aws_time(rounded)


def aws_time(moment: datetime) -> str:
    """A UTC time as DescribeImages writes its times (`2030-01-01T00:00:00.000Z`)."""
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


@fill(EC2Response, "EnableImageDeprecation")
def enable_image_deprecation(self: EC2Response) -> ActionResult:
    with runtime.current().lock:
        image = own_image(self)
        moment = deprecation_time(
            str(self._get_param("DeprecateAt") or ""), datetime.now(timezone.utc)
        )
        image.deprecation_time = moment
    return ActionResult({"Return": True})


@fill(EC2Response, "DisableImageDeprecation")
def disable_image_deprecation(self: EC2Response) -> ActionResult:
    with runtime.current().lock:
        image = own_image(self)
        image.deprecation_time = None
    return ActionResult({"Return": True})


@hook(EBSBackend, "delete_snapshot")
def _delete_snapshot(original: Callable[..., Any], backend: Any, *args: Any, **kwargs: Any) -> Any:
    snapshot_id = str(argument(original, "snapshot_id", backend, *args, **kwargs))
    if snapshot_id not in backend.snapshots:
        raise InvalidSnapshotNotFound(f"The snapshot '{snapshot_id}' does not exist.")
    return original(backend, *args, **kwargs)


def _given_or_default(
    original: Callable[..., Any], parameter: str, /, *args: Any, **kwargs: Any
) -> Any:
    """The argument `parameter` of a call to `original`, its default when the call left it out
    (a KeyError when moto renames it). Positional-only: Ami's own arguments include `name`."""
    bound = inspect.signature(original).bind(*args, **kwargs)
    bound.apply_defaults()
    return bound.arguments[parameter]


@hook(Ami, "__init__")
def _new_image(original: Callable[..., Any], image: Any, *args: Any, **kwargs: Any) -> None:
    """An image made from an instance (CreateImage) or copied from an image (CopyImage) has its
    origin's root device; the images the seed registers name theirs."""
    original(image, *args, **kwargs)
    origin = _given_or_default(original, "instance", image, *args, **kwargs) or (
        _given_or_default(original, "source_ami", image, *args, **kwargs)
    )
    if origin is not None:
        image.root_device_type = origin.root_device_type
        image.root_device_name = origin.root_device_name
