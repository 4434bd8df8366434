"""`ebami status`'s view: each AMI's standing, age, channels (in its own region only) and uses;
each environment's drift, or why it has none; the same facts in JSON, text and Markdown."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest

from ebami.core.tables import columns
from ebami.image.bake import BuildVerdict
from ebami.image.channels import ChannelKey, ChannelState
from ebami.image.managed import ManagedImage
from ebami.lifecycle.drift import Drift, DriftStatus
from ebami.lifecycle.inventory import (
    EnvironmentFacts,
    Inventory,
    RegionInventory,
    Use,
    UseKind,
)
from ebami.lifecycle.status import EnvironmentStatus, RegionChannel, StatusReport
from tests.fakes.images import managed_image

NOW = datetime(2026, 11, 21, 12, tzinfo=timezone.utc)
EAST, WEST = "us-east-1", "us-west-2"
OLD, NEW, GONE = "ami-0000000000000000a", "ami-0000000000000000b", "ami-0000000000000000c"


def image(image_id: str, created: str, region: str = EAST, **extra: str) -> ManagedImage:
    return managed_image(
        region=region,
        image_id=image_id,
        name=f"ebami-{image_id}",
        state="available",
        created=created,
        owner_id="123456789012",
        tags={
            "ebami:managed": "true",
            "ebami:platform": "multicontainer-docker",
            "ebami:release": "2017.09",
            **extra,
        },
    )


def environment(name: str, image_id: str | None) -> EnvironmentFacts:
    return EnvironmentFacts(
        region=EAST,
        application="webapp",
        name=name,
        environment_id=f"e-{name}",
        status="Ready",
        health="Green",
        platform_arn="arn:aws:elasticbeanstalk:us-east-1::platform/x/2.8.4",
        image_ids=(image_id,) if image_id else (),
        image_id=image_id,
    )


def channel(region: str, name: str, image_id: str) -> RegionChannel:
    key = ChannelKey("multicontainer-docker", "2017.09", name)
    return RegionChannel(region, ChannelState(key, f"/ebami/x/2017.09/{name}", image_id))


def report() -> StatusReport:
    uses = (
        Use(UseKind.ENVIRONMENT, OLD, EAST, "environment prod (Ready) ImageId"),
        Use(UseKind.INSTANCE, OLD, EAST, "instance i-1 (running)"),
        Use(UseKind.INSTANCE, OLD, EAST, "instance i-2 (stopped)"),
        Use(UseKind.SSM_PARAMETER, NEW, EAST, "SSM parameter /ebami/x/2017.09/stable version 2"),
    )
    inventory = Inventory(
        (
            RegionInventory(
                EAST,
                images=(
                    image(OLD, "2026-10-01T12:00:00.000Z", **{"ebami:verified": "2026-10-01"}),
                    image(NEW, "2026-11-20T12:00:00.000Z", **{"ebami:revoked": "true"}),
                ),
                uses=uses,
                environments=(environment("prod", OLD), environment("odd", None)),
            ),
            RegionInventory(WEST, images=(image(NEW, "bad date", region=WEST),)),
        ),
        "123456789012",
        NOW,
    )
    behind = Drift("prod", OLD, DriftStatus.BEHIND, "51 days old; the newest is x", NEW, 51)
    return StatusReport.of(
        inventory,
        build=BuildVerdict(
            needed=True,
            base_ami="ami-base",
            platform_version="2.8.4",
            platform_released="2018-01-18",
            bake_key="k" * 64,
            existing=None,
            replaces=OLD,
        ),
        drift=[
            EnvironmentStatus(environment("prod", OLD), behind),
            EnvironmentStatus(environment("odd", None), None, note="odd: unknown platform"),
        ],
        channels=[channel(EAST, "stable", NEW), channel(WEST, "canary", OLD)],
        now=NOW,
    )


def test_each_ami_has_its_standing_age_channels_of_its_region_and_uses() -> None:
    shown = {(item.image.region, item.image.image_id): item for item in report().images}
    old, new, copy = shown[EAST, OLD], shown[EAST, NEW], shown[WEST, NEW]
    assert (old.standing, old.age_days, old.channels) == ("verified", 51, ())
    assert (new.standing, new.age_days, new.channels) == ("revoked", 1, ("stable",))
    # The copy in the other region: a channel there names another AMI; its date is unreadable.
    assert (copy.standing, copy.age_days, copy.channels) == ("unverified", None, ())
    assert old.used_by == "environment prod (Ready) ImageId; 2 instance(s)"
    assert new.used_by == "1 ssm-parameter(s)"


def test_drift_counts_only_environments_with_a_drifting_verdict() -> None:
    shown = report()
    assert [item.facts.name for item in shown.drifting] == ["prod"]
    odd = shown.environments[1]
    assert (odd.verdict, odd.detail) == ("unknown", "odd: unknown platform")
    assert shown.github_outputs() == {
        "build-needed": "true",
        "verify-needed": "false",
        "ami-count": "3",
        "drift": "prod behind: 51 days old; the newest is x",
        "drift-count": "1",
    }


def test_json_text_and_markdown_carry_the_same_rows() -> None:
    shown = report()
    data = shown.to_json()
    assert [item["standing"] for item in data["images"]] == ["verified", "revoked", "unverified"]
    assert data["images"][0]["state"] == "available"  # EC2's state, not overwritten
    assert data["environments"][0]["drift"] == "behind"
    assert data["environments"][1]["image_id"] is None
    assert data["drift_count"] == 1
    assert {item["region"] for item in data["channels"]} == {EAST, WEST}
    text = shown.text()
    markdown = shown.markdown()
    for row in shown.image_rows() + shown.environment_rows():
        assert row[2] in text
        assert f"| {row[0]} |" in markdown
    assert "build needed" in shown.summary()
    assert "3 ebami AMI(s) (1 verified) and 2 environment(s) in us-east-1, us-west-2" in (
        shown.summary()
    )


def test_columns_align_every_cell_under_its_header() -> None:
    text = columns(("A", "Longer"), [("wide cell", "x"), ("y", "z")])
    lines = text.splitlines()
    assert [line.index(lines[0].split()[1]) for line in lines[:1]] == [13]
    assert lines[1].startswith("  wide cell  x")
    assert lines[2] == "  y          z"
    assert columns(("A",), []) == "  (none)\n"


def test_all_regions_reads_every_region_with_configured_environments_too() -> None:
    """`status --all-regions --env NAME` (NAME configured with its region): the environment's
    region is no `--regions`, so nothing is refused; every enabled region is read."""
    from ebami.lifecycle.estate import EstateScope
    from ebami.lifecycle.status_run import Wanted, read_status

    class Stop(Exception):
        pass

    class Estate:
        def __init__(self) -> None:
            self.scopes: list[EstateScope] = []

        def regions(self, scope: EstateScope) -> list[str]:
            self.scopes.append(scope)
            return ["us-east-1", "eu-west-1"]

        def read(self, regions: list[str]) -> None:
            raise Stop(regions)

    estate = Estate()
    with pytest.raises(Stop) as stopped:
        read_status(
            estate,  # type: ignore[arg-type]
            EstateScope(all_regions=True),
            [Wanted("us-west-2", "shop-prod")],
            max_age=30,
            build=lambda: None,
        )
    assert stopped.value.args == (["us-east-1", "eu-west-1"],)
    assert estate.scopes[0].all_regions
    assert estate.scopes[0].environment_regions == ("us-west-2",)
