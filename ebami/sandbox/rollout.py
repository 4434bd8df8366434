"""How an environment update advances in the sandbox, step by step, as its update policy says.

A change of `aws:autoscaling:launchconfiguration/ImageId` replaces the instances according to
`aws:autoscaling:updatepolicy:rollingupdate`:

- rolling updates disabled: all instances at once, health settled at the end (no rollback);
- `Time`: batches of `MaxBatchSize`, no health gating; health is settled once the update is
  complete, so a bad AMI turns the environment Red after a "successful" update;
- `Health`: batches; a batch whose new instances fail health makes Elastic Beanstalk roll the
  update back by itself (a rolling update back to the previous AMI, then the configuration
  reverted);
- `Immutable`: a temporary Auto Scaling group with one test instance, then the rest; the new
  instances move into the permanent group once healthy, else the temporary group is dropped.

Which policies EB accepts is `ebami.sandbox.update_policy`; the moves with instances are
`ebami.sandbox.replacement`; a failed or aborted update is rolled back by `ebami.sandbox.rollback`.

One step runs every `UPDATE_STEP_SECONDS` of the sandbox's clock: before the sandbox answers
any call, `catch_up` runs the steps that are due, so progress depends on time, never on what a
client polls. Every event of an update carries the RequestId its UpdateEnvironment answered
with (an abort's events carry the aborted update's); health transitions carry none.

Event wording follows Elastic Beanstalk's where public material shows it: the EB CLI's
`ebcli/resources/strings.py` (the failure and success phrases it matches), EB event logs of
immutable updates, and CloudFormation's rolling-update events of the environment's Auto
Scaling group (which EB relays).
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from functools import partial

from ebami.sandbox import runtime
from ebami.sandbox.environments import EbState, SandboxEnvironment, Step, Update
from ebami.sandbox.health import settle_health
from ebami.sandbox.health_report import announce
from ebami.sandbox.replacement import finish, launch, remove, replace_batch, rolling_initiated
from ebami.sandbox.rollback import COMPLETED_WITH_ERRORS, FAILED, fail, rollback_steps
from ebami.sandbox.update_policy import PolicyRefused, UpdatePolicy, check_policy

STARTING = "Environment update is starting."
DEPLOYED = "Successfully deployed new configuration to environment."
ABORTED = "Aborting the environment update: rolling back to the previous configuration."


# --- starting, advancing, aborting -----------------------------------------------------------


def start_update(
    state: EbState,
    env: SandboxEnvironment,
    options: dict[tuple[str, str], str],
    removed: list[tuple[str, str]],
    now: float,
) -> str:
    """Apply option changes at `now` on the sandbox's clock and plan the update's steps.
    Returns the RequestId that every event of the update carries. PolicyRefused when EB would
    refuse the resulting options (nothing is changed then)."""
    previous_options = dict(env.options)
    previous_image = env.image_id
    for key in removed:
        env.options.pop(key, None)
    env.options.update(options)
    try:
        check_policy(env)
    except PolicyRefused:
        env.options = previous_options
        raise
    previous_updated, env.updated = env.updated, datetime.now(timezone.utc)
    request_id = str(uuid.uuid4())
    update = Update(
        request_id,
        env.image_id,
        previous_image,
        previous_options,
        list(env.instance_ids),
        started=now,
        draft_options=dict(env.options),
        requested=env.updated,
        previous_updated=previous_updated,
        began=now,
    )
    env.update = update
    env.status = "Updating"
    env.failed_draft = None  # a new update replaces the draft that failed
    env.deployment_id += 1
    state.emit(env, STARTING, request_id=request_id)
    if update.image_id == previous_image:
        update.reschedule([_deploy_configuration])
    elif not runtime.current().faults.update_stalls:
        update.reschedule(_plan(env, UpdatePolicy.of(env.options)))
    announce(state, env, now)
    return request_id


def catch_up(states: list[EbState], now: float) -> None:
    """Run every environment update's steps that are due by `now` on the sandbox's clock."""
    for state in states:
        for env in state.environments.values():
            while (
                (update := env.update) is not None and update.steps and now >= update.next_step_at
            ):
                # The step runs as of when it was due, however late the call that brought it.
                due, update.step = update.next_step_at, update.step + 1
                state.step_due = due
                try:
                    update.steps.popleft()(state, env, update)
                    announce(state, env, due)
                finally:
                    state.step_due = None
            announce(state, env, now)  # health that changes with time alone


def abort_update(state: EbState, env: SandboxEnvironment, now: float) -> bool:
    """Abort the environment's update at `now`: roll it back the way it went, on the clock.
    False when no abortable operation is in progress."""
    update = env.update
    if update is None or not update.abortable:
        return False
    update.abortable = False
    update.failed = update.reverting = True
    state.emit(env, ABORTED, "WARN", request_id=update.request_id)
    update.reschedule(rollback_steps(env, update), now)
    return True


def _plan(env: SandboxEnvironment, policy: UpdatePolicy) -> list[Step]:
    if policy.kind == "Immutable":
        return [_immutable_test_instance, _immutable_remaining_instances, _immutable_promote]
    complete = partial(_complete, policy)
    if policy.kind == "Disabled":
        return [_launch_all, _replace_all, complete]
    old = list(env.instance_ids)
    steps: list[Step] = []
    for start in range(0, len(old), policy.batch_size):
        batch = old[start : start + policy.batch_size]
        gated = policy.kind == "Health"
        steps.append(partial(_rolling_batch, policy, batch, done=start + len(batch), gated=gated))
    return [*steps, complete]


# --- the steps -------------------------------------------------------------------------------


def _deploy_configuration(state: EbState, env: SandboxEnvironment, update: Update) -> None:
    """An update of options alone: nothing to replace."""
    state.emit(env, DEPLOYED, request_id=update.request_id)
    finish(state, env, update)


def _launch_all(state: EbState, env: SandboxEnvironment, update: Update) -> None:
    rid = update.request_id
    state.emit(env, f"Updating Auto Scaling group named: {env.auto_scaling_group}.", request_id=rid)
    new = launch(state, env, update, update.image_id, env.instance_count)
    if new is None:  # the image cannot be launched
        fail(state, env, update)
        return
    update.new_instances += new
    env.instance_ids += new
    for instance_id in new:
        state.emit(env, f"Added instance [{instance_id}] to your environment.", request_id=rid)


def _replace_all(state: EbState, env: SandboxEnvironment, update: Update) -> None:
    rid = update.request_id
    old = [iid for iid in env.instance_ids if iid not in update.new_instances]
    remove(state, env, update, old)
    settle_health(state, env, request_id=rid)
    # Rolling updates disabled: EB does not gate on health, so there is nothing to roll back.
    if env.health == "Red":
        update.failed = True
        state.emit(env, FAILED, "ERROR", request_id=rid)
    else:
        state.emit(env, DEPLOYED, request_id=rid)


def _rolling_batch(
    policy: UpdatePolicy,
    batch: list[str],
    state: EbState,
    env: SandboxEnvironment,
    update: Update,
    *,
    done: int,
    gated: bool,
) -> None:
    """Replace one batch of old instances; under `Health`, a failing batch rolls back."""
    rid = update.request_id
    total = len(update.old_instances)
    if done == len(batch):  # the first batch
        state.emit(env, rolling_initiated(total, policy), request_id=rid)
    new = replace_batch(state, env, update, batch, update.image_id)
    if new is None:  # the image cannot be launched
        fail(state, env, update)
        return
    update.new_instances += new
    state.emit(
        env,
        f"Successfully terminated instance(s) [{','.join(batch)}] "
        f"(Progress {done * 100 // max(total, 1)}%).",
        request_id=rid,
    )
    if gated and settle_health(state, env, request_id=rid) & set(new):
        fail(state, env, update)


def _complete(
    policy: UpdatePolicy, state: EbState, env: SandboxEnvironment, update: Update
) -> None:
    rid = update.request_id
    if policy.kind == "Disabled" and env.health == "Red":
        finish(state, env, update, COMPLETED_WITH_ERRORS, "ERROR")
        return
    if policy.kind != "Disabled":
        state.emit(env, DEPLOYED, request_id=rid)
    finish(state, env, update)
    if policy.kind == "Time":
        # No health gating: health follows the new instances once the update is over.
        settle_health(state, env)


def _immutable_test_instance(state: EbState, env: SandboxEnvironment, update: Update) -> None:
    rid = update.request_id
    state.emit(
        env,
        "Immutable deployment policy enabled. Launching one instance with the new settings to "
        "verify health.",
        request_id=rid,
    )
    update.temporary_group = env.temporary_auto_scaling_group
    state.emit(
        env, f"Created temporary auto scaling group {update.temporary_group}.", request_id=rid
    )
    new = launch(state, env, update, update.image_id, 1, update.temporary_group)
    if new is None:  # the image cannot be launched
        fail(state, env, update)
        return
    update.temporary_instances += new
    state.emit(env, f"Added instance [{new[0]}] to your environment.", request_id=rid)


def _immutable_remaining_instances(state: EbState, env: SandboxEnvironment, update: Update) -> None:
    rid = update.request_id
    if settle_health(state, env, request_id=rid) & set(update.temporary_instances):
        fail(state, env, update)
        return
    remaining = env.instance_count - len(update.temporary_instances)
    if remaining <= 0:
        return
    state.emit(
        env,
        "Test instance passed health checks. Launching remaining new instances.",
        request_id=rid,
    )
    new = launch(state, env, update, update.image_id, remaining, update.temporary_group)
    if new is None:  # the image cannot be launched
        fail(state, env, update)
        return
    update.temporary_instances += new
    state.emit(env, f"Added instances [{', '.join(new)}] to your environment.", request_id=rid)
    state.emit(env, "Successfully launched all instances.", request_id=rid)


def _immutable_promote(state: EbState, env: SandboxEnvironment, update: Update) -> None:
    rid = update.request_id
    if settle_health(state, env, request_id=rid) & set(update.temporary_instances):
        fail(state, env, update)
        return
    state.emit(
        env,
        f"Detached new instance(s) from temporary auto scaling group {update.temporary_group}.",
        request_id=rid,
    )
    state.emit(
        env,
        f"Attached new instance(s) to the permanent auto scaling group {env.auto_scaling_group}.",
        request_id=rid,
    )
    state.emit(
        env,
        "Deployment succeeded. Terminating old instances and temporary Auto Scaling group.",
        request_id=rid,
    )
    update.new_instances += update.temporary_instances
    env.instance_ids += update.temporary_instances
    update.temporary_instances, update.temporary_group = [], ""
    remove(state, env, update, list(update.old_instances))
    settle_health(state, env)
    state.emit(env, DEPLOYED, request_id=rid)
    finish(state, env, update)
