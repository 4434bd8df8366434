"""A build plan as instructions for the plan/execute core: what `--dry-run` shows is what
`ebami build` executes."""

from __future__ import annotations

from ebami.build.options import BuildOptions
from ebami.build.planner import BuildPlan
from ebami.build.variables import packer_variables
from ebami.packer.template import AWS_SOURCE, SANDBOX_SOURCE
from ebami.plan import Instruction, Plan, Ref


def build_steps(
    plan: BuildPlan, options: BuildOptions, *, endpoint: str | None, sandbox: bool
) -> Plan:
    """`sandbox`: the EC2 endpoint is an ebami sandbox (its own marker said so), so Packer
    uses the template's source without communicator and provisioners. Any other endpoint
    override (a FIPS or VPC endpoint) gets the full build."""
    source = SANDBOX_SOURCE if sandbox else AWS_SOURCE
    facts = {
        "Action": plan.action,
        "Base AMI": plan.base.image_id,
        "Platform version": plan.base.platform_version or None,
        "Bake key": plan.bake_key.value,
        "Bake key inputs": dict(plan.bake_key.inputs),
        "Existing AMI": plan.existing.image_id if plan.existing else None,
        "Packer source": source,
    }
    if plan.skips:
        assert plan.existing is not None  # noqa: S101 - skips implies existing
        instructions = [
            Instruction(
                "reuse_image",
                f"{plan.existing.image_id} ({plan.existing.name}) already carries bake key "
                f"{plan.bake_key.value[:16]}…: nothing to build (--force builds anyway)",
                {"image": plan.existing},
                output="image",
            )
        ]
    else:
        instructions = [
            Instruction(
                "bake",
                f"packer build of {plan.ami_name} from {plan.base.image_id} ({source})",
                {
                    "source": source,
                    "ami_name": plan.ami_name,
                    "user_data": plan.user_data.text,
                    "variables": packer_variables(plan, options, endpoint=endpoint),
                },
                output="baked",
            ),
            Instruction(
                "tag_image",
                "make sure the AMI and its snapshots carry the provenance tags",
                {"baked": Ref("baked"), "tags": dict(plan.tags)},
                output="image",
            ),
        ]
    if options.ssm_parameter:
        instructions.append(
            Instruction(
                "publish_parameter",
                f"publish the AMI id as SSM parameter {options.ssm_parameter}",
                {"name": options.ssm_parameter, "image": Ref("image")},
                output="parameter_version",
            )
        )
    return Plan("build", facts, tuple(instructions))
