"""`DescribeImageReferences` in the sandbox (moto lacks it): the caller's resources that name
each of the given AMIs, as the EC2 API reference and its `ResourceTypeOption` describe them.

- `ec2:Instance`: instances launched from the AMI, in every state unless the `state-name` option
  lists some;
- `ec2:LaunchTemplate`: launch templates one of whose newest `version-depth` versions (default
  10, at most 10,000) names the AMI by id;
- `ssm:Parameter`: parameters of data type `aws:ec2:image` whose current value is the AMI's id;
- `imagebuilder:ImageRecipe`, `imagebuilder:ContainerRecipe`: the sandbox has no Image Builder,
  so none.

Either `IncludeAllResourceTypes` or `ResourceTypes` must be given, and 1 to 10 AMI ids. Each
reference carries the AMI's id, the resource type and the resource's ARN. The answer comes in
one page (the sandbox ignores `MaxResults`).
"""

from __future__ import annotations

from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.ec2.responses import EC2Response
from moto.ssm.models import ssm_backends

from ebami.sandbox import runtime
from ebami.sandbox.images import InvalidParameterValue
from ebami.sandbox.patching import fill

TYPES = (
    "ec2:Instance",
    "ec2:LaunchTemplate",
    "ssm:Parameter",
    "imagebuilder:ImageRecipe",
    "imagebuilder:ContainerRecipe",
)
INSTANCE_STATES = ("pending", "running", "shutting-down", "terminated", "stopping", "stopped")
DEFAULT_DEPTH = 10
# ImageId.N: "Maximum number of 10 items".
MAX_IDS = 10
MAX_DEPTH = 10_000


class MissingParameter(ServiceException):
    code = "MissingParameter"


def _options(requested: list[dict[str, Any]]) -> dict[str, dict[str, list[str]]]:
    """Resource type -> option name -> values, from `ResourceTypes`."""
    found: dict[str, dict[str, list[str]]] = {}
    for item in requested:
        kind = str(item.get("ResourceType") or "")
        if kind not in TYPES:
            raise InvalidParameterValue(
                f"Invalid value '{kind}' for ResourceType: use one of {', '.join(TYPES)}"
            )
        options = found.setdefault(kind, {})
        for option in item.get("ResourceTypeOptions") or []:
            values = option.get("OptionValues") or []
            options[str(option.get("OptionName"))] = [str(value) for value in values]
    return found


def _depth(options: dict[str, list[str]]) -> int:
    values = options.get("version-depth") or [str(DEFAULT_DEPTH)]
    if not values[0].isdigit() or not 1 <= int(values[0]) <= MAX_DEPTH:
        raise InvalidParameterValue(
            f"Invalid value '{values[0]}' for version-depth: give an integer from 1 to {MAX_DEPTH}"
        )
    return int(values[0])


@fill(EC2Response, "DescribeImageReferences")
def describe_image_references(self: EC2Response) -> ActionResult:
    image_ids = [str(item) for item in self._get_param("ImageIds", [])]
    if not image_ids:
        raise MissingParameter("The request must contain the parameter ImageIds")
    if len(image_ids) > MAX_IDS:
        raise InvalidParameterValue(
            f"ImageIds has {len(image_ids)} members: give at most {MAX_IDS} AMI ids a call"
        )
    everything = str(self._get_param("IncludeAllResourceTypes") or "").lower() == "true"
    options = _options(self._get_param("ResourceTypes", []))
    if not everything and not options:
        raise MissingParameter(
            "The request must contain either IncludeAllResourceTypes or ResourceTypes"
        )
    if everything:
        options = {kind: options.get(kind, {}) for kind in TYPES}
    backend = self.ec2_backend
    wanted = set(image_ids)
    with runtime.current().lock:
        references: list[dict[str, str]] = []
        if "ec2:Instance" in options:
            references += _instances(backend, wanted, options["ec2:Instance"])
        if "ec2:LaunchTemplate" in options:
            references += _launch_templates(backend, wanted, _depth(options["ec2:LaunchTemplate"]))
        if "ssm:Parameter" in options:
            references += _parameters(backend, wanted)
    return ActionResult({"ImageReferences": references})


def _arn(backend: Any, service: str, resource: str) -> str:
    return f"arn:aws:{service}:{backend.region_name}:{backend.account_id}:{resource}"


def _instances(
    backend: Any, wanted: set[str], options: dict[str, list[str]]
) -> list[dict[str, str]]:
    states = set(options.get("state-name") or INSTANCE_STATES)
    return [
        {
            "ImageId": instance.image_id,
            "ResourceType": "ec2:Instance",
            "Arn": _arn(backend, "ec2", f"instance/{instance.id}"),
        }
        for instance in backend.all_instances()
        if instance.image_id in wanted and instance.state in states
    ]


def _launch_templates(backend: Any, wanted: set[str], depth: int) -> list[dict[str, str]]:
    found: list[dict[str, str]] = []
    for template in backend.launch_templates.values():
        newest = sorted(template.versions, key=lambda version: version.number)[-depth:]
        for image_id in sorted({version.image_id for version in newest} & wanted):
            found.append(
                {
                    "ImageId": image_id,
                    "ResourceType": "ec2:LaunchTemplate",
                    "Arn": _arn(backend, "ec2", f"launch-template/{template.id}"),
                }
            )
    return found


def _parameters(backend: Any, wanted: set[str]) -> list[dict[str, str]]:
    parameters = ssm_backends[backend.account_id][backend.region_name]._parameters
    found: list[dict[str, str]] = []
    for name, versions in list(dict.items(parameters)):
        current = versions[-1] if versions else None
        if current is None or current.data_type != "aws:ec2:image" or current.value not in wanted:
            continue
        found.append(
            {
                "ImageId": current.value,
                "ResourceType": "ssm:Parameter",
                "Arn": _arn(backend, "ssm", f"parameter/{name.removeprefix('/')}"),
            }
        )
    return found
