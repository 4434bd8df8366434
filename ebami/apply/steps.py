"""The instructions of an apply plan, in order, each performed by the method of its name of
`ebami.apply.actions.ApplyActions`."""

from __future__ import annotations

from ebami.aws.eb_values import Environment
from ebami.core.plan import Instruction, Ref, Step


class ApplyStep(Step):
    """The instructions of its plans: each is performed by the method of that name of
    `ebami.apply.actions.ApplyActions`."""

    PROTECT_IMAGES = "protect_images"
    UPDATE_IMAGE = "update_image"
    FOLLOW_UPDATE = "follow_update"
    REMEMBER_PREVIOUS = "remember_previous"


def instructions(
    environment: Environment,
    current: str | None,
    option: str | None,
    target: str | None,
    deadline: float,
    protect: tuple[str, ...] = (),
    *,
    rollback: bool = False,
) -> tuple[Instruction, ...]:
    """What an apply does, in order: protect the AMIs it leaves in use (`protect`), switch
    the ImageId (`option`; None removes it), follow the update to `target`, record the AMI it
    left (`current`) as the rollback target. With `rollback`: the way back, which records
    nothing."""
    what = "rollback" if rollback else "update"
    change = (
        f"removing {environment.name}'s ImageId option (back to the platform's AMI {target})"
        if option is None
        else f"switching {environment.name}'s ImageId from {current} to {option}"
    )
    steps = (
        [
            Instruction(
                ApplyStep.PROTECT_IMAGES,
                f"turning on the deregistration protection of {', '.join(protect)} (what "
                f"{environment.name} will run, and its way back)",
                {"image_ids": list(protect), "why": f"apply {environment.name}"},
            )
        ]
        if protect
        else []
    )
    steps += [
        Instruction(
            ApplyStep.UPDATE_IMAGE,
            change,
            {"image_id": option},
            output="request_id",
        ),
        Instruction(
            ApplyStep.FOLLOW_UPDATE,
            f"following the {what} of {environment.name} (deadline {deadline:g} s)",
            {
                "request_id": Ref("request_id"),
                "target": target,
                "previous": current,
                "deadline": deadline,
                "rollback": rollback,
            },
            output="followed",
        ),
    ]
    if not rollback and current is not None:
        steps.append(
            Instruction(
                ApplyStep.REMEMBER_PREVIOUS,
                f"recording {current} as {environment.name}'s rollback target",
                {"image_id": current},
            )
        )
    return tuple(steps)
