"""A build plan as instructions for the plan/execute core: what `--dry-run` shows is what
`ebami build` executes."""

from __future__ import annotations

from typing import Any

from ebami.build.lease import LEASE_SECONDS, lease_name
from ebami.build.options import BuildOptions
from ebami.build.planner import BuildPlan
from ebami.build.variables import packer_variables
from ebami.core.plan import Instruction, Plan, Ref, Step
from ebami.packer.template import AWS_SOURCE, SANDBOX_SOURCE


class BuildStep(Step):
    """The instructions of its plans: each is performed by the method of that name of
    `ebami.build.actions.BuildActions`."""

    ACQUIRE_LEASE = "acquire_lease"
    RECHECK_BAKE_KEY = "recheck_bake_key"
    BAKE = "bake"
    TAG_IMAGE = "tag_image"
    DISCARD_UNFINISHED = "discard_unfinished"
    RELEASE_LEASE = "release_lease"
    REUSE_IMAGE = "reuse_image"
    SHARE_IMAGE = "share_image"
    TAG_EXISTING = "tag_existing"
    PUBLISH_PARAMETER = "publish_parameter"


def build_steps(
    plan: BuildPlan, options: BuildOptions, *, endpoint: str | None, sandbox: bool
) -> Plan:
    """`sandbox`: the EC2 endpoint is an ebami sandbox (its own marker said so), so Packer
    uses the template's source without communicator and provisioners. Any other endpoint
    override (a FIPS or VPC endpoint) gets the full build."""
    source = SANDBOX_SOURCE if sandbox else AWS_SOURCE
    facts: dict[str, Any] = {
        "Action": plan.action,
        "Base AMI": plan.base.image_id,
        "Platform version": plan.base.platform_version or None,
        "Bake key": plan.bake_key.value,
        "Bake key inputs": dict(plan.bake_key.inputs),
        "Existing AMI": plan.existing.image_id if plan.existing else None,
        "Packer source": source,
        "Build run": plan.run_id,
    }
    if plan.skips:
        return reuse_steps(plan, options, facts)
    lease = lease_name(plan.bake_key.value)
    facts["Lease"] = lease
    waiting = "wait while another run holds it" if options.wait else "--no-wait"
    instructions = [
        Instruction(
            BuildStep.ACQUIRE_LEASE,
            f"take the build lease of bake key {plan.bake_key.value[:16]}… (one bake of a bake "
            f"key at a time; {waiting})",
            {"name": lease, "run_id": plan.run_id, "seconds": LEASE_SECONDS, "wait": options.wait},
            output="lease",
        )
    ]
    if not plan.force:
        instructions.append(
            Instruction(
                BuildStep.RECHECK_BAKE_KEY,
                "look again for an AMI carrying the bake key: another run may have baked it "
                "meanwhile (then it is reused)",
                {"bake_key": plan.bake_key.value},
            )
        )
    instructions += [
        Instruction(
            BuildStep.BAKE,
            f"packer build of {plan.ami_name} from {plan.base.image_id} ({source})",
            {
                "source": source,
                "user_data": plan.user_data.text,
                "variables": packer_variables(plan, options, endpoint=endpoint),
            },
            output="baked",
        ),
        Instruction(
            BuildStep.TAG_IMAGE,
            "make sure the AMI and its snapshots carry the provenance tags",
            {"baked": Ref("baked"), "tags": dict(plan.tags)},
            output="image",
        ),
        *_publish(options),
    ]
    cleanup = (
        Instruction(
            BuildStep.DISCARD_UNFINISHED,
            "if the bake did not finish: remove the AMI this run registered (the one Packer "
            "reported, or carrying this run's ebami:build-run), never another run's",
            {"run_id": plan.run_id, "baked": Ref("baked")},
        ),
        Instruction(BuildStep.RELEASE_LEASE, "release the build lease", {"lease": Ref("lease")}),
    )
    return Plan("build", facts, tuple(instructions), cleanup, _leftover_notes(plan))


def reuse_steps(plan: BuildPlan, options: BuildOptions, facts: dict[str, Any]) -> Plan:
    """The plan of a build whose AMI exists (found while planning, or baked meanwhile by
    another run): nothing is baked, but what does not change the image still applies to it:
    `--share-with`, `--tag` and `--ssm-parameter`."""
    assert plan.existing is not None  # noqa: S101 - only for a plan that found its AMI
    image = plan.existing
    instructions = [
        Instruction(
            BuildStep.REUSE_IMAGE,
            f"{image.image_id} ({image.name}) already carries bake key "
            f"{plan.bake_key.value[:16]}…: nothing to build (--force builds anyway)",
            {"image": image},
            output="image",
        )
    ]
    copies = options.copies(plan.region)
    if options.share_with:
        instructions.append(
            Instruction(
                BuildStep.SHARE_IMAGE,
                f"let account {', '.join(options.share_with)} launch {image.image_id} "
                "(--share-with)",
                {"image": Ref("image"), "accounts": list(options.share_with), "copies": copies},
            )
        )
    if options.tags:
        instructions.append(
            Instruction(
                BuildStep.TAG_EXISTING,
                f"make sure {image.image_id} and its snapshots carry the tags asked for "
                f"({', '.join(options.tags)})",
                {"image": Ref("image"), "tags": dict(options.tags), "copies": copies},
                output="image",
            )
        )
    notes = _leftover_notes(plan)
    if copies and (options.share_with or options.tags):
        notes += (_copies_unchanged(copies),)
    return Plan("build", facts, (*instructions, *_publish(options)), notes=notes)


def _publish(options: BuildOptions) -> list[Instruction]:
    if not options.ssm_parameter:
        return []
    return [
        Instruction(
            BuildStep.PUBLISH_PARAMETER,
            f"publish the AMI id as SSM parameter {options.ssm_parameter}",
            {"name": options.ssm_parameter, "image": Ref("image")},
            output="parameter_version",
        )
    ]


def _leftover_notes(plan: BuildPlan) -> tuple[str, ...]:
    return tuple(f"left by an earlier run? {item}" for item in plan.leftovers)


def _copies_unchanged(copies: list[str]) -> str:
    return (
        f"the AMI's copies in {', '.join(copies)} keep their launch permissions and tags: "
        "--share-with and --tag apply to the AMI of the build region only when it exists already"
    )
