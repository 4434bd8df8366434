"""`ebami apply` when things go wrong, against sandboxes that inject the faults: an update that
fails health (Elastic Beanstalk rolls back by itself under a Health policy, ebami rolls back under
a Time policy), an update that stalls (Ctrl-C / SIGTERM abort it, so does the deadline), and
throttling. Every test leaves its environment Ready on the stock AMI, so a module's tests share
one sandbox in any order.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ebami.sandbox import world
from tests.sandbox_helpers import Sandbox, module_sandbox, wait_for
from tests.support.amis import ARTICLE_USER_DATA
from tests.support.environments import (
    COMPLETED,
    PREVIOUS,
    STARTING,
    STOCK,
    client,
    configured_image,
    environment,
    environment_tags,
    event_lines,
    instance_images,
    rollback_target,
    set_update_policy,
)
from tests.support.runs import (
    PROFILE,
    api_calls,
    apply,
    ebami_command,
    last_error,
    verified_ami,
    verify,
)
from tests.support.visibility import image_exists

HEALTH = {"RollingUpdateEnabled": "true", "RollingUpdateType": "Health"}
TIME = {"RollingUpdateEnabled": "true", "RollingUpdateType": "Time"}


@dataclass(frozen=True)
class World:
    sandbox: Sandbox
    work: Path
    ami: str


def assert_back_on_stock(sandbox: Sandbox, name: str, instances: int) -> None:
    assert environment(sandbox, name)["Status"] == "Ready"
    assert configured_image(sandbox, name) == STOCK
    assert instance_images(sandbox, name) == [STOCK] * instances
    assert PREVIOUS not in environment_tags(sandbox, name)
    assert rollback_target(sandbox, name) is None  # nothing was switched


# --- updates that fail health ------------------------------------------------------------------


@pytest.fixture(scope="module")
def failing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with module_sandbox(tmp_path_factory, update_fails_health=True) as (sandbox, work):
        yield World(sandbox, work, verified_ami(sandbox, work))


def test_health_policy_elastic_beanstalk_rolls_back_by_itself(failing: World) -> None:
    sandbox = failing.sandbox
    set_update_policy(sandbox, "prod", **HEALTH)
    result = apply(sandbox, "--env", "prod", "--record", "health.json", cwd=failing.work,
                   stats=True)  # fmt: skip
    assert result.returncode == 8, result.stderr
    # The result line never reads as if the target were in place.
    assert f"prod  rolled back  {STOCK} -> {failing.ami} (tried)" in result.stdout
    error = last_error(result)
    assert error == (
        "error: prod: the update failed (Failed to deploy configuration.); Elastic Beanstalk "
        f"rolled prod back to {STOCK} itself"
    )
    # ebami followed Elastic Beanstalk's own rollback and did not fight it.
    assert api_calls(result.stderr)["elasticbeanstalk.UpdateEnvironment"] == 1
    # Elastic Beanstalk reverted it. Its event may be filed late (the sandbox's late events),
    # after ebami ruled on the failure event and the configuration: read it from the service.
    reverted = "The environment was reverted to the previous configuration setting."
    filed = sandbox.client("elasticbeanstalk").describe_events(EnvironmentName="prod")["Events"]
    assert reverted in [item["Message"] for item in filed]
    assert "Failed to deploy configuration." in event_lines(result.stderr)
    assert "switching back" not in result.stderr
    assert_back_on_stock(sandbox, "prod", 2)
    (record,) = json.loads((failing.work / "health.json").read_text())["environments"]
    assert record["result"] == "rolled back"
    assert record["update"]["outcome"] == "reverted by Elastic Beanstalk"
    assert record["rollback"] is None


def test_time_policy_ebami_rolls_back_itself(failing: World) -> None:
    sandbox = failing.sandbox
    set_update_policy(sandbox, "prod", **TIME)
    result = apply(sandbox, "--env", "prod", "--record", "time.json", cwd=failing.work,
                   stats=True)  # fmt: skip
    assert result.returncode == 8, result.stderr
    error = last_error(result)
    assert error.startswith(
        "error: prod: the update failed (unhealthy 1 s after the update: 2 of 2 new instances "
        "Severe ("
    ), error
    assert error.endswith(f"prod is back on {STOCK}"), error
    # A Time-based update "succeeds"; health turns Red after it: ebami switches back.
    assert api_calls(result.stderr)["elasticbeanstalk.UpdateEnvironment"] == 2
    assert f"switching back to {STOCK}" in result.stderr
    assert "following the rollback of prod" in result.stderr
    assert "removing prod's ImageId option" in result.stderr  # it was the platform's AMI
    events = event_lines(result.stderr)
    assert events.count(STARTING) == 2, events
    assert events.count(COMPLETED) == 2, events
    assert_back_on_stock(sandbox, "prod", 2)
    (record,) = json.loads((failing.work / "time.json").read_text())["environments"]
    assert record["result"] == "rolled back"
    assert record["update"]["outcome"] == "failed"
    # The evidence: the new instances' health, the environment's against its baseline.
    assert record["baseline"]["enhanced"] is True
    verdict = record["update"]["verdict"]
    assert verdict["state"] == "unhealthy"
    assert [item["status"] for item in verdict["new_instances"]] == ["Severe", "Severe"]
    assert record["rollback"]["outcome"] == "succeeded"
    assert record["rollback"]["events"][0]["message"] == STARTING
    assert len(record["request_ids"]) == 2
    update_ids = {event["request_id"] for event in record["update"]["events"]}
    rollback_ids = {event["request_id"] for event in record["rollback"]["events"]}
    assert len(update_ids) == len(rollback_ids) == 1
    assert update_ids != rollback_ids


def test_rolling_updates_disabled_ebami_rolls_back_itself(failing: World) -> None:
    sandbox = failing.sandbox
    result = apply(sandbox, "--env", "staging", cwd=failing.work, stats=True)
    assert result.returncode == 8, result.stderr
    assert last_error(result).endswith(f"staging is back on {STOCK}")
    assert api_calls(result.stderr)["elasticbeanstalk.UpdateEnvironment"] == 2
    assert_back_on_stock(sandbox, "staging", 1)


# --- updates that stall: Ctrl-C, SIGTERM, the deadline ---------------------------------------


@pytest.fixture(scope="module")
def stalled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    with module_sandbox(tmp_path_factory, update_stalls=True) as (sandbox, work):
        yield World(sandbox, work, verified_ami(sandbox, work))


@pytest.mark.parametrize(
    ("sent", "name", "instances"),
    [(signal.SIGINT, "prod", 2), (signal.SIGTERM, "staging", 1)],
    ids=["sigint-prod", "sigterm-staging"],
)
def test_interrupt_aborts_the_update(
    stalled: World, sent: signal.Signals, name: str, instances: int
) -> None:
    sandbox = stalled.sandbox
    log = stalled.work / f"interrupt-{name}.err"
    with log.open("w") as stderr:
        process = subprocess.Popen(
            ebami_command("apply", "--env", name),
            cwd=stalled.work,
            env={**os.environ, **sandbox.env()},
            stdout=subprocess.PIPE,
            stderr=stderr,
            text=True,
        )
        try:
            wait_for(lambda: STARTING in log.read_text(), timeout=60)
            process.send_signal(sent)
            stdout, _ = process.communicate(timeout=60)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    text = log.read_text()
    assert process.returncode == 130, text
    assert "Traceback" not in text
    assert f"aborting the update of {name}" in text
    error = last_error(subprocess.CompletedProcess([], 130, stdout, text))
    assert (
        error == f"error: {name}: interrupted; the update was aborted and {name} is back on {STOCK}"
    )
    assert stdout.split()[:2] == [name, "interrupted"]
    assert "Aborting the environment update" in "\n".join(event_lines(text))
    assert_back_on_stock(sandbox, name, instances)


@dataclass(frozen=True)
class DeadlineRun:
    world: World
    result: subprocess.CompletedProcess[str]
    record: dict[str, object]


@pytest.fixture(scope="module")
def deadline_run(stalled: World) -> DeadlineRun:
    result = apply(stalled.sandbox, "--env", "prod", "--timeout", "3", "--record",
                   "deadline.json", cwd=stalled.work, stats=True, timeout=90)  # fmt: skip
    record = json.loads((stalled.work / "deadline.json").read_text())["environments"][0]
    return DeadlineRun(stalled, result, record)


def test_the_deadline_aborts_a_stalled_update(deadline_run: DeadlineRun) -> None:
    result, sandbox = deadline_run.result, deadline_run.world.sandbox
    assert result.returncode == 8, result.stderr
    error = last_error(result)
    assert error == (
        "error: prod: the update did not finish within 3 s (status Updating, health Red/Severe); "
        f"the update was aborted, prod is on {STOCK}"
    )
    calls = api_calls(result.stderr)
    assert calls["elasticbeanstalk.UpdateEnvironment"] == 1
    assert calls["elasticbeanstalk.AbortEnvironmentUpdate"] == 1
    record = deadline_run.record
    assert record["result"] == "rolled back"
    assert record["deadline_seconds"] == 3
    abort = record["abort"]
    assert isinstance(abort, dict)
    assert abort["outcome"] == "ready"
    assert abort["image_id"] == STOCK
    assert_back_on_stock(sandbox, "prod", 2)


def test_the_abort_prints_each_event_once(deadline_run: DeadlineRun) -> None:
    # The abort's wait follows the same request: the events already shown are not repeated.
    events = event_lines(deadline_run.result.stderr)
    assert events.count(STARTING) == 1, events


# --- throttling --------------------------------------------------------------------------------


def test_apply_survives_throttling(tmp_path_factory: pytest.TempPathFactory) -> None:
    with module_sandbox(tmp_path_factory, throttle=0.3) as (sandbox, work):
        # Packer 1.6.6 gives up on the first throttled call, so ebami build cannot bake here:
        # the AMI is made the source article's way (with patient clients), tagged as ebami build
        # tags it, and proven by ebami verify, which copes with throttling.
        ami = article_ami(sandbox)
        checked = verify(sandbox, "--ami", ami, *PROFILE, cwd=work)
        assert checked.returncode == 0, checked.stderr
        result = apply(sandbox, "--env", "staging", cwd=work, stats=True)
        assert "Traceback" not in result.stderr
        assert result.returncode == 0, result.stderr
        assert configured_image(sandbox, "staging") == ami
        assert instance_images(sandbox, "staging") == [ami]
        assert rollback_target(sandbox, "staging") == STOCK


def article_ami(sandbox: Sandbox) -> str:
    ec2 = client(sandbox, "ec2")
    reservation = ec2.run_instances(
        ImageId=STOCK,
        MinCount=1,
        MaxCount=1,
        UserData=ARTICLE_USER_DATA,
        IamInstanceProfile={"Name": world.EC2_ROLE},
    )
    instance_id = reservation["Instances"][0]["InstanceId"]
    ec2.stop_instances(InstanceIds=[instance_id])
    baked_as = {
        "ebami:managed": "true",
        "ebami:platform": "multicontainer-docker",
        "ebami:platform-version": world.ENVIRONMENT_PLATFORM.version,
        "ebami:release": "2017.09",
        "ebami:drivers": "json-file syslog awslogs fluentd none",
    }
    # Tagged as it is made (EC2 may answer NotFound to CreateTags on a new AMI for a while),
    # and waited for before its id is handed to ebami, as a user's script does.
    image_id = str(
        ec2.create_image(
            InstanceId=instance_id,
            Name="article",
            TagSpecifications=[
                {
                    "ResourceType": "image",
                    "Tags": [{"Key": k, "Value": v} for k, v in baked_as.items()],
                }
            ],
        )["ImageId"]
    )
    ec2.terminate_instances(InstanceIds=[instance_id])
    image_exists(ec2, image_id)
    return image_id
