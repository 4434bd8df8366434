"""Channels: parameter names built and parsed back, the previous value's rules, promote's plans
and refusals, and `apply --channel`'s target."""

from __future__ import annotations

from dataclasses import replace

import pytest

from ebami.apply.options import ApplyOptions
from ebami.aws.ec2_values import Image
from ebami.aws.ssm import ParameterVersion
from ebami.config.formats import channel_parameter_check
from ebami.core.errors import InputError, NeedsAttention, Refused
from ebami.core.plan import Executor
from ebami.image import tags
from ebami.image.channels import ChannelKey, Channels, check_channel_name
from ebami.image.platforms import resolve_platform
from ebami.image.protection import ImageGuard
from ebami.lifecycle.channel_actions import ChannelActions
from ebami.lifecycle.promote import PromotePlanner
from ebami.lifecycle.stepback import Candidates, previous_value
from tests.fakes.apply import apply_planner, world_with
from tests.fakes.channels import DEFAULT, STABLE, ChannelSsm, ImagesEc2, ami, channel, images
from tests.helpers import RecordingReporter

AL1 = resolve_platform("multicontainer-docker")


# --- names -------------------------------------------------------------------------------------


def test_names_are_built_and_parsed_back() -> None:
    channels = Channels(ChannelSsm(), DEFAULT)
    key = channels.key(AL1, "2017.09", "stable")
    assert key == ChannelKey("multicontainer-docker", "2017.09", "stable")
    assert channels.parameter(key) == STABLE
    assert channels.key_of(STABLE) == key
    assert channels.prefix == "/ebami"
    assert str(key) == "stable (multicontainer-docker 2017.09)"
    # Not a channel: another level count, another prefix, a channel name ebami refuses.
    assert channels.key_of("/ebami/multicontainer-docker/stable") is None
    assert channels.key_of("/other/multicontainer-docker/2017.09/stable") is None
    assert channels.key_of("/ebami/ecs-al2/2/" + "x" * 65) is None


def test_a_pattern_without_platform_and_release() -> None:
    channels = Channels(ChannelSsm(), "/amis/web-{channel}")
    key = channels.key(AL1, "2017.09", "canary")
    assert key == ChannelKey(None, None, "canary")
    assert channels.parameter(key) == "/amis/web-canary"
    assert channels.key_of("/amis/web-canary") == key
    assert channels.prefix == "/amis"
    # A placeholder named twice must hold the same value both times.
    twice = Channels(ChannelSsm(), "/{channel}/x/{channel}")
    assert twice.prefix == "/"
    assert twice.key_of("/a/x/a") == ChannelKey(None, None, "a")
    assert twice.key_of("/a/x/b") is None


@pytest.mark.parametrize("name", ["", "st able", "a/b", "x" * 65, "stäble"])
def test_bad_channel_names_are_refused(name: str) -> None:
    with pytest.raises(InputError) as exc:
        check_channel_name(name)
    assert str(exc.value) == (
        f"--channel {name!r} is not a channel name; use 1 to 64 letters, digits, '_', '.' or "
        "'-' (such as stable)"
    )


@pytest.mark.parametrize("name", [".", "..", "..."])
def test_channel_names_of_dots_alone_are_refused(name: str) -> None:
    with pytest.raises(InputError) as exc:
        check_channel_name(name)
    assert str(exc.value) == (
        f"--channel {name!r} is not a channel name: dots alone make a parameter level that "
        "reads as a relative path; use letters or digits too (such as stable)"
    )
    channels = Channels(ChannelSsm(), DEFAULT)
    assert channels.key_of(f"/ebami/multicontainer-docker/2017.09/{name}") is None
    assert check_channel_name(".stable.") == ".stable."


@pytest.mark.parametrize(
    ("pattern", "channel", "problem"),
    [
        ("/{channel}/ami", "aws-beta",
         "'/aws-beta/ami' starts with aws or ssm, which SSM reserves (any case, /aws/ too); "
         "pick another name, such as /ebami/{platform}/{release}/{channel}"),
        ("/ebami/{channel}", "x" * 64, None),
        ("/" + "x" * 890 + "/{channel}", "x" * 64,
         f"'/{'x' * 39}'... is 955 characters long; in ap-southeast-5 SSM allows 954 (1011 with "
         "the parameter's ARN)"),
    ],
)  # fmt: skip
def test_parameter_names_ssm_would_refuse_are_refused_before_any_call(
    pattern: str, channel: str, problem: str | None
) -> None:
    ssm = ChannelSsm()
    check = channel_parameter_check("EBAMI_CHANNEL_PARAMETER", "ap-southeast-5")
    channels = Channels(ssm, pattern, check=check)
    key = channels.key(AL1, "2017.09", channel)
    if problem is None:
        assert channels.current(key) is None
        return
    with pytest.raises(InputError) as exc:
        channels.current(key)
    assert str(exc.value) == f"EBAMI_CHANNEL_PARAMETER: channel {key}: {problem}"
    assert ssm.calls == []


def test_all_lists_every_channel_under_the_prefix() -> None:
    ssm = ChannelSsm(
        {
            STABLE: channel("ami-a"),
            "/ebami/ecs-al2/2/canary": channel("ami-b"),
            "/ebami/ecs-al2/latest": channel("ami-c"),  # not a channel name
            "/elsewhere/x/y/z": channel("ami-d"),
        }
    )
    found = Channels(ssm, DEFAULT).all()
    assert [(state.parameter, state.key, state.image_id) for state in found] == [
        ("/ebami/ecs-al2/2/canary", ChannelKey("ecs-al2", "2", "canary"), "ami-b"),
        (STABLE, ChannelKey("multicontainer-docker", "2017.09", "stable"), "ami-a"),
    ]
    assert ssm.calls == [("GetParametersByPath", "/ebami")]


# --- the previous value ------------------------------------------------------------------------


def test_the_previous_value_skips_what_promote_would_refuse() -> None:
    """Only a value `promote --ami` accepts for the channel: each other one is named with why,
    newest first."""
    ec2 = ImagesEc2(
        images(
            ami("ami-good"),
            ami("ami-revoked", **{tags.REVOKED: "true"}),
            ami("ami-pending", "pending"),
            ami("ami-unverified", **{tags.VERIFIED: ""}),
            ami("ami-stock", **{tags.MANAGED: ""}),
            ami("ami-foreign"),
            ami("ami-al2", **{tags.PLATFORM: "ecs-al2", tags.RELEASE: ""}),
            ami("ami-2018", **{tags.RELEASE: "2018.03"}),
            ami("ami-now"),
        ),
        foreign={"ami-foreign"},
    )
    values = (
        "ami-older", "ami-good", "ami-gone", "ami-revoked", "ami-pending", "ami-unverified",
        "ami-stock", "ami-foreign", "ami-al2", "ami-2018", "ami-now", "ami-revoked", "ami-now",
    )  # fmt: skip
    key = ChannelKey("multicontainer-docker", "2017.09", "stable")
    history = Channels(ChannelSsm({STABLE: channel(*values)}), DEFAULT).history(key)
    candidates = Candidates(ec2)
    previous = previous_value(history, lambda value: candidates.refusal(value, key))
    assert previous.version is not None
    assert (previous.version.version, previous.image_id) == (2, "ami-good")
    assert [(item.version, item.image_id, item.reason) for item in previous.skipped] == [
        (12, "ami-revoked", "revoked"),
        (10, "ami-2018", "an AMI of release 2018.03"),
        (9, "ami-al2", "an AMI of ecs-al2"),
        (8, "ami-foreign", "another account's AMI"),
        (7, "ami-stock", "not an ebami AMI"),
        (6, "ami-unverified", "not verified"),
        (5, "ami-pending", "pending"),
        (4, "ami-revoked", "revoked"),
        (3, "ami-gone", "no longer exists"),
    ]
    assert previous.skipped_text().startswith("skipped version 12 ami-revoked (revoked); ")
    # This account's ebami AMIs are listed once; the others are looked up once each.
    assert ec2.calls == [
        ("DescribeImages", "tag:ebami:managed=true"),
        ("DescribeImages", "ami-foreign"),
        ("DescribeImages", "ami-stock"),
        ("DescribeImages", "ami-gone"),
    ]


def test_a_pattern_without_platform_and_release_takes_any_platform() -> None:
    al2 = ami("ami-al2", **{tags.PLATFORM: "ecs-al2", tags.RELEASE: ""})
    assert (
        Candidates(ImagesEc2(images(al2))).refusal("ami-al2", ChannelKey(None, None, "x")) is None
    )
    unknown = ami("ami-x", **{tags.PLATFORM: "windows"})
    key = ChannelKey("multicontainer-docker", "2017.09", "stable")
    assert Candidates(ImagesEc2(images(unknown))).refusal("ami-x", key) == (
        "no ebami:platform tag ebami knows"
    )


def test_no_previous_value() -> None:
    assert previous_value([], lambda image_id: None).version is None
    only_same = [ParameterVersion("p", n, "ami-a", "aws:ec2:image", None) for n in (1, 2)]
    assert previous_value(only_same, lambda image_id: None).version is None


# --- promote -----------------------------------------------------------------------------------


def promoter(ec2: ImagesEc2, ssm: ChannelSsm) -> PromotePlanner:
    return PromotePlanner(ec2=ec2, channels=Channels(ssm, DEFAULT), region="us-east-1")


def test_promote_plans_one_write_and_executes_it() -> None:
    ec2, ssm = ImagesEc2(images(ami("ami-a"), ami("ami-b"))), ChannelSsm({STABLE: channel("ami-a")})
    plan = promoter(ec2, ssm).plan("ami-b", "stable")
    assert (plan.parameter, plan.current, plan.current_version, plan.unchanged) == (
        STABLE, "ami-a", 1, False,
    )  # fmt: skip
    # The AMI is protected from deregistration before the channel names it.
    assert [(step.action, dict(step.params)) for step in plan.steps.instructions] == [
        ("protect", {"image_id": "ami-b", "why": "channel stable"}),
        ("publish", {"parameter": STABLE, "image_id": "ami-b"}),
    ]
    assert ssm.writes() == []  # planning reads only
    guarded = Protecting()
    actions = ChannelActions(ec2, ssm, guard=ImageGuard(guarded, RecordingReporter()))
    outputs = Executor(actions, RecordingReporter()).execute(plan.steps)
    assert outputs == {"version": 2}
    assert ssm.writes() == [("PutParameter", (STABLE, "ami-b"))]
    assert guarded.protected == ["ami-b"]


def test_an_ami_protected_already_is_not_protected_again() -> None:
    protected = replace(ami("ami-b"), deregistration_protection="enabled-without-cooldown")
    ec2, ssm = ImagesEc2(images(ami("ami-a"), protected)), ChannelSsm({STABLE: channel("ami-a")})
    plan = promoter(ec2, ssm).plan("ami-b", "stable")
    assert [step.action for step in plan.steps.instructions] == ["publish"]


class Protecting:
    """EC2's protection calls: the AMIs protected, in order."""

    def __init__(self) -> None:
        self.protected: list[str] = []

    def protect_image(self, image_id: str) -> str:
        self.protected.append(image_id)
        return "enabled-without-cooldown"

    def tag_resources(self, resource_ids: list[str], tags: dict[str, str]) -> None:
        assert list(tags) == ["ebami:protected-for"]


def test_promote_to_the_value_it_has_is_unchanged() -> None:
    ec2, ssm = ImagesEc2(images(ami("ami-a"))), ChannelSsm({STABLE: channel("ami-a")})
    plan = promoter(ec2, ssm).plan("ami-a", "stable")
    assert plan.unchanged
    assert plan.steps.instructions == ()
    assert "already names ami-a: nothing to do" in plan.steps.notes[-1]


def test_an_al2_ami_without_release_tag_goes_to_the_platforms_only_release() -> None:
    al2 = ami("ami-al2", **{tags.PLATFORM: "ecs-al2", tags.RELEASE: ""})
    plan = promoter(ImagesEc2(images(al2)), ChannelSsm()).plan("ami-al2", "stable")
    assert (plan.parameter, plan.current, plan.current_version) == (
        "/ebami/ecs-al2/2/stable",
        None,
        None,
    )


@pytest.mark.parametrize(
    ("image", "foreign", "reason"),
    [
        (None, False, "ami-b does not exist in us-east-1 or is not shared with this account"),
        (ami("ami-b", **{tags.MANAGED: ""}), False,
         "ami-b is not an AMI ebami made (no ebami:managed=true tag)"),
        (ami("ami-b"), True,
         "ami-b belongs to another account: only this account's AMIs qualify"),
        (ami("ami-b", "pending"), False, "ami-b cannot be promoted: it is pending, not available"),
        (ami("ami-b", **{tags.VERIFIED: ""}), False,
         "ami-b cannot be promoted: it is not verified (no ebami:verified tag): run ebami "
         "verify --ami ami-b"),
        (ami("ami-b", **{tags.REVOKED: "true", tags.REVOKED_REASON: "CVE-1",
                         tags.REVOKED_AT: "2026-11-22T10:00:00Z"}), False,
         "ami-b cannot be promoted: revoked at 2026-11-22T10:00:00Z: CVE-1; promote a verified "
         "AMI that is not revoked"),
        (ami("ami-b", **{tags.PLATFORM: "windows"}), False,
         "ami-b has no ebami:platform tag ebami knows: which channel it belongs to is unknown"),
    ],
    ids=["missing", "unmanaged", "foreign", "pending", "unverified", "revoked", "platform"],
)  # fmt: skip
def test_promote_refusals(image: Image | None, foreign: bool, reason: str) -> None:
    found = images(image) if image else {}
    ec2, ssm = (
        ImagesEc2(found, {"ami-b"} if foreign else set()),
        ChannelSsm({STABLE: channel("ami-a")}),
    )
    with pytest.raises(Refused) as exc:
        promoter(ec2, ssm).plan("ami-b", "stable")
    assert str(exc.value) == reason
    assert ssm.writes() == []


def test_promote_refuses_a_text_parameter_ssm_cannot_convert() -> None:
    ec2, ssm = ImagesEc2(images(ami("ami-b"))), ChannelSsm({STABLE: channel("x", data_type="text")})
    with pytest.raises(Refused, match="exists with data type text, and SSM cannot change"):
        promoter(ec2, ssm).plan("ami-b", "stable")


def test_promote_previous_steps_back_and_says_what_it_skipped() -> None:
    ec2 = ImagesEc2(images(ami("ami-a"), ami("ami-b"), ami("ami-c", **{tags.REVOKED: "true"})))
    ssm = ChannelSsm({STABLE: channel("ami-a", "ami-c", "ami-b")})
    plan = promoter(ec2, ssm).plan_previous(AL1, "2017.09", "stable")
    assert (plan.image_id, plan.current) == ("ami-a", "ami-b")
    assert plan.previous is not None
    assert plan.steps.facts["Previous"] == "ami-a (version 1)"
    assert plan.steps.notes == ("skipped version 2 ami-c (revoked)",)
    assert [dict(step.params) for step in plan.steps.instructions] == [
        {"image_id": "ami-a", "why": "channel stable"},
        {"parameter": STABLE, "image_id": "ami-a"},
    ]


def test_promote_previous_skips_what_promote_would_refuse() -> None:
    """A value written outside ebami (an unverified AMI, the stock one) is never stepped to."""
    stock = ami("ami-stock", **{tags.MANAGED: ""})
    ec2 = ImagesEc2(images(ami("ami-a"), ami("ami-u", **{tags.VERIFIED: ""}), stock, ami("ami-b")))
    ssm = ChannelSsm({STABLE: channel("ami-a", "ami-u", "ami-stock", "ami-b")})
    plan = promoter(ec2, ssm).plan_previous(AL1, "2017.09", "stable")
    assert plan.image_id == "ami-a"
    assert plan.steps.notes == (
        "skipped version 3 ami-stock (not an ebami AMI); version 2 ami-u (not verified)",
    )


def test_promote_reads_the_channel_back_and_fails_when_its_ami_was_revoked_meanwhile() -> None:
    ec2, ssm = ImagesEc2(images(ami("ami-a"), ami("ami-b"))), ChannelSsm({STABLE: channel("ami-a")})
    planner = promoter(ec2, ssm)
    plan = planner.plan("ami-b", "stable")
    # A revoke tags ami-b between the plan and the write (its own moves ran before ours).
    ec2.images["ami-b"] = ami(
        "ami-b",
        **{tags.REVOKED: "true", tags.REVOKED_REASON: "CVE 1",
           tags.REVOKED_AT: "2026-11-22T10:00:00Z"},
    )  # fmt: skip
    Executor(ChannelActions(ec2, ssm), RecordingReporter()).execute(plan.steps)
    with pytest.raises(NeedsAttention) as exc:
        planner.written(plan)
    assert str(exc.value) == (
        f"after this promote, channel stable (multicontainer-docker 2017.09) ({STABLE}) names "
        "ami-b, which was revoked at 2026-11-22T10:00:00Z: CVE 1 (another command wrote "
        "meanwhile); move it off with: ebami revoke --ami ami-b --reason 'CVE 1'"
    )
    assert exc.value.exit_code == 9


def test_promote_read_back_says_what_the_channel_names() -> None:
    ec2, ssm = ImagesEc2(images(ami("ami-a"), ami("ami-b"))), ChannelSsm({STABLE: channel("ami-a")})
    planner = promoter(ec2, ssm)
    plan = planner.plan("ami-b", "stable")
    Executor(ChannelActions(ec2, ssm), RecordingReporter()).execute(plan.steps)
    assert planner.written(plan).now == "ami-b"
    ssm.parameters[STABLE].append(("ami-a", "aws:ec2:image"))  # another promote, since
    assert planner.written(plan).now == "ami-a"
    del ssm.parameters[STABLE]
    assert planner.written(plan).now is None


def test_deleting_a_channel_leaves_it_when_it_names_another_ami_by_now() -> None:
    ssm = ChannelSsm({STABLE: channel("ami-a", "ami-b")})
    actions = ChannelActions(ImagesEc2(), ssm)
    assert actions.delete_channel(STABLE, "ami-a") is False
    assert ssm.writes() == []
    assert actions.delete_channel(STABLE, "ami-b") is True
    assert ssm.writes() == [("DeleteParameter", STABLE)]


def test_promote_previous_refusals() -> None:
    ec2 = ImagesEc2(images(ami("ami-b")))
    with pytest.raises(Refused) as exc:
        promoter(ec2, ChannelSsm()).plan_previous(AL1, "2017.09", "stable")
    assert str(exc.value) == (
        f"channel stable (multicontainer-docker 2017.09) has no value ({STABLE} does not exist): "
        "nothing to step back to; promote an AMI first: ebami promote --ami AMI --channel stable"
    )
    with pytest.raises(Refused) as exc:
        promoter(ec2, ChannelSsm({STABLE: channel("ami-gone", "ami-b")})).plan_previous(
            AL1, "2017.09", "stable"
        )
    assert str(exc.value) == (
        f"channel stable (multicontainer-docker 2017.09) has no earlier usable value in "
        f"{STABLE}'s history (skipped version 1 ami-gone (no longer exists)); promote an AMI "
        "instead: ebami promote --ami AMI --channel stable"
    )


# --- apply --channel ---------------------------------------------------------------------------


def test_apply_channel_resolves_the_environments_own_platform_and_release() -> None:
    ssm = ChannelSsm({STABLE: channel("ami-a")})
    found = world_with(ami("ami-a"), ami("ami-newer"))
    plan = apply_planner(found, ssm).plan("prod", None, ApplyOptions(channel="stable"))
    assert (plan.target, plan.refusal, plan.channel_parameter) == ("ami-a", None, STABLE)
    assert plan.steps.facts["Target AMI"] == f"ami-a (channel stable: {STABLE})"
    assert ssm.calls == [("GetParameter", STABLE)]


def test_apply_channel_without_a_value_is_refused() -> None:
    with pytest.raises(Refused) as exc:
        apply_planner(world_with(), ChannelSsm()).plan("prod", None, ApplyOptions(channel="stable"))
    assert str(exc.value) == (
        f"channel stable (multicontainer-docker 2017.09) has no AMI: {STABLE} does not exist or "
        "is empty; promote one first: ebami promote --ami AMI --channel stable"
    )


def test_apply_refuses_a_revoked_ami_naming_the_reason_and_the_way_on() -> None:
    revoked = ami(
        "ami-b",
        **{tags.REVOKED: "true", tags.REVOKED_REASON: "CVE-2026-1",
           tags.REVOKED_AT: "2026-11-22T10:00:00Z"},
    )  # fmt: skip
    found = world_with(revoked)
    ssm = ChannelSsm({STABLE: channel("ami-b")})
    by_channel = apply_planner(found, ssm).plan("prod", None, ApplyOptions(channel="stable"))
    assert by_channel.refusal == (
        "image gate: ami-b was revoked at 2026-11-22T10:00:00Z: CVE-2026-1; channel stable "
        "still names it: ebami revoke --ami ami-b moves every channel off it"
    )
    by_id = apply_planner(found, ssm).plan("prod", None, ApplyOptions(ami="ami-b"))
    assert by_id.refusal == (
        "image gate: ami-b was revoked at 2026-11-22T10:00:00Z: CVE-2026-1; ebami apply "
        "without --ami takes the newest verified AMI that is not revoked"
    )
    assert by_id.steps.instructions == ()


def test_the_default_choice_skips_a_revoked_ami() -> None:
    newest_revoked = Image(
        "ami-c", "c", "available", "2026-11-30T00:00:00.000Z",
        {**ami("ami-c").tags, tags.REVOKED: "true"}, (),
    )  # fmt: skip
    found = world_with(ami("ami-a"), newest_revoked)
    plan = apply_planner(found, ChannelSsm()).plan("prod", None, ApplyOptions())
    assert plan.target == "ami-a"


def test_apply_channel_name_is_checked() -> None:
    with pytest.raises(InputError, match="--channel 'a b' is not a channel name"):
        ApplyOptions(channel="a b")
