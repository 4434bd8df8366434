"""The build planner, its Packer variables, its instructions and its actions, with fakes: what
the image options (copies, shares, encryption, KMS key) change, in which order the AMIs of
several regions come back, what a build that finds its AMI still applies, and what a failed
build removes (its own AMI, never another run's)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ebami.aws.ec2_values import Image, Instance, KeyPair, SecurityGroup
from ebami.build.actions import Baked, BuildActions
from ebami.build.lease import BuildInProgress, Lease
from ebami.build.options import BuildOptions
from ebami.build.planner import BuildPlan, plan_build
from ebami.build.run import run_build
from ebami.build.steps import build_steps
from ebami.core.errors import AwsError, Interrupted, NotFoundError, ToolError
from ebami.core.plan import Executor
from ebami.image.platforms import resolve_platform
from ebami.packer.machine import Artifact, UiKind
from ebami.packer.runner import PackerBuild, UiCallback
from ebami.packer.template import AWS_SOURCE, SANDBOX_SOURCE
from tests.fakes.build import BuildEc2, Cli, LeaseSsm
from tests.helpers import RecordingReporter

if TYPE_CHECKING:
    from mypy_boto3_elasticbeanstalk.type_defs import (
        PlatformDescriptionTypeDef,
        PlatformFilterTypeDef,
        PlatformSummaryTypeDef,
    )

BASE = "ami-0123456789abcdef0"
BUILT = "ami-0fedcba9876543210"
NOW = datetime(2026, 11, 21, 9, 30, tzinfo=timezone.utc)
DRIVERS = ("json-file", "fluentd", "none")
RUN = "run-1"
MINE = "ami-0a1b2c3d4e5f60718"


class NoLookup:
    """Elastic Beanstalk for a build given `--base-ami`: nothing is looked up."""

    def list_platform_versions(
        self, filters: Sequence[PlatformFilterTypeDef]
    ) -> list[PlatformSummaryTypeDef]:
        raise AssertionError("--base-ami: no lookup")

    def describe_platform_version(self, platform_arn: str) -> PlatformDescriptionTypeDef:
        raise AssertionError("--base-ami: no lookup")


@dataclass
class FakePacker:
    artifacts: tuple[Artifact, ...] = ()
    error: BaseException | None = None
    # What Packer prints before it ends (or fails).
    says: list[tuple[UiKind, str]] = field(default_factory=list)
    builds: list[dict[str, Any]] = field(default_factory=list)
    # Called as the build runs: what happens meanwhile (another run finishing, say).
    meanwhile: Any = None

    def version(self) -> tuple[int, int, int]:
        return (1, 6, 6)

    def init(self, folder: Path, on_ui: UiCallback) -> None:
        raise AssertionError("Packer 1.6 has no init")

    def build(
        self, folder: Path, *, var_file: Path, only: str, cwd: Path, on_ui: UiCallback
    ) -> PackerBuild:
        self.builds.append({"only": only, "user_data": (cwd / "user-data.yaml").read_text()})
        for kind, text in self.says:
            on_ui(kind, text)
        if self.meanwhile is not None:
            self.meanwhile()
        if self.error is not None:
            raise self.error
        return PackerBuild(self.artifacts)


def options(**changes: Any) -> BuildOptions:
    base = BuildOptions(
        platform=resolve_platform("ecs-al2"), release=None, drivers=DRIVERS, base_ami=BASE
    )
    return replace(base, **changes)


def base_ec2() -> BuildEc2:
    return BuildEc2(images={BASE: Image(BASE, "base", "available", "", {}, ())})


def plan(
    ec2: BuildEc2 | None = None, reporter: RecordingReporter | None = None, **changes: Any
) -> BuildPlan:
    return plan_build(
        options(**changes),
        eb=NoLookup(),
        ec2=ec2 or base_ec2(),
        region="us-east-1",
        environ={},
        now=NOW,
        run_id=RUN,
        cli=Cli(),
        reporter=reporter or RecordingReporter(),
    )


def actions(
    ec2: BuildEc2,
    packer: FakePacker,
    ssm: LeaseSsm | None = None,
    reporter: RecordingReporter | None = None,
) -> BuildActions:
    ssm = ssm or LeaseSsm()
    return BuildActions(
        ec2=ec2,
        ssm=lambda: ssm,
        packer=lambda: packer,
        region="us-east-1",
        cli=Cli(),
        reporter=reporter or RecordingReporter(),
        now=lambda: NOW,
        host="ci-1",
    )


def variables(build_plan: BuildPlan, build_options: BuildOptions) -> Mapping[str, Any]:
    steps = build_steps(build_plan, build_options, endpoint=None, sandbox=False)
    (bake,) = [i for i in steps.instructions if i.action == "bake"]
    variables: Mapping[str, Any] = bake.params["variables"]
    return variables


def test_copies_and_encryption_change_the_bake_key_and_reach_packer() -> None:
    plain = plan()
    copied = options(copy_to=("eu-west-1", "ap-south-1"), kms_key_id="alias/ami")
    planned = plan(copy_to=copied.copy_to, kms_key_id="alias/ami")
    assert planned.bake_key.value != plain.bake_key.value
    assert planned.bake_key.inputs["image_options"] == {
        "copy_to": ["ap-south-1", "eu-west-1"],
        "encrypt": True,  # a KMS key implies encryption
        "kms_key_id": "alias/ami",
    }
    packer = variables(planned, copied)
    assert packer["ami_regions"] == ["eu-west-1", "ap-south-1"]
    assert (packer["encrypt_boot"], packer["kms_key_id"]) == (True, "alias/ami")


def test_the_order_of_copies_does_not_change_the_bake_key() -> None:
    one = plan(copy_to=("eu-west-1", "ap-south-1"))
    other = plan(copy_to=("ap-south-1", "eu-west-1"))
    assert one.bake_key.value == other.bake_key.value


def test_encrypting_with_the_default_key_is_its_own_bake_key() -> None:
    encrypted = plan(encrypt=True)
    assert encrypted.bake_key.value != plan().bake_key.value
    assert encrypted.bake_key.inputs["image_options"]["kms_key_id"] == ""
    assert variables(encrypted, options(encrypt=True))["encrypt_boot"] is True


def test_sharing_reaches_packer_but_not_the_bake_key() -> None:
    # Sharing does not change the image: a shared and an unshared build are the same AMI.
    shared = plan(share_with=("123456789012",))
    assert shared.bake_key.value == plan().bake_key.value
    assert variables(shared, options(share_with=("123456789012",)))["ami_users"] == ["123456789012"]


def actions_of(steps: Any) -> list[str]:
    return [i.action for i in steps]


def test_a_bake_holds_the_lease_and_looks_again_before_it_bakes() -> None:
    steps = build_steps(plan(), options(), endpoint=None, sandbox=False)
    assert actions_of(steps.instructions) == [
        "acquire_lease", "recheck_bake_key", "bake", "tag_image",
    ]  # fmt: skip
    assert actions_of(steps.cleanup) == ["discard_unfinished", "release_lease"]
    lease = steps.instructions[0].params
    assert lease["name"] == f"/ebami/leases/{plan().bake_key.value}"
    assert (lease["run_id"], lease["wait"]) == (RUN, True)
    assert steps.facts["Lease"] == lease["name"]
    no_wait = build_steps(plan(), options(wait=False), endpoint=None, sandbox=False)
    assert no_wait.instructions[0].params["wait"] is False


def test_the_run_id_is_on_the_ami_its_snapshots_and_the_builder() -> None:
    build_plan = plan()
    packer = variables(build_plan, options())
    assert packer["tags"]["ebami:build-run"] == RUN  # the template's snapshot_tags too
    assert packer["run_tags"]["ebami:build-run"] == RUN
    assert build_plan.tags["ebami:build-run"] == RUN


def test_an_existing_ami_is_reused_unless_forced() -> None:
    first = plan()
    done = Image(BUILT, "ebami-x", "available", "", {"ebami:bake-key": first.bake_key.value}, ())
    ec2 = base_ec2()
    ec2.images[BUILT] = done
    again = plan(ec2)
    assert again.skips
    steps = build_steps(again, options(), endpoint=None, sandbox=False)
    assert actions_of(steps.instructions) == ["reuse_image"]
    assert steps.cleanup == ()  # no lease: nothing is baked
    forced = plan(ec2, force=True)
    steps = build_steps(forced, options(force=True), endpoint=None, sandbox=False)
    # Forced: no second look for the AMI, it is built anyway.
    assert actions_of(steps.instructions) == ["acquire_lease", "bake", "tag_image"]


def test_the_sandbox_source_needs_the_sandbox_not_just_an_endpoint() -> None:
    build_plan = plan()
    fips = build_steps(
        build_plan, options(), endpoint="https://ec2-fips.us-east-1.amazonaws.com", sandbox=False
    )
    assert fips.facts["Packer source"] == AWS_SOURCE
    assert variables(build_plan, options())["ec2_endpoint"] == ""
    (bake,) = [i for i in fips.instructions if i.action == "bake"]
    assert bake.params["variables"]["ec2_endpoint"] == "https://ec2-fips.us-east-1.amazonaws.com"
    sandboxed = build_steps(build_plan, options(), endpoint="http://127.0.0.1:1", sandbox=True)
    assert sandboxed.facts["Packer source"] == SANDBOX_SOURCE


def test_publishing_adds_an_instruction_that_uses_the_built_ami() -> None:
    steps = build_steps(
        plan(), options(ssm_parameter="/ebami/latest"), endpoint=None, sandbox=False
    )
    assert actions_of(steps.instructions)[-3:] == ["bake", "tag_image", "publish_parameter"]


def bake_with(packer: FakePacker, ec2: BuildEc2) -> Baked:
    steps = build_steps(plan(ec2), options(), endpoint=None, sandbox=False)
    (bake,) = [i for i in steps.instructions if i.action == "bake"]
    baked: Baked = actions(ec2, packer).bake(**bake.params)
    return baked


def test_the_home_region_comes_first_whatever_order_packer_reports() -> None:
    packer = FakePacker(artifacts=(Artifact("eu-west-1", "ami-eu"), Artifact("us-east-1", BUILT)))
    baked = bake_with(packer, base_ec2())
    assert [a.region for a in baked.artifacts] == ["us-east-1", "eu-west-1"]
    assert packer.builds[0]["only"] == AWS_SOURCE
    assert "fluentd" in packer.builds[0]["user_data"]


def test_a_build_without_an_ami_in_the_home_region_fails() -> None:
    with pytest.raises(ToolError, match="reported no AMI in us-east-1"):
        bake_with(FakePacker(artifacts=(Artifact("eu-west-1", "ami-eu"),)), base_ec2())


def run(
    ec2: BuildEc2,
    packer: FakePacker,
    *,
    ssm: LeaseSsm | None = None,
    reporter: RecordingReporter | None = None,
    **changes: Any,
) -> tuple[Any, Executor]:
    """Plan and execute a build with the fakes; the record and the executor."""
    build_plan = plan(ec2, **changes)
    steps = build_steps(build_plan, options(**changes), endpoint=None, sandbox=False)
    executor = Executor(actions(ec2, packer, ssm, reporter), RecordingReporter())
    return run_build(build_plan, options(**changes), steps, executor, now=lambda: NOW), executor


def test_a_failed_build_removes_its_own_pending_ami_never_another_runs_of_its_name() -> None:
    ec2 = base_ec2()
    name = plan(ec2).ami_name
    # Another run started in the same second: same name, finished and reported.
    theirs = Image("ami-theirs", name, "available", "", {"ebami:build-run": "run-2"}, ("snap-2",))
    ec2.images["ami-theirs"] = theirs

    def registered() -> None:
        # Packer registered this run's AMI, which stays pending and carries no tags yet.
        ec2.images[MINE] = Image(MINE, name, "pending", "", {}, ())

    packer = FakePacker(
        says=[(UiKind.MESSAGE, f"    amazon-ebs.aws: AMI: {MINE}")],
        meanwhile=registered,
        error=ToolError("packer build failed (exit 1): Error waiting for AMI"),
    )
    ssm = LeaseSsm()
    with pytest.raises(ToolError):
        run(ec2, packer, ssm=ssm)
    assert ec2.deleted == [MINE]
    assert "ami-theirs" in ec2.images
    assert ssm.parameters == {}  # the lease was released


class LateEc2(BuildEc2):
    """EC2 that answers NotFound for `hidden` after it was made, `late` times (eventual
    consistency), then shows it."""

    def __init__(self, hidden: str, late: int) -> None:
        super().__init__(images=base_ec2().images)
        self.hidden, self.late, self.looks = hidden, late, 0

    def get_image(self, image_id: str) -> Image:
        if image_id == self.hidden:
            self.looks += 1
            if self.looks <= self.late:
                raise NotFoundError(f"AMI {image_id} does not exist")
        return super().get_image(image_id)


class Ticks:
    """A clock that moves only when slept on."""

    def __init__(self) -> None:
        self.now = 0.0

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def interrupted_bake(ec2: BuildEc2, says: list[tuple[UiKind, str]], ticks: Ticks) -> None:
    def registered() -> None:
        ec2.images[MINE] = Image(MINE, "x", "pending", "", {}, ())

    packer = FakePacker(says=says, meanwhile=registered, error=Interrupted("interrupted (SIGINT)"))
    build_plan, ssm = plan(ec2), LeaseSsm()
    steps = build_steps(build_plan, options(), endpoint=None, sandbox=False)
    build_actions = BuildActions(
        ec2=ec2, ssm=lambda: ssm, packer=lambda: packer, region="us-east-1", cli=Cli(),
        reporter=RecordingReporter(), now=lambda: NOW, clock=ticks.clock, sleep=ticks.sleep,
        host="ci-1",
    )  # fmt: skip
    with pytest.raises(Interrupted):
        run_build(build_plan, options(), steps, Executor(build_actions, RecordingReporter()),
                  now=lambda: NOW)  # fmt: skip


def test_an_ami_ec2_does_not_show_yet_is_still_removed_after_a_cancel() -> None:
    # Interrupted right after CreateImage: EC2 answers NotFound for the new AMI for a while,
    # which does not mean it is gone.
    ec2, ticks = LateEc2(MINE, late=3), Ticks()
    interrupted_bake(ec2, [(UiKind.MESSAGE, f"    amazon-ebs.aws: AMI: {MINE}")], ticks)
    assert ec2.looks == 4
    assert ec2.deleted == [MINE]


def test_an_ami_packer_deregistered_itself_is_not_waited_for() -> None:
    ec2, ticks = LateEc2(MINE, late=10**6), Ticks()
    says = [
        (UiKind.MESSAGE, f"    amazon-ebs.aws: AMI: {MINE}"),
        (UiKind.SAY, "==> amazon-ebs.aws: Deregistering the AMI because cancellation or error..."),
    ]
    interrupted_bake(ec2, says, ticks)
    assert (ec2.looks, ec2.deleted, ticks.now) == (0, [], 0.0)


def test_an_ami_packer_failed_to_deregister_is_removed_by_ebami() -> None:
    ec2, ticks = LateEc2(MINE, late=3), Ticks()
    says = [
        (UiKind.MESSAGE, f"    amazon-ebs.aws: AMI: {MINE}"),
        (UiKind.SAY, "==> amazon-ebs.aws: Deregistering the AMI because cancelation or error..."),
        (UiKind.ERROR, "Error deregistering AMI, may still be around: RequestLimitExceeded"),
    ]
    interrupted_bake(ec2, says, ticks)
    assert ec2.deleted == [MINE]


def test_what_the_clean_up_cannot_remove_is_named_and_the_failure_stands() -> None:
    ec2 = base_ec2()

    def registered() -> None:
        ec2.images[MINE] = Image(MINE, "x", "pending", "", {}, ())

    def throttled(image: Image) -> None:
        raise AwsError("ec2:DeregisterImage failed: Throttling: Rate exceeded")

    ec2.delete_image = throttled  # type: ignore[method-assign]
    packer = FakePacker(
        says=[(UiKind.MESSAGE, f"    amazon-ebs.aws: AMI: {MINE}")],
        meanwhile=registered,
        error=ToolError("packer build failed (exit 1): boom"),
    )
    build_plan = plan(ec2)
    steps = build_steps(build_plan, options(), endpoint=None, sandbox=False)
    executor = Executor(actions(ec2, packer), RecordingReporter())
    with pytest.raises(ToolError, match="boom"):
        run_build(build_plan, options(), steps, executor, now=lambda: NOW)
    assert [str(item) for item in executor.left_behind] == [
        f"AMI {MINE} (registered by this run and left unfinished; ec2:DeregisterImage failed: "
        f"Throttling: Rate exceeded); remove it with: aws ec2 deregister-image --image-id {MINE} "
        "--region us-east-1"
    ]


def test_a_lease_that_cannot_be_released_is_in_the_record_of_the_built_ami() -> None:
    ec2 = base_ec2()
    build_plan = plan(ec2)
    ec2.images[BUILT] = Image(BUILT, build_plan.ami_name, "available", "", {}, ())
    ssm = LeaseSsm()
    packer = FakePacker(artifacts=(Artifact("us-east-1", BUILT),))

    def denied() -> None:
        ssm.denied = True  # the role lost ssm:DeleteParameter while Packer ran

    packer.meanwhile = denied
    record, _ = run(ec2, packer, ssm=ssm)
    assert record.image_id == BUILT
    (left,) = record.left_behind
    assert left.resource == f"build lease /ebami/leases/{build_plan.bake_key.value}"
    assert left.remove == (
        f"aws ssm delete-parameter --name /ebami/leases/{build_plan.bake_key.value} "
        "--region us-east-1"
    )


def test_an_interrupted_build_removes_what_carries_its_run_id() -> None:
    ec2 = base_ec2()

    def registered() -> None:
        # Newer Packers may tag at registration: the run id is enough without the message.
        ec2.images[MINE] = Image(MINE, "x", "pending", "", {"ebami:build-run": RUN}, ())

    packer = FakePacker(meanwhile=registered, error=Interrupted("interrupted (SIGINT)"))
    with pytest.raises(Interrupted):
        run(ec2, packer)
    assert ec2.deleted == [MINE]


def test_a_failure_before_packer_ran_removes_nothing() -> None:
    ec2 = base_ec2()
    ec2.images["ami-old"] = Image("ami-old", "ebami-x", "pending", "", {}, ())
    packer = FakePacker(error=ToolError("never reached"))
    ssm = LeaseSsm()
    name = f"/ebami/leases/{plan().bake_key.value}"
    other = Lease(name, "run-2", "ci-2", NOW, NOW + timedelta(hours=2)).value()
    ssm.parameters[name] = other
    with pytest.raises(BuildInProgress):
        run(ec2, packer, ssm=ssm, wait=False)
    assert ec2.deleted == []
    assert packer.builds == []
    assert ssm.parameters == {name: other}  # the other run's lease stays


def test_the_executed_instructions_are_the_planned_ones() -> None:
    ec2 = base_ec2()
    build_plan = plan(ec2)
    ec2.images[BUILT] = Image(BUILT, build_plan.ami_name, "available", "", {}, ("snap-1",))
    steps = build_steps(build_plan, options(), endpoint=None, sandbox=False)
    ssm = LeaseSsm()
    packer = FakePacker(artifacts=(Artifact("us-east-1", BUILT),))
    executor = Executor(actions(ec2, packer, ssm), RecordingReporter())
    record = run_build(build_plan, options(), steps, executor, now=lambda: NOW)
    assert executor.executed == [*steps.instructions, *steps.cleanup]
    assert (record.image_id, record.skipped, record.build_run) == (BUILT, False, RUN)
    assert record.images == [{"region": "us-east-1", "image_id": BUILT}]
    assert record.packer_version == "1.6.6"
    # Packer's tags were missing: the AMI and its snapshot were tagged with the provenance.
    assert ec2.tagged == [([BUILT, "snap-1"], dict(build_plan.tags))]
    assert ec2.deleted == []
    assert ssm.parameters == {}


def test_an_ami_baked_meanwhile_by_another_run_is_reused_with_the_options() -> None:
    # The other run released the lease just before this one took it: the second look finds
    # its AMI, and this run reuses it, shared and tagged as asked, and publishes it.
    ec2 = base_ec2()
    build_plan = plan(ec2)
    ec2.images[BUILT] = Image(
        BUILT, "ebami-theirs", "available", "",
        {"ebami:bake-key": build_plan.bake_key.value, "ebami:build-run": "run-2"}, ("snap-9",),
    )  # fmt: skip
    changes: dict[str, Any] = {
        "share_with": ("123456789012",),
        "tags": {"team": "platform"},
        "ssm_parameter": "/ebami/latest",
    }
    steps = build_steps(build_plan, options(**changes), endpoint=None, sandbox=False)
    ssm, packer, reporter = LeaseSsm(), FakePacker(), RecordingReporter()
    executor = Executor(actions(ec2, packer, ssm, reporter), RecordingReporter())
    record = run_build(build_plan, options(**changes), steps, executor, now=lambda: NOW)
    assert packer.builds == []
    assert (record.image_id, record.skipped) == (BUILT, True)
    assert f"{BUILT} was baked meanwhile by build run run-2: reusing it" in reporter.lines
    assert actions_of(executor.executed) == [
        "acquire_lease", "recheck_bake_key", "discard_unfinished", "release_lease",
        "reuse_image", "share_image", "tag_existing", "publish_parameter",
    ]  # fmt: skip
    assert ec2.shared == [(BUILT, ["123456789012"])]
    assert ec2.tagged == [([BUILT, "snap-9"], {"team": "platform"})]
    assert record.tags["team"] == "platform"
    assert ssm.parameters == {"/ebami/latest": BUILT}  # published; the lease released


def test_a_found_ami_gets_the_shares_and_tags_asked_for_and_says_what_it_cannot() -> None:
    ec2 = base_ec2()
    first = plan(ec2, copy_to=("eu-west-1",))
    ec2.images[BUILT] = Image(
        BUILT, "ebami-x", "available", "",
        {"ebami:bake-key": first.bake_key.value, "team": "platform"}, ("snap-1",),
    )  # fmt: skip
    changes: dict[str, Any] = {
        "copy_to": ("eu-west-1",),
        "share_with": ("123456789012",),
        "tags": {"team": "platform"},
    }
    again = plan(ec2, **changes)
    steps = build_steps(again, options(**changes), endpoint=None, sandbox=False)
    assert actions_of(steps.instructions) == ["reuse_image", "share_image", "tag_existing"]
    assert any("copies in eu-west-1 keep their launch permissions" in n for n in steps.notes)
    reporter = RecordingReporter()
    record, _ = run(ec2, FakePacker(), reporter=reporter, **changes)
    assert record.skipped
    assert ec2.shared == [(BUILT, ["123456789012"])]
    assert ec2.tagged == [(["snap-1"], {"team": "platform"})]  # the AMI had it already
    assert (
        "warning: --share-with was applied to the AMI of the build region only: its copies in "
        "eu-west-1 are unchanged (apply it there with the AWS CLI)"
    ) in reporter.lines


def test_what_earlier_runs_left_is_reported_with_its_removal_not_removed() -> None:
    ec2 = base_ec2()
    ec2.images["ami-left"] = Image("ami-left", "ebami-x-1", "pending", "", {}, ("snap-l",))
    ec2.images["ami-other"] = Image("ami-other", "team-image", "pending", "", {}, ())
    ec2.instances.append(
        Instance(
            "i-left", BASE, "running", "", "", "", "", "",
            {"ebami:managed": "true", "Name": "ebami builder for ebami-x-1"},
        )
    )  # fmt: skip
    ec2.groups.append(SecurityGroup("sg-left", "packer_6540", "Temporary group for Packer"))
    ec2.keys.append(KeyPair("packer_6540", "2026-11-21"))
    reporter = RecordingReporter()
    build_plan = plan(ec2, reporter)
    assert [item.remove for item in build_plan.leftovers] == [
        "aws ec2 terminate-instances --instance-ids i-left --region us-east-1",
        "aws ec2 deregister-image --image-id ami-left --region us-east-1 && "
        "aws ec2 delete-snapshot --snapshot-id snap-l --region us-east-1",
        "aws ec2 delete-security-group --group-id sg-left --region us-east-1",
        "aws ec2 delete-key-pair --key-name packer_6540 --region us-east-1",
    ]
    warnings = [line for line in reporter.lines if line.startswith("warning: ")]
    assert "may also belong to a run still going" in warnings[0]
    assert warnings[1] == (
        "warning: instance i-left (ebami builder for ebami-x-1) (running); remove it with: "
        "aws ec2 terminate-instances --instance-ids i-left --region us-east-1"
    )
    steps = build_steps(build_plan, options(), endpoint=None, sandbox=False)
    assert len(steps.notes) == 4
    assert ec2.deleted == []


def test_a_copy_to_the_build_region_is_no_copy_wherever_the_region_came_from() -> None:
    # The region here is the session's (say AWS_DEFAULT_REGION), not an ebami setting.
    with_home = plan(copy_to=("us-east-1", "eu-west-1", "eu-west-1"))
    assert with_home.bake_key.value == plan(copy_to=("eu-west-1",)).bake_key.value
    packer = variables(with_home, options(copy_to=("us-east-1", "eu-west-1", "eu-west-1")))
    assert packer["ami_regions"] == ["eu-west-1"]


def test_two_bakes_started_in_the_same_second_get_different_ami_names() -> None:
    first = plan()
    other = plan(drivers=("json-file", "fluentd"))
    assert first.bake_key != other.bake_key
    assert first.ami_name != other.ami_name
    assert first.ami_name.endswith("-" + first.bake_key.value[:8])
    assert plan().ami_name == first.ami_name  # the same bake at the same time: the same name
