"""What ebami does while AWS shows its own writes late: SSM validating an `aws:ec2:image` value
after PutParameter answered, EC2 answering NotFound right after a create. Fakes of the AWS
wrappers and a fake clock: every wait is measured in polls and on that clock, never in time."""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import dataclass, field

import pytest

from ebami.aws.ec2_values import Image
from ebami.aws.ssm import ParameterVersion
from ebami.aws.ssm_versions import VALIDATION_SECONDS, ValueNotTaken
from ebami.aws.visibility import VISIBLE_SECONDS
from ebami.build.actions import Baked, BuildActions
from ebami.core.errors import ExitCode, NeedsAttention, NotFoundError, one_line
from ebami.core.plan import Executor
from ebami.core.waiting import Deadline
from ebami.image import tags
from ebami.image.channels import Channels
from ebami.lifecycle.channel_actions import ChannelActions
from ebami.lifecycle.promote import PromotePlanner, run_promote
from ebami.packer.machine import Artifact
from ebami.verify.planner import Target
from ebami.verify.ssm_online import SsmReach
from tests.fakes.build import BuildEc2, Cli, LeaseSsm
from tests.fakes.channels import DEFAULT, STABLE, ChannelSsm, ImagesEc2, ami, channel, images
from tests.fakes.clock import FakeClock
from tests.fakes.verify import RUNNING, expected
from tests.helpers import RecordingReporter


@dataclass
class ValidatingSsm(ChannelSsm):
    """SSM that shows a published version only after `reads` more history reads (never when
    None: its validation dropped the value); the version number is answered at once."""

    reads: int | None = 2
    waiting: list[tuple[str, int, str]] = field(default_factory=list)
    issued: dict[str, int] = field(default_factory=dict)

    def publish_image_id(self, name: str, image_id: str) -> int:
        self.calls.append(("PutParameter", (name, image_id)))
        version = max(self.issued.get(name, 0), len(self.parameters.get(name, []))) + 1
        self.issued[name] = version
        self.waiting.append((name, version, image_id))
        return version

    def history(self, name: str) -> list[ParameterVersion]:
        shown = super().history(name)
        if self.reads is not None:
            self.reads -= 1
            if self.reads < 0:
                for waiting_name, _version, value in self.waiting:
                    self.parameters.setdefault(waiting_name, []).append((value, "aws:ec2:image"))
                self.waiting.clear()
        return shown


def channel_actions(
    ec2: ImagesEc2, ssm: ChannelSsm, clock: FakeClock, lines: list[str]
) -> ChannelActions:
    return ChannelActions(ec2, ssm, clock=clock, sleep=clock.sleep, report=lines.append)


def test_a_promote_waits_until_ssm_shows_its_version_then_reads_it_back() -> None:
    ec2 = ImagesEc2(images(ami("ami-a"), ami("ami-b")))
    ssm, clock = ValidatingSsm({STABLE: channel("ami-a")}, reads=3), FakeClock()
    lines: list[str] = []
    planner = PromotePlanner(ec2=ec2, channels=Channels(ssm, DEFAULT), region="us-east-1")
    plan = planner.plan("ami-b", "stable")
    warned: list[str] = []
    promoted = run_promote(
        plan,
        planner,
        Executor(channel_actions(ec2, ssm, clock, lines), RecordingReporter()),
        bounded=lambda seconds: nullcontext(),
        warn=warned.append,
    )
    assert promoted.version == 2
    assert ssm.parameters[STABLE][-1] == ("ami-b", "aws:ec2:image")
    # The plan's read and three while waiting showed version 1 only, the next one ours: three
    # pauses on the clock.
    assert [name for name, _ in ssm.calls].count("GetParameterHistory") == 5
    assert len(clock.sleeps) == 3
    assert lines[0] == (
        f"SSM answered version 2 of {STABLE}; waiting until it has validated ami-b "
        "(aws:ec2:image values are checked after PutParameter answers)"
    )
    assert warned == []  # the old value seen while waiting is no other writer


def test_a_value_ssm_drops_fails_in_one_line_naming_the_parameter_and_the_value() -> None:
    ec2 = ImagesEc2(images(ami("ami-a"), ami("ami-b")))
    ssm, clock = ValidatingSsm({STABLE: channel("ami-a")}, reads=None), FakeClock()
    lines: list[str] = []
    actions = channel_actions(ec2, ssm, clock, lines)
    with pytest.raises(ValueNotTaken) as exc:
        actions.publish(STABLE, "ami-b")
    message = str(exc.value)
    assert message == one_line(message)
    assert message.startswith(
        f"SSM did not take ami-b for {STABLE}: version 2, which PutParameter answered, never "
        f"showed (not within {VALIDATION_SECONDS:.0f} s)"
    )
    assert message.endswith(f"{STABLE} keeps version 1 names ami-a")
    assert exc.value.exit_code == ExitCode.AWS
    assert clock.now == pytest.approx(VALIDATION_SECONDS)
    assert STABLE not in actions.published  # nothing reported as written
    # Progress while waiting: the first line, then one every 15 s on the clock.
    assert any(line.startswith(f"still waiting for version 2 of {STABLE}") for line in lines)


def test_a_dropped_value_is_not_taken_for_done_when_another_writer_came_after_it() -> None:
    ec2 = ImagesEc2(images(ami("ami-a"), ami("ami-b"), ami("ami-c")))
    ssm, clock = ValidatingSsm({STABLE: channel("ami-a")}, reads=None), FakeClock()
    actions = channel_actions(ec2, ssm, clock, [])

    # Ours is dropped; another writer's ami-c shows in the versions after it.
    def other_writer() -> None:
        if len(ssm.parameters[STABLE]) == 1:
            ssm.parameters[STABLE] += [("ami-c", "aws:ec2:image")] * 2

    clock.on_sleep = other_writer
    with pytest.raises(ValueNotTaken) as exc:
        actions.publish(STABLE, "ami-b")
    assert "version 2, which PutParameter answered, never showed" in str(exc.value)
    assert str(exc.value).endswith(f"{STABLE} keeps version 3 names ami-c")
    assert STABLE not in actions.published


def test_a_value_whose_ami_went_away_meanwhile_fails_without_waiting_to_the_deadline() -> None:
    ec2 = ImagesEc2(images(ami("ami-a"), ami("ami-b")))
    ssm, clock = ValidatingSsm({STABLE: channel("ami-a")}, reads=None), FakeClock()
    actions = channel_actions(ec2, ssm, clock, [])
    del ec2.images["ami-b"]  # deregistered between the plan and SSM's validation
    with pytest.raises(ValueNotTaken, match=r"never showed \(ami-b does not exist any more"):
        actions.publish(STABLE, "ami-b")
    assert clock.now == 0.0


def test_a_newer_version_of_another_value_is_still_a_concurrent_writer() -> None:
    ec2 = ImagesEc2(images(ami("ami-a"), ami("ami-b"), ami("ami-c")))
    ssm = ValidatingSsm({STABLE: channel("ami-a")}, reads=None)
    planner = PromotePlanner(ec2=ec2, channels=Channels(ssm, DEFAULT), region="us-east-1")
    plan = planner.plan("ami-b", "stable")
    clock = FakeClock()
    # While SSM validates ours (version 2), another promote's ami-c shows as version 3.
    clock.on_sleep = lambda: ssm.parameters[STABLE].extend(
        [("ami-b", "aws:ec2:image"), ("ami-c", "aws:ec2:image")]
    )
    warned: list[str] = []
    run_promote(
        plan,
        planner,
        Executor(channel_actions(ec2, ssm, clock, []), RecordingReporter()),
        bounded=lambda seconds: nullcontext(),
        warn=warned.append,
    )
    assert warned == [
        "channel stable (multicontainer-docker 2017.09) names ami-c now, not ami-b: another "
        "promote or revoke wrote it since this one"
    ]
    # And when that other value is a revoked AMI, the run needs a person (exit code 9).
    ec2.images["ami-c"] = ami("ami-c", **{tags.REVOKED: "true", tags.REVOKED_REASON: "CVE"})
    with pytest.raises(NeedsAttention):
        planner.written(plan)


def test_an_older_version_seen_while_waiting_is_not_a_concurrent_writer() -> None:
    """Ours shows only after several reads of the old value: no warning, no exit code 9 even
    when that old value is an AMI revoked since."""
    revoked = ami("ami-a", **{tags.REVOKED: "true", tags.REVOKED_REASON: "CVE"})
    ec2 = ImagesEc2(images(revoked, ami("ami-b")))
    ssm, clock = ValidatingSsm({STABLE: channel("ami-a")}, reads=4), FakeClock()
    planner = PromotePlanner(ec2=ec2, channels=Channels(ssm, DEFAULT), region="us-east-1")
    plan = planner.plan("ami-b", "stable")
    warned: list[str] = []
    promoted = run_promote(
        plan,
        planner,
        Executor(channel_actions(ec2, ssm, clock, []), RecordingReporter()),
        bounded=lambda seconds: nullcontext(),
        warn=warned.append,
    )
    assert (promoted.version, warned) == (2, [])


# --- EC2: NotFound right after a create ---------------------------------------------------------


class LateEc2(BuildEc2):
    """EC2 that answers NotFound for its first `misses` reads of each new AMI."""

    def __init__(self, misses: int, **kwargs: object) -> None:
        super().__init__(**kwargs)  # type: ignore[arg-type]
        self.misses = misses

    def get_image(self, image_id: str) -> Image:
        if self.misses > 0:
            self.misses -= 1
            raise NotFoundError(f"AMI {image_id} does not exist or is not shared")
        return super().get_image(image_id)


def built(image_id: str) -> Image:
    return Image(image_id, "ebami-x", "available", "2026-11-01T00:00:00.000Z", {}, ())


def build_actions(
    ec2: BuildEc2, clock: FakeClock, reporter: RecordingReporter, ssm: LeaseSsm | None = None
) -> BuildActions:
    ssm = ssm or LeaseSsm()
    return BuildActions(
        ec2=ec2,
        ssm=lambda: ssm,
        packer=lambda: None,  # type: ignore[arg-type,return-value]
        region="us-east-1",
        cli=Cli(),
        reporter=reporter,
        clock=clock,
        sleep=clock.sleep,
        host="ci-1",
    )


def test_a_new_ami_ec2_does_not_show_yet_is_read_again_then_tagged() -> None:
    ec2 = LateEc2(2, images={"ami-new": built("ami-new")})
    clock, reporter = FakeClock(), RecordingReporter()
    baked = Baked((Artifact("us-east-1", "ami-new"),), "1.6.6", None)
    image = build_actions(ec2, clock, reporter).tag_image(baked=baked, tags={tags.MANAGED: "true"})
    assert image.tags[tags.MANAGED] == "true"
    assert ec2.tagged == [(["ami-new"], {tags.MANAGED: "true"})]
    assert len(clock.sleeps) == 2  # two NotFound answers, two pauses
    assert not any("does not exist" in line for line in reporter.lines)


def test_a_new_ami_never_shown_fails_at_its_deadline_saying_it_was_made_by_this_run() -> None:
    ec2 = LateEc2(10**6, images={"ami-new": built("ami-new")})
    clock = FakeClock()
    baked = Baked((Artifact("us-east-1", "ami-new"),), "1.6.6", None)
    with pytest.raises(Exception, match="AMI ami-new, made by this run, still not visible"):
        build_actions(ec2, clock, RecordingReporter()).tag_image(baked=baked, tags={})
    assert clock.now == pytest.approx(VISIBLE_SECONDS)


def test_build_publishing_waits_for_the_version_and_a_dropped_one_names_what_is_built() -> None:
    ec2, clock = BuildEc2(images={"ami-new": built("ami-new")}), FakeClock()
    actions = build_actions(ec2, clock, RecordingReporter())
    assert actions.publish_parameter(name="/ebami/latest", image=built("ami-new")) == 1

    class Dropping(LeaseSsm):
        def history(self, name: str) -> list[ParameterVersion]:
            return []

    dropping = build_actions(ec2, clock, RecordingReporter(), Dropping())
    with pytest.raises(ValueNotTaken) as exc:
        dropping.publish_parameter(name="/ebami/latest", image=built("ami-new"))
    assert str(exc.value).startswith(
        "ami-new is built, but not published: SSM did not take ami-new for /ebami/latest"
    )
    assert str(exc.value).endswith(
        "publish it again with: aws ssm put-parameter --name /ebami/latest --value ami-new "
        "--type String --data-type aws:ec2:image --overwrite --region us-east-1"
    )


@dataclass
class ReachEc2:
    """DescribeInstances that answers NotFound `misses` times first."""

    misses: int
    calls: int = 0

    def describe_instances(self, instance_ids: list[str]) -> list[object]:
        self.calls += 1
        if self.misses > 0:
            self.misses -= 1
            raise NotFoundError(f"instance {', '.join(instance_ids)} does not exist in this region")
        return [RUNNING]

    def egress(self, subnet_id: str, vpc_id: str) -> object:
        raise AssertionError("not asked")


@dataclass
class OnlineLater:
    """SSM that registers the instance Online from its `after`-th look on."""

    after: int
    looks: int = 0

    def managed_instances(self, instance_ids: list[str]) -> dict[str, object]:
        from ebami.aws.ssm import ManagedInstance

        self.looks += 1
        if self.looks < self.after:
            return {}
        return {i: ManagedInstance(i, "Online", "3.2", "Amazon Linux 2") for i in instance_ids}


def reaching(ec2: ReachEc2, clock: FakeClock, *, launched: bool) -> SsmReach:
    """Verify's wait for `RUNNING` to be online (`launched`: by this run)."""
    return SsmReach(
        [Target(RUNNING, expected(), launched=launched)],
        ec2=ec2,  # type: ignore[arg-type]
        ssm=OnlineLater(after=4),  # type: ignore[arg-type]
        deadline=Deadline(600, clock=clock, sleep=clock.sleep),
        reporter=RecordingReporter(),
    )


def test_an_instance_this_run_launched_answering_not_found_is_looked_at_again() -> None:
    clock, ec2 = FakeClock(), ReachEc2(misses=2)
    reach = reaching(ec2, clock, launched=True)
    assert list(reach.wait()) == [RUNNING.instance_id]
    assert ec2.calls == 3  # two NotFound answers, then the instance


def test_an_instance_the_user_named_that_ec2_does_not_know_fails_at_once() -> None:
    clock, ec2 = FakeClock(), ReachEc2(misses=1)
    reach = reaching(ec2, clock, launched=False)
    with pytest.raises(NotFoundError, match="does not exist in this region"):
        reach.wait()
    assert clock.sleeps == []
