"""The Elastic Beanstalk reads a fleet apply shares in a region, through a real botocore client
with stubbed answers (requests and answers checked against the service model by botocore's
Stubber): environments by id and by name a hundred a call, every page, and the region's events
from a point on."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ebami.aws.elasticbeanstalk import NAMES_PER_CALL, ElasticBeanstalk
from ebami.core.errors import AwsError, InputError, NotFoundError

WHEN = datetime(2026, 11, 22, 12, 0, tzinfo=timezone.utc)


@pytest.fixture
def stubbed() -> Iterator[tuple[ElasticBeanstalk, Stubber]]:
    make: Any = boto3.client
    client = make("elasticbeanstalk", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield ElasticBeanstalk(client), stubber
        stubber.assert_no_pending_responses()


def described(name: str, application: str = "webapp", status: str = "Ready") -> dict[str, Any]:
    return {
        "EnvironmentName": name,
        "EnvironmentId": f"e-{name}",
        "ApplicationName": application,
        "Status": status,
        "Health": "Green",
        "HealthStatus": "Ok",
        "PlatformArn": "arn:aws:elasticbeanstalk:us-east-1::platform/Docker/4.0.0",
        "DateUpdated": WHEN,
    }


def test_environments_by_id_asks_a_hundred_ids_a_call_and_reads_every_page(
    stubbed: tuple[ElasticBeanstalk, Stubber],
) -> None:
    eb, stubber = stubbed
    names = [f"env-{number:03d}" for number in range(150)]
    ids = [f"e-{name}" for name in names]
    first, second = ids[:NAMES_PER_CALL], ids[NAMES_PER_CALL:]
    request = {"EnvironmentIds": first, "IncludeDeleted": False}
    stubber.add_response(
        "describe_environments",
        {"Environments": [described(name) for name in names[:60]], "NextToken": "page-2"},
        request,
    )
    stubber.add_response(
        "describe_environments",
        {"Environments": [described(name) for name in names[60:NAMES_PER_CALL]]},
        {**request, "NextToken": "page-2"},
    )
    # The second chunk: one environment is gone (missing from the answer), and an answer for
    # an id not asked for is no answer.
    stubber.add_response(
        "describe_environments",
        {"Environments": [described(name) for name in [*names[NAMES_PER_CALL:149], "stray"]]},
        {"EnvironmentIds": second, "IncludeDeleted": False},
    )
    found = eb.environments_by_id([*ids, ids[0]])  # an id named twice is asked once
    assert list(found) == ids[:149]
    assert found["e-env-120"].name == "env-120"
    assert (found["e-env-000"].health_status, found["e-env-000"].updated) == ("Ok", WHEN)


def test_environments_by_id_of_none_makes_no_call(
    stubbed: tuple[ElasticBeanstalk, Stubber],
) -> None:
    eb, _ = stubbed
    # An empty EnvironmentIds would describe every environment of the region.
    assert eb.environments_by_id([]) == {}


def test_environments_found_gives_each_name_its_environment_or_its_error(
    stubbed: tuple[ElasticBeanstalk, Stubber],
) -> None:
    eb, stubber = stubbed
    request = {
        "EnvironmentNames": ["prod", "gone", "twice"],
        "IncludeDeleted": False,
        "ApplicationName": "webapp",
    }
    stubber.add_response(
        "describe_environments",
        {
            "Environments": [described("prod"), described("gone", status="Terminated")],
            "NextToken": "page-2",
        },
        request,
    )
    stubber.add_response(
        "describe_environments",
        {"Environments": [described("twice"), described("twice")]},
        {**request, "NextToken": "page-2"},
    )
    found = eb.environments_found(["prod", "gone", "twice"], "webapp")
    prod, gone, twice = found["prod"], found["gone"], found["twice"]
    assert not isinstance(prod, Exception)
    assert prod.environment_id == "e-prod"
    assert isinstance(gone, NotFoundError)
    assert str(gone) == "Elastic Beanstalk environment 'gone' of application webapp does not exist"
    assert isinstance(twice, InputError)
    assert "several applications" in str(twice)


def test_recent_events_reads_every_page_of_the_application_from_a_point_on(
    stubbed: tuple[ElasticBeanstalk, Stubber],
) -> None:
    eb, stubber = stubbed
    since = WHEN - timedelta(minutes=2)

    def item(seconds: int, request_id: str, name: str) -> dict[str, Any]:
        return {
            "EventDate": WHEN + timedelta(seconds=seconds),
            "Message": f"{name} {seconds}",
            "Severity": "INFO",
            "RequestId": request_id,
            "EnvironmentName": name,
            "ApplicationName": "webapp",
        }

    request = {"StartTime": since, "MaxRecords": 1000, "ApplicationName": "webapp"}
    # Newest first, as Elastic Beanstalk answers.
    stubber.add_response(
        "describe_events",
        {"Events": [item(30, "req-2", "env-2"), item(20, "req-1", "env-1")], "NextToken": "p2"},
        request,
    )
    stubber.add_response(
        "describe_events",
        {"Events": [item(10, "req-2", "env-2"), item(5, "req-1", "env-1")]},
        {**request, "NextToken": "p2"},
    )
    events = eb.recent_events(since=since, application="webapp")
    assert [(e.message, e.request_id, e.environment) for e in events] == [
        ("env-1 5", "req-1", "env-1"),
        ("env-2 10", "req-2", "env-2"),
        ("env-1 20", "req-1", "env-1"),
        ("env-2 30", "req-2", "env-2"),
    ]
    # Of no application: the region's events.
    stubber.add_response(
        "describe_events", {"Events": []}, {"StartTime": since, "MaxRecords": 1000}
    )
    assert eb.recent_events(since=since) == []


def test_recent_events_end_on_a_page_token_answered_twice(
    stubbed: tuple[ElasticBeanstalk, Stubber],
) -> None:
    eb, stubber = stubbed
    request = {"StartTime": WHEN, "MaxRecords": 1000}
    stubber.add_response("describe_events", {"Events": [], "NextToken": "p2"}, request)
    stubber.add_response(
        "describe_events", {"Events": [], "NextToken": "p2"}, {**request, "NextToken": "p2"}
    )
    with pytest.raises(AwsError, match="page token 'p2' twice"):
        eb.recent_events(since=WHEN)
