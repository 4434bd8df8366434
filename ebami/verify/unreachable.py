"""Why SSM cannot reach an instance, and what fixes it.

SSM Run Command needs three things: the agent in the image, an instance profile the agent can
register with, and a network route to the SSM endpoints (ssm, ssmmessages, ec2messages) through
an internet or NAT gateway or VPC interface endpoints. Some causes are certain before any wait
(no profile, an image known to lack the agent, an instance that is gone); the others are told
apart at the deadline from what SSM and EC2 report.
"""

from __future__ import annotations

from dataclasses import dataclass

from ebami.aws.ec2_values import Egress, Instance
from ebami.aws.ssm import ManagedInstance
from ebami.verify.expectations import Expectations

GONE_STATES = frozenset({"shutting-down", "terminated", "stopping", "stopped"})
SSM_ENDPOINT_SERVICES = frozenset({"ssm", "ssmmessages", "ec2messages"})
_ROLE_FIX = "a role with the AmazonSSMManagedInstanceCore policy"


def no_agent(expected: Expectations) -> str:
    return (
        f"{no_agent_cause(expected)}. Fix: bake the AMI with `ebami build` (it installs the agent "
        "on Amazon Linux 1) or install amazon-ssm-agent in the image"
    )


def no_agent_cause(expected: Expectations) -> str:
    return f"no SSM agent: {expected.ssm_agent_source}, so its instances never register with SSM"


def certain_cause(
    instance: Instance, expected: Expectations, *, launched: bool = False
) -> str | None:
    """A cause known without waiting, or None. An instance ebami `launched` has the profile
    ebami gave it, even while EC2 does not show the association yet."""
    stopped = gone(instance)
    if stopped:
        return stopped
    if not launched and not instance.instance_profile_arn:
        return (
            f"no instance profile: {instance.instance_id} has none, and the SSM agent needs one "
            f"to register. Fix: attach an instance profile with {_ROLE_FIX} "
            "(aws ec2 associate-iam-instance-profile)"
        )
    if expected.ssm_agent is False:
        return no_agent(expected)
    return None


def gone(instance: Instance) -> str | None:
    """Why SSM cannot reach an instance that is stopping or gone; None while it runs."""
    if instance.state not in GONE_STATES:
        return None
    reason = f" ({instance.state_reason})" if instance.state_reason else ""
    return f"the instance is {instance.state}{reason}, so SSM cannot reach it"


@dataclass(frozen=True)
class Sighting:
    """What EC2 and SSM said about an instance when the wait ended."""

    instance: Instance
    managed: ManagedInstance | None
    expected: Expectations
    egress: Egress | None
    waited: float
    launched: bool = False


def cause_at_deadline(seen: Sighting) -> str:
    """The most likely cause once the deadline passed without the instance being Online."""
    instance = seen.instance
    certain = certain_cause(instance, seen.expected, launched=seen.launched)
    if certain:
        return certain
    if seen.managed is not None:
        return (
            f"the SSM agent registered but is {seen.managed.ping_status}, not Online, after "
            f"{seen.waited:.0f} s: the agent stopped or lost its route to the SSM endpoints. Fix: "
            "check the agent on the instance (EC2 console output, `systemctl status "
            "amazon-ssm-agent`) and the subnet's route to the SSM endpoints"
        )
    route = _route_problem(instance, seen.egress)
    if route:
        return route
    return (
        f"the SSM agent did not register within {seen.waited:.0f} s: the image may lack it "
        f"({seen.expected.ssm_agent_source}), the instance profile's role may lack "
        f"AmazonSSMManagedInstanceCore, or a firewall or proxy blocks the SSM endpoints. Fix: "
        f"give {_ROLE_FIX}, or raise --timeout if the instance boots slowly"
    )


def _route_problem(instance: Instance, egress: Egress | None) -> str | None:
    if egress is None:
        return None
    if egress.endpoint_services >= SSM_ENDPOINT_SERVICES:
        return None
    endpoints = (
        f"VPC {instance.vpc_id} has no interface endpoints for "
        f"{', '.join(sorted(SSM_ENDPOINT_SERVICES - egress.endpoint_services))}"
    )
    fix = (
        "Fix: choose a subnet with a NAT gateway (--subnet-id or subnet_id in ebami.toml), or "
        "add VPC interface endpoints for ssm, ssmmessages and ec2messages"
    )
    if egress.default_route_target is None:
        return (
            f"no route to the SSM endpoints: subnet {instance.subnet_id} has no 0.0.0.0/0 "
            f"route and {endpoints}. {fix}"
        )
    if egress.via_internet_gateway and not instance.public_ip:
        return (
            f"no route to the SSM endpoints: subnet {instance.subnet_id} reaches the internet "
            f"through {egress.default_route_target}, but the instance has no public IP, and "
            f"{endpoints}. {fix}"
        )
    return None
