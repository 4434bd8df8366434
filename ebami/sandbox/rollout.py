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

import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from functools import partial

from ebami.sandbox import runtime
from ebami.sandbox.environments import (
    DEFAULT_OPTIONS,
    ROLLING_UPDATE,
    EbState,
    SandboxEnvironment,
    Step,
    Update,
    launch_instances,
    terminate_instances,
)
from ebami.sandbox.health import settle_health

STARTING = "Environment update is starting."
DEPLOYED = "Successfully deployed new configuration to environment."
COMPLETED = "Environment update completed successfully."
FAILED = "Failed to deploy configuration."
REVERTED = "The environment was reverted to the previous configuration setting."
COMPLETED_WITH_ERRORS = (
    "Update environment operation is complete, but with errors. "
    "For more information, see troubleshooting documentation."
)
ABORTED = "Aborting the environment update: rolling back to the previous configuration."

ENVIRONMENT_TYPE = ("aws:elasticbeanstalk:environment", "EnvironmentType")
HEALTH_SYSTEM = ("aws:elasticbeanstalk:healthreporting:system", "SystemType")
_DURATION = re.compile(r"PT(?=\d)(\d+H)?(\d+M)?(\d+S)?")


@dataclass(frozen=True)
class UpdatePolicy:
    """What `aws:autoscaling:updatepolicy:rollingupdate` says of replacing instances."""

    kind: str  # "Disabled", "Time", "Health" or "Immutable"
    batch_size: int
    min_in_service: int

    @classmethod
    def of(cls, options: Mapping[tuple[str, str], str]) -> UpdatePolicy:
        """The policy of an environment's options (checked by `check_policy`)."""

        def value(name: str) -> str:
            key = (ROLLING_UPDATE, name)
            return options.get(key, DEFAULT_OPTIONS[key])

        kind = value("RollingUpdateType")
        # Immutable stands on its own; Time and Health need rolling updates enabled.
        if kind != "Immutable" and value("RollingUpdateEnabled") != "true":
            kind = "Disabled"
        return cls(kind, int(value("MaxBatchSize")), int(value("MinInstancesInService")))


class PolicyRefused(Exception):
    """Option values Elastic Beanstalk refuses; `configuration` marks the refusals it reports
    as ConfigurationValidationException rather than InvalidParameterValue."""

    def __init__(self, message: str, *, configuration: bool = False) -> None:
        super().__init__(message)
        self.message = message
        self.configuration = configuration


def check_policy(env: SandboxEnvironment) -> None:
    """Refuse the environment's options (as they would be after an update) the way EB does."""
    for name, accepted in (
        ("RollingUpdateEnabled", ("true", "false")),
        ("RollingUpdateType", ("Time", "Health", "Immutable")),
    ):
        value = env.option_value(ROLLING_UPDATE, name)
        if value not in accepted:
            raise PolicyRefused(_invalid(name, value, f"Accepted values: {', '.join(accepted)}."))
    for name, low, high in (("MaxBatchSize", 1, 10000), ("MinInstancesInService", 0, 9999)):
        value = env.option_value(ROLLING_UPDATE, name)
        if not value.isdigit() or not low <= int(value) <= high:
            raise PolicyRefused(_invalid(name, value, f"Give a whole number from {low} to {high}."))
    for name in ("PauseTime", "Timeout"):
        value = env.option_value(ROLLING_UPDATE, name)
        if value and not _DURATION.fullmatch(value):
            raise PolicyRefused(_invalid(name, value, "Give an ISO 8601 duration such as PT5M."))
    policy = UpdatePolicy.of(env.options)
    if env.option_value(*ENVIRONMENT_TYPE) == "SingleInstance" and policy.kind in (
        "Time",
        "Health",
    ):
        # EB's wording (seen in terraform-aws-elastic-beanstalk-environment PR #119).
        raise PolicyRefused(
            "Configuration validation exception: "
            + _invalid(
                "RollingUpdateType",
                policy.kind,
                "You can't enable rolling updates for a single-instance environment.",
            ),
            configuration=True,
        )
    if policy.kind == "Immutable" and env.option_value(*HEALTH_SYSTEM) != "enhanced":
        raise PolicyRefused(
            "Configuration validation exception: Invalid option specification (Namespace: "
            f"'{ROLLING_UPDATE}', OptionName: 'RollingUpdateType'): Immutable updates require "
            "enhanced health reporting (option SystemType in namespace "
            "aws:elasticbeanstalk:healthreporting:system).",
            configuration=True,
        )


def _invalid(name: str, value: str, why: str) -> str:
    return (
        f"Invalid option value: '{value}' (Namespace: '{ROLLING_UPDATE}', OptionName: '{name}'): "
        f"{why}"
    )


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
    env.updated = datetime.now(timezone.utc)
    request_id = str(uuid.uuid4())
    update = Update(
        request_id,
        env.image_id,
        previous_image,
        previous_options,
        list(env.instance_ids),
        started=now,
    )
    env.update = update
    env.status = "Updating"
    state.emit(env, STARTING, request_id=request_id)
    if update.image_id == previous_image:
        update.reschedule([_deploy_configuration])
    elif not runtime.current().faults.update_stalls:
        update.reschedule(_plan(env, UpdatePolicy.of(env.options)))
    return request_id


def catch_up(states: list[EbState], now: float) -> None:
    """Run every environment update's steps that are due by `now` on the sandbox's clock."""
    for state in states:
        for env in state.environments.values():
            while (
                (update := env.update) is not None and update.steps and now >= update.next_step_at
            ):
                update.step += 1
                update.steps.popleft()(state, env, update)


def abort_update(state: EbState, env: SandboxEnvironment, now: float) -> bool:
    """Abort the environment's update at `now`: roll it back the way it went, on the clock.
    False when no abortable operation is in progress."""
    update = env.update
    if update is None or not update.abortable:
        return False
    update.abortable = False
    state.emit(env, ABORTED, "WARN", request_id=update.request_id)
    update.reschedule(_rollback(env, update), now)
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
    _finish(state, env, update)


def _launch_all(state: EbState, env: SandboxEnvironment, update: Update) -> None:
    rid = update.request_id
    state.emit(env, f"Updating Auto Scaling group named: {env.auto_scaling_group}.", request_id=rid)
    new = _launch(state, env, update, update.image_id, env.instance_count)
    if new is None:
        return
    update.new_instances += new
    env.instance_ids += new
    for instance_id in new:
        state.emit(env, f"Added instance [{instance_id}] to your environment.", request_id=rid)


def _replace_all(state: EbState, env: SandboxEnvironment, update: Update) -> None:
    rid = update.request_id
    old = [iid for iid in env.instance_ids if iid not in update.new_instances]
    _remove(state, env, update, old)
    settle_health(state, env, request_id=rid)
    # Rolling updates disabled: EB does not gate on health, so there is nothing to roll back.
    if env.health == "Red":
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
        state.emit(env, _rolling_initiated(total, policy), request_id=rid)
    new = _replace_batch(state, env, update, batch, update.image_id)
    if new is None:
        return
    update.new_instances += new
    state.emit(
        env,
        f"Successfully terminated instance(s) [{','.join(batch)}] "
        f"(Progress {done * 100 // max(total, 1)}%).",
        request_id=rid,
    )
    if gated and settle_health(state, env, request_id=rid) & set(new):
        _fail(state, env, update)


def _complete(
    policy: UpdatePolicy, state: EbState, env: SandboxEnvironment, update: Update
) -> None:
    rid = update.request_id
    if policy.kind == "Disabled" and env.health == "Red":
        _finish(state, env, update, COMPLETED_WITH_ERRORS, "ERROR")
        return
    if policy.kind != "Disabled":
        state.emit(env, DEPLOYED, request_id=rid)
    _finish(state, env, update)
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
    new = _launch(state, env, update, update.image_id, 1, update.temporary_group)
    if new is None:
        return
    update.temporary_instances += new
    state.emit(env, f"Added instance [{new[0]}] to your environment.", request_id=rid)


def _immutable_remaining_instances(state: EbState, env: SandboxEnvironment, update: Update) -> None:
    rid = update.request_id
    if settle_health(state, env, request_id=rid) & set(update.temporary_instances):
        _fail(state, env, update)
        return
    remaining = env.instance_count - len(update.temporary_instances)
    if remaining <= 0:
        return
    state.emit(
        env,
        "Test instance passed health checks. Launching remaining new instances.",
        request_id=rid,
    )
    new = _launch(state, env, update, update.image_id, remaining, update.temporary_group)
    if new is None:
        return
    update.temporary_instances += new
    state.emit(env, f"Added instances [{', '.join(new)}] to your environment.", request_id=rid)
    state.emit(env, "Successfully launched all instances.", request_id=rid)


def _immutable_promote(state: EbState, env: SandboxEnvironment, update: Update) -> None:
    rid = update.request_id
    if settle_health(state, env, request_id=rid) & set(update.temporary_instances):
        _fail(state, env, update)
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
    _remove(state, env, update, list(update.old_instances))
    settle_health(state, env)
    state.emit(env, DEPLOYED, request_id=rid)
    _finish(state, env, update)


# --- failing and rolling back ----------------------------------------------------------------


def _fail(state: EbState, env: SandboxEnvironment, update: Update) -> None:
    """Elastic Beanstalk rolls a failed update back by itself, on the following steps."""
    state.emit(env, FAILED, "ERROR", request_id=update.request_id)
    update.abortable = False
    update.reschedule(_rollback(env, update))


def _rollback(env: SandboxEnvironment, update: Update) -> list[Step]:
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
            _rolling_initiated(total, policy)
            if rolling
            else f"Updating Auto Scaling group named: {env.auto_scaling_group}."
        )
        state.emit(env, message, request_id=rid)
    kept = [iid for iid in env.instance_ids if iid not in update.new_instances]
    count = min(len(batch), max(0, env.instance_count - len(kept)))
    _replace_batch(state, env, update, batch, update.previous_image, count)


def _revert(state: EbState, env: SandboxEnvironment, update: Update) -> None:
    rid = update.request_id
    env.options = dict(update.previous_options)
    env.updated = datetime.now(timezone.utc)
    state.emit(env, REVERTED, request_id=rid)
    settle_health(state, env, request_id=rid)
    _finish(state, env, update, COMPLETED_WITH_ERRORS, "ERROR")


# --- helpers ---------------------------------------------------------------------------------


def _finish(
    state: EbState,
    env: SandboxEnvironment,
    update: Update,
    message: str = COMPLETED,
    severity: str = "INFO",
) -> None:
    env.update = None
    env.status = "Ready"
    env.updated = datetime.now(timezone.utc)
    state.emit(env, message, severity, request_id=update.request_id)


def _rolling_initiated(count: int, policy: UpdatePolicy) -> str:
    # CloudFormation's wording for the rolling update of the environment's Auto Scaling group.
    return (
        f"Rolling update initiated. Terminating {count} obsolete instance(s) in batches of "
        f"{policy.batch_size}, while keeping at least {policy.min_in_service} instance(s) in "
        "service."
    )


def _replace_batch(
    state: EbState,
    env: SandboxEnvironment,
    update: Update,
    batch: list[str],
    image_id: str,
    count: int | None = None,
) -> list[str] | None:
    """Launch `count` (default: as many) instances of `image_id` in place of `batch`, then
    terminate `batch`. None when the launch failed (the update then fails)."""
    rid = update.request_id
    count = len(batch) if count is None else count
    state.emit(
        env,
        f"Terminating instance(s) [{','.join(batch)}]; replacing with {count} new instance(s).",
        request_id=rid,
    )
    new = _launch(state, env, update, image_id, count) if count else []
    if new is None:
        return None
    env.instance_ids += new
    for instance_id in new:
        state.emit(env, f"Added instance [{instance_id}] to your environment.", request_id=rid)
    _remove(state, env, update, batch)
    return new


def _remove(state: EbState, env: SandboxEnvironment, update: Update, instances: list[str]) -> None:
    terminate_instances(env, instances)
    env.instance_ids = [iid for iid in env.instance_ids if iid not in instances]
    update.new_instances = [iid for iid in update.new_instances if iid not in instances]
    for instance_id in instances:
        state.emit(
            env,
            f"Removed instance [{instance_id}] from your environment.",
            request_id=update.request_id,
        )


def _launch(
    state: EbState,
    env: SandboxEnvironment,
    update: Update,
    image_id: str,
    count: int,
    group: str = "",
) -> list[str] | None:
    """Launch instances; when the image cannot be launched, fail the update (or, while rolling
    back, say so and go on with fewer instances)."""
    try:
        return launch_instances(env, image_id, count, group)
    except Exception as exc:  # moto's InvalidAMIID errors, whatever their class
        state.emit(
            env,
            f"Creating Auto Scaling launch configuration failed Reason: The image id "
            f"'[{image_id}]' does not exist ({type(exc).__name__})",
            "ERROR",
            request_id=update.request_id,
        )
        if update.abortable:
            _fail(state, env, update)
            return None
        return []
