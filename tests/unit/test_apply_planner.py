"""Planning an apply: the target, the gates, the refusals, the plan `--dry-run` shows."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from ebami.apply.options import ApplyOptions
from ebami.aws.ec2_values import Image
from ebami.core.errors import InputError, NotFoundError
from ebami.core.plan import Ref
from ebami.image import tags
from tests.fakes.apply import (
    ENVIRONMENT,
    STOCK,
    PlannerWorld,
    ami,
    apply_planner,
    planner,
    world_with,
)
from tests.fakes.channels import STABLE, ChannelSsm, channel

ROLLING = "aws:autoscaling:updatepolicy:rollingupdate"


def test_the_default_target_is_the_newest_verified_ami_that_fits() -> None:
    found = world_with(
        ami("ami-0old", "2026-10-01"),
        ami("ami-0new", "2026-11-01"),
        ami("ami-0al2", "2026-11-20", **{tags.PLATFORM: "ecs-al2", tags.RELEASE: "2"}),
        ami("ami-0nofluentd", "2026-11-21", **{tags.DRIVERS: "json-file none"}),
        ami("ami-0revoked", "2026-11-22", **{tags.REVOKED: "yes"}),
    )
    plan = planner(found).plan("prod", None, ApplyOptions())
    assert (plan.current, plan.target, plan.target_option) == (STOCK, "ami-0new", "ami-0new")
    assert plan.refusal is None
    assert not plan.unchanged
    assert [gate.verdict.value for gate in plan.gates] == ["pass"] * 4
    actions = [(step.action, dict(step.params)) for step in plan.steps.instructions]
    assert actions == [
        ("update_image", {"image_id": "ami-0new"}),
        ("follow_update", {"request_id": Ref("request_id"), "target": "ami-0new",
                           "previous": STOCK, "deadline": 600 + 1800.0, "rollback": False}),
        ("remember_previous", {"image_id": STOCK}),
    ]  # fmt: skip
    # The way back removes the option: the environment follows its platform's AMI again.
    back = [(step.action, dict(step.params)) for step in plan.rollback_steps.instructions]
    assert back[0] == ("update_image", {"image_id": None})
    assert back[1][1]["target"] == STOCK
    assert back[1][1]["rollback"] is True
    assert "GetObject" in found.reads
    # Only reads: the planner has no other way to reach AWS.
    assert set(found.reads) <= {
        "DescribeEnvironments", "DescribeConfigurationSettings", "DescribeEnvironmentResources",
        "DescribePlatformVersion", "DescribeApplicationVersions", "GetObject", "DescribeImages",
    }  # fmt: skip


def test_none_fits_names_what_was_looked_at() -> None:
    found = world_with(
        ami("ami-0al2", **{tags.PLATFORM: "ecs-al2", tags.RELEASE: "2"}),
        ami("ami-0nofluentd", **{tags.DRIVERS: "json-file none"}),
        ami("ami-02018", **{tags.RELEASE: "2018.03"}),
    )
    with pytest.raises(NotFoundError) as caught:
        planner(found).plan("prod", None, ApplyOptions())
    assert str(caught.value).startswith(
        "no verified ebami AMI in us-east-1 fits prod (multicontainer-docker, OS 2017.09, "
        "drivers fluentd); looked at 3: "
    )
    for why in ("ami-0al2 (platform ecs-al2)", "ami-0nofluentd (no fluentd driver)",
                "ami-02018 (release 2018.03)"):  # fmt: skip
        assert why in str(caught.value)


def test_the_dockerrun_gate_refuses_an_ami_without_the_app_s_driver() -> None:
    found = world_with(ami("ami-0nofluentd", **{tags.DRIVERS: "json-file syslog awslogs none"}))
    plan = planner(found).plan("prod", None, ApplyOptions(ami="ami-0nofluentd"))
    assert plan.refusal is not None
    assert plan.refusal.startswith("dockerrun gate: version 'v42' needs log driver fluentd")
    assert plan.steps.instructions == ()
    assert any(note.startswith("refused: dockerrun gate") for note in plan.steps.notes)


def test_refusals_of_status_and_gates() -> None:
    found = world_with(ami("ami-0new", **{tags.VERIFIED: ""}))
    plan = planner(found).plan("prod", None, ApplyOptions(ami="ami-0new"))
    assert plan.refusal is not None
    assert plan.refusal.startswith("verified gate: not verified")
    allowed = planner(found).plan("prod", None, ApplyOptions(ami="ami-0new", allow_unverified=True))
    assert allowed.refusal is None

    updating = world_with(ami("ami-0new"), environment=replace(ENVIRONMENT, status="Updating"))
    plan = planner(updating).plan("prod", None, ApplyOptions(ami="ami-0new"))
    assert plan.refusal == (
        "prod is Updating, not Ready: Elastic Beanstalk refuses an update while another runs "
        "(follow it: ebami events --env prod -f)"
    )

    missing = planner(world_with()).plan("prod", None, ApplyOptions(ami="ami-0gone"))
    assert [gate.name for gate in missing.gates] == ["image"]
    assert missing.refusal is not None
    assert "ami-0gone does not exist in us-east-1" in missing.refusal


def test_the_same_ami_is_nothing_to_do() -> None:
    found = world_with(ami("ami-0new"), configured="ami-0new")
    plan = planner(found).plan("prod", None, ApplyOptions(ami="ami-0new"))
    assert plan.unchanged
    assert plan.refusal is None
    assert plan.steps.instructions == ()
    assert plan.steps.notes == ("prod already runs ami-0new: nothing to do",)


def test_rollback_goes_to_the_recorded_ami_and_gates_only_inform() -> None:
    found = world_with(
        ami("ami-0new"), configured="ami-0new", env_tags={tags.PREVIOUS_IMAGE_ID: STOCK}
    )
    plan = planner(found).plan("prod", None, ApplyOptions(rollback=True))
    assert (plan.target, plan.target_option, plan.refusal) == (STOCK, None, None)
    # The stock AMI lacks fluentd and is unverified: said, not refused.
    verdicts = {gate.name: gate.verdict.value for gate in plan.gates}
    assert verdicts == {"image": "pass", "verified": "warn", "dockerrun": "warn",
                        "platform": "warn"}  # fmt: skip
    assert plan.steps.instructions[-1].params == {"image_id": "ami-0new"}

    with pytest.raises(NotFoundError, match="prod has no rollback target: no ebami apply"):
        planner(world_with(configured="ami-0new")).plan("prod", None, ApplyOptions(rollback=True))


def test_the_deadline_follows_the_policy_unless_given() -> None:
    options = {(ROLLING, "RollingUpdateEnabled"): "true", (ROLLING, "RollingUpdateType"): "Health",
               (ROLLING, "MaxBatchSize"): "1", (ROLLING, "Timeout"): "PT5M"}  # fmt: skip
    found = world_with(ami("ami-0new"), options=options, instances=3)
    plan = planner(found).plan("prod", None, ApplyOptions(ami="ami-0new"))
    assert plan.deadline == 600 + 3 * 300
    assert plan.steps.facts["Update policy"] == (
        "Health-based rolling update: 3 instances in 3 batches of 1, each batch healthy "
        "within 300 s"
    )
    given = planner(found).plan("prod", None, ApplyOptions(ami="ami-0new", timeout=90))
    assert given.deadline == 90
    assert given.steps.facts["Deadline"] == "90 s (--timeout)"


@pytest.mark.parametrize(
    ("kind", "note"),
    [
        ("Health", "on failure: Elastic Beanstalk rolls prod back to ami-0stock (the platform's "
         "AMI) itself (Health policy); ebami follows that and starts no update of its own"),
        ("Time", "on failure: prod is switched back to ami-0stock (the platform's AMI) and that "
         "update is followed too"),
    ],
)  # fmt: skip
def test_the_plan_says_who_rolls_back_under_the_policy(kind: str, note: str) -> None:
    options = {(ROLLING, "RollingUpdateEnabled"): "true", (ROLLING, "RollingUpdateType"): kind}
    found = world_with(ami("ami-0new"), options=options)
    plan = planner(found).plan("prod", None, ApplyOptions(ami="ami-0new"))
    assert plan.steps.notes[0] == note
    assert plan.steps.notes[1] == "Ctrl-C during the update aborts it (AbortEnvironmentUpdate)"


def test_the_plan_as_json_is_what_dry_run_prints() -> None:
    found = world_with(ami("ami-0new"))
    shown = planner(found).plan("prod", None, ApplyOptions()).steps.to_json()
    assert json.loads(json.dumps(shown)) == shown
    assert shown["facts"]["Gate dockerrun"].startswith("pass: ami-0new allows every log driver")
    assert [item["action"] for item in shown["instructions"]] == [
        "update_image", "follow_update", "remember_previous",
    ]  # fmt: skip


def test_unreadable_bundles_warn_and_do_not_refuse() -> None:
    found = world_with(ami("ami-0new"))
    found.bundle = b"not a dockerrun"
    plan = planner(found).plan("prod", None, ApplyOptions(ami="ami-0new"))
    gate = next(gate for gate in plan.gates if gate.name == "dockerrun")
    assert gate.verdict.value == "warn"
    assert "s3://bucket/webapp/v42.zip" in gate.detail


@pytest.mark.parametrize(
    ("options", "message"),
    [({"timeout": 0}, "--timeout 0 is out of range"),
     ({"ami": "ami-1", "rollback": True}, "not --ami and --rollback"),
     ({"ami": "ami-1", "channel": "stable"}, "not --ami and --channel")],
)  # fmt: skip
def test_options_refused_as_made(options: dict[str, object], message: str) -> None:
    with pytest.raises(InputError, match=message):
        ApplyOptions(**options)  # type: ignore[arg-type]


def test_a_bundle_s3_will_not_give_is_a_warning_not_an_error() -> None:
    from ebami.core.errors import AwsError

    class Missing(PlannerWorld):
        def read(self, bucket: str, key: str) -> bytes:
            raise AwsError(f"s3:GetObject s3://{bucket}/{key} failed: NoSuchKey")

    found = world_with(ami("ami-0new"))
    missing = Missing(bundle=found.bundle, images=found.images)
    plan = planner(missing).plan("prod", None, ApplyOptions(ami="ami-0new"))
    gate = next(gate for gate in plan.gates if gate.name == "dockerrun")
    assert gate.verdict.value == "warn"
    assert gate.detail.endswith(
        "s3://bucket/webapp/v42.zip: s3:GetObject s3://bucket/webapp/v42.zip failed: NoSuchKey"
    )
    assert plan.refusal is None


def test_a_timeout_under_a_second_is_refused() -> None:
    with pytest.raises(InputError, match=r"--timeout 0\.5 is out of range"):
        ApplyOptions(timeout=0.5)


# --- a fleet's pinned target ---------------------------------------------------------------------


def test_a_pinned_target_is_not_chosen_again_but_still_gated() -> None:
    """A fleet's later wave: the AMI chosen before wave 1, whatever is newest by then."""
    found = world_with(ami("ami-0canary", "2026-11-01"), ami("ami-0newer", "2026-11-20"))
    plan = planner(found).plan("prod", None, ApplyOptions(pinned="ami-0canary"))
    assert (plan.target, plan.refusal) == ("ami-0canary", None)
    assert (
        plan.steps.facts["Target AMI"] == "ami-0canary (chosen for the whole fleet before wave 1)"
    )
    assert found.scans == 0  # no new choice: the target's own read only
    revoked = world_with(ami("ami-0canary", **{tags.REVOKED: "true"}))
    refused = planner(revoked).plan("prod", None, ApplyOptions(pinned="ami-0canary"))
    assert refused.refusal is not None
    assert refused.refusal.startswith("image gate: ami-0canary was revoked")
    assert refused.refusal.endswith(
        "it was chosen for the fleet before wave 1 and revoked since: run ebami apply again to "
        "choose anew"
    )


def test_a_pinned_channel_target_is_not_read_again() -> None:
    ssm = ChannelSsm({STABLE: channel("ami-0moved")})
    found = world_with(ami("ami-0canary"), ami("ami-0moved"))
    options = ApplyOptions(channel="stable", pinned="ami-0canary")
    plan = apply_planner(found, ssm).plan("prod", None, options)
    assert (plan.target, plan.channel_parameter) == ("ami-0canary", STABLE)
    assert ssm.calls == []


def test_rollback_is_never_pinned() -> None:
    found = world_with(
        ami("ami-0old"), ami("ami-0new"), env_tags={tags.PREVIOUS_IMAGE_ID: "ami-0old"}
    )
    plan = planner(found).plan("prod", None, ApplyOptions(rollback=True, pinned="ami-0new"))
    assert plan.target == "ami-0old"


def test_the_plan_reads_the_health_baseline_of_an_enhanced_environment() -> None:
    from ebami.apply.planner import baseline_json
    from ebami.apply.policy import HEALTH_REPORTING

    found = world_with(
        ami("ami-0new"),
        environment=replace(ENVIRONMENT, health="Yellow", health_status="Warning"),
        options={(HEALTH_REPORTING, "SystemType"): "enhanced"},
        causes=("3 % of the requests are erroring with HTTP 5xx",),
    )
    plan = planner(found).plan("prod", None, ApplyOptions(ami="ami-0new"))
    assert plan.steps.facts["Health before"] == (
        "Yellow/Warning (3 % of the requests are erroring with HTTP 5xx); instances: 2 Warning"
    )
    shown = json.loads(json.dumps(baseline_json(plan)))["baseline"]
    assert (shown["color"], shown["status"], shown["enhanced"]) == ("Yellow", "Warning", True)
    assert [item["instance_id"] for item in shown["instances"]] == [
        "i-00000000000000000",
        "i-00000000000000001",
    ]
    # The reads of the baseline are Describe calls, once each.
    assert found.reads.count("DescribeEnvironmentHealth") == 1
    assert found.reads.count("DescribeInstancesHealth") == 1


def test_basic_health_has_a_colour_baseline_and_no_enhanced_reads() -> None:
    found = world_with(ami("ami-0new"))
    plan = planner(found).plan("prod", None, ApplyOptions(ami="ami-0new"))
    assert plan.baseline is not None
    assert plan.baseline.describe() == "Red/Severe"
    assert "DescribeInstancesHealth" not in found.reads
    assert "DescribeEnvironmentHealth" not in found.reads


def test_a_refused_plan_reads_no_baseline() -> None:
    found = world_with(ami("ami-0new", **{tags.DRIVERS: "json-file"}))
    plan = planner(found).plan("prod", None, ApplyOptions(ami="ami-0new"))
    assert plan.refusal is not None
    assert plan.baseline is None
    assert "Health before" not in plan.steps.facts


def owned(image: Image, **changes: str) -> Image:
    """`image` owned by the environment's account (123456789012), with `changes`."""
    return replace(image, owner_id="123456789012", **changes)  # type: ignore[arg-type]


def test_the_target_and_the_way_back_are_protected_before_the_update() -> None:
    found = world_with(
        owned(ami("ami-0old", "2026-10-01")),
        owned(ami("ami-0new", "2026-11-01")),
    )
    found.configured = "ami-0old"
    plan = planner(found).plan("prod", None, ApplyOptions())
    first = plan.steps.instructions[0]
    assert (first.action, dict(first.params)) == (
        "protect_images",
        {"image_ids": ["ami-0new", "ami-0old"], "why": "apply prod"},
    )
    # On the way back (a failed update) nothing more is protected.
    assert "protect_images" not in [step.action for step in plan.rollback_steps.instructions]


def test_only_own_unprotected_ebami_amis_are_protected() -> None:
    for image in (
        ami("ami-0new"),  # another account's (shared with this one)
        owned(ami("ami-0new"), deregistration_protection="enabled-without-cooldown"),
        owned(ami("ami-0new", **{tags.MANAGED: ""})),  # not ebami's
    ):
        plan = planner(world_with(image)).plan("prod", None, ApplyOptions(ami="ami-0new"))
        assert "protect_images" not in [step.action for step in plan.steps.instructions]
    cooling = owned(ami("ami-0new"), deregistration_protection="disabled-until 2026-11-02T00:00Z")
    plan = planner(world_with(cooling)).plan("prod", None, ApplyOptions(ami="ami-0new"))
    assert plan.steps.instructions[0].params["image_ids"] == ["ami-0new"]
