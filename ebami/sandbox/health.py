"""Health of a sandbox Elastic Beanstalk environment, derived from its instances.

The ECS agent on each instance allows the drivers its ecs.config gives (read with ebami's agent
semantics); if the application's Dockerrun.aws.json needs a driver an instance does not allow,
task placement fails with `ATTRIBUTE` and health goes Red, as in the source article.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from moto.s3.models import s3_backends

from ebami.image.dockerrun import log_drivers, read_dockerrun
from ebami.image.ecsconfig import effective_drivers
from ebami.image.ecsfiles import (
    INSTANCE_CONFIG_PATH,
    JSON_CONFIG_PATH,
    USER_CONFIG_PATH,
    ConfigFile,
)
from ebami.image.ecsinit import EcsInitRules
from ebami.sandbox import runtime
from ebami.sandbox.health_report import announce
from ebami.sandbox.rootfs import ECS_INIT_PACKAGE, inside, installed_packages

if TYPE_CHECKING:
    from ebami.sandbox.environments import EbState, SandboxEnvironment


def settle_health(state: EbState, env: SandboxEnvironment, request_id: str = "") -> set[str]:
    """Derive health from the instances behind the environment (or the injected fault), emit
    its events (the transition as `ebami.sandbox.health_report` reports it) and return the
    instances that fail.

    ECS tries to place the application's task on an instance when it joins, so a placement
    failure is reported once per instance, for the request that launched it (`request_id`);
    the health transition belongs to no request, as on AWS."""
    instances = env.serving_instances
    required = required_drivers(state, env)
    fault = runtime.current().faults.fails_health(env.name)
    missing: dict[str, tuple[str, ...]] = {}
    for instance_id in instances:
        allowed = allowed_drivers(instance_id)
        lacking = tuple(driver for driver in required if driver not in allowed)
        if lacking:
            missing[instance_id] = lacking
    failing = set(missing) | (set(instances) if fault else set())
    joined = [iid for iid in missing if env.instance_health.get(iid) != "Severe"]
    if joined:
        arn = f"arn:aws:ecs:{env.region}:{env.account_id}:container-instance/{joined[0]}"
        state.emit(
            env,
            'Encountered error starting new ECS task: { "failures": [ { "reason": "ATTRIBUTE", '
            f'"arn": "{arn}" }} ], "tasks": [] }}',
            "ERROR",
            request_id=request_id,
        )
        state.emit(
            env, "Failed to start ECS task after retrying 2 times.", "ERROR", request_id=request_id
        )
    env.instance_health = {iid: "Severe" if iid in failing else "Ok" for iid in instances}
    env.instance_causes = {iid: _instance_cause(missing.get(iid, ())) for iid in failing}
    env.causes = _causes(missing, failing, len(instances))
    # Out of an update, fewer instances than the environment runs: its Auto Scaling group could
    # not launch them (a deregistered AMI). The cause's wording is the sandbox's own.
    short = max(0, env.instance_count - len(instances)) if env.update is None else 0
    if short:
        env.causes.append(
            f"{short} out of {env.instance_count} instances are missing: Auto Scaling could not "
            "launch them."
        )
    if failing or short:
        env.health, env.health_status = "Red", "Severe"
    else:
        env.health, env.health_status = "Green", "Ok"
    announce(state, env, state.now())
    return failing


def _instance_cause(lacking: tuple[str, ...]) -> str:
    if lacking:
        return (
            "ECS task placement failed: the instance does not allow the log driver(s) "
            f"{', '.join(lacking)} (ATTRIBUTE)."
        )
    return "ELB health is failing or not available for the instance."


def _causes(missing: dict[str, tuple[str, ...]], failing: set[str], total: int) -> list[str]:
    causes = []
    if missing:
        drivers = ", ".join(sorted({d for lacking in missing.values() for d in lacking}))
        causes.append(
            f"ECS task placement failed on {_share(len(missing), total)} instances: they do not "
            f"allow the log driver(s) {drivers} (ATTRIBUTE)."
        )
    if failing - set(missing):
        causes.append(
            f"ELB health is failing or not available for {_share(len(failing), total)} instances."
        )
    return causes


def _share(count: int, total: int) -> str:
    return "all" if count == total else f"{count} out of {total}"


def allowed_drivers(instance_id: str) -> tuple[str, ...]:
    """The log drivers the ECS agent on an instance allows, by the agent's own rules (none when
    its configuration stops the agent)."""
    root = runtime.current().roots.instance(instance_id)
    rules = EcsInitRules(installed_packages(root).get(ECS_INIT_PACKAGE))
    files = [
        ConfigFile(INSTANCE_CONFIG_PATH, _read_bytes(root, INSTANCE_CONFIG_PATH)),
        ConfigFile(USER_CONFIG_PATH, _read_bytes(root, USER_CONFIG_PATH)),
    ]
    json_config = ConfigFile(JSON_CONFIG_PATH, _read_bytes(root, JSON_CONFIG_PATH))
    return effective_drivers(files, ecs_init=rules, json_config=json_config).drivers


def _read_bytes(root: Path, path: str) -> bytes | None:
    try:
        return inside(root, path).read_bytes()
    except (OSError, ValueError):
        return None


def required_drivers(state: EbState, env: SandboxEnvironment) -> tuple[str, ...]:
    """The log drivers the deployed application version's containers use."""
    version = state.versions.get((env.application, env.version_label))
    if version is None:
        return ()
    backend = s3_backends[env.account_id]["aws"]
    stored = backend.get_object(bucket_name=version.bucket, key_name=version.key)
    if stored is None:
        return ()
    # The same reading of a source bundle as `ebami apply`'s Dockerrun gate: what the sandbox
    # places and what apply checks must not differ.
    uses = log_drivers(read_dockerrun(stored.value))
    return tuple(dict.fromkeys(use.driver for use in uses))
