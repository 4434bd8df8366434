"""`ebami verify --stock`: the platform version's own AMI launched and checked as any AMI, never
tagged, and the verdict remembered, including "cannot be checked"; with fake EC2, SSM and clock."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from ebami.aws.ec2_values import Image
from ebami.aws.session import AwsCli
from ebami.aws.ssm import CommandInvocation
from ebami.core.plan import Executor
from ebami.core.waiting import Deadline
from ebami.image.lookup import BaseAmi
from ebami.image.stock import StockVerdict, StockVerdicts
from ebami.verify.actions import VerifyActions
from ebami.verify.planner import VerifyOptions, VerifyPlanner
from ebami.verify.report import TargetKind, VerifyReport
from ebami.verify.run import run_verify
from tests.fakes.clock import FakeClock
from tests.fakes.verify import LaunchingEc2, RunCommandSsm, probe_output
from tests.helpers import RecordingReporter

STOCK = "ami-0aaaaaaaaaaaaaaa1"
NAME = "aws-elasticbeanstalk-amzn-2017.09.1.x86_64-docker-multi-hvm-201801182327"
OPTIONS = VerifyOptions(default_drivers=("fluentd",), instance_profile="ssm-profile", timeout=60.0)
BASE = BaseAmi(
    image_id=STOCK,
    region="us-east-1",
    platform="multicontainer-docker",
    platform_name="Multi-container Docker running on 64bit Amazon Linux",
    platform_arn="arn:aws:elasticbeanstalk:us-east-1::platform/Multi-container Docker running on "
    "64bit Amazon Linux/2.8.4",
    platform_version="2.8.4",
    os_name="Amazon Linux",
    os_version="2017.09",
    lifecycle_state="",
    branch_name="",
)
PARAMETER = "/ebami/stock-ami/multicontainer-docker/2.8.4"


class StoreSsm:
    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def parameter_value(self, name: str) -> str | None:
        return self.values.get(name)

    def put_value(self, name: str, value: str, *, description: str) -> int:
        self.values[name] = value
        return 1


def no_environment() -> Any:
    raise AssertionError("verify --stock reads no environment")


def run(ec2: LaunchingEc2, ssm: RunCommandSsm, store: StoreSsm) -> tuple[VerifyReport, list[str]]:
    clock = FakeClock()
    out = RecordingReporter()
    plan = VerifyPlanner(ec2=ec2, eb=no_environment, run_id=lambda: "run-1").plan_stock(
        BASE, OPTIONS
    )
    actions = VerifyActions(
        ec2=ec2,
        ssm=ssm,
        reporter=out,
        deadline=Deadline(OPTIONS.timeout, clock=clock, sleep=clock.sleep),
        cli=AwsCli("us-east-1"),
        now=lambda: datetime(2026, 12, 7, 9, 30, tzinfo=timezone.utc),
        stock=lambda: StockVerdicts(store, "/ebami"),
    )
    executor = Executor(actions, out, clock=clock, sleep=clock.sleep)
    report = run_verify(plan, executor)
    return report, [instruction.action for instruction in executor.executed]


def remembered(store: StoreSsm) -> StockVerdict:
    found = StockVerdict.from_value(store.values[PARAMETER])
    assert found is not None
    return found


def test_a_stock_ami_that_allows_the_drivers_is_remembered_and_never_tagged() -> None:
    ec2 = LaunchingEc2(images={STOCK: Image(STOCK, NAME, "available", "", {}, ())})
    store = StoreSsm()
    report, executed = run(ec2, RunCommandSsm(online_after=1), store)
    assert executed == ["launch", "check_launched", "remember_stock", "terminate"]
    assert ec2.tagged == {}  # Amazon's AMI: nothing written on it
    assert ec2.terminated == ["i-00000000000000000"]
    verdict = remembered(store)
    assert verdict.allows == ("json-file", "syslog", "awslogs", "fluentd", "none")
    assert verdict.ecs_init == "1.16.2-1.amzn1"
    assert verdict.checked_at == "2026-12-07T09:30:00Z"
    assert report.kind is TargetKind.STOCK
    assert report.stock == verdict
    assert report.custom_ami is not None
    assert report.custom_ami.needed is False
    assert report.stock_summary() == (
        f"a custom AMI is not needed: the platform's AMI {STOCK} allows fluentd "
        "(ecs-init 1.16.2-1.amzn1)"
    )


def test_a_stock_ami_that_lacks_a_driver_needs_a_custom_ami() -> None:
    ec2 = LaunchingEc2(images={STOCK: Image(STOCK, NAME, "available", "", {}, ())})
    invocation = CommandInvocation("i", "Success", "Success", 0, probe_output("X=1\n"), "")
    store = StoreSsm()
    report, _ = run(ec2, RunCommandSsm(invocations=[invocation]), store)
    # ecs-init 1.16.2's default: no fluentd.
    assert remembered(store).allows == ("json-file", "syslog", "awslogs", "none")
    assert report.custom_ami is not None
    assert report.custom_ami.needed is True
    assert report.stock_summary() == (
        f"a custom AMI is needed: the platform's AMI {STOCK} does not allow fluentd "
        "(ecs-init 1.16.2-1.amzn1)"
    )


def test_an_amazon_linux_1_ami_without_the_agent_is_remembered_as_unchecked() -> None:
    amazon = Image(STOCK, NAME, "available", "", {}, (), owner_alias="amazon")
    ec2 = LaunchingEc2(images={STOCK: amazon})
    store = StoreSsm()
    report, executed = run(ec2, RunCommandSsm(), store)
    assert executed == ["remember_stock"]  # nothing launched
    assert "launch_instance" not in ec2.calls
    verdict = remembered(store)
    assert verdict.allows is None
    assert verdict.detail.startswith("no SSM agent: ")
    assert report.custom_ami is not None
    assert report.custom_ami.needed is True
    assert report.stock_summary().startswith(
        f"a custom AMI is needed: the platform's AMI {STOCK} could not be checked: no SSM agent"
    )


def test_no_verdict_when_ssm_never_reached_the_instance() -> None:
    ec2 = LaunchingEc2(images={STOCK: Image(STOCK, NAME, "available", "", {}, ())})
    store = StoreSsm()
    report, _ = run(ec2, RunCommandSsm(online_after=None), store)
    assert store.values == {}
    assert report.stock is None
    assert report.custom_ami is None
    assert report.stock_summary().endswith("; no verdict was remembered")
    assert ec2.terminated == ["i-00000000000000000"]


def test_drivers_from_the_default_of_an_unread_ecs_init_are_no_verdict() -> None:
    """ecs-init's version unread: its default is a guess, remembered as not checked."""
    ec2 = LaunchingEc2(images={STOCK: Image(STOCK, NAME, "available", "", {}, ())})
    unread = probe_output("X=1\n").replace("ecs-init ecs-init-1.16.2-1.amzn1", "ecs-init ")
    invocation = CommandInvocation("i", "Success", "Success", 0, unread, "")
    store = StoreSsm()
    report, _ = run(ec2, RunCommandSsm(invocations=[invocation]), store)
    verdict = remembered(store)
    assert verdict.allows is None
    assert verdict.detail == (
        "ecs-init's version was not read, and its default decides the drivers"
    )
    assert report.custom_ami is not None
    assert report.custom_ami.needed is True
