"""Replacing an environment's instance, as its Auto Scaling group does when an instance fails
a health check or is terminated: the group launches a new one from the launch configuration's
AMI. The route `POST /__ebami__/replace-instance` (ebami.sandbox.routes) calls it; the client
is ebami.sandbox.release.replace_instance.

When the AMI the environment names has been deregistered, the launch fails, as on AWS: the
environment is left one instance short, its health turns Severe, and an ERROR event names the
AMI. The event's wording joins the Auto Scaling activity's status message ("The image id
'[AMI]' does not exist. Launching EC2 instance failed.", which EB relays) to the sandbox's own
opening words.
"""

from __future__ import annotations

from ebami.core.errors import InputError
from ebami.sandbox import runtime
from ebami.sandbox.environments import (
    EbState,
    SandboxEnvironment,
    launch_instances,
    terminate_instances,
)
from ebami.sandbox.health import settle_health


def launch_failed(image_id: str) -> str:
    return (
        "Auto Scaling could not launch a replacement instance. Status Reason: The image id "
        f"'[{image_id}]' does not exist. Launching EC2 instance failed."
    )


def replace_instance(environment: str, region: str | None) -> dict[str, str | None]:
    """Terminate one instance of `environment` (in `region`, default the sandbox's) and launch
    its replacement from the environment's AMI. InputError for an unknown environment or one
    that is updating or has no instance."""
    sandbox = runtime.current()
    region = region or sandbox.region
    with sandbox.lock:
        state, env = _find(sandbox.eb_states, environment, region)
        if env.update is not None:
            raise InputError(f"{environment} is updating: replace an instance once it is Ready")
        if not env.instance_ids:
            raise InputError(f"{environment} has no instance to replace")
        old = env.instance_ids[0]
        terminate_instances(env, [old])
        env.instance_ids.remove(old)
        env.instance_health.pop(old, None)
        state.emit(env, f"Removed instance [{old}] from your environment.")
        try:
            new = launch_instances(env, env.image_id, 1)
        except Exception:  # moto's InvalidAMIID errors, whatever their class
            state.emit(env, launch_failed(env.image_id), "ERROR")
            settle_health(state, env)
            return {"terminated": old, "launched": None, "error": launch_failed(env.image_id)}
        env.instance_ids += new
        state.emit(env, f"Added instance [{new[0]}] to your environment.")
        settle_health(state, env)
        return {"terminated": old, "launched": new[0], "error": None}


def _find(
    states: list[EbState], environment: str, region: str
) -> tuple[EbState, SandboxEnvironment]:
    for state in states:
        if state.region == region and environment in state.environments:
            return state, state.environments[environment]
    raise InputError(f"no environment {environment} in {region}")
