"""Is a custom AMI still needed? The verdict on a platform version's own AMI, where it is kept,
and what check, status and `apply --stock` make of it."""

from __future__ import annotations

import dataclasses
import json
from datetime import datetime, timezone
from typing import Any

import pytest

from ebami.apply.gates import Verdict, gates_for
from ebami.apply.options import ApplyOptions
from ebami.apply.planner import ApplyPlanner
from ebami.aws.ec2_values import Image
from ebami.core.errors import AwsError
from ebami.image import tags
from ebami.image.bake import BuildVerdict
from ebami.image.dockerrun import DriverUse
from ebami.image.environment import EnvironmentPlatform
from ebami.image.managed import ManagedImage
from ebami.image.stock import Need, StockVerdict, StockVerdicts, environment_need, need
from ebami.image.version_drivers import VersionDrivers
from ebami.lifecycle.check import CheckReport
from ebami.lifecycle.drift import DriftChecker, DriftStatus
from tests.fakes.apply import STOCK, NamedPlanner, PlannerWorld, ami, world_with

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


def al2023_world(
    configured: str | None, *images: Image, kind: type[Al2023World] = Al2023World
) -> PlannerWorld:
    found = world_with(*images, configured=configured)
    return kind(**{f.name: getattr(found, f.name) for f in dataclasses.fields(found)})


def drift_checker(found: PlannerWorld, ssm: FakeSsm, *, dockerrun: bool = True) -> DriftChecker:
    return DriftChecker(
        eb=found,
        ec2=found,
        now=lambda: NOW,
        stock=StockVerdicts(ssm, "/ebami"),
        drivers=DRIVERS,
        versions=VersionDrivers(eb=found, s3=lambda: found) if dockerrun else None,
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


STORED = {"/ebami/stock-ami/ecs-al2023/4.2.0": verdict().to_value()}


def baked_for(drivers: str | None) -> Image:
    tagged = {tags.PLATFORM: "ecs-al2023", tags.RELEASE: "2023", tags.DRIVERS: drivers or ""}
    return ami("ami-0custom", "2026-11-20", **tagged)  # an empty value drops the tag


def dockerrun(*drivers: str) -> bytes:
    containers = [
        {"name": f"c{n}", "logConfiguration": {"logDriver": driver}}
        for n, driver in enumerate(drivers)
    ]
    return json.dumps({"AWSEBDockerrunVersion": 2, "containerDefinitions": containers}).encode()


def judged(image: Image, bundle: bytes | None, **kwargs: Any) -> tuple[Need, list[str]]:
    found = al2023_world("ami-0custom", image)
    found.bundle = bundle
    checker = drift_checker(found, FakeSsm(STORED), **kwargs)
    drifts = [checker.check("prod", None) for _ in range(2)]
    assert drifts[0] == drifts[1]
    assert drifts[0].need is not None
    return drifts[0].need, found.reads


def test_the_baked_drivers_answer_not_needed_without_reading_the_dockerrun() -> None:
    found, reads = judged(baked_for("json-file fluentd"), dockerrun("splunk"))
    assert found.needed is False
    assert "DescribeApplicationVersions" not in reads
    assert "GetObject" not in reads


def test_the_dockerrun_decides_where_the_baked_drivers_say_needed() -> None:
    # Baked for splunk too, which the platform's AMI lacks; the Dockerrun uses fluentd only.
    baked = baked_for("json-file fluentd splunk")
    found, reads = judged(baked, dockerrun("fluentd", "fluentd"))
    assert found.needed is False
    assert found.detail.startswith(
        "the platform's AMI ami-0al2023 allows fluentd, which application version 'v42' uses "
        "(ecs-init 1.89.2"
    )
    assert found.back == "ebami apply --env prod --stock"
    # Read once per application version, however many times it is asked.
    assert (reads.count("DescribeApplicationVersions"), reads.count("GetObject")) == (1, 1)
    # A Dockerrun that uses splunk: needed, and the line names the version.
    uses_splunk, _ = judged(baked, dockerrun("fluentd", "splunk"))
    assert uses_splunk.needed is True
    assert "does not allow splunk, which application version 'v42' uses (ecs-init" in (
        uses_splunk.detail
    )
    # No container sets a driver: the platform's AMI allows all it uses.
    nothing, _ = judged(baked, dockerrun())
    assert nothing.needed is False
    assert nothing.detail.startswith(
        "application version 'v42' sets no log driver, which the platform's AMI ami-0al2023 "
        "takes (ecs-init 1.89.2"
    )
    # Without a reader (or a verdict that checked the AMI), the baked drivers answer.
    unread, reads = judged(baked, dockerrun("fluentd"), dockerrun=False)
    assert unread.needed is True
    assert "does not allow splunk (ecs-init" in unread.detail
    assert "DescribeApplicationVersions" not in reads


def test_an_ami_without_a_drivers_tag_is_judged_by_the_dockerrun() -> None:
    # The settings' drivers (json-file, fluentd) are allowed, but the Dockerrun uses splunk.
    found, reads = judged(baked_for(None), dockerrun("splunk"))
    assert found.needed is True
    assert "does not allow splunk, which application version 'v42' uses" in found.detail
    assert reads.count("GetObject") == 1


def test_a_dockerrun_that_cannot_be_read_leaves_the_baked_drivers_to_judge() -> None:
    found, _ = judged(baked_for("json-file fluentd splunk"), None)
    assert found.needed is True
    assert found.detail.endswith(
        "(judged by the drivers it was baked for: its Dockerrun could not be read: application "
        "version 'v42' has no source bundle in S3)"
    )
    # No ebami:drivers tag: the settings' drivers (allowed) judge, and the line says so.
    untagged, _ = judged(baked_for(None), None)
    assert untagged.needed is False
    assert "(judged by the settings' drivers: its Dockerrun could not be read: " in (
        untagged.detail
    )
    # The note comes before the way back.
    assert untagged.detail.endswith("; go back with `ebami apply --env prod --stock`")

    class Refused(Al2023World):
        def source_bundle(self, application: str, version_label: str) -> tuple[str, str] | None:
            raise AwsError("elasticbeanstalk:DescribeApplicationVersions: AccessDenied")

    refused = al2023_world("ami-0custom", baked_for("json-file fluentd splunk"), kind=Refused)
    said = drift_checker(refused, FakeSsm(STORED)).check("prod", None)
    assert said.need is not None
    assert said.need.needed is True
    assert said.full_detail.endswith(
        "its Dockerrun could not be read: elasticbeanstalk:DescribeApplicationVersions: "
        "AccessDenied)"
    )


def test_the_dockerrun_is_read_only_for_a_custom_ami_and_a_checked_platform_ami() -> None:
    baked = baked_for("json-file fluentd splunk")
    # A platform's AMI not checked (no agent; an agent that stops): needed, nothing read.
    for allows in (None, ()):
        found = al2023_world("ami-0custom", baked)
        found.bundle = dockerrun("fluentd")
        stored = {"/ebami/stock-ami/ecs-al2023/4.2.0": verdict(allows).to_value()}
        drift = drift_checker(found, FakeSsm(stored)).check("prod", None)
        assert drift.need is not None
        assert drift.need.needed is True
        assert "DescribeApplicationVersions" not in found.reads
    # On the platform's own AMI: judged by the settings' drivers, its Dockerrun not read.
    on_stock = al2023_world("ami-0al2023", baked)
    on_stock.bundle = dockerrun("splunk")
    drift = drift_checker(on_stock, FakeSsm(STORED)).check("prod", None)
    assert drift.status is DriftStatus.CURRENT
    assert "DescribeApplicationVersions" not in on_stock.reads
    # No application version deployed: the baked drivers judge, and the line says why.
    unversioned = al2023_world("ami-0custom", baked)
    unversioned.environment = dataclasses.replace(unversioned.environment, version_label="")
    drift = drift_checker(unversioned, FakeSsm(STORED)).check("prod", None)
    assert drift.need is not None
    assert drift.need.needed is True
    assert drift.need.detail.endswith(
        "its Dockerrun could not be read: the environment has no application version deployed)"
    )
    assert "DescribeApplicationVersions" not in unversioned.reads


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


def test_a_stock_agent_that_would_not_start_is_needed_and_never_applied() -> None:
    stops = verdict(())
    assert not stops.checked
    found = environment_need("prod", AL2023, stops, DRIVERS)
    assert found.needed is True
    assert "ECS agent would not start" in found.detail
    # No container sets a log driver: still refused, the verified gate says why.
    gates = gates_for(
        stock_image(), "ami-0al2023", "us-east-1", AL2023, version_label="v42", uses=(),
        problem="", channel=None, pinned=False, rollback=False, allow_unverified=False,
        on_stock=True, stock=stops,
    )  # fmt: skip
    (verified,) = [gate for gate in gates if gate.name == "verified"]
    assert verified.verdict is Verdict.FAILED
    assert "its ECS agent would not start" in verified.detail


def test_stock_gate_messages_name_the_way_on() -> None:
    def detail(found: StockVerdict | None, uses: tuple[DriverUse, ...]) -> dict[str, str]:
        gates = gates_for(
            stock_image(), "ami-0al2023", "us-east-1", AL2023, version_label="v42", uses=uses,
            problem="", channel=None, pinned=False, rollback=False, allow_unverified=False,
            on_stock=True, stock=found,
        )  # fmt: skip
        return {gate.name: gate.detail for gate in gates}

    fluentd = (DriverUse("web", "fluentd"),)
    # Containers set a driver: --allow-unverified would not help, so it is not offered.
    none_yet = detail(None, fluentd)
    assert none_yet["verified"] == (
        "ami-0al2023: no ebami verify --stock verdict on it: run ebami verify --stock "
        "--platform ecs-al2023 --platform-version 4.2.0"
    )
    assert none_yet["dockerrun"] == (
        "ami-0al2023: which log drivers its ECS agent allows is unknown (see the verified gate)"
    )
    assert detail(None, ())["verified"].endswith(", or pass --allow-unverified")
    assert detail(verdict(None), fluentd)["verified"] == (
        "ami-0al2023: it could not be checked (no SSM agent: ...)"
    )


def test_apply_stock_refuses_a_platform_ebami_does_not_bake_for() -> None:
    node = EnvironmentPlatform(
        "arn:aws:elasticbeanstalk:us-east-1::platform/Node.js 20 running on 64bit Amazon Linux "
        "2023/6.0.0", "Node.js 20 running on 64bit Amazon Linux 2023", "6.0.0", "2023",
        "ami-0al2023",
    )  # fmt: skip
    gates = gates_for(
        stock_image(), "ami-0al2023", "us-east-1", node, version_label="v42", uses=(),
        problem="", channel=None, pinned=False, rollback=False, allow_unverified=False,
        on_stock=True, stock=verdict(),
    )  # fmt: skip
    (platform,) = [gate for gate in gates if gate.name == "platform"]
    assert platform.verdict is Verdict.FAILED


def test_a_verdict_remembered_replaces_one_read_earlier_in_the_run() -> None:
    ssm = FakeSsm()
    store = StockVerdicts(ssm, "/ebami")
    assert store.of(AL2023) is None  # read: none yet
    store.remember("ecs-al2023", "4.2.0", verdict())
    assert store.of(AL2023) == verdict()
    assert len(ssm.reads) == 1


def test_check_names_only_environments_that_can_go_back() -> None:
    custom = ami("ami-0custom", "2026-11-20", **{tags.PLATFORM: "ecs-al2023", tags.RELEASE: "2023",
                                                 tags.DRIVERS: "json-file fluentd"})  # fmt: skip
    stored = {"/ebami/stock-ami/ecs-al2023/4.2.0": verdict().to_value()}
    on_custom = drift_checker(al2023_world("ami-0custom", custom), FakeSsm(stored))
    on_stock = drift_checker(al2023_world("ami-0al2023", custom), FakeSsm(stored))
    build = BuildVerdict(False, "ami-0al2023", "4.2.0", "", "key", "ami-0custom", None, True)
    base = need(verdict(), DRIVERS, stock="ami-0al2023", alias="ecs-al2023", version="4.2.0")
    report = CheckReport(build, (on_custom.check("prod", None), on_stock.check("prod", None)), base)
    outputs = report.github_outputs()
    assert outputs["custom-ami-needed"] == "false"
    # The first runs a custom AMI it needs no more; the second runs the platform's already.
    assert outputs["custom-ami-not-needed"] == "prod"
    assert ("Custom AMI", f"not needed: {base.detail}") in report.rows()
    assert "| Custom AMI | not needed: the platform's AMI ami-0al2023 allows" in report.markdown()
    unknown = CheckReport(build, (), None).github_outputs()
    assert unknown["custom-ami-needed"] == "unknown"


def stock_planner(found: PlannerWorld, stored: dict[str, str]) -> NamedPlanner:
    named = NamedPlanner(found)
    store = StockVerdicts(FakeSsm(stored), "/ebami")
    named.planner = ApplyPlanner(eb=found, reads=named.reads, stock=lambda: store)
    return named


def test_apply_stock_removes_the_option_through_the_gates() -> None:
    own = dataclasses.replace(verdict(), image_id=STOCK)
    stored = {"/ebami/stock-ami/multicontainer-docker/2.8.4": own.to_value()}
    found = world_with(ami("ami-0new"), configured="ami-0new")
    plan = stock_planner(found, stored).plan("prod", None, ApplyOptions(stock=True))
    assert (plan.current, plan.target, plan.target_option) == ("ami-0new", STOCK, None)
    assert plan.refusal is None
    assert [(gate.name, gate.verdict) for gate in plan.gates] == [
        ("image", Verdict.PASSED), ("verified", Verdict.PASSED), ("dockerrun", Verdict.PASSED),
        ("platform", Verdict.PASSED),
    ]  # fmt: skip
    first = plan.steps.instructions[0]
    assert (first.action, dict(first.params)) == ("update_image", {"image_id": None})
    # Already on it: nothing to do.
    on_stock = stock_planner(world_with(), stored).plan("prod", None, ApplyOptions(stock=True))
    assert on_stock.unchanged
    # No verdict on the platform's AMI: refused, saying how to make one.
    unjudged = stock_planner(found, {}).plan("prod", None, ApplyOptions(stock=True))
    assert unjudged.refusal is not None
    assert "ebami verify --stock --platform multicontainer-docker --platform-version 2.8.4" in (
        unjudged.refusal
    )
