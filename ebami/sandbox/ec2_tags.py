"""An EC2 resource's tags read by its id, so that listing resources costs in proportion to them.

moto reads an object's tags (`TaggedEC2Resource.get_tags`) by running its DescribeTags over every
tag of the region and keeping those whose resource id matches the object's. Describe calls ask
each resource for its tags (for the answer, and once more per tag filter such as `tag-key` or
`tag:NAME`), so a listing of N tagged images, or of their N snapshots, cost N times every tag of
the region: seconds of server CPU at a thousand AMIs. The region's tags are kept by resource id
(`backend.tags[ID]`, a dict of key to value), so a resource's own entry gives the same list, in
the same order, directly. Every tagged EC2 resource (images, snapshots, instances, volumes...)
reads its tags this way; none of moto's classes reads them otherwise.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from moto.ec2.models.core import TaggedEC2Resource
from moto.ec2.utils import EC2_PREFIX_TO_RESOURCE, get_prefix

from ebami.sandbox.patching import hook


def tags_of(backend: Any, resource_id: str) -> list[dict[str, str]]:
    """What moto's DescribeTags filtered by `resource-id` answers for one id without wildcards."""
    kind = EC2_PREFIX_TO_RESOURCE.get(get_prefix(resource_id), "")
    own: dict[str, str] = dict(backend.tags.get(resource_id, {}))
    return [
        {"resource_id": resource_id, "key": key, "value": value, "resource_type": kind}
        for key, value in own.items()
    ]


@hook(TaggedEC2Resource, "get_tags")
def _get_tags(_original: Callable[..., Any], resource: Any) -> list[dict[str, str]]:
    if not resource.id:  # moto's own rule: an object without an id has no tags
        return []
    return tags_of(resource.ec2_backend, resource.id)
