"""The moves an environment update, and its rollback, make with instances, each with the events
Elastic Beanstalk shows for it: launching instances of an AMI, removing instances, replacing a
batch, and finishing the update.

Which moves an update makes, and when, is `ebami.sandbox.rollout` (and `ebami.sandbox.rollback`
when it is undone). A launch that fails while the update can still fail gives None: the caller
then fails the update (`ebami.sandbox.rollback.fail`).
"""

from __future__ import annotations

from datetime import datetime, timezone

from ebami.sandbox.drafts import failed_draft
from ebami.sandbox.environments import (
    EbState,
    Launch,
    SandboxEnvironment,
    Update,
    launch_instances,
    terminate_instances,
)
from ebami.sandbox.update_policy import UpdatePolicy

COMPLETED = "Environment update completed successfully."


def finish(
    state: EbState,
    env: SandboxEnvironment,
    update: Update,
    message: str = COMPLETED,
    severity: str = "INFO",
) -> None:
    env.update = None
    env.status = "Ready"
    env.updated = datetime.now(timezone.utc)
    env.failed_draft = failed_draft(update, env)
    # Enhanced health says "Configuration update completed" for a while after a success.
    env.last_update = None if update.failed else (update.began, state.now())
    state.emit(env, message, severity, request_id=update.request_id)


def rolling_initiated(count: int, policy: UpdatePolicy) -> str:
    # CloudFormation's wording for the rolling update of the environment's Auto Scaling group.
    return (
        f"Rolling update initiated. Terminating {count} obsolete instance(s) in batches of "
        f"{policy.batch_size}, while keeping at least {policy.min_in_service} instance(s) in "
        "service."
    )


def replace_batch(
    state: EbState,
    env: SandboxEnvironment,
    update: Update,
    batch: list[str],
    image_id: str,
    count: int | None = None,
) -> list[str] | None:
    """Launch `count` (default: as many) instances of `image_id` in place of `batch`, then
    terminate `batch`. None when the launch failed (the caller then fails the update)."""
    rid = update.request_id
    count = len(batch) if count is None else count
    state.emit(
        env,
        f"Terminating instance(s) [{','.join(batch)}]; replacing with {count} new instance(s).",
        request_id=rid,
    )
    new = launch(state, env, update, image_id, count) if count else []
    if new is None:
        return None
    env.instance_ids += new
    for instance_id in new:
        state.emit(env, f"Added instance [{instance_id}] to your environment.", request_id=rid)
    remove(state, env, update, batch)
    return new


def remove(state: EbState, env: SandboxEnvironment, update: Update, instances: list[str]) -> None:
    terminate_instances(env, instances)
    env.instance_ids = [iid for iid in env.instance_ids if iid not in instances]
    for instance_id in instances:
        env.launches.pop(instance_id, None)
    update.new_instances = [iid for iid in update.new_instances if iid not in instances]
    for instance_id in instances:
        state.emit(
            env,
            f"Removed instance [{instance_id}] from your environment.",
            request_id=update.request_id,
        )


def launch(
    state: EbState,
    env: SandboxEnvironment,
    update: Update,
    image_id: str,
    count: int,
    group: str = "",
) -> list[str] | None:
    """Launch instances. When the image cannot be launched, say so, then give None while the
    update is abortable (the caller fails it), or [] while it rolls back, which goes on with
    fewer instances."""
    try:
        launched = launch_instances(env, image_id, count, group)
    except Exception as exc:  # moto's InvalidAMIID errors, whatever their class
        state.emit(
            env,
            f"Creating Auto Scaling launch configuration failed Reason: The image id "
            f"'[{image_id}]' does not exist ({type(exc).__name__})",
            "ERROR",
            request_id=update.request_id,
        )
        return None if update.abortable else []
    for instance_id in launched:
        env.launches[instance_id] = Launch(state.now(), env.deployment_id)
    return launched
