"""Is a custom AMI still needed? The verdict on a platform version's own AMI, where it is kept,
and what check, status and `apply --stock` make of it."""

from __future__ import annotations

import dataclasses
from datetime import datetime, timezone
from typing import Any

import pytest

from ebami.apply.gates import Verdict, gates_for
from ebami.aws.ec2_values import Image
from ebami.core.errors import AwsError
from ebami.image import tags
from ebami.image.dockerrun import DriverUse
from ebami.image.environment import EnvironmentPlatform
from ebami.image.managed import ManagedImage
from ebami.image.stock import Need, StockVerdict, StockVerdicts, environment_need, need
from ebami.lifecycle.drift import DriftChecker, DriftStatus
from tests.fakes.apply import PlannerWorld, ami, world_with

NOW = datetime(2026, 11, 22, tzinfo=timezone.utc)
AL2023 = EnvironmentPlatform(
    arn="arn:aws:elasticbeanstalk:us-east-1::platform/ECS running on 64bit Amazon Linux 2023/4.2.0",
    name="ECS running on 64bit Amazon Linux 2023",
    version="4.2.0",
    os_version="2023",
    default_image="ami-0al2023",
)
ALLOWS = ("json-file", "syslog", "awslogs", "fluentd", "none")
DRIVERS = ("json-file", "fluentd")


def verdict(allows: tuple[str, ...] | None = ALLOWS, image_id: str = "ami-0al2023") -> StockVerdict:
    return StockVerdict(
        image_id=image_id,
        platform_arn=AL2023.arn,
        allows=allows,
        ecs_init="1.89.2-1.amzn2023" if allows is not None else None,
        checked_at="2026-12-07T00:00:00Z",
        detail="the agent allows ..." if allows is not None else "no SSM agent: ...",
    )


class FakeSsm:
    def __init__(self, values: dict[str, str] | None = None, refuse: bool = False) -> None:
        self.values = dict(values or {})
        self.reads: list[str] = []
        self.refuse = refuse

    def parameter_value(self, name: str) -> str | None:
        self.reads.append(name)
        if self.refuse:
            raise AwsError("ssm:GetParameter: AccessDenied: may not ssm:GetParameter")
        return self.values.get(name)

    def put_value(self, name: str, value: str, *, description: str) -> int:
        self.values[name] = value
        return 1


@pytest.mark.parametrize("allows", [ALLOWS, (), None])
def test_a_verdict_is_kept_as_json_and_read_back(allows: tuple[str, ...] | None) -> None:
    made = verdict(allows)
    assert StockVerdict.from_value(made.to_value()) == made


@pytest.mark.parametrize("value", [None, "", "ami-0123", "[]", '{"image_id": "x"}', "{"])
def test_a_value_ebami_did_not_write_is_no_verdict(value: str | None) -> None:
    assert StockVerdict.from_value(value) is None


def test_need_by_the_verdict() -> None:
    def judged(found: StockVerdict | None) -> Need:
        return environment_need("prod", AL2023, found, DRIVERS)

    unknown = judged(None)
    assert (unknown.needed, unknown.worth_saying) == (None, False)
    assert "ebami verify --stock --platform ecs-al2023 --platform-version 4.2.0" in unknown.detail
    unchecked = judged(verdict(None))
    assert unchecked.needed is True
    assert unchecked.detail == (
        "the platform's AMI ami-0al2023 could not be checked: no SSM agent: ..."
    )
    lacking = judged(verdict(("json-file", "syslog", "awslogs", "none")))
    assert lacking.needed is True
    assert lacking.detail == (
        "the platform's AMI ami-0al2023 does not allow fluentd (ecs-init 1.89.2-1.amzn2023)"
    )
    allowed = judged(verdict())
    assert allowed.needed is False
    assert allowed.detail == (
        "the platform's AMI ami-0al2023 allows json-file, fluentd (ecs-init 1.89.2-1.amzn2023); "
        "go back with `ebami apply --env prod --stock`"
    )
    # The base AMI of check: nothing to go back to.
    base = need(verdict(), DRIVERS, stock="ami-0al2023", alias="ecs-al2023", version="4.2.0")
    assert "go back" not in base.detail


def test_the_store_reads_each_platform_version_once_and_ignores_another_ami() -> None:
    ssm = FakeSsm()
    store = StockVerdicts(ssm, "/ebami")
    name = store.remember("ecs-al2023", "4.2.0", verdict())
    assert name == "/ebami/stock-ami/ecs-al2023/4.2.0"
    fresh = StockVerdicts(ssm, "/ebami/")
    assert fresh.of(AL2023) == verdict()
    assert fresh.of(AL2023) == verdict()
    assert ssm.reads == [name]
    # The platform version lists another AMI now: that verdict was on an AMI it no longer has.
    moved = EnvironmentPlatform(AL2023.arn, AL2023.name, "4.2.0", "2023", "ami-0other")
    assert fresh.of(moved) is None
    # A platform ebami does not bake for, or one without an AMI of its own: nothing read.
    other = EnvironmentPlatform("arn:x", "Node.js 20 running on 64bit Amazon Linux 2023", "6.0.0",
                                "2023", "ami-0node")  # fmt: skip
    assert fresh.of(other) is None
    assert ssm.reads == [name]


class Al2023World(PlannerWorld):
    """The planner's world, its environment on Amazon Linux 2023 4.2.0."""

    def describe_platform_version(self, platform_arn: str) -> Any:
        self.reads.append("DescribePlatformVersion")
        return {
            "PlatformArn": AL2023.arn,
            "PlatformName": AL2023.name,
            "PlatformVersion": "4.2.0",
            "OperatingSystemVersion": "2023",
            "CustomAmiList": [{"VirtualizationType": "hvm", "ImageId": "ami-0al2023"}],
        }


def al2023_world(configured: str | None, *images: Image) -> PlannerWorld:
    found = world_with(*images, configured=configured)
    return Al2023World(**{f.name: getattr(found, f.name) for f in dataclasses.fields(found)})


def drift_checker(found: PlannerWorld, ssm: FakeSsm) -> DriftChecker:
    return DriftChecker(
        eb=found, ec2=found, now=lambda: NOW, stock=StockVerdicts(ssm, "/ebami"), drivers=DRIVERS
    )


def test_drift_says_when_a_custom_ami_is_not_needed() -> None:
    custom = ami("ami-0custom", "2026-11-20", **{tags.PLATFORM: "ecs-al2023", tags.RELEASE: "2023",
                                                 tags.DRIVERS: "json-file fluentd"})  # fmt: skip
    stored = {"/ebami/stock-ami/ecs-al2023/4.2.0": verdict().to_value()}
    on_custom = drift_checker(al2023_world("ami-0custom", custom), FakeSsm(stored))
    found = on_custom.check("prod", None)
    assert found.status is DriftStatus.CURRENT
    assert found.need is not None
    assert found.need.needed is False
    assert found.full_detail.endswith("go back with `ebami apply --env prod --stock`")
    assert found.to_json()["custom_ami"]["needed"] is False
    # On the platform's own AMI, which allows the drivers: current, not stock drift.
    on_stock = drift_checker(al2023_world("ami-0al2023", custom), FakeSsm(stored)).check(
        "prod", None
    )
    assert (on_stock.status, on_stock.drifts) == (DriftStatus.CURRENT, False)
    assert on_stock.full_detail.startswith("runs the platform's own AMI; custom AMI not needed")
    # No verdict yet: nothing said in the line, unknown in the JSON.
    unjudged = drift_checker(al2023_world("ami-0custom", custom), FakeSsm()).check("prod", None)
    assert unjudged.full_detail == unjudged.detail
    assert unjudged.to_json()["custom_ami"]["needed"] is None
    on_stock = drift_checker(al2023_world("ami-0al2023", custom), FakeSsm()).check("prod", None)
    assert on_stock.status is DriftStatus.STOCK
    # A verdict that cannot be read is said (the optional permission it lacks is named).
    refused = drift_checker(al2023_world("ami-0custom", custom), FakeSsm(refuse=True))
    said = refused.check("prod", None)
    assert "custom AMI unknown: the verdict on the platform's AMI could not be read" in (
        said.full_detail
    )
    assert "may not ssm:GetParameter" in said.full_detail


def test_a_stock_ami_that_cannot_be_checked_leaves_the_custom_ami_needed() -> None:
    stored = {"/ebami/stock-ami/ecs-al2023/4.2.0": verdict(None).to_value()}
    found = drift_checker(al2023_world("ami-0al2023"), FakeSsm(stored)).check("prod", None)
    assert found.status is DriftStatus.STOCK
    assert "custom AMI needed: the platform's AMI ami-0al2023 could not be checked" in (
        found.full_detail
    )


def stock_image() -> ManagedImage:
    return ManagedImage.of(
        Image("ami-0al2023", "aws-elasticbeanstalk-amzn-2023", "available", "2025-01-30", {}, ())
    )


def stock_gates(found: StockVerdict | None, *, allow: bool = False) -> dict[str, Verdict]:
    gates = gates_for(
        stock_image(),
        "ami-0al2023",
        "us-east-1",
        AL2023,
        version_label="v42",
        uses=(DriverUse("web", "fluentd"),),
        problem="",
        channel=None,
        pinned=False,
        rollback=False,
        allow_unverified=allow,
        on_stock=True,
        stock=found,
    )
    return {gate.name: gate.verdict for gate in gates}


def test_apply_stock_is_gated_by_the_verdict() -> None:
    passed = {"image": Verdict.PASSED, "verified": Verdict.PASSED, "dockerrun": Verdict.PASSED,
              "platform": Verdict.PASSED}  # fmt: skip
    assert stock_gates(verdict()) == passed
    # The stock AMI lacks fluentd: its tasks would fail placement.
    lacking = stock_gates(verdict(("json-file", "awslogs")))
    assert lacking["dockerrun"] is Verdict.FAILED
    # No verdict: refused, unless --allow-unverified; the drivers are unknown either way.
    assert stock_gates(None)["verified"] is Verdict.FAILED
    allowed = stock_gates(None, allow=True)
    assert (allowed["verified"], allowed["dockerrun"]) == (Verdict.WARNED, Verdict.FAILED)
    assert stock_gates(verdict(None))["verified"] is Verdict.FAILED
