"""Health of a sandbox Elastic Beanstalk environment, derived from its instances.

The ECS agent on each instance allows the drivers its ecs.config gives (read with ebami's agent
semantics); if the application's Dockerrun.aws.json needs a driver an instance does not allow,
task placement fails with `ATTRIBUTE` and health goes Red, as in the source article.
"""

from __future__ import annotations

import io
import json
import zipfile
from typing import TYPE_CHECKING, Any

from moto.s3.models import s3_backends

from ebami.ecsconfig import (
    INSTANCE_CONFIG_PATH,
    USER_CONFIG_PATH,
    ConfigFile,
    ecs_init_default_drivers,
    effective_drivers,
)
from ebami.sandbox import runtime
from ebami.sandbox.rootfs import ECS_INIT_PACKAGE, installed_packages, read_text

if TYPE_CHECKING:
    from ebami.sandbox.environments import EbState, SandboxEnvironment


def settle_health(state: EbState, env: SandboxEnvironment, request_id: str = "") -> None:
    """Derive health from the instances (or the injected fault) and emit its events: task
    placement failures belong to the request that deployed (`request_id`), the health
    transition to none."""
    before = env.health_status
    required = required_drivers(state, env)
    failing: dict[str, tuple[str, ...]] = {}
    for instance_id in env.instance_ids:
        missing = tuple(driver for driver in required if driver not in allowed_drivers(instance_id))
        if missing:
            failing[instance_id] = missing
    if failing:
        arn = f"arn:aws:ecs:{env.region}:{env.account_id}:container-instance/{next(iter(failing))}"
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
        drivers = ", ".join(sorted({d for missing in failing.values() for d in missing}))
        env.causes = [
            f"ECS task placement failed on {len(failing)} out of {len(env.instance_ids)} "
            f"instances: no instance allows the log driver(s) {drivers} (ATTRIBUTE)."
        ]
        env.health, env.health_status = "Red", "Severe"
    elif runtime.current().faults.update_fails_health:
        env.causes = ["ELB health is failing or not available for all instances."]
        env.health, env.health_status = "Red", "Severe"
    else:
        env.causes = []
        env.health, env.health_status = "Green", "Ok"
    if env.health_status != before:
        message = f"Environment health has transitioned from {before} to {env.health_status}."
        if env.causes:
            message += " " + env.causes[0]
        state.emit(env, message, "WARN" if env.health == "Red" else "INFO")


def allowed_drivers(instance_id: str) -> tuple[str, ...]:
    """The log drivers the ECS agent on an instance allows, by the agent's own rules."""
    root = runtime.current().roots.instance(instance_id)
    files = [
        ConfigFile(INSTANCE_CONFIG_PATH, read_text(root, INSTANCE_CONFIG_PATH)),
        ConfigFile(USER_CONFIG_PATH, read_text(root, USER_CONFIG_PATH)),
    ]
    defaults = ecs_init_default_drivers(installed_packages(root).get(ECS_INIT_PACKAGE))
    return effective_drivers(files, ecs_init_defaults=defaults).drivers


def required_drivers(state: EbState, env: SandboxEnvironment) -> tuple[str, ...]:
    """The log drivers the deployed application version's containers use."""
    location = state.versions.get((env.application, env.version_label))
    if location is None:
        return ()
    bucket, key = location
    backend = s3_backends[env.account_id]["aws"]
    stored = backend.get_object(bucket_name=bucket, key_name=key)
    if stored is None:
        return ()
    dockerrun = _dockerrun(stored.value)
    drivers = []
    for container in dockerrun.get("containerDefinitions", []):
        driver = (container.get("logConfiguration") or {}).get("logDriver")
        if driver and driver not in drivers:
            drivers.append(driver)
    return tuple(drivers)


def _dockerrun(bundle: bytes) -> dict[str, Any]:
    if bundle[:2] == b"PK":
        with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
            return dict(json.loads(archive.read("Dockerrun.aws.json")))
    return dict(json.loads(bundle))
