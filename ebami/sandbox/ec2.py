"""EC2 in the sandbox: instances get a root filesystem and boot their user data; images carry
the root of the instance they were made from; a fault can keep new images `pending`; a second
image of a name the account already uses is refused, as AWS refuses it (moto accepts it); a
deregistered image can no longer launch (moto launches it).

The names the account's images use are indexed per region (name -> image id), so that the
refusal of a used name costs the same at 2,000 images as at 2: the index is made from the
region's images on first use and kept up to date by CreateImage, CopyImage and RegisterImage,
the only ways an image of the account's comes to be; an entry whose image was deregistered
frees its name.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from typing import Any

from moto.core.exceptions import ServiceException
from moto.ec2.exceptions import InvalidAMIIdError
from moto.ec2.models.amis import Ami, AmiBackend
from moto.ec2.models.instances import Instance, InstanceBackend

from ebami.sandbox import boot, runtime
from ebami.sandbox.patching import argument, hook, kept_on
from ebami.sandbox.rootfs import SSM_AGENT_PACKAGE, installed_packages

_PENDING = "ebami_pending_polls"
_NAMES = "ebami_image_names"


class InvalidAMINameDuplicate(ServiceException):
    code = "InvalidAMIName.Duplicate"


def _names(backend: Any) -> dict[str, str]:
    """Name -> image id of the account's images in the backend's region (made on first use)."""
    account = backend.account_id

    def scan() -> dict[str, str]:
        return {
            image.name: image.id
            for image in backend.amis.values()
            if image.name is not None and image.owner_id == account
        }

    names: dict[str, str] = kept_on(backend, _NAMES, scan)
    return names


def refuse_duplicate_name(backend: Any, name: str | None) -> None:
    """AMI names are unique among an account's images in a region, whatever their state."""
    if name is None:  # moto's own calls may leave it out; AWS's API requires it
        return
    image_id = _names(backend).get(name)
    image = backend.amis.get(image_id) if image_id is not None else None
    if image is not None and image.name == name:
        raise InvalidAMINameDuplicate(f"AMI name {name} is already in use by AMI {image.id}")


def name_taken(backend: Any, image: Ami) -> None:
    """Index the name of `image`, just made (under the runtime's lock, as its refusal was)."""
    if image.name is not None and image.owner_id == backend.account_id:
        _names(backend)[image.name] = image.id


def user_data_bytes(instance: Instance) -> bytes | None:
    encoded = instance.user_data
    if encoded is None:
        return None
    return base64.b64decode(encoded.as_bytes())


def has_ssm_agent(instance: Instance) -> bool:
    root = runtime.current().roots.instance(instance.id)
    return SSM_AGENT_PACKAGE in installed_packages(root)


def has_instance_profile(instance: Instance) -> bool:
    associations: dict[str, Any] = instance.ec2_backend.iam_instance_profile_associations
    return instance.id in associations or bool(instance.iam_instance_profile)


@hook(InstanceBackend, "run_instances")
def _run_instances(original: Callable[..., Any], backend: Any, *args: Any, **kwargs: Any) -> Any:
    image_id = argument(original, "image_id", backend, *args, **kwargs)
    if image_id and image_id not in backend.amis:
        # moto's AMI validation lets a deregistered image through (it keeps it among its
        # deleted ones); AWS refuses it like any unknown image.
        raise InvalidAMIIdError(str(image_id))
    reservation = original(backend, *args, **kwargs)
    roots = runtime.current().roots
    for instance in reservation.instances:
        root = roots.launch(instance.image_id, instance.id)
        boot.boot(root, user_data_bytes(instance))
    return reservation


@hook(InstanceBackend, "terminate_instances")
def _terminate(original: Callable[..., Any], backend: Any, *args: Any, **kwargs: Any) -> Any:
    terminated = original(backend, *args, **kwargs)
    for instance, _previous in terminated:
        runtime.current().roots.drop_instance(instance.id)
    return terminated


@hook(AmiBackend, "create_image")
def _create_image(original: Callable[..., Any], backend: Any, *args: Any, **kwargs: Any) -> Any:
    state = runtime.current()
    with state.lock:  # two concurrent images of one name: the second is refused
        refuse_duplicate_name(backend, argument(original, "name", backend, *args, **kwargs))
        image: Ami = original(backend, *args, **kwargs)
        name_taken(backend, image)
    if image.instance_id:
        state.roots.snapshot(image.instance_id, image.id)
    if state.faults.ami_pending_polls:
        image.state = "pending"
        setattr(image, _PENDING, state.faults.ami_pending_polls)
    return image


@hook(AmiBackend, "register_image")
def _register_image(original: Callable[..., Any], backend: Any, *args: Any, **kwargs: Any) -> Any:
    with runtime.current().lock:
        refuse_duplicate_name(backend, argument(original, "name", backend, *args, **kwargs))
        image: Ami = original(backend, *args, **kwargs)
        name_taken(backend, image)
        return image


@hook(AmiBackend, "copy_image")
def _copy_image(original: Callable[..., Any], backend: Any, *args: Any, **kwargs: Any) -> Any:
    with runtime.current().lock:  # CopyImage's Name names the copy in this (its target) region
        refuse_duplicate_name(backend, argument(original, "name", backend, *args, **kwargs))
        image = original(backend, *args, **kwargs)
        name_taken(backend, image)
    source = argument(original, "source_image_id", backend, *args, **kwargs)
    runtime.current().roots.copy_image(str(source), image.id)
    return image


@hook(AmiBackend, "deregister_image")
def _deregister(original: Callable[..., Any], backend: Any, *args: Any, **kwargs: Any) -> Any:
    result = original(backend, *args, **kwargs)
    runtime.current().roots.drop_image(str(argument(original, "ami_id", backend, *args, **kwargs)))
    return result


@hook(AmiBackend, "describe_images")
def _describe_images(original: Callable[..., Any], backend: Any, *args: Any, **kwargs: Any) -> Any:
    images: list[Ami] = original(backend, *args, **kwargs)
    with runtime.current().lock:
        for image in images:
            left = getattr(image, _PENDING, None)
            if left is None:
                continue
            if left > 0:
                setattr(image, _PENDING, left - 1)  # pending on this poll too
            else:
                image.state = "available"
                delattr(image, _PENDING)
    return images
