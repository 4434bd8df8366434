"""Enhanced health's actions, which moto lacks: `DescribeEnvironmentHealth` and
`DescribeInstancesHealth`, answered from what `ebami.sandbox.health_report` reports now.

Both answer only the attributes asked for, as the API reference says: `AttributeNames` with
`All` gives every attribute; without any, `DescribeEnvironmentHealth` returns the environment's
name alone and `DescribeInstancesHealth` a list of instance ids. Shapes are botocore's
(`DescribeEnvironmentHealthResult`, `SingleInstanceHealth`, `Deployment`, `ApplicationMetrics`,
`SystemStatus`); `DescribeInstancesHealth` pages with `NextToken`. The metrics are the
sandbox's own steady numbers (it serves no traffic), except the share of HTTP 5xx the
unrelated-health fault puts on the environment.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from moto.core.responses import ActionResult
from moto.ec2.models import ec2_backends
from moto.elasticbeanstalk.responses import EBResponse

from ebami.sandbox import runtime
from ebami.sandbox.eb_requests import InvalidParameterValue, request_environment
from ebami.sandbox.environments import SandboxEnvironment
from ebami.sandbox.health_report import UNRELATED_5XX, Reported, environment_health, instance_health
from ebami.sandbox.patching import fill

INSTANCE_HEALTH_STATES = (
    "NoData", "Unknown", "Pending", "Ok", "Info", "Warning", "Degraded", "Severe"
)  # fmt: skip
ENVIRONMENT_ATTRIBUTES = (
    "Status", "Color", "Causes", "ApplicationMetrics", "InstancesHealth", "HealthStatus",
    "RefreshedAt",
)  # fmt: skip
INSTANCE_ATTRIBUTES = (
    "HealthStatus", "Color", "Causes", "ApplicationMetrics", "RefreshedAt", "LaunchedAt",
    "System", "Deployment", "AvailabilityZone", "InstanceType",
)  # fmt: skip
INSTANCES_PER_PAGE = 10  # AWS does not say how many instances a page holds
_SYSTEM = {
    "CPUUtilization": {
        "User": 0.3, "Nice": 0.0, "System": 0.2, "Idle": 99.4, "IOWait": 0.1, "IRQ": 0.0,
        "SoftIRQ": 0.0,
    },
    "LoadAverage": [0.0, 0.02, 0.05],
}  # fmt: skip
_LATENCY = {
    "P999": 0.004, "P99": 0.004, "P95": 0.003, "P90": 0.003, "P85": 0.002, "P75": 0.002,
    "P50": 0.001, "P10": 0.001,
}  # fmt: skip


def _wanted(self: EBResponse, known: tuple[str, ...]) -> set[str]:
    names = list(self._get_param("AttributeNames", []) or [])
    for name in names:
        if name != "All" and name not in known:
            raise InvalidParameterValue(
                f"AttributeNames {name!r} is not an attribute: give All or any of "
                + ", ".join(known)
            )
    return set(known) if "All" in names else set(names)


@fill(EBResponse, "DescribeEnvironmentHealth")
def describe_environment_health(self: EBResponse) -> ActionResult:
    env = request_environment(self)
    wanted = _wanted(self, ENVIRONMENT_ATTRIBUTES)
    sandbox = runtime.current()
    with sandbox.lock:
        now = sandbox.clock()
        reported = environment_health(env, now)
        states = [instance_health(env, iid, now).status for iid in env.serving_instances]
        level = sandbox.faults.unrelated_level(env.name)
        every = {
            # botocore's model names a colour here; the API reference and AWS say Ready etc.
            "Status": env.status,
            "Color": reported.color,
            "Causes": list(reported.causes),
            "ApplicationMetrics": _metrics(UNRELATED_5XX.get(level, 0), len(states)),
            "InstancesHealth": {name: states.count(name) for name in INSTANCE_HEALTH_STATES},
            "HealthStatus": reported.status,
            "RefreshedAt": datetime.now(timezone.utc),
        }
    result: dict[str, Any] = {"EnvironmentName": env.name}
    result.update({key: value for key, value in every.items() if key in wanted})
    return ActionResult(result)


@fill(EBResponse, "DescribeInstancesHealth")
def describe_instances_health(self: EBResponse) -> ActionResult:
    env = request_environment(self)
    wanted = _wanted(self, INSTANCE_ATTRIBUTES)
    token = str(self._get_param("NextToken") or "0")
    if not token.isdigit():
        raise InvalidParameterValue(f"NextToken {token!r} is not a token this call returned.")
    start = int(token)
    sandbox = runtime.current()
    with sandbox.lock:
        now = sandbox.clock()
        instances = env.serving_instances
        page = [
            _instance(env, iid, instance_health(env, iid, now), wanted)
            for iid in instances[start : start + INSTANCES_PER_PAGE]
        ]
    result: dict[str, Any] = {"InstanceHealthList": page}
    if "RefreshedAt" in wanted:
        result["RefreshedAt"] = datetime.now(timezone.utc)
    if start + INSTANCES_PER_PAGE < len(instances):
        result["NextToken"] = str(start + INSTANCES_PER_PAGE)
    return ActionResult(result)


def _instance(
    env: SandboxEnvironment, instance_id: str, reported: Reported, wanted: set[str]
) -> dict[str, Any]:
    ec2 = ec2_backends[env.account_id][env.region].get_instance(instance_id=instance_id)
    launched = ec2.launch_time
    launched = launched if launched.tzinfo else launched.replace(tzinfo=timezone.utc)
    launch = env.launches.get(instance_id)
    serving = reported.status not in ("Pending", "Severe") and reported.status != "NoData"
    every: dict[str, Any] = {
        "HealthStatus": reported.status,
        "Color": reported.color,
        "Causes": list(reported.causes),
        "LaunchedAt": launched,
        # Failures unrelated to the AMI are counted at the load balancer, not here.
        "ApplicationMetrics": _metrics(0, 1) if serving else {"Duration": 10, "RequestCount": 0},
        "System": _SYSTEM,
        "Deployment": {
            "VersionLabel": env.version_label,
            "DeploymentId": launch.deployment if launch else 1,
            "Status": _deployment_status(env, instance_id, reported),
            "DeploymentTime": launched,
        },
        "AvailabilityZone": ec2.availability_zone,
        "InstanceType": ec2.instance_type,
    }
    found: dict[str, Any] = {"InstanceId": instance_id}
    found.update({key: value for key, value in every.items() if key in wanted})
    return found


# Requests each instance serves in 10 s (steady numbers: no load is modelled).
REQUESTS_PER_INSTANCE = 20


def _deployment_status(env: SandboxEnvironment, instance_id: str, reported: Reported) -> str:
    if instance_id not in env.launches:
        return "Deployed"
    if reported.status == "Severe":
        return "Failed"
    return "In Progress" if reported.status in ("Pending", "Info") and env.update else "Deployed"


def _metrics(failing_5xx: int, instances: int) -> dict[str, Any]:
    """`ApplicationMetrics` of the last 10 s: the status codes are counts of the requests (as
    AWS answers them, and as `eb health` reads them: its percentages divide by RequestCount),
    `failing_5xx` percent of them 5xx."""
    requests = REQUESTS_PER_INSTANCE * instances
    errors = round(requests * failing_5xx / 100)
    return {
        "Duration": 10,
        "RequestCount": requests,
        "StatusCodes": {
            "Status2xx": requests - errors,
            "Status3xx": 0,
            "Status4xx": 0,
            "Status5xx": errors,
        },
        "Latency": _LATENCY,
    }
