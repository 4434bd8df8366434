"""The verify pipeline with fake EC2/SSM and a fake clock: what is launched, waited for, judged,
tagged, and always terminated."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone

import pytest

from ebami.aws.ec2_values import Egress, Image, Instance, InstanceSpec
from ebami.aws.session import AwsCli
from ebami.aws.ssm import CommandInvocation, ManagedInstance
from ebami.core.errors import AwsError, InputError, Interrupted
from ebami.core.plan import Executor
from ebami.core.results import CheckResult, CheckStatus
from ebami.core.waiting import Deadline
from ebami.image.tags import VERIFY_RUN
from ebami.verify.actions import VerifyActions
from ebami.verify.planner import VerifyOptions, VerifyPlan, VerifyPlanner
from ebami.verify.report import TargetKind, VerifyReport
from ebami.verify.run import run_verify
from tests.fakes.clock import FakeClock
from tests.fakes.verify import (
    EnvironmentEb,
    LaunchingEc2,
    RunCommandSsm,
    probe_output,
)
from tests.helpers import RecordingReporter

AMI = "ami-0123456789abcdef0"
TAGS = {
    "ebami:platform": "multicontainer-docker",
    "ebami:release": "2017.09",
    "ebami:drivers": "json-file syslog awslogs fluentd none",
    "ebami:ssm-agent": "yes",
}
OPTIONS = VerifyOptions(default_drivers=("fluentd",), instance_profile="ssm-profile", timeout=60.0)
CLI = AwsCli("us-east-1")


@dataclass
class Verification:
    """The planner and the executor of a verify run, wired as the CLI's factory does."""

    planner: VerifyPlanner
    ec2: LaunchingEc2
    ssm: RunCommandSsm
    clock: FakeClock
    out: RecordingReporter
    executed: list[str] = field(default_factory=list)

    def plan_ami(self, image_id: str, options: VerifyOptions) -> VerifyPlan:
        return self.planner.plan_ami(image_id, options)

    def plan_instances(self, ids: list[str], options: VerifyOptions) -> VerifyPlan:
        return self.planner.plan_instances(ids, options)

    def plan_environment(
        self, name: str, application: str | None, options: VerifyOptions
    ) -> VerifyPlan:
        return self.planner.plan_environment(name, application, options)

    def run(self, plan: VerifyPlan, options: VerifyOptions) -> VerifyReport:
        actions = VerifyActions(
            ec2=self.ec2,
            ssm=self.ssm,
            reporter=self.out,
            deadline=Deadline(options.timeout, clock=self.clock, sleep=self.clock.sleep),
            cli=CLI,
            now=lambda: datetime(2026, 11, 21, 9, 30, tzinfo=timezone.utc),
        )
        executor = Executor(actions, self.out, clock=self.clock, sleep=self.clock.sleep)
        try:
            return run_verify(plan, executor)
        finally:
            self.executed = [instruction.action for instruction in executor.executed]


def make(
    ec2: LaunchingEc2,
    ssm: RunCommandSsm,
    clock: FakeClock | None = None,
    eb: EnvironmentEb | None = None,
) -> tuple[Verification, RecordingReporter]:
    def environments() -> EnvironmentEb:
        assert eb is not None, "this test plans no environment"
        return eb

    out = RecordingReporter()
    planner = VerifyPlanner(
        ec2=ec2,
        eb=environments,
        run_id=lambda: "run-1",
    )
    return Verification(planner, ec2, ssm, clock or FakeClock(), out), out


def launch_spec(plan: VerifyPlan) -> InstanceSpec | None:
    """The instance the plan launches, if any."""
    launches = [i.params["spec"] for i in plan.steps.instructions if i.action == "launch"]
    return launches[0] if launches else None


def ebami_image(**tags: str) -> Image:
    return Image(AMI, "ebami-x", "available", "", {**TAGS, **tags}, ())


def test_a_good_ami_passes_is_tagged_and_its_instance_terminated() -> None:
    ec2 = LaunchingEc2(images={AMI: ebami_image()})
    verifier, out = make(ec2, RunCommandSsm(online_after=2))
    plan = verifier.plan_ami(AMI, OPTIONS)
    spec = launch_spec(plan)
    assert spec is not None
    assert spec.instance_type == "t2.nano"  # no ENA on the fake image
    assert spec.tags[VERIFY_RUN] == "run-1"
    report = verifier.run(plan, OPTIONS)
    assert verifier.executed == ["launch", "check_launched", "tag_verified", "terminate"]
    assert report.passed
    assert [c.name for c in report.instances[0].checks] == [
        "ssm", "logging-drivers", "os-release", "release-lock",
    ]  # fmt: skip
    assert ec2.terminated == ["i-00000000000000000"]
    assert ec2.tagged[AMI] == {
        "ebami:verified": "2026-11-21T09:30:00Z",
        "ebami:verified-checks": "ssm logging-drivers os-release release-lock",
    }
    assert report.verified_tags == ec2.tagged[AMI]
    assert any(line.startswith("waiting for SSM to reach i-") for line in out.lines)


def test_a_failed_check_is_never_tagged_and_still_terminated() -> None:
    ec2 = LaunchingEc2(images={AMI: ebami_image()})
    ssm = RunCommandSsm(
        invocations=[
            CommandInvocation("i", "Success", "Success", 0, probe_output("X=1\n"), ""),
        ]
    )
    verifier, _ = make(ec2, ssm)
    report = verifier.run(verifier.plan_ami(AMI, OPTIONS), OPTIONS)
    assert not report.passed
    assert report.failure_summary().startswith(
        f"ami {AMI} failed verification: i-00000000000000000: logging-drivers: fluentd missing"
    )
    assert ec2.tagged == {}
    assert ec2.terminated == ["i-00000000000000000"]


def test_never_online_fails_at_the_deadline_with_a_diagnosis() -> None:
    clock = FakeClock()
    ec2 = LaunchingEc2(images={AMI: ebami_image()}, egress_result=Egress(None, frozenset()))
    verifier, _ = make(ec2, RunCommandSsm(online_after=None), clock)
    report = verifier.run(verifier.plan_ami(AMI, OPTIONS), OPTIONS)
    (ssm_check,) = report.instances[0].checks
    assert ssm_check.status is CheckStatus.FAILED
    assert ssm_check.detail.startswith("no route to the SSM endpoints: subnet subnet-1")
    assert clock.now == pytest.approx(60.0)  # the deadline, not a second more
    assert max(clock.sleeps) <= 5.0
    assert ec2.terminated == ["i-00000000000000000"]


def test_connection_lost_is_diagnosed_as_such() -> None:
    ec2 = LaunchingEc2(images={AMI: ebami_image()})
    verifier, _ = make(ec2, RunCommandSsm(ping="ConnectionLost"))
    report = verifier.run(verifier.plan_ami(AMI, OPTIONS), OPTIONS)
    assert "registered but is ConnectionLost" in report.instances[0].checks[0].detail
    assert "egress" not in ec2.calls  # SSM saw the agent: the route is not the question


def test_ctrl_c_while_waiting_terminates_and_raises_interrupted() -> None:
    clock = FakeClock()
    ec2 = LaunchingEc2(images={AMI: ebami_image()})

    def interrupt() -> None:
        raise KeyboardInterrupt

    clock.on_sleep = interrupt
    verifier, _ = make(ec2, RunCommandSsm(online_after=None), clock)
    plan = verifier.plan_ami(AMI, OPTIONS)
    with pytest.raises(Interrupted, match="terminated i-00000000000000000"):
        verifier.run(plan, OPTIONS)
    assert ec2.terminated == ["i-00000000000000000"]


def test_ctrl_c_during_the_launch_finds_the_instance_by_its_run_tag() -> None:
    ec2 = LaunchingEc2(images={AMI: ebami_image()}, launch_error=KeyboardInterrupt())
    verifier, _ = make(ec2, RunCommandSsm())
    with pytest.raises(Interrupted):
        verifier.run(verifier.plan_ami(AMI, OPTIONS), OPTIONS)
    assert "find_instances_by_tag" in ec2.calls
    assert ec2.terminated == ["i-00000000000000000"]


def test_an_error_during_the_wait_still_terminates() -> None:
    ec2 = LaunchingEc2(images={AMI: ebami_image()})

    class Broken(RunCommandSsm):
        def managed_instances(self, instance_ids: Sequence[str]) -> dict[str, ManagedInstance]:
            raise RuntimeError("boom")

    verifier, _ = make(ec2, Broken())
    with pytest.raises(RuntimeError):
        verifier.run(verifier.plan_ami(AMI, OPTIONS), OPTIONS)
    assert ec2.terminated == ["i-00000000000000000"]


def test_an_image_without_the_agent_is_refused_without_launching() -> None:
    ec2 = LaunchingEc2(images={AMI: ebami_image(**{"ebami:ssm-agent": "no"})})
    verifier, _ = make(ec2, RunCommandSsm())
    plan = verifier.plan_ami(AMI, OPTIONS)
    assert launch_spec(plan) is None
    report = verifier.run(plan, OPTIONS)
    assert report.instances[0].instance_id is None
    assert report.instances[0].checks[0].detail.startswith("no SSM agent")
    assert "launch_instance" not in ec2.calls


def test_no_instance_profile_is_refused_before_any_call() -> None:
    ec2 = LaunchingEc2(images={AMI: ebami_image()})
    verifier, _ = make(ec2, RunCommandSsm())
    with pytest.raises(InputError, match="pass --instance-profile NAME"):
        verifier.plan_ami(AMI, replace(OPTIONS, instance_profile=None))
    assert ec2.calls == []


def test_ssm_not_knowing_the_invocation_yet_is_waited_out() -> None:
    ec2 = LaunchingEc2(images={AMI: ebami_image()})
    ssm = RunCommandSsm(invocations=[None, CommandInvocation("i", "InProgress", "", -1, "", "")])
    verifier, _ = make(ec2, ssm)
    assert verifier.run(verifier.plan_ami(AMI, OPTIONS), OPTIONS).passed


def test_a_probe_that_never_finishes_fails_at_the_deadline() -> None:
    ec2 = LaunchingEc2(images={AMI: ebami_image()})
    pending = CommandInvocation("i", "InProgress", "", -1, "", "")
    verifier, _ = make(ec2, RunCommandSsm(invocations=[pending] * 1000))
    report = verifier.run(verifier.plan_ami(AMI, OPTIONS), OPTIONS)
    probe_check = report.instances[0].checks[-1]
    assert (probe_check.name, probe_check.status) == ("probe", CheckStatus.FAILED)
    assert "did not finish within --timeout 60 s (status InProgress)" in probe_check.detail


def test_a_failed_probe_reports_its_error_line() -> None:
    ec2 = LaunchingEc2(images={AMI: ebami_image()})
    failed = CommandInvocation(
        "i", "Failed", "Failed", 3, "", "base64: /etc/x: Permission denied\n"
    )
    verifier, _ = make(ec2, RunCommandSsm(invocations=[failed]))
    detail = verifier.run(verifier.plan_ami(AMI, OPTIONS), OPTIONS).instances[0].checks[-1].detail
    assert detail == "the probe ended Failed (Failed, exit 3): base64: /etc/x: Permission denied"


def test_an_environment_s_instances_are_checked_against_its_configured_ami() -> None:
    other = "ami-0fedcba9876543210"
    ec2 = LaunchingEc2(
        images={AMI: ebami_image(), other: replace(ebami_image(), image_id=other)},
        instances={
            "i-a": Instance("i-a", AMI, "running", "", "s", "v", "", "arn:p", {}),
            "i-b": Instance("i-b", other, "running", "", "s", "v", "", "arn:p", {}),
        },
    )
    ssm = RunCommandSsm()
    verifier, _ = make(ec2, ssm, eb=EnvironmentEb(AMI))
    plan = verifier.plan_environment("prod", None, OPTIONS)
    report = verifier.run(plan, OPTIONS)
    assert report.kind is TargetKind.ENVIRONMENT
    assert ssm.sent == [["i-a", "i-b"]]  # one command for all instances
    first, second = report.instances
    assert first.passed
    assert second.checks[0].detail == f"runs {other}, but the environment is configured with {AMI}"
    assert not report.passed
    assert ec2.terminated == []  # existing instances are never terminated
    assert ec2.tagged == {}


def test_an_existing_instance_without_a_profile_fails_at_once() -> None:
    ec2 = LaunchingEc2(
        images={AMI: ebami_image()},
        instances={"i-a": Instance("i-a", AMI, "running", "", "s", "v", "", "", {})},
    )
    clock = FakeClock()
    verifier, _ = make(ec2, RunCommandSsm(online_after=None), clock)
    report = verifier.run(verifier.plan_instances(["i-a"], OPTIONS), OPTIONS)
    assert report.instances[0].checks[0].detail.startswith("no instance profile")
    assert clock.now == 0.0  # no waiting for what cannot happen


def test_an_ami_that_refuses_tags_is_still_reported_verified() -> None:
    class Untaggable(LaunchingEc2):
        def tag_resources(self, resource_ids: list[str], tags: dict[str, str]) -> None:
            raise AwsError("ec2:CreateTags ami-x: access denied")

    ec2 = Untaggable(images={AMI: ebami_image()})
    verifier, out = make(ec2, RunCommandSsm())
    report = verifier.run(verifier.plan_ami(AMI, OPTIONS), OPTIONS)
    assert report.passed
    assert report.verified_tags == {}
    assert f"warning: {AMI} passed but was not tagged: ec2:CreateTags ami-x: access denied" in (
        out.lines
    )


def test_checks_that_were_all_skipped_do_not_make_an_ami_verified() -> None:
    ec2 = LaunchingEc2(images={AMI: ebami_image()})
    actions = VerifyActions(
        ec2=ec2, ssm=RunCommandSsm(), reporter=RecordingReporter(), deadline=Deadline(60.0), cli=CLI
    )
    skipped = {"i-1": [CheckResult("os-release", CheckStatus.SKIPPED, "release unknown")]}
    assert actions.tag_verified(AMI, skipped) == {}
    assert ec2.tagged == {}


class Unterminable(LaunchingEc2):
    """EC2 that, by the clean-up's deadline, still throttles termination (and the search)."""

    def terminate_instances(self, instance_ids: list[str]) -> None:
        self.calls.append("terminate_instances")
        raise AwsError(
            f"ec2:TerminateInstances {instance_ids[0]} failed: Throttling: Rate exceeded"
        )

    def find_instances_by_tag(self, key: str, value: str) -> list[Instance]:
        self.calls.append("find_instances_by_tag")
        raise AwsError(f"ec2:DescribeInstances tag:{key}={value} failed: Throttling: Rate exceeded")


TERMINATE_COMMAND = (
    "aws ec2 terminate-instances --instance-ids i-00000000000000000 --region us-east-1"
)


def test_an_instance_that_could_not_be_terminated_is_named_and_the_verdict_kept() -> None:
    ec2 = Unterminable(images={AMI: ebami_image()})
    verifier, out = make(ec2, RunCommandSsm())
    report = verifier.run(verifier.plan_ami(AMI, OPTIONS), OPTIONS)
    assert report.passed  # the verdict stands: the clean-up's trouble does not replace it
    (leftover,) = report.left_behind
    assert leftover.resource == "instance i-00000000000000000"
    assert leftover.reason.endswith("failed: Throttling: Rate exceeded")
    assert leftover.remove == TERMINATE_COMMAND
    assert report.to_json()["left_behind"] == [
        {"resource": leftover.resource, "reason": leftover.reason, "remove": TERMINATE_COMMAND}
    ]
    assert any(line.startswith("warning: left behind: instance i-0") for line in out.lines)


def test_ctrl_c_with_an_instance_left_says_how_to_terminate_it() -> None:
    clock = FakeClock()

    def interrupt() -> None:
        raise KeyboardInterrupt

    clock.on_sleep = interrupt
    ec2 = Unterminable(images={AMI: ebami_image()})
    verifier, _ = make(ec2, RunCommandSsm(online_after=None), clock)
    with pytest.raises(Interrupted) as exc:
        verifier.run(verifier.plan_ami(AMI, OPTIONS), OPTIONS)
    assert str(exc.value) == (
        "interrupted: verify stopped; left behind: instance i-00000000000000000 "
        "(ec2:TerminateInstances i-00000000000000000 failed: Throttling: Rate exceeded); "
        f"remove it with: {TERMINATE_COMMAND}"
    )


def test_instances_of_a_cut_short_launch_that_cannot_be_found_get_a_command_by_run_tag() -> None:
    ec2 = Unterminable(images={AMI: ebami_image()}, launch_error=KeyboardInterrupt())
    verifier, _ = make(ec2, RunCommandSsm())
    with pytest.raises(Interrupted) as exc:
        verifier.run(verifier.plan_ami(AMI, OPTIONS), OPTIONS)
    assert "left behind: any instance tagged ebami:verify-run=run-1 (" in str(exc.value)
    assert str(exc.value).endswith(
        "remove it with: aws ec2 terminate-instances --region us-east-1 --instance-ids "
        "$(aws ec2 describe-instances --filters Name=tag:ebami:verify-run,Values=run-1 "
        "Name=instance-state-name,Values=pending,running,stopping,stopped --query "
        "'Reservations[].Instances[].InstanceId' --output text --region us-east-1)"
    )


@dataclass
class CopyRegion(LaunchingEc2):
    """Another region's EC2: its AMIs found by tag; `refuse` makes every call fail."""

    refuse: bool = False

    def find_own_images_by_tag(self, key: str, value: str) -> list[Image]:
        if self.refuse:
            raise AwsError(f"ec2:DescribeImages tag:{key}={value} failed: Throttling")
        return [image for image in self.images.values() if image.tags.get(key) == value]


def copy_actions(regions: dict[str, CopyRegion], out: RecordingReporter) -> VerifyActions:
    return VerifyActions(
        ec2=LaunchingEc2(), ssm=RunCommandSsm(), reporter=out, deadline=Deadline(60.0), cli=CLI,
        region="us-east-1", copies=lambda region: regions[region],
    )  # fmt: skip


def test_the_copies_of_a_passed_ami_are_tagged_with_where_it_was_proved() -> None:
    key = {"ebami:bake-key": "k1", "ebami:managed": "true", "ebami:build-run": "run-1"}
    other = {**key, "ebami:bake-key": "k2"}
    unmanaged = {"ebami:bake-key": "k1", "ebami:build-run": "run-1"}
    rebuilt = {**key, "ebami:build-run": "run-2"}  # build --force: same key, never verified
    west = CopyRegion(
        images={
            "ami-copy": Image("ami-copy", "x", "available", "", key, ()),
            "ami-other": Image("ami-other", "x", "available", "", other, ()),
            "ami-pending": Image("ami-pending", "x", "pending", "", key, ()),
            "ami-unmanaged": Image("ami-unmanaged", "x", "available", "", unmanaged, ()),
            "ami-rebuilt": Image("ami-rebuilt", "x", "available", "", rebuilt, ()),
        }
    )
    broken = CopyRegion(refuse=True)
    out = RecordingReporter()
    actions = copy_actions({"us-west-2": west, "eu-west-1": broken}, out)
    verified = {"ebami:verified": "2026-11-22T07:00:00Z", "ebami:verified-checks": "ssm"}
    tagged = actions.tag_copies(AMI, "k1", "run-1", ("us-west-2", "eu-west-1"), verified)
    assert tagged == ["us-west-2/ami-copy"]
    assert west.tagged == {"ami-copy": {**verified, "ebami:verified-copy-of": f"us-east-1/{AMI}"}}
    assert any(line.startswith("warning: eu-west-1: the copies of") for line in out.lines)
    # An AMI that did not pass has no copy tagged.
    assert actions.tag_copies(AMI, "k1", "run-1", ("us-west-2",), {}) == []


def test_the_plan_tags_copies_only_with_copy_regions_and_a_bake_key() -> None:
    ec2 = LaunchingEc2(images={AMI: ebami_image(**{"ebami:bake-key": "k1"})})
    verifier, _ = make(ec2, RunCommandSsm())
    with_copies = replace(OPTIONS, copy_regions=("us-west-2",))
    steps = verifier.plan_ami(AMI, with_copies).steps
    assert [item.action for item in steps.instructions][-1] == "tag_copies"
    assert steps.instructions[-1].params["regions"] == ("us-west-2",)
    assert "tag_copies" not in [
        i.action for i in verifier.plan_ami(AMI, OPTIONS).steps.instructions
    ]
