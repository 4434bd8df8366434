"""Which AMIs the estate still needs, and why: a pure function of the inventory.

An AMI id is unique across regions, and SSM parameters and tags carry bare ids that may name
an AMI of another region: an id named anywhere protects the AMI of that id wherever it is.
"""

from __future__ import annotations

from ebami.lifecycle.inventory import Inventory, Use

# (region, image id) -> why it must stay, in the inventory's order, each reason once.
Protections = dict[tuple[str, str], list[str]]


def protections(inventory: Inventory) -> Protections:
    named: dict[str, list[Use]] = {}
    for use in inventory.uses:
        named.setdefault(use.image_id, []).append(use)
    found: Protections = {}
    for image in inventory.images:
        uses = named.get(image.image_id)
        if uses:
            reasons = [reason(use, image.region) for use in uses]
            found[(image.region, image.image_id)] = list(dict.fromkeys(reasons))
    return found


def reason(use: Use, region: str) -> str:
    """`use` as a reason to keep an AMI of `region` (naming the use's region when another)."""
    return use.where if use.region == region else f"{use.where} in {use.region}"
