"""EC2's own guards on an AMI, which moto lacks (EC2 API reference of each action):

- **deregistration protection** (`EnableImageDeregistrationProtection` /
  `DisableImageDeregistrationProtection`): a protected AMI "can't be deregistered". With
  `WithCooldown`, protection holds for 24 hours after it is disabled. DescribeImages shows
  `DeregistrationProtection` on every image: `disabled`, `enabled-with-cooldown`,
  `enabled-without-cooldown` (the values the actions return in the AWS CLI's examples) and,
  while a cooldown runs, `disabled-until <UTC time>`. Only the owner may set it.
- **disabling** (`DisableImage` / `EnableImage`; moto only flips the state): a disabled AMI loses
  its launch permissions, "can't be used for instance launches", "can't be shared", and "does not
  appear in DescribeImages API calls by default" (`IncludeDisabled`). Only the owner may disable
  or enable it.
- **`DeregisterImage(DeleteAssociatedSnapshots=True)`**: each snapshot of the image is deleted
  unless another registered AMI uses it (`skipped`), or the caller may not `ec2:DeleteSnapshot`
  (`missing-permissions`, with `--enforce-iam`); `DeleteSnapshotResults` says which.
- **`LastLaunchedTime`**: set when an instance is launched from the AMI. AWS reports it up to 24
  hours late; the sandbox reports it at once.

AWS documents no error wording for a protected or disabled AMI's refusals: the codes and
messages here are the sandbox's own (`OperationNotPermitted`, EC2's code for an action a
resource's setting forbids; `InvalidAMIID.Unavailable` for a launch, EC2's code for an AMI that
cannot launch).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.ec2.models.amis import Ami, AmiBackend
from moto.ec2.models.instances import InstanceBackend
from moto.ec2.responses import EC2Response

from ebami.sandbox import iam_enforcement, runtime
from ebami.sandbox.images import aws_time, own_image
from ebami.sandbox.patching import argument, fill, hook, replace

COOLDOWN = timedelta(hours=24)
DISABLED = "disabled"
WITH_COOLDOWN = "enabled-with-cooldown"
WITHOUT_COOLDOWN = "enabled-without-cooldown"
# Set on each image: until when a disabled protection still holds (its cooldown).
_UNTIL = "ebami_protected_until"

# Whether DescribeImages shows disabled images: the sandbox's own calls see every image; an
# API call sees them only with IncludeDisabled.
_include_disabled: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "include_disabled", default=True
)


class OperationNotPermitted(ServiceException):
    code = "OperationNotPermitted"


class InvalidAMIIDUnavailable(ServiceException):
    code = "InvalidAMIID.Unavailable"


def _protected(image: Any, now: datetime) -> str | None:
    """Why `image` cannot be deregistered now, if it cannot."""
    shown = getattr(image, "deregistration_protection", DISABLED)
    if shown in (WITH_COOLDOWN, WITHOUT_COOLDOWN):
        return "deregistration protection is enabled"
    until: datetime | None = getattr(image, _UNTIL, None)
    if until is not None and now < until:
        ends = aws_time(until)
        return f"deregistration protection was disabled with a cooldown that ends at {ends}"
    return None


def _refresh(image: Any, now: datetime) -> None:
    """A cooldown that has ended shows as `disabled`."""
    until: datetime | None = getattr(image, _UNTIL, None)
    if until is not None and now >= until:
        setattr(image, _UNTIL, None)
        image.deregistration_protection = DISABLED


# --- deregistration protection ---------------------------------------------------------------


@hook(Ami, "__init__")
def _new_image(original: Callable[..., Any], image: Any, *args: Any, **kwargs: Any) -> None:
    original(image, *args, **kwargs)
    image.deregistration_protection = DISABLED
    image.last_launched_time = None
    setattr(image, _UNTIL, None)


@fill(EC2Response, "EnableImageDeregistrationProtection")
def enable_image_deregistration_protection(self: EC2Response) -> ActionResult:
    with runtime.current().lock:
        image = own_image(self)
        cooldown = str(self._get_param("WithCooldown") or "").lower() == "true"
        image.deregistration_protection = WITH_COOLDOWN if cooldown else WITHOUT_COOLDOWN
        setattr(image, _UNTIL, None)
        return ActionResult({"Return": image.deregistration_protection})


@fill(EC2Response, "DisableImageDeregistrationProtection")
def disable_image_deregistration_protection(self: EC2Response) -> ActionResult:
    state = runtime.current()
    with state.lock:
        image = own_image(self)
        now = state.now()
        if image.deregistration_protection == WITH_COOLDOWN:
            until = now + COOLDOWN
            setattr(image, _UNTIL, until)
            image.deregistration_protection = f"disabled-until {aws_time(until)}"
        elif image.deregistration_protection == WITHOUT_COOLDOWN:
            image.deregistration_protection = DISABLED
        _refresh(image, now)
        return ActionResult({"Return": image.deregistration_protection})


@hook(AmiBackend, "deregister_image")
def _deregister(original: Callable[..., Any], backend: Any, *args: Any, **kwargs: Any) -> Any:
    image_id = str(argument(original, "ami_id", backend, *args, **kwargs))
    state = runtime.current()
    with state.lock:
        image = backend.amis.get(image_id)
        why = _protected(image, state.now()) if image is not None else None
        if why:
            raise OperationNotPermitted(f"The AMI {image_id} can't be deregistered: {why}.")
        return original(backend, *args, **kwargs)


# --- DeregisterImage(DeleteAssociatedSnapshots) ----------------------------------------------


def _snapshot_ids(image: Any) -> list[str]:
    return [
        str(mapping["Ebs"]["SnapshotId"])
        for mapping in image.block_device_mappings
        if mapping.get("Ebs", {}).get("SnapshotId")
    ]


@hook(EC2Response, "deregister_image")
def _deregister_response(original: Callable[..., Any], response: EC2Response) -> Any:
    if str(response._get_param("DeleteAssociatedSnapshots") or "").lower() != "true":
        return original(response)
    backend = response.ec2_backend
    with runtime.current().lock:
        image = backend.amis.get(str(response._get_param("ImageId") or ""))
        snapshots = _snapshot_ids(image) if image is not None else []
        original(response)  # refused (protected, unknown): nothing is deleted
        deleting = iam_enforcement.allows(response, "DeleteSnapshot")
        results = [
            {
                "SnapshotId": snapshot_id,
                "ReturnCode": _delete_snapshot(backend, snapshot_id)
                if deleting
                else "missing-permissions",
            }
            for snapshot_id in snapshots
        ]
    return ActionResult({"Return": True, "DeleteSnapshotResults": results})


def _delete_snapshot(backend: Any, snapshot_id: str) -> str:
    """What deleting one snapshot of a deregistered image came to (DeleteSnapshotResult's
    ReturnCode)."""
    if any(snapshot_id in _snapshot_ids(other) for other in backend.amis.values()):
        return "skipped"
    if snapshot_id not in backend.snapshots:
        return "client-error"
    backend.delete_snapshot(snapshot_id)
    return "success"


# --- DisableImage / EnableImage, and what a disabled image may not do -------------------------


@replace(
    EC2Response,
    "DisableImage",
    gap="moto flips the state only: any caller may, launch permissions stay, and DescribeImages "
    "and RunInstances still show and launch the image",
)
def disable_image(self: EC2Response) -> ActionResult:
    with runtime.current().lock:
        image = own_image(self)
        image.state = "disabled"
        image.launch_permissions.clear()
    return ActionResult({"Return": True})


@replace(EC2Response, "EnableImage", gap="moto lets any caller re-enable an image")
def enable_image(self: EC2Response) -> ActionResult:
    with runtime.current().lock:
        image = own_image(self)
        if image.state == "disabled":
            image.state = "available"
    return ActionResult({"Return": True})


@hook(EC2Response, "describe_images")
def _describe_images_response(original: Callable[..., Any], response: EC2Response) -> Any:
    included = str(response._get_param("IncludeDisabled") or "").lower() == "true"
    with _showing_disabled(included):
        return original(response)


@contextmanager
def _showing_disabled(included: bool) -> Iterator[None]:
    token = _include_disabled.set(included)
    try:
        yield
    finally:
        _include_disabled.reset(token)


@hook(AmiBackend, "describe_images")
def _describe_images(original: Callable[..., Any], backend: Any, *args: Any, **kwargs: Any) -> Any:
    images: list[Any] = original(backend, *args, **kwargs)
    now = runtime.current().now()
    for image in images:
        _refresh(image, now)
    if _include_disabled.get():
        return images
    return [image for image in images if image.state != "disabled"]


@hook(AmiBackend, "modify_image_attribute")
def _share(original: Callable[..., Any], backend: Any, *args: Any, **kwargs: Any) -> Any:
    image_id = str(argument(original, "ami_id", backend, *args, **kwargs))
    adding = argument(original, "launch_permissions_to_add", backend, *args, **kwargs)
    image = backend.amis.get(image_id)
    if adding and image is not None and image.state == "disabled":
        raise OperationNotPermitted(f"The AMI {image_id} is disabled and can't be shared.")
    return original(backend, *args, **kwargs)


@hook(InstanceBackend, "run_instances")
def _run_instances(original: Callable[..., Any], backend: Any, *args: Any, **kwargs: Any) -> Any:
    image_id = str(argument(original, "image_id", backend, *args, **kwargs) or "")
    image = backend.amis.get(image_id)
    if image is not None and image.state == "disabled":
        raise InvalidAMIIDUnavailable(f"The image id '[{image_id}]' is disabled.")
    reservation = original(backend, *args, **kwargs)
    if image is not None:
        image.last_launched_time = aws_time(runtime.current().now())
    return reservation
