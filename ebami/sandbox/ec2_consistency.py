"""EC2's eventual consistency in the sandbox: a new instance or image is not found for a while.

What AWS says (Amazon EC2 developer guide, "Eventual consistency in the Amazon EC2 API",
https://docs.aws.amazon.com/ec2/latest/devguide/eventual-consistency.html): the result of a
command "might not be immediately visible to all subsequent commands"; right after a create,
a command that describes or modifies the new resource may answer that it does not exist. Its
example: right after RunInstances, a command naming the new instance may answer
`InvalidInstanceID.NotFound`, which "does not mean the instance does not exist"; callers are to
retry with exponential backoff. The same holds for an image right after CreateImage (EC2's
answer is then `InvalidAMIID.NotFound`).

The sandbox, with `Realism.ec2_not_found` seconds (`ebami.sandbox.realism`) above 0: for that
many seconds on the sandbox's clock after RunInstances (its instances) and after CreateImage,
CopyImage and RegisterImage (the new image), a DescribeInstances or DescribeInstanceStatus
naming the instance in `InstanceIds`, a DescribeImages naming the image in `ImageIds`, and a
CreateTags naming either among its `Resources` answer `InvalidInstanceID.NotFound` /
`InvalidAMIID.NotFound` with EC2's message ("The instance ID 'i-...' does not exist", "The image
id '[ami-...]' does not exist"). Listings by filters alone show them (AWS may leave them out
for a while too). Only the API calls count: instances Elastic Beanstalk launches inside the
sandbox, and moto's own internal reads, are never hidden.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from moto.ec2.exceptions import InvalidAMIIdError, InvalidInstanceIdError
from moto.ec2.responses import EC2Response

from ebami.sandbox import runtime
from ebami.sandbox.patching import hook, kept_on

_CREATED = "ebami_created_at"


def _created(backend: Any) -> dict[str, float]:
    """When each instance and image the API created was made, on the sandbox's clock."""
    created: dict[str, float] = kept_on(backend, _CREATED, dict)
    return created


def _window() -> float:
    return runtime.current().faults.realism.ec2_not_found


def remember(backend: Any, resource_ids: Iterable[str]) -> None:
    """Note that `resource_ids` were created just now (when the switch is on)."""
    if _window() <= 0:
        return
    state = runtime.current()
    with state.lock:
        now = state.clock()
        _created(backend).update(dict.fromkeys(resource_ids, now))


def hidden(backend: Any, resource_ids: Iterable[str]) -> list[str]:
    """Those of `resource_ids` still inside their window (forgetting those past it)."""
    window = _window()
    created = getattr(backend, _CREATED, None)
    if window <= 0 or not created:
        return []
    state = runtime.current()
    with state.lock:
        now = state.clock()
        for resource_id, moment in list(created.items()):
            if now - moment >= window:
                del created[resource_id]
        return [resource_id for resource_id in resource_ids if resource_id in created]


def refuse_hidden(backend: Any, resource_ids: Iterable[str]) -> None:
    """Raise EC2's NotFound for the first of `resource_ids` still inside its window."""
    for resource_id in hidden(backend, resource_ids):
        if resource_id.startswith("i-"):
            raise InvalidInstanceIdError(resource_id)
        raise InvalidAMIIdError(resource_id)


def _ids(response: EC2Response, name: str) -> list[str]:
    return [str(item) for item in response._get_param(name, []) or []]


# --- creates --------------------------------------------------------------------------------


@hook(EC2Response, "run_instances")
def _run_instances(original: Callable[..., Any], response: EC2Response) -> Any:
    result = original(response)
    remember(response.ec2_backend, [instance.id for instance in result.result.instances])
    return result


def _image_created(original: Callable[..., Any], response: EC2Response) -> Any:
    result = original(response)
    remember(response.ec2_backend, [str(result.result["ImageId"])])
    return result


for _action in ("create_image", "copy_image", "register_image"):
    hook(EC2Response, _action)(_image_created)


# --- reads and tags naming the new ids --------------------------------------------------------


def _instances_named(original: Callable[..., Any], response: EC2Response) -> Any:
    refuse_hidden(response.ec2_backend, _ids(response, "InstanceIds"))
    return original(response)


for _action in ("describe_instances", "describe_instance_status"):
    hook(EC2Response, _action)(_instances_named)


@hook(EC2Response, "describe_images")
def _describe_images(original: Callable[..., Any], response: EC2Response) -> Any:
    refuse_hidden(response.ec2_backend, _ids(response, "ImageIds"))
    return original(response)


@hook(EC2Response, "create_tags")
def _create_tags(original: Callable[..., Any], response: EC2Response) -> Any:
    refuse_hidden(response.ec2_backend, _ids(response, "Resources"))
    return original(response)
