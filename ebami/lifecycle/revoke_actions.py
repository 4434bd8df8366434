"""What `ebami revoke` changes, each in its instruction's region (`RevokeActions`), and running
its plan: a run stopped part way says what is done, what is left, and that running the same
revoke again finishes the job; after the writes, the channels are read back
(`ebami.lifecycle.readback`)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from ebami.core.errors import EbamiError
from ebami.core.plan import Executor, Instruction
from ebami.image import tags
from ebami.lifecycle.channel_actions import ChannelActions
from ebami.lifecycle.readback import RevokedChannel
from ebami.lifecycle.revoke import RevokePlan, RevokePlanner

# Reading the channels back reads a handful of things; throttling may stretch it.
READBACK_SECONDS = 300.0


@dataclass
class RevokeActions:
    """What revoke changes, one method per plan instruction, each in its instruction's region."""

    regions: Mapping[str, ChannelActions]
    warn: Callable[[str], None] = lambda message: None

    def tag_revoked(self, region: str, image_id: str, tags: dict[str, str]) -> None:
        self.regions[region].tag_revoked(image_id, tags)

    def publish(
        self, region: str, parameter: str, image_id: str, replacing: str | None = None
    ) -> int | None:
        """Move the channel to `image_id`; with `replacing`, only while it still names that
        AMI (read just before): another run's promote since the plan is left as it is."""
        actions = self.regions[region]
        if replacing is not None:
            now = actions.current(parameter)
            if now != replacing:
                self.warn(
                    f"channel {parameter} in {region} no longer names {replacing} (now "
                    f"{now or 'no value'}): left as it is"
                )
                return None
        return actions.publish(parameter, image_id)

    def delete_channel(self, region: str, parameter: str, image_id: str) -> bool:
        return self.regions[region].delete_channel(parameter, image_id)

    def deprecate(self, region: str, image_id: str, when: str) -> None:
        self.regions[region].deprecate(image_id, when)

    def disable(self, region: str, image_id: str) -> None:
        self.regions[region].disable(image_id)


def execute_revoke(plan: RevokePlan, executor: Executor, *, warn: Callable[[str], None]) -> None:
    """Runs the plan. When it stops part way, the error says
    what is done, what is left, and that running the same revoke again finishes the job (an
    interruption that is no ebami error gets it as a warning)."""
    try:
        executor.execute(plan.steps)
    except EbamiError as exc:
        hint = unfinished(plan, executor.executed[:-1])
        if hint is not None:
            exc.message = f"{exc.message}; {hint}"
            exc.args = (exc.message,)
        raise
    except BaseException:
        hint = unfinished(plan, executor.executed[:-1])
        if hint is not None:
            warn(hint)
        raise


def unfinished(plan: RevokePlan, done: Sequence[Instruction]) -> str | None:
    """What a revocation stopped after `done` (the instructions that completed) left undone,
    and how to finish; None when it changed nothing yet."""
    tagged = [
        target.image_id
        for target in plan.targets
        if target.already or (target.tag_step is not None and target.tag_step in done)
    ]
    if not tagged:
        return None
    left = [
        f"{target.image_id} in {target.region} is not tagged yet"
        for target in plan.targets
        if target.tag_step is not None and target.tag_step not in done
    ]
    left += [
        f"channel {move.state.key} ({move.state.parameter}) still names {move.state.image_id}"
        for move in plan.moves
        if move.step not in done
    ]
    left += [
        f"{target.image_id} is not deprecated yet"
        for target in plan.targets
        if target.deprecate_step is not None and target.deprecate_step not in done
    ]
    if not left:
        return None
    return (
        f"{', '.join(tagged)} tagged {tags.REVOKED}=true, but {'; '.join(left)}: running the "
        f"same revoke again finishes the job: {plan.command()}"
    )


def run_revoke(
    plan: RevokePlan,
    planner: RevokePlanner,
    executor: Executor,
    *,
    bounded: Callable[[float], AbstractContextManager[Any]],
    warn: Callable[[str], None],
) -> list[RevokedChannel]:
    """Run the plan, then read the channels back: those another revoke or promote left naming
    a revoked AMI since the plan."""
    execute_revoke(plan, executor, warn=warn)
    with bounded(READBACK_SECONDS):
        return planner.written(plan)
