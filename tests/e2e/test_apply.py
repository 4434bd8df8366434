"""`ebami apply` and `ebami events` as a user runs them: the real CLI process, the sandbox over
HTTP, AMIs baked by the real packer and verified over SSM.

Two sandboxes serve this module: `seeded` (two verified AMIs, the environments never changed:
the gates, `--dry-run`, bad input) and `rolled_out` (the quick start's Red -> Green rollout of
staging then prod, done once; the facts the Red -> Green test asserts are read right after it,
so the tests that change the environments afterwards cannot disturb it).
"""

from __future__ import annotations

import io
import json
import subprocess
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from ebami.sandbox import world
from tests.sandbox_helpers import Sandbox, module_sandbox
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
)
from tests.support.runs import (
    NO_FLUENTD,
    api_calls,
    apply,
    baked,
    build,
    diagnostics,
    ebami,
    last_error,
    mutating,
    one_error_line,
    verified_ami,
)

# --- the seeded world: gates, dry runs and bad input change nothing --------------------------


@dataclass(frozen=True)
class Seeded:
    sandbox: Sandbox
    work: Path
    fluentd: str  # verified, allows fluentd
    no_fluentd: str  # verified, baked with --drivers json-file,syslog,awslogs,none
    before_any: subprocess.CompletedProcess[str]  # apply --env prod before any AMI existed


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Seeded]:
    with module_sandbox(tmp_path_factory) as (sandbox, work):
        before_any = apply(sandbox, "--env", "prod", cwd=work, stats=True)
        fluentd = verified_ami(sandbox, work)
        no_fluentd = verified_ami(sandbox, work, "--drivers", NO_FLUENTD)
        yield Seeded(sandbox, work, fluentd, no_fluentd, before_any)


def test_no_fitting_ami_is_not_found_and_changes_nothing(seeded: Seeded) -> None:
    result = seeded.before_any
    assert result.returncode == 4, result.stderr
    error = last_error(result)
    assert "no verified ebami AMI in us-east-1 fits prod" in error
    assert "fluentd" in error
    assert mutating(api_calls(result.stderr)) == []


def test_dockerrun_gate_refuses_an_ami_without_fluentd(seeded: Seeded) -> None:
    sandbox = seeded.sandbox
    result = apply(
        sandbox, "--env", "prod", "--ami", seeded.no_fluentd, cwd=seeded.work, stats=True
    )
    assert result.returncode == 7, result.stderr
    error = last_error(result)
    assert error.startswith("error: prod: "), error
    assert "dockerrun gate" in error
    assert "fluentd" in error
    assert "ATTRIBUTE" in error
    calls = api_calls(result.stderr)
    assert calls.get("elasticbeanstalk.UpdateEnvironment", 0) == 0
    assert mutating(calls) == []
    assert configured_image(sandbox, "prod") == STOCK
    assert PREVIOUS not in environment_tags(sandbox, "prod")
    assert rollback_target(sandbox, "prod") is None


def test_an_unverified_ami_is_refused_unless_allowed(seeded: Seeded) -> None:
    # A fresh bake of the fluentd AMI that ebami verify never saw.
    fresh = build(seeded.sandbox, "--release", "2017.09", "--force", cwd=seeded.work)
    assert fresh.returncode == 0, fresh.stderr
    ami = fresh.stdout.strip()
    refused = apply(seeded.sandbox, "--env", "prod", "--ami", ami, cwd=seeded.work, stats=True)
    assert refused.returncode == 7, refused.stderr
    assert "verified gate" in last_error(refused)
    assert mutating(api_calls(refused.stderr)) == []
    allowed = apply(
        seeded.sandbox,
        "--env",
        "prod",
        "--ami",
        ami,
        "--allow-unverified",
        "--dry-run",
        cwd=seeded.work,
        json_output=True,
    )
    assert allowed.returncode == 0, allowed.stderr
    facts = json.loads(allowed.stdout)["facts"]
    assert facts["Gate verified"].startswith("warn: "), facts


def test_dry_run_shows_the_plan_and_changes_nothing(seeded: Seeded) -> None:
    sandbox = seeded.sandbox
    table = apply(sandbox, "--env", "prod", "--dry-run", cwd=seeded.work, stats=True)
    assert table.returncode == 0, table.stderr
    assert f"switching prod's ImageId from {STOCK} to {seeded.fluentd}" in table.stdout
    assert "Health-based rolling update: 2 instances in 2 batches of 1" in table.stdout
    assert "Gate dockerrun" in table.stdout
    assert mutating(api_calls(table.stderr)) == []

    shown = apply(
        sandbox, "--env", "prod", "--dry-run", cwd=seeded.work, json_output=True, stats=True
    )
    assert shown.returncode == 0, shown.stderr
    assert mutating(api_calls(shown.stderr)) == []
    plan = json.loads(shown.stdout)
    assert plan["dry_run"] is True
    facts = plan["facts"]
    assert facts["Current AMI"] == f"{STOCK} (the platform's AMI)"
    assert facts["Target AMI"] == seeded.fluentd  # the newest verified one that fits
    assert facts["Instances"] == 2
    for gate in ("image", "verified", "dockerrun", "platform"):
        assert facts[f"Gate {gate}"].startswith("pass: "), facts
    actions = [instruction["action"] for instruction in plan["instructions"]]
    # The AMI prod will run is protected from deregistration first (its way back is the
    # platform's own AMI, which is not this account's to protect).
    assert actions == ["protect_images", "update_image", "follow_update", "remember_previous"]
    assert plan["instructions"][0]["params"]["image_ids"] == [seeded.fluentd]
    assert plan["instructions"][1]["params"]["image_id"] == seeded.fluentd
    assert plan["instructions"][3]["params"]["image_id"] == STOCK

    # Both environments at once: one JSON document listing both plans.
    both = apply(
        sandbox, "--env", "staging", "--env", "prod", "--dry-run", cwd=seeded.work,
        json_output=True,
    )  # fmt: skip
    assert both.returncode == 0, both.stderr
    shown_both = json.loads(both.stdout)
    assert shown_both["dry_run"] is True
    assert [p["facts"]["Environment"] for p in shown_both["environments"]] == [
        "webapp/staging in us-east-1",
        "webapp/prod in us-east-1",
    ]
    assert configured_image(sandbox, "prod") == STOCK
    assert environment(sandbox, "prod")["Status"] == "Ready"


def test_dry_run_of_a_refused_ami_exits_refused(seeded: Seeded) -> None:
    result = apply(
        seeded.sandbox, "--env", "prod", "--ami", seeded.no_fluentd, "--dry-run",
        cwd=seeded.work, json_output=True, stats=True,
    )  # fmt: skip
    assert result.returncode == 7, result.stderr
    assert json.loads(result.stdout)["dry_run"] is True
    assert "fluentd" in last_error(result)
    assert mutating(api_calls(result.stderr)) == []


@pytest.mark.parametrize(
    ("args", "names"),
    [
        (["--env", "prod", "--ami", "nope"], "--ami"),
        (["--env", "prod", "--timeout", "0"], "--timeout"),
        (["--env", "prod", "--timeout", "-5"], "--timeout"),
        (["--env", "prod", "--env", "prod"], "--env"),
        (["--env", ""], "--env"),
        (["--env", "prod", "--ami", "ami-0123456789abcdef0", "--rollback"], "--rollback"),
        ([], "--env"),
    ],
    ids=["ami-nope", "timeout-0", "timeout-negative", "env-twice", "env-empty", "ami-and-rollback",
         "no-env"],
)  # fmt: skip
def test_bad_apply_input_is_one_line_and_exit_2(
    seeded: Seeded, args: list[str], names: str
) -> None:
    result = apply(seeded.sandbox, *args, cwd=seeded.work, stats=True)
    assert result.returncode == 2, result.stderr
    assert result.stdout == ""
    assert "Traceback" not in result.stderr
    if "API calls: " in result.stderr:
        assert "UpdateEnvironment" not in result.stderr
    text = "\n".join(diagnostics(result.stderr))
    assert names in text, result.stderr
    assert configured_image(seeded.sandbox, "prod") == STOCK


@pytest.mark.parametrize(
    ("args", "code", "names"),
    [
        (["--env", "prod", "--limit", "0"], 2, "--limit"),
        (["--env", "prod", "--limit", "-1"], 2, "--limit"),
        (["--env", ""], 2, "--env"),
        (["--env", "nope"], 4, "nope"),
    ],
    ids=["limit-0", "limit-negative", "env-empty", "env-unknown"],
)
def test_bad_events_input_is_one_line(
    seeded: Seeded, args: list[str], code: int, names: str
) -> None:
    result = ebami(seeded.sandbox, "events", *args, cwd=seeded.work)
    assert result.returncode == code, result.stderr
    assert result.stdout == ""
    assert names in one_error_line(result)


def test_an_unknown_environment_is_not_found(seeded: Seeded) -> None:
    result = apply(seeded.sandbox, "--env", "nope", cwd=seeded.work)
    assert result.returncode == 4, result.stderr
    assert "nope" in one_error_line(result)


# --- Red -> Green: the quick start's rollout, staging then prod ----------------------------------


@dataclass(frozen=True)
class RolledOut:
    sandbox: Sandbox
    work: Path
    ami: str
    staging: subprocess.CompletedProcess[str]
    prod: subprocess.CompletedProcess[str]
    record: dict[str, Any]
    # Read right after the prod apply.
    prod_image: str | None
    prod_instances: list[str]
    prod_health: str
    staging_image: str | None
    staging_instances: list[str]
    tags: dict[str, dict[str, str]]
    rollback: dict[str, str | None]
    request_events: list[str]


@pytest.fixture(scope="module")
def rolled_out(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RolledOut]:
    with module_sandbox(tmp_path_factory) as (sandbox, work):
        ami = verified_ami(sandbox, work)
        assert environment(sandbox, "prod")["Health"] == "Red"  # the seed's ATTRIBUTE failure
        staging = apply(sandbox, "--env", "staging", cwd=work, stats=True)
        prod = apply(sandbox, "--env", "prod", "--record", "prod.json", cwd=work, stats=True)
        record = json.loads((work / "prod.json").read_text()) if prod.returncode == 0 else {}
        ids = record.get("environments", [{}])[0].get("request_ids", [])
        eb = client(sandbox, "elasticbeanstalk")
        request_events = (
            [e["Message"] for e in eb.describe_events(RequestId=ids[0])["Events"]] if ids else []
        )
        yield RolledOut(
            sandbox,
            work,
            ami,
            staging,
            prod,
            record,
            prod_image=configured_image(sandbox, "prod"),
            prod_instances=instance_images(sandbox, "prod"),
            prod_health=environment(sandbox, "prod")["Health"],
            staging_image=configured_image(sandbox, "staging"),
            staging_instances=instance_images(sandbox, "staging"),
            tags={name: environment_tags(sandbox, name) for name in ("staging", "prod")},
            rollback={name: rollback_target(sandbox, name) for name in ("staging", "prod")},
            request_events=request_events,
        )


def test_red_to_green_staging_then_prod(rolled_out: RolledOut) -> None:
    done, ami = rolled_out, rolled_out.ami
    assert done.staging.returncode == 0, done.staging.stderr
    assert done.staging.stdout.split() == ["staging", "applied", ami, "(was", f"{STOCK})"]
    assert done.staging_image == ami
    assert done.staging_instances == [ami]
    assert done.prod.returncode == 0, done.prod.stderr
    assert done.prod.stdout.split() == ["prod", "applied", ami, "(was", f"{STOCK})"]
    assert done.prod_image == ami
    assert done.prod_instances == [ami, ami]
    assert done.prod_health == "Green"

    # The update's own events, oldest first, on stderr; then the success line.
    events = event_lines(done.prod.stderr)
    assert events.index(STARTING) < events.index(COMPLETED), events
    assert len(events) == len(set(events)), events  # each event once
    assert "Traceback" not in done.prod.stderr
    assert f"prod: {STOCK} -> {ami}" in done.prod.stderr
    calls = api_calls(done.prod.stderr)
    assert calls["elasticbeanstalk.UpdateEnvironment"] == 1
    assert calls["ssm.PutParameter"] == 1

    # The AMI each environment left is its rollback target, in SSM: nothing is written to the
    # environment after its update (no tag).
    assert done.rollback == {"staging": STOCK, "prod": STOCK}
    assert "elasticbeanstalk.UpdateTagsForResource" not in calls
    assert PREVIOUS not in done.tags["staging"]
    assert PREVIOUS not in done.tags["prod"]

    (record,) = done.record["environments"]
    assert record["result"] == "applied"
    assert (record["previous_image_id"], record["target_image_id"]) == (STOCK, ami)
    (request_id,) = record["request_ids"]
    # The request id is the update's: Elastic Beanstalk files its events under it.
    assert STARTING in done.request_events
    assert COMPLETED in done.request_events
    recorded = [event["message"] for event in record["update"]["events"]]
    assert recorded[0] == STARTING
    assert COMPLETED in recorded
    assert {event["request_id"] for event in record["update"]["events"]} == {request_id}
    assert record["update"]["outcome"] == "succeeded"
    assert record["update"]["image_id"] == ami
    assert record["rollback"] is None
    assert record["abort"] is None
    assert [gate["gate"] for gate in record["gates"]] == [
        "image",
        "verified",
        "dockerrun",
        "platform",
    ]


def test_apply_again_is_unchanged(rolled_out: RolledOut) -> None:
    # Runs on staging's state after the rollout or after the rollback test (it restores
    # staging's AMI); the AMI it is on now is the target again.
    done = rolled_out
    current = configured_image(done.sandbox, "staging")
    result = apply(done.sandbox, "--env", "staging", "--ami", str(current), cwd=done.work,
                   stats=True, json_output=True)  # fmt: skip
    assert result.returncode == 0, result.stderr
    (record,) = json.loads(result.stdout)["environments"]
    assert record["result"] == "unchanged"
    assert mutating(api_calls(result.stderr)) == []


def test_events_lists_recent_events_oldest_first(rolled_out: RolledOut) -> None:
    done = rolled_out
    shown = ebami(
        done.sandbox, "events", "--env", "prod", "--limit", "1000", cwd=done.work,
        json_output=True,
    )  # fmt: skip
    assert shown.returncode == 0, shown.stderr
    listing = json.loads(shown.stdout)
    assert listing["environment"] == "prod"
    events = listing["events"]
    dates = [event["date"] for event in events]
    assert len(events) >= 3
    assert dates == sorted(dates)
    messages = [event["message"] for event in events]
    assert messages.index(STARTING) < messages.index(COMPLETED)
    # The same events as Elastic Beanstalk lists them (newest first there).
    eb = client(done.sandbox, "elasticbeanstalk")
    listed = eb.describe_events(EnvironmentName="prod", MaxRecords=1000)["Events"]
    assert messages == [event["Message"] for event in reversed(listed)][-len(messages) :]

    # --limit: the most recent ones, still oldest first.
    last = ebami(
        done.sandbox, "events", "--env", "prod", "--limit", "2", cwd=done.work, json_output=True
    )
    assert last.returncode == 0, last.stderr
    assert json.loads(last.stdout)["events"] == events[-2:]

    # --request-id: only the update's own events.
    (record,) = done.record["environments"]
    (request_id,) = record["request_ids"]
    own = ebami(
        done.sandbox, "events", "--env", "prod", "--request-id", request_id, cwd=done.work,
        json_output=True,
    )  # fmt: skip
    assert own.returncode == 0, own.stderr
    own_events = json.loads(own.stdout)["events"]
    assert own_events
    assert {event["request_id"] for event in own_events} == {request_id}
    assert own_events[0]["message"] == STARTING


def test_events_table_goes_to_stdout_oldest_first(rolled_out: RolledOut) -> None:
    done = rolled_out
    table = ebami(done.sandbox, "events", "--env", "prod", "--limit", "5", cwd=done.work)
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert len(lines) == 5, (table.stdout, table.stderr)
    stamps = [line[:19] for line in lines]
    assert stamps == sorted(stamps)


def _bundle_without_fluentd(sandbox: Sandbox) -> None:
    """Rewrite the deployed application version's Dockerrun.aws.json so that its containers
    log through json-file: the stock AMI then serves the application."""
    eb = client(sandbox, "elasticbeanstalk")
    (version,) = eb.describe_application_versions(
        ApplicationName=world.APPLICATION, VersionLabels=[world.APPLICATION_VERSION]
    )["ApplicationVersions"]
    bucket, key = version["SourceBundle"]["S3Bucket"], version["SourceBundle"]["S3Key"]
    s3 = client(sandbox, "s3")
    bundle = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
    with zipfile.ZipFile(io.BytesIO(bundle)) as archive:
        dockerrun = json.loads(archive.read("Dockerrun.aws.json"))
    for container in dockerrun["containerDefinitions"]:
        if container.get("logConfiguration"):
            container["logConfiguration"] = {"logDriver": "json-file"}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("Dockerrun.aws.json", json.dumps(dockerrun))
    s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())


def test_rollback_restores_the_recorded_ami(rolled_out: RolledOut) -> None:
    done, first = rolled_out, rolled_out.ami
    sandbox, work = done.sandbox, done.work
    second = baked(sandbox, work, "--force")
    assert second != first
    forward = apply(sandbox, "--env", "staging", "--ami", second, "--allow-unverified", cwd=work)
    assert forward.returncode == 0, forward.stderr
    assert rollback_target(sandbox, "staging") == first

    back = apply(sandbox, "--env", "staging", "--rollback", cwd=work, json_output=True)
    assert back.returncode == 0, back.stderr
    (record,) = json.loads(back.stdout)["environments"]
    assert (record["result"], record["target_image_id"]) == ("applied", first)
    assert configured_image(sandbox, "staging") == first
    assert instance_images(sandbox, "staging") == [first]
    assert rollback_target(sandbox, "staging") == second
    # Back to an AMI ebami verified: the gates pass, nothing is waived.
    assert all(gate["verdict"] == "pass" for gate in record["gates"]), record["gates"]

    # prod's recorded AMI is the stock one: --rollback removes the option. The application
    # must then not need fluentd, or the stock AMI turns prod Red again.
    _bundle_without_fluentd(sandbox)
    plan = apply(sandbox, "--env", "prod", "--rollback", "--dry-run", cwd=work, json_output=True)
    assert plan.returncode == 0, plan.stderr
    shown = json.loads(plan.stdout)
    assert shown["instructions"][0]["action"] == "update_image"
    assert shown["instructions"][0]["params"]["image_id"] is None
    stock = apply(sandbox, "--env", "prod", "--rollback", cwd=work, stats=True)
    assert stock.returncode == 0, stock.stderr
    assert "removing prod's ImageId option" in stock.stderr
    assert configured_image(sandbox, "prod") in (None, STOCK)
    assert instance_images(sandbox, "prod") == [STOCK, STOCK]
    assert environment(sandbox, "prod")["Health"] == "Green"
    assert rollback_target(sandbox, "prod") == first
    assert api_calls(stock.stderr)["elasticbeanstalk.UpdateEnvironment"] == 1


def test_rollback_without_a_recorded_ami_is_not_found(seeded: Seeded) -> None:
    result = apply(seeded.sandbox, "--env", "prod", "--rollback", cwd=seeded.work, stats=True)
    assert result.returncode == 4, result.stderr
    assert "prod has no rollback target" in last_error(result)
    assert mutating(api_calls(result.stderr)) == []
