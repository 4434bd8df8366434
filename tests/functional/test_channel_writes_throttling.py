"""promote's and revoke's writes under throttling, through real botocore clients whose HTTP
answers are stubbed: each write keeps trying to a deadline of its own (on a fake clock) past
botocore's three attempts, as prune's deletions do; without the deadline, botocore gives up."""

from __future__ import annotations

import json

import pytest

from ebami.aws.session import AwsSession
from ebami.aws.ssm import Ssm
from ebami.core.errors import AwsError
from ebami.lifecycle.channel_actions import WRITE_SECONDS, ChannelActions
from tests.fakes.clock import FakeClock
from tests.fakes.throttling import ThrottlingEndpoint

THROTTLING = json.dumps({"__type": "ThrottlingException", "message": "Rate exceeded"}).encode()
STABLE = "/ebami/multicontainer-docker/2017.09/stable"
AMI = "ami-0123456789abcdef0"
# One answer for both calls a write makes: PutParameter's (botocore reads Version and Tier),
# then GetParameterHistory's (Parameters: the version SSM shows once it has validated it).
PUT = json.dumps(
    {
        "Version": 7,
        "Tier": "Standard",
        "Parameters": [
            {"Name": STABLE, "Version": 7, "Value": AMI, "Type": "String",
             "DataType": "aws:ec2:image"}
        ],
    }
).encode()  # fmt: skip


def endpoint_of(throttles: int | None) -> ThrottlingEndpoint:
    return ThrottlingEndpoint(throttles, THROTTLING, PUT)


def ssm(session: AwsSession, endpoint: ThrottlingEndpoint) -> Ssm:
    client = session.client("ssm")
    client.meta.events.register("before-send.ssm", endpoint)  # answers instead of the network
    return Ssm(client)


def test_a_channel_write_throttled_past_botocore_s_attempts_is_still_made() -> None:
    session, endpoint, clock = AwsSession(region="us-east-1"), endpoint_of(10), FakeClock()
    actions = ChannelActions(
        ec2=None,  # type: ignore[arg-type]  # publishing makes no EC2 call
        ssm=ssm(session, endpoint),
        bounds=session.bounded,
        clock=clock,
        sleep=clock.sleep,
    )
    assert actions.publish(STABLE, AMI) == 7
    # One call, eleven attempts; then the history, read once: version 7 is there.
    assert endpoint.attempts == [*range(1, 12), 1]
    assert 0 < clock.now < WRITE_SECONDS  # the pauses were taken on the write's clock


def test_a_write_throttled_to_its_deadline_fails_naming_the_call() -> None:
    session, endpoint, clock = AwsSession(region="us-east-1"), endpoint_of(None), FakeClock()
    actions = ChannelActions(
        ec2=None,  # type: ignore[arg-type]
        ssm=ssm(session, endpoint),
        bounds=session.bounded,
        clock=clock,
        sleep=clock.sleep,
    )
    with pytest.raises(AwsError, match=f"ssm:PutParameter {STABLE} failed: ThrottlingException"):
        actions.publish(STABLE, "ami-0123456789abcdef0")
    assert len(endpoint.attempts) > 3
    assert WRITE_SECONDS / 2 < clock.now <= WRITE_SECONDS


def test_without_a_deadline_botocore_makes_its_three_attempts() -> None:
    session, endpoint = AwsSession(region="us-east-1"), endpoint_of(10)
    actions = ChannelActions(ec2=None, ssm=ssm(session, endpoint))  # type: ignore[arg-type]
    with pytest.raises(AwsError, match="ThrottlingException"):
        actions.publish(STABLE, "ami-0123456789abcdef0")
    assert endpoint.attempts == [1, 2, 3]
