"""The build planner, its Packer variables, its instructions and its actions, with fakes: what
the image options (copies, shares, encryption, KMS key) change, and in which order the AMIs of
several regions come back."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from ebami.aws.ec2 import Image
from ebami.build.bake import Baked, BuildActions
from ebami.build.options import BuildOptions
from ebami.build.planner import BuildPlan, plan_build
from ebami.build.record import run_build
from ebami.build.steps import build_steps
from ebami.errors import ToolError
from ebami.packer.machine import Artifact
from ebami.packer.runner import PackerBuild, UiCallback
from ebami.packer.template import AWS_SOURCE, SANDBOX_SOURCE
from ebami.plan import Executor
from ebami.platforms import resolve_platform

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


@dataclass
class FakeEc2:
    images: dict[str, Image] = field(default_factory=dict)
    tagged: list[tuple[list[str], dict[str, str]]] = field(default_factory=list)
    deleted: list[str] = field(default_factory=list)

    def get_image(self, image_id: str) -> Image:
        return self.images[image_id]

    def find_images_by_tag(self, key: str, value: str) -> list[Image]:
        return [i for i in self.images.values() if i.tags.get(key) == value]

    def find_images_by_name(self, name: str) -> list[Image]:
        return [i for i in self.images.values() if i.name == name]

    def delete_image(self, image: Image) -> None:
        self.deleted.append(image.image_id)

    def snapshot_tags(self, snapshot_ids: tuple[str, ...]) -> dict[str, dict[str, str]]:
        return {sid: {} for sid in snapshot_ids}

    def tag_resources(self, ids: list[str], tags: dict[str, str]) -> None:
        self.tagged.append((ids, tags))


class NoLookup:
    """Elastic Beanstalk for a build given `--base-ami`: nothing is looked up."""

    def list_platform_versions(
        self, filters: Sequence[PlatformFilterTypeDef]
    ) -> list[PlatformSummaryTypeDef]:
        raise AssertionError("--base-ami: no lookup")

    def describe_platform_version(self, platform_arn: str) -> PlatformDescriptionTypeDef:
        raise AssertionError("--base-ami: no lookup")


class NoSsm:
    """SSM for a build that publishes no parameter."""

    def publish_image_id(self, name: str, image_id: str) -> int:
        raise AssertionError("no --ssm-parameter: nothing is published")


@dataclass
class FakePacker:
    artifacts: tuple[Artifact, ...] = ()
    error: BaseException | None = None
    builds: list[dict[str, Any]] = field(default_factory=list)

    def version(self) -> tuple[int, int, int]:
        return (1, 6, 6)

    def init(self, folder: Path, on_ui: UiCallback) -> None:
        raise AssertionError("Packer 1.6 has no init")

    def build(
        self, folder: Path, *, var_file: Path, only: str, cwd: Path, on_ui: UiCallback
    ) -> PackerBuild:
        self.builds.append({"only": only, "user_data": (cwd / "user-data.yaml").read_text()})
        if self.error is not None:
            raise self.error
        return PackerBuild(self.artifacts)


class Quiet:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def progress(self, message: str) -> None:
        self.lines.append(message)

    def detail(self, message: str) -> None:
        self.lines.append(message)

    def warn(self, message: str) -> None:
        self.lines.append("warning: " + message)


def options(**changes: Any) -> BuildOptions:
    base = BuildOptions(
        platform=resolve_platform("ecs-al2"), release=None, drivers=DRIVERS, base_ami=BASE
    )
    return replace(base, **changes)


def plan(ec2: FakeEc2 | None = None, **changes: Any) -> BuildPlan:
    ec2 = ec2 or FakeEc2(images={BASE: Image(BASE, "base", "available", "", {}, ())})
    return plan_build(
        options(**changes),
        eb=NoLookup(),
        ec2=ec2,
        region="us-east-1",
        environ={},
        now=NOW,
        reporter=Quiet(),
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


def test_an_existing_ami_is_reused_unless_forced() -> None:
    first = plan()
    done = Image(BUILT, "ebami-x", "available", "", {"ebami:bake-key": first.bake_key.value}, ())
    ec2 = FakeEc2(images={BASE: Image(BASE, "b", "available", "", {}, ()), BUILT: done})
    again = plan(ec2)
    assert again.skips
    steps = build_steps(again, options(), endpoint=None, sandbox=False)
    assert [i.action for i in steps.instructions] == ["reuse_image"]
    forced = plan(ec2, force=True)
    steps = build_steps(forced, options(force=True), endpoint=None, sandbox=False)
    assert [i.action for i in steps.instructions] == ["bake", "tag_image"]


def test_the_sandbox_source_needs_the_sandbox_not_just_an_endpoint() -> None:
    build_plan = plan()
    fips = build_steps(
        build_plan, options(), endpoint="https://ec2-fips.us-east-1.amazonaws.com", sandbox=False
    )
    assert fips.facts["Packer source"] == AWS_SOURCE
    assert variables(build_plan, options())["ec2_endpoint"] == ""
    (bake,) = fips.instructions[:1]
    assert bake.params["variables"]["ec2_endpoint"] == "https://ec2-fips.us-east-1.amazonaws.com"
    sandboxed = build_steps(build_plan, options(), endpoint="http://127.0.0.1:1", sandbox=True)
    assert sandboxed.facts["Packer source"] == SANDBOX_SOURCE


def test_publishing_adds_an_instruction_that_uses_the_built_ami() -> None:
    steps = build_steps(
        plan(), options(ssm_parameter="/ebami/latest"), endpoint=None, sandbox=False
    )
    assert [i.action for i in steps.instructions] == ["bake", "tag_image", "publish_parameter"]


def bake_with(packer: FakePacker, ec2: FakeEc2) -> Baked:
    build_plan = plan(ec2)
    actions = BuildActions(
        ec2=ec2,
        ssm=NoSsm,
        packer=lambda: packer,
        region="us-east-1",
        reporter=Quiet(),
    )
    steps = build_steps(build_plan, options(), endpoint=None, sandbox=False)
    return actions.bake(**steps.instructions[0].params)


def test_the_home_region_comes_first_whatever_order_packer_reports() -> None:
    ec2 = FakeEc2(images={BASE: Image(BASE, "b", "available", "", {}, ())})
    packer = FakePacker(artifacts=(Artifact("eu-west-1", "ami-eu"), Artifact("us-east-1", BUILT)))
    baked = bake_with(packer, ec2)
    assert [a.region for a in baked.artifacts] == ["us-east-1", "eu-west-1"]
    assert packer.builds[0]["only"] == AWS_SOURCE
    assert "fluentd" in packer.builds[0]["user_data"]


def test_a_build_without_an_ami_in_the_home_region_fails() -> None:
    ec2 = FakeEc2(images={BASE: Image(BASE, "b", "available", "", {}, ())})
    with pytest.raises(ToolError, match="reported no AMI in us-east-1"):
        bake_with(FakePacker(artifacts=(Artifact("eu-west-1", "ami-eu"),)), ec2)


def test_a_failed_bake_removes_the_unfinished_ami_of_its_name() -> None:
    ec2 = FakeEc2(images={BASE: Image(BASE, "b", "available", "", {}, ())})
    name = plan(ec2).ami_name
    ec2.images["ami-pending"] = Image("ami-pending", name, "pending", "", {}, ())
    with pytest.raises(ToolError):
        bake_with(FakePacker(error=ToolError("packer build failed")), ec2)
    assert ec2.deleted == ["ami-pending"]


def test_the_executed_instructions_are_the_planned_ones() -> None:
    ec2 = FakeEc2(images={BASE: Image(BASE, "b", "available", "", {}, ())})
    build_plan = plan(ec2)
    ec2.images[BUILT] = Image(BUILT, build_plan.ami_name, "available", "", {}, ("snap-1",))
    steps = build_steps(build_plan, options(), endpoint=None, sandbox=False)
    actions = BuildActions(
        ec2=ec2,
        ssm=NoSsm,
        packer=lambda: FakePacker(artifacts=(Artifact("us-east-1", BUILT),)),
        region="us-east-1",
        reporter=Quiet(),
    )
    executor = Executor(actions, Quiet())
    record = run_build(build_plan, options(), steps, executor, now=lambda: NOW)
    assert executor.executed == list(steps.instructions)
    assert record.image_id == BUILT
    assert record.images == [{"region": "us-east-1", "image_id": BUILT}]
    assert record.packer_version == "1.6.6"
    # Packer's tags were missing: the AMI and its snapshot were tagged with the provenance.
    assert ec2.tagged == [([BUILT, "snap-1"], dict(build_plan.tags))]


def test_a_copy_to_the_build_region_is_no_copy_wherever_the_region_came_from() -> None:
    # The region here is the session's (say AWS_DEFAULT_REGION), not an ebami setting.
    with_home = plan(copy_to=("us-east-1", "eu-west-1", "eu-west-1"))
    assert with_home.bake_key.value == plan(copy_to=("eu-west-1",)).bake_key.value
    packer = variables(with_home, options(copy_to=("us-east-1", "eu-west-1", "eu-west-1")))
    assert packer["ami_regions"] == ["eu-west-1"]
