"""How Elastic Beanstalk undoes an environment update: when the update fails (`fail`), and when
it is aborted (`ebami.sandbox.rollout.abort_update`).

The rollback runs on the sandbox's clock like the update did, one step at a time: an immutable
update's temporary Auto Scaling group is dropped; instances of the new AMI are replaced with
instances of the previous one the way the last successful update went (in batches under a
rolling policy, all at once otherwise); then the configuration is reverted and the update ends
"complete, but with errors".
"""

from __future__ import annotations

from datetime import datetime, timezone
from functools import partial

from ebami.sandbox.environments import (
    EbState,
    SandboxEnvironment,
    Step,
    Update,
    terminate_instances,
)
from ebami.sandbox.health import settle_health
from ebami.sandbox.replacement import finish, replace_batch, rolling_initiated
from ebami.sandbox.update_policy import UpdatePolicy

FAILED = "Failed to deploy configuration."
REVERTED = "The environment was reverted to the previous configuration setting."
COMPLETED_WITH_ERRORS = (
    "Update environment operation is complete, but with errors. "
    "For more information, see troubleshooting documentation."
)


def fail(state: EbState, env: SandboxEnvironment, update: Update) -> None:
    """Elastic Beanstalk rolls a failed update back by itself, on the following steps."""
    state.emit(env, FAILED, "ERROR", request_id=update.request_id)
    update.abortable = False
    update.failed = update.reverting = True
    update.reschedule(rollback_steps(env, update))


def rollback_steps(env: SandboxEnvironment, update: Update) -> list[Step]:
    """The steps that undo the update: drop an immutable update's temporary group, or replace
    the new instances with instances of the previous AMI the way the update went; then revert
    the configuration."""
    steps: list[Step] = []
    if update.temporary_instances or update.temporary_group:
        steps.append(_drop_temporary_group)
    new = [iid for iid in env.instance_ids if iid in update.new_instances]
    if new:
        # EB rolls back the way the last successful update went: by the previous policy.
        policy = UpdatePolicy.of(update.previous_options)
        rolling = policy.kind in ("Time", "Health")
        size = max(1, policy.batch_size) if rolling else len(new)
        batches = [new[i : i + size] for i in range(0, len(new), size)]
        steps += [
            partial(_rollback_batch, policy, batch, first=i == 0, total=len(new), rolling=rolling)
            for i, batch in enumerate(batches)
        ]
    steps.append(_revert)
    return steps


def _drop_temporary_group(state: EbState, env: SandboxEnvironment, update: Update) -> None:
    temporary, update.temporary_instances = update.temporary_instances, []
    terminate_instances(env, temporary)
    for instance_id in temporary:
        state.emit(
            env,
            f"Removed instance [{instance_id}] from your environment.",
            request_id=update.request_id,
        )
    update.temporary_group = ""


def _rollback_batch(
    policy: UpdatePolicy,
    batch: list[str],
    state: EbState,
    env: SandboxEnvironment,
    update: Update,
    *,
    first: bool,
    total: int,
    rolling: bool,
) -> None:
    """Replace new instances with instances of the previous AMI, up to the original count."""
    rid = update.request_id
    if first:
        message = (
            rolling_initiated(total, policy)
            if rolling
            else f"Updating Auto Scaling group named: {env.auto_scaling_group}."
        )
        state.emit(env, message, request_id=rid)
    kept = [iid for iid in env.instance_ids if iid not in update.new_instances]
    count = min(len(batch), max(0, env.instance_count - len(kept)))
    # Never None: a rollback is not abortable, so a failed launch leaves fewer instances.
    replace_batch(state, env, update, batch, update.previous_image, count)


def _revert(state: EbState, env: SandboxEnvironment, update: Update) -> None:
    rid = update.request_id
    env.options = dict(update.previous_options)
    env.updated = datetime.now(timezone.utc)
    state.emit(env, REVERTED, request_id=rid)
    settle_health(state, env, request_id=rid)
    finish(state, env, update, COMPLETED_WITH_ERRORS, "ERROR")
