"""Clean-up under throttling, through real botocore clients whose HTTP answers are stubbed: the
session's deadline bounds keep a throttled TerminateInstances trying (on the executor's fake
clock) past botocore's own 3 attempts, and what AWS still refuses at the clean-up's deadline is
named with the command that removes it, the run's result kept."""

from __future__ import annotations

from typing import Any

import pytest

from ebami.aws.bounds import MAX_ATTEMPTS
from ebami.aws.ec2 import Ec2
from ebami.aws.ec2_values import Instance
from ebami.aws.session import AwsCli, AwsSession
from ebami.core.errors import AwsError, Leftover
from ebami.core.plan import Executor, Instruction, Plan
from ebami.core.waiting import Deadline
from ebami.verify.actions import VerifyActions
from tests.fakes.clock import FakeClock
from tests.fakes.throttling import ThrottlingEndpoint
from tests.helpers import RecordingReporter

INSTANCE = Instance("i-0123456789abcdef0", "ami-1", "running", "", "", "", "", "", {})
THROTTLING = (
    b"<Response><Errors><Error><Code>Throttling</Code><Message>Rate exceeded</Message>"
    b"</Error></Errors><RequestID>r</RequestID></Response>"
)
TERMINATED = b"<TerminateInstancesResponse><instancesSet/></TerminateInstancesResponse>"


def endpoint_of(throttles: int | None) -> ThrottlingEndpoint:
    return ThrottlingEndpoint(throttles, THROTTLING, TERMINATED)


@pytest.fixture
def session() -> AwsSession:
    return AwsSession(region="us-east-1")


def throttled_ec2(session: AwsSession, endpoint: ThrottlingEndpoint) -> Ec2:
    client = session.client("ec2")
    # Answers instead of the network (the tests make no other EC2 call).
    client.meta.events.register("before-send.ec2", endpoint)
    return Ec2(client)


class Work:
    """A run that succeeded, then verify's own clean-up action."""

    def __init__(self, terminate: VerifyActions) -> None:
        self.terminate = terminate.terminate

    def work(self) -> str:
        return "the report"


PLAN = Plan(
    "verify",
    instructions=(Instruction("work", "checking", output="report"),),
    cleanup=(
        Instruction(
            "terminate",
            "terminating",
            {"instance": INSTANCE, "run_tag": "run-1"},
            output="terminated",
        ),
    ),
)


def clean_up(session: AwsSession, ec2: Ec2, clock: FakeClock) -> tuple[Executor, dict[str, Any]]:
    actions = VerifyActions(
        ec2=ec2,
        ssm=None,  # type: ignore[arg-type]  # the clean-up makes no SSM call
        reporter=RecordingReporter(),
        deadline=Deadline(30.0, clock=clock, sleep=clock.sleep),
        cli=session.cli,
    )
    executor = Executor(
        Work(actions), RecordingReporter(), bounds=session.bounded, clock=clock, sleep=clock.sleep
    )
    return executor, executor.execute(PLAN)


def test_outside_a_deadline_botocore_makes_its_three_attempts(session: AwsSession) -> None:
    endpoint = endpoint_of(None)
    ec2 = throttled_ec2(session, endpoint)
    with pytest.raises(AwsError, match="failed: Throttling: Rate exceeded"):
        ec2.terminate_instances([INSTANCE.instance_id])
    assert MAX_ATTEMPTS == 3
    assert endpoint.attempts == [1, 2, 3]


def test_a_clean_up_throttled_past_botocore_s_attempts_still_terminates(
    session: AwsSession,
) -> None:
    endpoint = endpoint_of(10)
    clock = FakeClock()
    executor, outputs = clean_up(session, throttled_ec2(session, endpoint), clock)
    assert endpoint.attempts == list(range(1, 12))  # one call, eleven attempts
    assert outputs == {"report": "the report", "terminated": [INSTANCE.instance_id]}
    assert executor.left_behind == []
    assert 0 < clock.now < 120.0  # the pauses were taken on the executor's clock


def test_what_throttling_keeps_until_the_clean_up_deadline_is_named_with_its_command(
    session: AwsSession,
) -> None:
    endpoint = endpoint_of(None)
    clock = FakeClock()
    executor, outputs = clean_up(session, throttled_ec2(session, endpoint), clock)
    # The run's result stands; the instance is named, with the command that terminates it.
    assert outputs == {"report": "the report"}
    assert executor.left_behind == [
        Leftover(
            f"instance {INSTANCE.instance_id}",
            f"ec2:TerminateInstances {INSTANCE.instance_id} failed: Throttling: Rate exceeded",
            f"aws ec2 terminate-instances --instance-ids {INSTANCE.instance_id} --region us-east-1",
        )
    ]
    # It kept trying until the clean-up's deadline (not the run's 30 s), and not past it.
    assert len(endpoint.attempts) > 2 * MAX_ATTEMPTS
    assert 60.0 < clock.now <= 120.0


def test_removal_commands_are_quoted_for_the_shell_with_the_session_s_region() -> None:
    cli = AwsSession(region="eu-west-1").cli
    assert cli == AwsCli("eu-west-1", None)
    assert cli.command("ec2", "delete-key-pair", "--key-name", "packer key") == (
        "aws ec2 delete-key-pair --key-name 'packer key' --region eu-west-1"
    )
    assert AwsCli("eu-west-1", "prod").command("ec2", "deregister-image") == (
        "aws ec2 deregister-image --region eu-west-1 --profile prod"
    )
