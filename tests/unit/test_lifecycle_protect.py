"""Protections: every kind of use protects the AMI it names, in its own region and, for ids
carried bare (SSM, tags), in the region the AMI lives in."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ebami.config.formats import ami_ids_in
from ebami.image.managed import ManagedImage
from ebami.lifecycle.inventory import (
    Inventory,
    RegionInventory,
    Use,
    UseKind,
)
from ebami.lifecycle.protect import protections
from tests.fakes.images import managed_image

NOW = datetime(2026, 11, 21, tzinfo=timezone.utc)
ACCOUNT = "123456789012"
EAST = "us-east-1"
WEST = "us-west-2"
AMI_A = "ami-0000000000000000a"
AMI_B = "ami-0000000000000000b"
AMI_OLD = "ami-1234abcd"


def image(image_id: str, region: str = EAST) -> ManagedImage:
    return managed_image(
        region=region,
        image_id=image_id,
        name=f"ebami-{image_id}",
        state="available",
        created="2026-01-01T00:00:00.000Z",
        owner_id=ACCOUNT,
        tags={"ebami:managed": "true"},
    )


def inventory(*regions: RegionInventory) -> Inventory:
    return Inventory(regions, ACCOUNT, NOW)


@pytest.mark.parametrize(
    ("kind", "where"),
    [
        (UseKind.ENVIRONMENT, "environment prod (Updating) ImageId"),
        (UseKind.SAVED_CONFIGURATION, "saved configuration web/base"),
        (UseKind.INSTANCE, "instance i-0abc (stopped)"),
        (UseKind.LAUNCH_TEMPLATE, "launch template lt-0abc (web) version 3"),
        (UseKind.LAUNCH_CONFIGURATION, "launch configuration web-lc"),
        (UseKind.SSM_PARAMETER, "SSM parameter /ebami/ecs-al2/2/stable version 4"),
        (UseKind.ROLLBACK_TARGET, "rollback target of environment prod"),
    ],
)
def test_each_kind_of_use_protects_the_ami_it_names(kind: UseKind, where: str) -> None:
    estate = inventory(
        RegionInventory(
            EAST, images=(image(AMI_A), image(AMI_B)), uses=(Use(kind, AMI_A, EAST, where),)
        )
    )
    assert protections(estate) == {(EAST, AMI_A): [where]}


def test_reasons_gather_in_order_each_once() -> None:
    uses = (
        Use(UseKind.ENVIRONMENT, AMI_A, EAST, "environment prod (Ready) ImageId"),
        Use(UseKind.ROLLBACK_TARGET, AMI_A, EAST, "rollback target of environment staging"),
        Use(UseKind.ENVIRONMENT, AMI_A, EAST, "environment prod (Ready) ImageId"),
    )
    estate = inventory(RegionInventory(EAST, images=(image(AMI_A),), uses=uses))
    assert protections(estate) == {
        (EAST, AMI_A): [
            "environment prod (Ready) ImageId",
            "rollback target of environment staging",
        ]
    }


def test_an_id_named_in_another_region_protects_the_ami_where_it_lives() -> None:
    estate = inventory(
        RegionInventory(EAST, images=(image(AMI_A),)),
        RegionInventory(
            WEST,
            images=(image(AMI_B, WEST),),
            uses=(Use(UseKind.SSM_PARAMETER, AMI_A, WEST, "SSM parameter /p version 1"),),
        ),
    )
    assert protections(estate) == {(EAST, AMI_A): ["SSM parameter /p version 1 in us-west-2"]}


def test_a_use_of_an_unknown_id_protects_nothing() -> None:
    estate = inventory(
        RegionInventory(
            EAST,
            images=(image(AMI_A),),
            uses=(Use(UseKind.INSTANCE, AMI_OLD, EAST, "instance i-1 (running)"),),
        )
    )
    assert protections(estate) == {}


def test_ami_ids_are_found_anywhere_in_a_value() -> None:
    text = f'{{"image": "{AMI_A}"}},{AMI_OLD},{AMI_A},resolve:ssm:/x,ami-xyz,ami-12345'
    assert ami_ids_in(text) == [AMI_A, AMI_OLD]
    assert ami_ids_in("resolve:ssm:/ebami/stable") == []
