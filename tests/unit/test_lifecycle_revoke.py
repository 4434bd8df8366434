"""`ebami revoke`: the order of its changes, the channels it moves or deletes, re-revoking, the
deprecation time, and its refusals."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone

import pytest

from ebami import tags
from ebami.aws.ec2 import Image
from ebami.errors import InputError, Refused
from ebami.lifecycle.channels import ChannelActions, Channels
from ebami.lifecycle.revoke import RevokePlanner, check_reason, deprecation_time
from ebami.plan import Executor
from tests.helpers import RecordingReporter
from tests.unit.test_lifecycle_channels import (
    DEFAULT,
    STABLE,
    FakeEc2,
    FakeSsm,
    ami,
    channel,
    images,
)

NOW = datetime(2026, 11, 22, 10, 0, 10, tzinfo=timezone.utc)
CANARY_AL2 = "/ebami/ecs-al2/2/canary"


def planner(ec2: FakeEc2, ssm: FakeSsm) -> RevokePlanner:
    return RevokePlanner(
        ec2=ec2, channels=Channels(ssm, DEFAULT), region="us-east-1", now=lambda: NOW
    )


def test_revoke_tags_first_then_moves_every_channel_then_deprecates() -> None:
    ec2 = FakeEc2(images(ami("ami-a"), ami("ami-b"), ami("ami-old-al2")))
    ssm = FakeSsm(
        {
            STABLE: channel("ami-a", "ami-b"),
            CANARY_AL2: channel("ami-b"),  # no earlier value: deleted
            "/ebami/multicontainer-docker/2017.09/beta": channel("ami-a"),  # not naming it
        }
    )
    plan = planner(ec2, ssm).plan("ami-b", "  CVE-2026-1 in docker  ", deprecate=True)
    assert [(step.action, dict(step.params)) for step in plan.steps.instructions] == [
        ("tag_revoked", {"image_id": "ami-b", "tags": {
            tags.REVOKED: "true", tags.REVOKED_REASON: "CVE-2026-1 in docker",
            tags.REVOKED_AT: "2026-11-22T10:00:10Z"}}),
        ("delete_channel", {"parameter": CANARY_AL2}),
        ("publish", {"parameter": STABLE, "image_id": "ami-a"}),
        ("deprecate", {"image_id": "ami-b",
                       "when": "2026-11-22T10:02:00Z"}),
    ]  # fmt: skip
    assert ssm.writes() == []
    assert {name for name, _ in ec2.calls} == {"DescribeImages"}

    read_ec2, read_ssm = len(ec2.calls), len(ssm.calls)
    Executor(ChannelActions(ec2, ssm), RecordingReporter()).execute(plan.steps)
    # Only the planned changes ran: the execution reads nothing.
    made = ec2.calls[read_ec2:] + ssm.calls[read_ssm:]
    assert sorted(name for name, _ in made) == [
        "CreateTags", "DeleteParameter", "EnableImageDeprecation", "PutParameter",
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

    class Ec2(FakeEc2):
        def tag_resources(self, resource_ids: list[str], tags: dict[str, str]) -> None:
            log.append("tag")

        def deprecate_image(self, image_id: str, when: datetime) -> None:
            log.append("deprecate")

    class Ssm(FakeSsm):
        def publish_image_id(self, name: str, image_id: str) -> int:
            log.append(f"publish {name}")
            return 2

        def delete_parameter(self, name: str) -> bool:
            log.append(f"delete {name}")
            return True

    ec2 = Ec2(images(ami("ami-a"), ami("ami-b")))
    ssm = Ssm({STABLE: channel("ami-a", "ami-b"), CANARY_AL2: channel("ami-b")})
    plan = planner(ec2, ssm).plan("ami-b", "bad", deprecate=True)
    Executor(ChannelActions(ec2, ssm), RecordingReporter()).execute(plan.steps)
    assert log == ["tag", f"delete {CANARY_AL2}", f"publish {STABLE}", "deprecate"]


def test_revoking_again_keeps_the_first_reason_and_moves_what_still_names_it() -> None:
    revoked = ami(
        "ami-b",
        **{tags.REVOKED: "true", tags.REVOKED_REASON: "first",
           tags.REVOKED_AT: "2026-11-01T00:00:00Z"},
    )  # fmt: skip
    ec2, ssm = FakeEc2(images(ami("ami-a"), revoked)), FakeSsm({STABLE: channel("ami-a")})
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
    assert dict(again.steps.instructions[0].params) == {"parameter": STABLE, "image_id": "ami-a"}


def test_skipped_values_are_said() -> None:
    ec2 = FakeEc2(images(ami("ami-a"), ami("ami-b"), ami("ami-p", "pending")))
    ssm = FakeSsm({STABLE: channel("ami-a", "ami-gone", "ami-p", "ami-b")})
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
    ec2, ssm = FakeEc2(found, {"ami-b"} if foreign else set()), FakeSsm({STABLE: channel("ami-b")})
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
    plan = planner(FakeEc2(images(image)), FakeSsm()).plan("ami-b", "bad", deprecate=True)
    assert [step.action for step in plan.steps.instructions] == (
        ["deprecate"] if deprecates else []
    )
    assert (plan.deprecate_at is not None) is deprecates
