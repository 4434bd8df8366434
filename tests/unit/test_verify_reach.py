"""Why SSM cannot reach an instance: the certain causes at once, the others at the deadline."""

from __future__ import annotations

from dataclasses import replace

from ebami.aws.ec2_values import Egress, Instance
from ebami.aws.ssm import ManagedInstance
from ebami.verify import unreachable
from tests.fakes.verify import RUNNING, expected


def sighting(
    instance: Instance = RUNNING,
    *,
    managed: ManagedInstance | None = None,
    egress: Egress | None = None,
    agent: bool | None = None,
) -> unreachable.Sighting:
    return unreachable.Sighting(instance, managed, expected(agent), egress, 600.0)


def test_no_profile_no_agent_and_gone_are_certain_at_once() -> None:
    assert unreachable.certain_cause(RUNNING, expected()) is None
    no_profile = unreachable.certain_cause(replace(RUNNING, instance_profile_arn=""), expected())
    assert no_profile is not None
    assert no_profile.startswith("no instance profile: i-0123456789abcdef0 has none")
    assert "AmazonSSMManagedInstanceCore" in no_profile
    # ebami gave the profile itself to an instance it launched
    assert (
        unreachable.certain_cause(
            replace(RUNNING, instance_profile_arn=""), expected(), launched=True
        )
        is None
    )
    no_agent = unreachable.certain_cause(RUNNING, expected(agent=False))
    assert no_agent is not None
    assert no_agent.startswith("no SSM agent: tag ebami:ssm-agent=no")
    stopped = unreachable.certain_cause(
        replace(RUNNING, state="stopped", state_reason="Client.UserInitiatedShutdown"),
        expected(),
    )
    assert stopped == (
        "the instance is stopped (Client.UserInitiatedShutdown), so SSM cannot reach it"
    )


def test_a_registered_agent_that_is_not_online_lost_its_connection() -> None:
    lost = ManagedInstance(RUNNING.instance_id, "ConnectionLost", "3.3.0", "")
    cause = unreachable.cause_at_deadline(sighting(managed=lost))
    assert cause.startswith(
        "the SSM agent registered but is ConnectionLost, not Online, after 600 s"
    )


def test_no_default_route_and_no_endpoints_is_no_route() -> None:
    cause = unreachable.cause_at_deadline(sighting(egress=Egress(None, frozenset())))
    assert cause.startswith("no route to the SSM endpoints: subnet subnet-1 has no 0.0.0.0/0 route")
    assert "ec2messages, ssm, ssmmessages" in cause


def test_an_internet_gateway_needs_a_public_ip() -> None:
    egress = Egress("igw-1", frozenset())
    assert "no public IP" in unreachable.cause_at_deadline(
        sighting(replace(RUNNING, public_ip=""), egress=egress)
    )
    # with a public IP the route is fine: the cause is something else
    assert unreachable.cause_at_deadline(sighting(egress=egress)).startswith(
        "the SSM agent did not register within 600 s"
    )


def test_vpc_endpoints_make_a_private_subnet_fine() -> None:
    egress = Egress(None, frozenset({"ssm", "ssmmessages", "ec2messages"}))
    assert unreachable.cause_at_deadline(sighting(egress=egress)).startswith(
        "the SSM agent did not register"
    )


def test_nat_gateway_route_is_fine() -> None:
    cause = unreachable.cause_at_deadline(sighting(egress=Egress("nat-1", frozenset())))
    assert cause.startswith("the SSM agent did not register")
    assert "raise --timeout" in cause
