"""`ebami revoke`: the order of its changes, the channels it moves or deletes, re-revoking, the
deprecation time, and its refusals."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest

from ebami.aws.ec2_values import Image
from ebami.core.errors import AwsError, InputError, Refused
from ebami.core.plan import Executor
from ebami.core.times import utc_timestamp
from ebami.image import tags
from ebami.image.channels import Channels
from ebami.lifecycle.channel_actions import ChannelActions, parse_utc
from ebami.lifecycle.readback import needs_attention
from ebami.lifecycle.revoke import RevokePlanner, RevokeRegion
from ebami.lifecycle.revoke_actions import RevokeActions, execute_revoke
from ebami.lifecycle.revoke_inputs import check_reason, deprecation_time
from tests.fakes.channels import (
    DEFAULT,
    STABLE,
    ChannelSsm,
    ImagesEc2,
    ami,
    channel,
    images,
)
from tests.helpers import RecordingReporter

NOW = datetime(2026, 11, 22, 10, 0, 10, tzinfo=timezone.utc)
CANARY_AL2 = "/ebami/ecs-al2/2/canary"


def planner(ec2: ImagesEc2, ssm: ChannelSsm) -> RevokePlanner:
    return RevokePlanner(
        ec2=ec2, channels=Channels(ssm, DEFAULT), region="us-east-1", now=lambda: NOW
    )


def actions(ec2: ImagesEc2, ssm: ChannelSsm) -> RevokeActions:
    return RevokeActions({"us-east-1": ChannelActions(ec2, ssm)})


def test_revoke_tags_first_then_moves_every_channel_then_deprecates() -> None:
    ec2 = ImagesEc2(images(ami("ami-a"), ami("ami-b"), ami("ami-old-al2")))
    ssm = ChannelSsm(
        {
            STABLE: channel("ami-a", "ami-b"),
            CANARY_AL2: channel("ami-b"),  # no earlier value: deleted
            "/ebami/multicontainer-docker/2017.09/beta": channel("ami-a"),  # not naming it
        }
    )
    plan = planner(ec2, ssm).plan("ami-b", "  CVE-2026-1 in docker  ", deprecate=True)
    assert [(step.action, dict(step.params)) for step in plan.steps.instructions] == [
        ("tag_revoked", {"region": "us-east-1", "image_id": "ami-b", "tags": {
            tags.REVOKED: "true", tags.REVOKED_REASON: "CVE-2026-1 in docker",
            tags.REVOKED_AT: "2026-11-22T10:00:10Z"}}),
        ("delete_channel", {"region": "us-east-1", "parameter": CANARY_AL2, "image_id": "ami-b"}),
        ("publish", {"region": "us-east-1", "parameter": STABLE, "image_id": "ami-a",
                     "replacing": "ami-b"}),
        ("deprecate", {"region": "us-east-1", "image_id": "ami-b",
                       "when": "2026-11-22T10:02:00Z"}),
    ]  # fmt: skip
    assert ssm.writes() == []
    assert {name for name, _ in ec2.calls} == {"DescribeImages"}

    read_ec2, read_ssm = len(ec2.calls), len(ssm.calls)
    Executor(actions(ec2, ssm), RecordingReporter()).execute(plan.steps)
    # Only the planned changes ran, the reads of the channels a delete and a move make just
    # before, and the read of the moved channel's history that shows SSM took the value.
    made = ec2.calls[read_ec2:] + ssm.calls[read_ssm:]
    assert sorted(name for name, _ in made) == [
        "CreateTags", "DeleteParameter", "EnableImageDeprecation", "GetParameter", "GetParameter",
        "GetParameterHistory", "PutParameter",
    ]  # fmt: skip
    assert ssm.parameters[STABLE][-1] == ("ami-a", "aws:ec2:image")
    assert ec2.calls[-1] == (
        "EnableImageDeprecation",
        ("ami-b", datetime(2026, 11, 22, 10, 2, tzinfo=timezone.utc)),
    )
    assert CANARY_AL2 not in ssm.parameters
    json = plan.to_json()
    assert json["channels"][0]["deleted"] is True
    assert json["channels"][1]["to"] == "ami-a"
    assert json["deprecate_at"] == "2026-11-22T10:02:00Z"


def test_the_tag_is_written_before_any_channel_moves() -> None:
    """One log across both services: the order the executor really makes the calls in."""
    log: list[str] = []

    class Ec2(ImagesEc2):
        def tag_resources(self, resource_ids: list[str], tags: dict[str, str]) -> None:
            log.append("tag")

        def deprecate_image(self, image_id: str, when: datetime) -> None:
            log.append("deprecate")

    class Ssm(ChannelSsm):
        def publish_image_id(self, name: str, image_id: str) -> int:
            log.append(f"publish {name}")
            return super().publish_image_id(name, image_id)

        def delete_parameter(self, name: str) -> bool:
            log.append(f"delete {name}")
            return True

    ec2 = Ec2(images(ami("ami-a"), ami("ami-b")))
    ssm = Ssm({STABLE: channel("ami-a", "ami-b"), CANARY_AL2: channel("ami-b")})
    plan = planner(ec2, ssm).plan("ami-b", "bad", deprecate=True)
    Executor(actions(ec2, ssm), RecordingReporter()).execute(plan.steps)
    assert log == ["tag", f"delete {CANARY_AL2}", f"publish {STABLE}", "deprecate"]


def test_revoking_again_keeps_the_first_reason_and_moves_what_still_names_it() -> None:
    revoked = ami(
        "ami-b",
        **{tags.REVOKED: "true", tags.REVOKED_REASON: "first",
           tags.REVOKED_AT: "2026-11-01T00:00:00Z"},
    )  # fmt: skip
    ec2, ssm = ImagesEc2(images(ami("ami-a"), revoked)), ChannelSsm({STABLE: channel("ami-a")})
    plan = planner(ec2, ssm).plan("ami-b", "second", deprecate=False)
    assert plan.already
    assert (plan.reason, plan.revoked_at) == ("first", "2026-11-01T00:00:00Z")
    assert plan.steps.instructions == ()
    assert plan.steps.notes == (
        "ami-b was revoked at 2026-11-01T00:00:00Z: first: that reason and time are kept",
        "no channel under /ebami names ami-b",
    )
    # A channel pointed at it by hand since is moved off it again, and nothing is tagged.
    ssm.parameters[STABLE].append(("ami-b", "aws:ec2:image"))
    again = planner(ec2, ssm).plan("ami-b", "second", deprecate=False)
    assert [step.action for step in again.steps.instructions] == ["publish"]
    assert dict(again.steps.instructions[0].params) == {
        "region": "us-east-1", "parameter": STABLE, "image_id": "ami-a", "replacing": "ami-b",
    }  # fmt: skip


def test_skipped_values_are_said() -> None:
    ec2 = ImagesEc2(images(ami("ami-a"), ami("ami-b"), ami("ami-p", "pending")))
    ssm = ChannelSsm({STABLE: channel("ami-a", "ami-gone", "ami-p", "ami-b")})
    plan = planner(ec2, ssm).plan("ami-b", "bad", deprecate=False)
    assert plan.steps.notes == (
        "channel stable (multicontainer-docker 2017.09): skipped version 3 ami-p (pending); "
        "version 2 ami-gone (no longer exists)",
    )


@pytest.mark.parametrize(
    ("image", "foreign", "reason"),
    [
        (None, False, "ami-b does not exist in us-east-1 or is not shared with this account"),
        (ami("ami-b", **{tags.MANAGED: ""}), False,
         "ami-b is not an AMI ebami made (no ebami:managed=true tag)"),
        (ami("ami-b"), True,
         "ami-b belongs to another account: only this account's AMIs qualify"),
    ],
    ids=["missing", "unmanaged", "foreign"],
)  # fmt: skip
def test_revoke_refusals(image: Image | None, foreign: bool, reason: str) -> None:
    found = images(image) if image else {}
    ec2, ssm = (
        ImagesEc2(found, {"ami-b"} if foreign else set()),
        ChannelSsm({STABLE: channel("ami-b")}),
    )
    with pytest.raises(Refused) as exc:
        planner(ec2, ssm).plan("ami-b", "bad", deprecate=True)
    assert str(exc.value) == reason


@pytest.mark.parametrize(
    ("reason", "line"),
    [
        ("", "--reason is empty: say why the AMI is revoked, in 1 to 256 characters"),
        ("   ", "--reason is empty: say why the AMI is revoked, in 1 to 256 characters"),
        ("x" * 257, "--reason has 257 characters: an EC2 tag value holds at most 256"),
        ("a\nb", "--reason has a control character (a line break?): write it on one line"),
    ],
)
def test_bad_reasons(reason: str, line: str) -> None:
    with pytest.raises(InputError) as exc:
        check_reason(reason)
    assert str(exc.value) == line


def test_good_reasons() -> None:
    assert check_reason("é" * 256) == "é" * 256
    assert check_reason(" CVE-2026-1: docker, runc ") == "CVE-2026-1: docker, runc"


@pytest.mark.parametrize(
    ("now", "at"),
    [
        ((10, 0, 0, 0), (10, 1)),
        ((10, 0, 0, 1), (10, 2)),
        ((10, 0, 59, 999999), (10, 2)),
        ((23, 59, 30, 0), (0, 1)),
    ],
)
def test_the_deprecation_time_is_the_next_whole_minute_a_minute_ahead(
    now: tuple[int, int, int, int], at: tuple[int, int]
) -> None:
    moment = datetime(2026, 11, 22, *now, tzinfo=timezone.utc)
    when = deprecation_time(moment)
    day = 23 if at[0] < now[0] else 22
    assert when == datetime(2026, 11, day, *at, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    ("already", "deprecates"),
    [("2026-11-22T10:01:00.000Z", False), ("2026-11-22T10:02:00Z", False),
     ("2027-01-01T00:00:00.000Z", True), ("", True)],
)  # fmt: skip
def test_a_deprecation_already_set_is_kept_unless_later(already: str, deprecates: bool) -> None:
    image = replace(ami("ami-b", **{tags.REVOKED: "true"}), deprecation_time=already)
    plan = planner(ImagesEc2(images(image)), ChannelSsm()).plan("ami-b", "bad", deprecate=True)
    assert [step.action for step in plan.steps.instructions] == (
        ["deprecate"] if deprecates else []
    )
    assert (plan.targets[0].deprecate_at is not None) is deprecates
    # The JSON says when EC2 deprecates it: this run's time, or the one it had.
    kept = parse_utc(already) if already and not deprecates else deprecation_time(NOW)
    assert plan.to_json()["deprecate_at"] == utc_timestamp(kept)


def test_the_json_shows_a_deprecation_set_before_without_deprecate() -> None:
    image = replace(ami("ami-b", **{tags.REVOKED: "true"}), deprecation_time="2026-11-22T10:01:00Z")
    plan = planner(ImagesEc2(images(image)), ChannelSsm()).plan("ami-b", "bad", deprecate=False)
    assert plan.to_json()["deprecate_at"] == "2026-11-22T10:01:00Z"
    fresh = planner(ImagesEc2(images(ami("ami-b"))), ChannelSsm()).plan(
        "ami-b", "b", deprecate=False
    )
    assert fresh.to_json()["deprecate_at"] is None


def test_revoke_moves_a_channel_only_to_a_value_promote_would_accept() -> None:
    unverified = ami("ami-u", **{tags.VERIFIED: ""})
    ec2 = ImagesEc2(images(ami("ami-a"), unverified, ami("ami-b")))
    ssm = ChannelSsm({STABLE: channel("ami-a", "ami-u", "ami-b")})
    plan = planner(ec2, ssm).plan("ami-b", "bad", deprecate=False)
    assert plan.moves[0].previous.image_id == "ami-a"
    assert plan.steps.notes == (
        "channel stable (multicontainer-docker 2017.09): skipped version 2 ami-u (not verified)",
    )


def _revoked(ec2: ImagesEc2, image_id: str, reason: str) -> None:
    """What a concurrent revoke's tag does."""
    ec2.images[image_id] = ami(
        image_id,
        **{tags.REVOKED: "true", tags.REVOKED_REASON: reason,
           tags.REVOKED_AT: "2026-11-22T10:00:00Z"},
    )  # fmt: skip


class SharedEc2(ImagesEc2):
    """Tags written land on the images, so that two revokes see each other's."""

    def tag_resources(self, resource_ids: list[str], tags: dict[str, str]) -> None:
        super().tag_resources(resource_ids, tags)
        for image_id in resource_ids:
            image = self.images[image_id]
            self.images[image_id] = replace(image, tags={**image.tags, **tags})


def test_two_revokes_planned_together_are_told_where_they_left_a_revoked_ami() -> None:
    """Each planned its move back before the other's tag existed: eps goes back to A2 and
    stable to A3, both revoked; each run reads its channels back and names the fix."""
    eps = "/ebami/multicontainer-docker/2017.09/eps"
    ec2 = SharedEc2(images(ami("ami-1"), ami("ami-2"), ami("ami-3")))
    ssm = ChannelSsm({eps: channel("ami-1", "ami-2", "ami-3"), STABLE: channel("ami-3", "ami-2")})
    first = planner(ec2, ssm)
    second = planner(ec2, ssm)
    two = first.plan("ami-2", "cve-1", deprecate=False)
    three = second.plan("ami-3", "cve-1", deprecate=False)
    Executor(actions(ec2, ssm), RecordingReporter()).execute(two.steps)
    Executor(actions(ec2, ssm), RecordingReporter()).execute(three.steps)
    assert (ssm.parameters[eps][-1][0], ssm.parameters[STABLE][-1][0]) == ("ami-2", "ami-3")
    # Each run finds both: the channel it moved, and the one naming its own AMI again.
    stale = [
        f"channel eps (multicontainer-docker 2017.09) ({eps}) names ami-2, which was revoked at "
        "2026-11-22T10:00:10Z: cve-1 (another command wrote meanwhile); move it off with: "
        "ebami revoke --ami ami-2 --reason cve-1",
        f"channel stable (multicontainer-docker 2017.09) ({STABLE}) names ami-3, which was "
        "revoked at 2026-11-22T10:00:10Z: cve-1 (another command wrote meanwhile); move it off "
        "with: ebami revoke --ami ami-3 --reason cve-1",
    ]
    assert [str(item) for item in first.written(two)] == stale
    assert [str(item) for item in second.written(three)] == stale
    assert str(needs_attention(first.written(two), "revoke")) == "after this revoke, " + "; ".join(
        stale
    )
    # The fix works: revoking ami-3 again moves stable on, and nothing is left.
    again = planner(ec2, ssm).plan("ami-3", "cve-1", deprecate=False)
    Executor(actions(ec2, ssm), RecordingReporter()).execute(again.steps)
    assert STABLE not in ssm.parameters  # ami-3 and ami-2 were all it had
    assert planner(ec2, ssm).written(again) == []


def test_a_promote_between_plan_and_write_is_found_and_the_fix_is_this_revoke_again() -> None:
    zeta = "/ebami/multicontainer-docker/2017.09/zeta"
    ec2 = SharedEc2(images(ami("ami-a"), ami("ami-5")))
    ssm = ChannelSsm({zeta: channel("ami-a")})
    revoker = planner(ec2, ssm)
    plan = revoker.plan("ami-5", "cve it's bad", deprecate=True)
    assert plan.moves == ()
    ssm.parameters[zeta].append(("ami-5", "aws:ec2:image"))  # the concurrent promote
    Executor(actions(ec2, ssm), RecordingReporter()).execute(plan.steps)
    stale = revoker.written(plan)
    assert [item.command for item in stale] == [
        "ebami revoke --ami ami-5 --reason 'cve it'\"'\"'s bad' --deprecate"
    ]
    assert stale[0].state.parameter == zeta


def test_a_channel_promoted_since_the_plan_is_not_deleted() -> None:
    ec2 = SharedEc2(images(ami("ami-a"), ami("ami-b")))
    ssm = ChannelSsm({CANARY_AL2: channel("ami-b")})
    plan = planner(ec2, ssm).plan("ami-b", "bad", deprecate=False)
    assert [step.action for step in plan.steps.instructions] == ["tag_revoked", "delete_channel"]
    ssm.parameters[CANARY_AL2].append(("ami-a", "aws:ec2:image"))  # promoted meanwhile
    Executor(actions(ec2, ssm), RecordingReporter()).execute(plan.steps)
    assert ssm.parameters[CANARY_AL2][-1][0] == "ami-a"
    assert planner(ec2, ssm).written(plan) == []


def test_a_channel_promoted_since_the_plan_is_not_moved_back_over_it() -> None:
    ec2 = SharedEc2(images(ami("ami-a"), ami("ami-b"), ami("ami-c")))
    ssm = ChannelSsm({STABLE: channel("ami-a", "ami-b")})
    plan = planner(ec2, ssm).plan("ami-b", "bad", deprecate=False)
    assert [step.action for step in plan.steps.instructions] == ["tag_revoked", "publish"]
    ssm.parameters[STABLE].append(("ami-c", "aws:ec2:image"))  # promoted meanwhile
    warned: list[str] = []
    moving = RevokeActions({"us-east-1": ChannelActions(ec2, ssm)}, warn=warned.append)
    Executor(moving, RecordingReporter()).execute(plan.steps)
    assert [value for value, _ in ssm.parameters[STABLE]] == ["ami-a", "ami-b", "ami-c"]
    assert warned == [
        f"channel {STABLE} in us-east-1 no longer names ami-b (now ami-c): left as it is"
    ]


def test_a_write_failing_part_way_says_what_is_left_and_to_run_it_again() -> None:
    class RefusingSsm(ChannelSsm):
        def publish_image_id(self, name: str, image_id: str) -> int:
            raise AwsError(f"PutParameter {name}: ParameterMaxVersionLimitExceeded")

    beta = "/ebami/multicontainer-docker/2017.09/beta"
    ec2 = SharedEc2(images(ami("ami-a"), ami("ami-b")))
    ssm = RefusingSsm({beta: channel("ami-b"), STABLE: channel("ami-a", "ami-b")})
    plan = planner(ec2, ssm).plan("ami-b", "bad one", deprecate=True)
    warned: list[str] = []
    with pytest.raises(AwsError) as exc:
        execute_revoke(plan, Executor(actions(ec2, ssm), RecordingReporter()), warn=warned.append)
    assert str(exc.value) == (
        f"PutParameter {STABLE}: ParameterMaxVersionLimitExceeded; ami-b tagged ebami:revoked="
        f"true, but channel stable (multicontainer-docker 2017.09) ({STABLE}) still names ami-b; "
        "ami-b is not deprecated yet: running the same revoke again finishes the job: ebami "
        "revoke --ami ami-b --reason 'bad one' --deprecate"
    )
    assert exc.value.exit_code == 3
    assert beta not in ssm.parameters  # the delete before it ran
    assert warned == []


def test_a_failure_before_anything_changed_is_left_as_it_is() -> None:
    class RefusingEc2(ImagesEc2):
        def tag_resources(self, resource_ids: list[str], tags: dict[str, str]) -> None:
            raise AwsError("CreateTags: UnauthorizedOperation")

    ec2 = RefusingEc2(images(ami("ami-a"), ami("ami-b")))
    ssm = ChannelSsm({STABLE: channel("ami-a", "ami-b")})
    plan = planner(ec2, ssm).plan("ami-b", "bad", deprecate=False)
    with pytest.raises(AwsError) as exc:
        execute_revoke(plan, Executor(actions(ec2, ssm), RecordingReporter()), warn=print)
    assert str(exc.value) == "CreateTags: UnauthorizedOperation"


WEST_STABLE = STABLE  # the same name: each region has its own parameters


def test_copies_in_the_copy_regions_are_revoked_with_their_channels() -> None:
    key = {tags.BAKE_KEY: "bk-1", tags.BUILD_RUN: "run-1"}
    east = SharedEc2(images(ami("ami-a"), ami("ami-b", **key)))
    east_ssm = ChannelSsm({STABLE: channel("ami-a", "ami-b")})
    west = SharedEc2(
        images(
            ami("ami-wa"),
            ami("ami-wb", **key),
            ami("ami-other", **{tags.BAKE_KEY: "bk-2"}),
            # A forced rebuild: the same bake key, another run; not this AMI's copy.
            ami("ami-rebuilt", **{**key, tags.BUILD_RUN: "run-2"}),
            ami("ami-foreign", **key),
        ),
        foreign={"ami-foreign"},
    )
    west_ssm = ChannelSsm({WEST_STABLE: channel("ami-wa", "ami-wb")})
    revoker = RevokePlanner(
        ec2=east,
        channels=Channels(east_ssm, DEFAULT),
        region="us-east-1",
        now=lambda: NOW,
        copies=[RevokeRegion("us-west-2", west, Channels(west_ssm, DEFAULT))],
    )
    plan = revoker.plan("ami-b", "bad", deprecate=True)
    assert [(step.action, step.params["region"], step.params["image_id"])
            for step in plan.steps.instructions] == [
        ("tag_revoked", "us-east-1", "ami-b"),
        ("tag_revoked", "us-west-2", "ami-wb"),
        ("publish", "us-east-1", "ami-a"),
        ("publish", "us-west-2", "ami-wa"),
        ("deprecate", "us-east-1", "ami-b"),
        ("deprecate", "us-west-2", "ami-wb"),
    ]  # fmt: skip
    assert plan.steps.instructions[3].message == (
        f"moving channel stable (multicontainer-docker 2017.09) ({WEST_STABLE}) in us-west-2 back "
        "from ami-wb to ami-wa (its version 1)"
    )
    assert plan.steps.facts["Copies"] == "ami-wb (us-west-2)"
    assert [copy["ami_id"] for copy in plan.to_json()["copies"]] == ["ami-wb"]
    both = RevokeActions(
        {"us-east-1": ChannelActions(east, east_ssm), "us-west-2": ChannelActions(west, west_ssm)}
    )
    Executor(both, RecordingReporter()).execute(plan.steps)
    assert west.images["ami-wb"].tags[tags.REVOKED_AT] == "2026-11-22T10:00:10Z"
    assert west_ssm.parameters[WEST_STABLE][-1][0] == "ami-wa"
    assert tags.REVOKED not in west.images["ami-other"].tags
    assert revoker.written(plan) == []


def test_an_ami_without_bake_key_says_its_copies_cannot_be_found() -> None:
    revoker = RevokePlanner(
        ec2=ImagesEc2(images(ami("ami-b"))),
        channels=Channels(ChannelSsm(), DEFAULT),
        region="us-east-1",
        now=lambda: NOW,
        copies=[RevokeRegion("us-west-2", ImagesEc2(), Channels(ChannelSsm(), DEFAULT))],
    )
    plan = revoker.plan("ami-b", "bad", deprecate=False)
    assert "ami-b has no ebami:bake-key tag: its copies in us-west-2 cannot be found" in (
        plan.steps.notes
    )
    assert plan.steps.facts["Copies"] == "none in us-west-2"


def test_disable_comes_last_once_the_channels_are_off_the_ami() -> None:
    ec2 = ImagesEc2(images(ami("ami-a"), ami("ami-b")))
    ssm = ChannelSsm({STABLE: channel("ami-a", "ami-b")})
    plan = planner(ec2, ssm).plan("ami-b", "CVE-2026-2", deprecate=False, disable=True)
    assert [step.action for step in plan.steps.instructions] == [
        "tag_revoked", "publish", "disable",
    ]  # fmt: skip
    assert plan.command().endswith("--reason CVE-2026-2 --disable")
    assert plan.to_json()["copies"] == []
    Executor(actions(ec2, ssm), RecordingReporter()).execute(plan.steps)
    assert ec2.calls[-1] == ("DisableImage", "ami-b")
    assert ec2.images["ami-b"].state == "disabled"


def test_an_ami_disabled_already_is_not_disabled_again() -> None:
    ec2 = ImagesEc2(images(ami("ami-a"), ami("ami-b", state="disabled")))
    plan = planner(ec2, ChannelSsm()).plan("ami-b", "again", deprecate=False, disable=True)
    assert "disable" not in [step.action for step in plan.steps.instructions]
    assert "ami-b is disabled already" in plan.steps.notes


def test_where_disable_image_is_unavailable_one_warning_and_the_revocation_stands() -> None:
    ec2 = ImagesEc2(images(ami("ami-b")), unavailable="DisableImage is unknown to botocore 1.0")
    plan = planner(ec2, ChannelSsm()).plan("ami-b", "CVE", deprecate=False, disable=True)
    reporter = RecordingReporter()
    executed = RevokeActions({"us-east-1": ChannelActions(ec2, ChannelSsm(), warn=reporter.warn)})
    Executor(executed, RecordingReporter()).execute(plan.steps)
    assert reporter.lines == [
        "warning: ami-b not disabled (DisableImage is unknown to botocore 1.0): it is revoked "
        "and tagged only"
    ]
    assert "CreateTags" in [name for name, _ in ec2.calls]
