"""A real sandbox's Elastic Beanstalk is slow, inconsistent and half-healthy the way AWS is, by
default: configuration drafts, enhanced health's whole vocabulary, DescribeInstancesHealth, the
unrelated-health fault, events filed late; and each behaviour turns off."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from ebami.sandbox import world
from ebami.sandbox.realism import Realism
from tests.sandbox_helpers import Sandbox, wait_for
from tests.support.environments import IMAGE_ID, STOCK

# An image whose ecs-init allows fluentd, as the application needs.
GOOD = next(p for p in world.PLATFORMS if p.name == world.ECS_AL2).image_id("us-east-1")


def update(sandbox: Sandbox, name: str, image_id: str) -> str:
    answer = sandbox.client("elasticbeanstalk").update_environment(
        EnvironmentName=name, OptionSettings=[{**IMAGE_ID, "Value": image_id}]
    )
    return str(answer["ResponseMetadata"]["RequestId"])


def sets(sandbox: Sandbox, name: str) -> dict[str, str]:
    """DeploymentStatus -> the set's ImageId."""
    answer = sandbox.client("elasticbeanstalk").describe_configuration_settings(
        ApplicationName=world.APPLICATION, EnvironmentName=name
    )
    return {
        described["DeploymentStatus"]: next(
            option["Value"]
            for option in described["OptionSettings"]
            if option["OptionName"] == IMAGE_ID["OptionName"]
        )
        for described in answer["ConfigurationSettings"]
    }


def health(sandbox: Sandbox, name: str) -> dict[str, Any]:
    return dict(
        sandbox.client("elasticbeanstalk").describe_environment_health(
            EnvironmentName=name, AttributeNames=["All"]
        )
    )


def ready(sandbox: Sandbox, name: str) -> dict[str, Any] | None:
    found = health(sandbox, name)
    return found if found["Status"] == "Ready" else None


def test_an_update_has_a_pending_draft_grey_health_then_info_then_ok(make_sandbox: Any) -> None:
    sandbox: Sandbox = make_sandbox()
    eb = sandbox.client("elasticbeanstalk")
    update(sandbox, "prod", GOOD)
    assert sets(sandbox, "prod") == {"deployed": STOCK, "pending": GOOD}
    listed = eb.describe_instances_health(EnvironmentName="prod", AttributeNames=["All"])
    assert len(listed["InstanceHealthList"]) == world.ENVIRONMENTS["prod"]

    def grey() -> dict[str, Any] | None:
        # The stock AMI's instances are Severe until the update has replaced them.
        found = health(sandbox, "prod")
        return found if found["Color"] == "Grey" else None

    during = wait_for(grey, interval=0.02)
    assert (during["Status"], during["HealthStatus"]) == ("Updating", "Info")
    assert during["Causes"][0].startswith("Configuration update in progress on ")
    after = wait_for(lambda: ready(sandbox, "prod"))
    assert sets(sandbox, "prod") == {"deployed": GOOD}
    assert (after["Color"], after["HealthStatus"]) in {("Green", "Info"), ("Green", "Ok")}
    settled = wait_for(lambda: (h := health(sandbox, "prod"))["HealthStatus"] == "Ok" and h)
    assert (settled["Color"], settled["Causes"]) == ("Green", [])
    listed = eb.describe_instances_health(EnvironmentName="prod", AttributeNames=["HealthStatus"])
    assert [set(item) for item in listed["InstanceHealthList"]] == [
        {"InstanceId", "HealthStatus"}
    ] * world.ENVIRONMENTS["prod"]
    assert {item["HealthStatus"] for item in listed["InstanceHealthList"]} == {"Ok"}


def test_a_failed_update_leaves_a_failed_draft(make_sandbox: Any) -> None:
    sandbox: Sandbox = make_sandbox()
    update(sandbox, "prod", "ami-0123456789abcdef0")  # no such AMI: EB rolls back
    wait_for(lambda: ready(sandbox, "prod"))
    assert sets(sandbox, "prod") == {"deployed": STOCK, "failed": "ami-0123456789abcdef0"}


def test_an_unrelated_cause_holds_staging_at_warning_before_and_after_an_update(
    make_sandbox: Any,
) -> None:
    sandbox: Sandbox = make_sandbox(unrelated_health=(("staging", "Warning"),))
    cause = "5% of the requests to the ELB are failing with HTTP 5xx."
    assert health(sandbox, "staging")["Causes"][0] == cause  # Severe too: the stock AMI
    update(sandbox, "staging", GOOD)
    wait_for(lambda: ready(sandbox, "staging"))
    held = wait_for(lambda: (h := health(sandbox, "staging"))["Causes"] == [cause] and h)
    assert (held["Color"], held["HealthStatus"]) == ("Yellow", "Warning")
    instances = sandbox.client("elasticbeanstalk").describe_instances_health(
        EnvironmentName="staging", AttributeNames=["HealthStatus"]
    )["InstanceHealthList"]
    assert [item["HealthStatus"] for item in instances] == ["Ok"]


def key(event: dict[str, Any]) -> str:
    return f"{event['EventDate'].isoformat()} {event['Message']}"


def test_late_events_reach_a_look_back_window_but_not_a_cursor_at_the_newest(
    make_sandbox: Any,
) -> None:
    sandbox: Sandbox = make_sandbox(realism=Realism(late_events=1.5))
    eb = sandbox.client("elasticbeanstalk")
    request_id = update(sandbox, "prod", GOOD)
    visible: dict[str, Any] = {}
    shown_late: set[str] = set()
    cursor_client: set[str] = set()
    window_client: set[str] = set()
    newest = None
    deadline, ready_since = time.monotonic() + 20, None
    while time.monotonic() < deadline:
        for event in eb.describe_events(RequestId=request_id)["Events"]:
            later = visible and event["EventDate"] < max(visible.values())
            if key(event) not in visible and later:
                shown_late.add(key(event))
            visible[key(event)] = event["EventDate"]
        since: dict[str, Any] = {"StartTime": newest} if newest else {}
        found = eb.describe_events(RequestId=request_id, **since)["Events"]
        cursor_client |= {key(event) for event in found}
        back: dict[str, Any] = {"StartTime": newest - timedelta(minutes=1)} if newest else {}
        found = eb.describe_events(RequestId=request_id, **back)["Events"]
        window_client |= {key(event) for event in found}
        newest = max(visible.values(), default=None)
        status = eb.describe_environments(EnvironmentNames=["prod"])["Environments"][0]["Status"]
        ready_since = (ready_since or time.monotonic()) if status == "Ready" else None
        if ready_since and time.monotonic() - ready_since > 2:  # every late event has shown
            break
        time.sleep(0.1)
    assert shown_late, "no event of the update was filed late"
    assert shown_late - cursor_client, "the cursor client got every late event"
    assert window_client == set(visible)


def test_with_realism_off_the_sandbox_answers_at_once_and_in_green_and_red(
    make_sandbox: Any,
) -> None:
    sandbox: Sandbox = make_sandbox(realism=Realism.off())
    update(sandbox, "prod", GOOD)
    assert sets(sandbox, "prod") == {"deployed": GOOD}  # the new AMI already, one set
    during = health(sandbox, "prod")
    assert (during["Color"], during["HealthStatus"]) == ("Red", "Severe")
    after = wait_for(lambda: ready(sandbox, "prod"))
    assert (after["Color"], after["HealthStatus"], after["Causes"]) == ("Green", "Ok", [])
