"""The minimality sweep of `ebami iam policy`, against a sandbox that enforces IAM: each action of
a job's policy is taken out of the job's user in turn, and the job's runs (`SCENARIOS`) are run
until one fails. An action is

- needed: a run ends in the one-line AccessDenied naming it (exit 3);
- optional: no run fails, but a line names it: a read ebami does without (build's preflight
  checks: "a role that may not ask gets a warning"), or a clean-up Packer reports and goes on
  from (its temporary key pair and security group are then left behind, which the next build
  reports);
- unexercised: nothing names it, and every run passes. Either the table holds an action no run
  needs (it must go), or only AWS asks for it (Packer's SSH communicator, KMS: the sandbox's
  Packer source has no communicator and encrypts nothing), which the table says.

`benchmarks/iam_sweep.py` runs the whole sweep; `tests/e2e/test_iam_minimal.py` a sample.
The sandbox runs with `--realism off`: the sweep asks about permissions, not AWS's delays."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from botocore.exceptions import ClientError

from ebami.iam.calls import JOBS
from ebami.sandbox import world
from ebami.sandbox.clients import client_environment, root_client
from ebami.sandbox.control import stop
from tests.support.enforced import start_enforced, without

RELEASE = "2017.09"
# What Packer says of a refused clean-up without AWS's words (it names the key pair only).
PACKER_SAYS = {"ec2:DeleteKeyPair": "Error cleaning up keypair"}
SWEEP_CHANNEL = "sweep"
PUBLISHED = "/ebami/sweep/latest"


@dataclass
class World:
    """A running enforced sandbox, its job users, and the AMIs the runs switch between."""

    directory: Path
    endpoint: str
    region: str
    users: dict[str, dict[str, str]]
    work: Path
    amis: list[str] = field(default_factory=list)
    copies: int = 0

    def client(self, service: str) -> Any:
        """A client as the account's root."""
        return root_client(service, self.endpoint, self.region)

    def ebami(
        self, job: str | None, *args: str, timeout: float = 300
    ) -> subprocess.CompletedProcess[str]:
        """`ebami ARGS` as `job`'s user (None: the account's root)."""
        env = {**os.environ, **client_environment(self.endpoint, self.region)}
        if job is not None:
            env["AWS_ACCESS_KEY_ID"] = self.users[job]["access_key_id"]
            env["AWS_SECRET_ACCESS_KEY"] = self.users[job]["secret_access_key"]
        return subprocess.run(
            [sys.executable, "-m", "ebami", *args],
            cwd=self.work, env=env, capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip

    def clear_leases(self) -> None:
        """Remove the build leases a refused DeleteParameter left (the next build would wait)."""
        ssm = self.client("ssm")
        found = ssm.get_parameters_by_path(Path="/ebami/leases", Recursive=True)["Parameters"]
        for item in found:
            ssm.delete_parameter(Name=item["Name"])

    def settle(self, timeout: float = 120.0) -> None:
        """Wait until every environment is Ready: a run that lost track of its update (a
        refused read) leaves it updating, and the next run would be refused by EB."""
        eb = self.client("elasticbeanstalk")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = eb.describe_environments(ApplicationName=world.APPLICATION)["Environments"]
            if all(item["Status"] == "Ready" for item in found):
                return
            time.sleep(0.5)
        raise RuntimeError(f"environments not Ready after {timeout:g} s")

    def promote_other(self, environment: str, channel: str) -> None:
        """As root, point `channel` at the AMI `environment` does not run."""
        other = self.other(self.configured(environment))
        done = self.ebami(None, "promote", "--ami", other, "--channel", channel)
        if done.returncode != 0:
            raise RuntimeError(f"promote failed: {done.stderr}")

    def configured(self, environment: str) -> str:
        eb = self.client("elasticbeanstalk")
        settings = eb.describe_configuration_settings(
            ApplicationName=world.APPLICATION, EnvironmentName=environment
        )["ConfigurationSettings"][0]["OptionSettings"]
        for option in settings:
            if option["OptionName"] == "ImageId":
                return str(option.get("Value", ""))
        return ""

    def other(self, current: str) -> str:
        """The AMI of the two that `current` is not."""
        return self.amis[1] if current == self.amis[0] else self.amis[0]

    def fresh_copy(self) -> str:
        """A new verified ebami AMI of its own bake (a copy of the first, its tags and a build
        run of its own), for a run that deletes or revokes one."""
        ec2 = self.client("ec2")
        source = ec2.describe_images(ImageIds=[self.amis[0]])["Images"][0]
        self.copies += 1
        copy: str = ec2.copy_image(
            SourceImageId=self.amis[0], SourceRegion=self.region,
            Name=f"{source['Name']}-sweep-{self.copies}",
        )["ImageId"]  # fmt: skip
        tags = [item for item in source.get("Tags", []) if item["Key"] != "ebami:build-run"]
        tags.append({"Key": "ebami:build-run", "Value": f"sweep-{self.copies}"})
        ec2.create_tags(Resources=[copy], Tags=tags)
        return copy


@dataclass(frozen=True)
class Scenario:
    """One run of a job: its command line, made from the world as it is now."""

    job: str
    name: str
    argv: Callable[[World], list[str]]
    # Run first, as root: what the run needs to change something.
    prepare: Callable[[World], None] | None = None


def _apply(world_: World) -> list[str]:
    return ["apply", "--env", "staging", "--ami", world_.other(world_.configured("staging")),
            "--verify"]  # fmt: skip


def _promote(world_: World) -> list[str]:
    ssm = world_.client("ssm")
    name = f"/ebami/multicontainer-docker/{RELEASE}/{SWEEP_CHANNEL}"
    try:
        current = str(ssm.get_parameter(Name=name)["Parameter"]["Value"])
    except ClientError:
        current = ""
    return ["promote", "--ami", world_.other(current), "--channel", SWEEP_CHANNEL]


SCENARIOS: list[Scenario] = [
    Scenario("check", "check", lambda w: ["check", "--release", RELEASE, "--env", "prod"]),
    Scenario("check", "lookup", lambda w: ["lookup", "--release", RELEASE]),
    Scenario("verify", "verify an AMI", lambda w: [
        "verify", "--ami", w.amis[0], "--instance-profile", world.EC2_ROLE]),
    Scenario("verify", "verify an environment", lambda w: ["verify", "--env", "staging"]),
    # Amazon Linux 1's own AMI has no SSM agent: its verdict is remembered, nothing launched.
    Scenario("verify", "verify --stock", lambda w: [
        "verify", "--stock", "--release", RELEASE, "--instance-profile", world.EC2_ROLE]),
    Scenario("apply", "apply --verify", _apply),
    Scenario("apply", "events", lambda w: ["events", "--env", "staging"]),
    Scenario("apply", "apply --rollback", lambda w: ["apply", "--env", "staging", "--rollback"]),
    Scenario("apply", "apply --channel",
             lambda w: ["apply", "--env", "prod", "--channel", "stable"],
             prepare=lambda w: w.promote_other("prod", "stable")),
    Scenario("lifecycle", "status", lambda w: ["status", "--release", RELEASE]),
    Scenario("lifecycle", "promote", _promote),
    Scenario("lifecycle", "revoke", lambda w: [
        "revoke", "--ami", w.fresh_copy(), "--reason", "sweep", "--deprecate"]),
    Scenario("lifecycle", "prune", lambda w: [
        "prune", "--keep", "2", "--older-than", "0", "--yes"]),
    Scenario("build", "build", lambda w: ["build", "--release", RELEASE, "--force", "--no-wait"]),
    Scenario("build", "publish", lambda w: [
        "build", "--release", RELEASE, "--ssm-parameter", PUBLISHED, "--no-wait"]),
]  # fmt: skip


@dataclass(frozen=True)
class Verdict:
    job: str
    action: str
    kind: str  # needed, optional, kept (a path the runs do not take), unexercised, broken
    scenario: str = ""
    line: str = ""

    def to_json(self) -> dict[str, str]:
        return {"job": self.job, "action": self.action, "kind": self.kind,
                "scenario": self.scenario, "line": self.line}  # fmt: skip


@contextmanager
def enforced_world(base: Path) -> Iterator[World]:
    """An enforced sandbox with two verified AMIs of ebami's (built and verified as root)."""
    directory, work = base / "sandbox", base / "work"
    work.mkdir(parents=True, exist_ok=True)
    try:
        info, users = start_enforced(directory, "--realism", "off")
        made = World(directory, info.endpoint, info.region, users, work)
        for force in ([], ["--force"]):
            built = made.ebami(None, "build", "--release", RELEASE, *force)
            if built.returncode != 0:
                raise RuntimeError(f"build failed: {built.stderr}")
            ami = built.stdout.strip()
            checked = made.ebami(None, "verify", "--ami", ami, "--instance-profile", world.EC2_ROLE)
            if checked.returncode != 0:
                raise RuntimeError(f"verify failed: {checked.stderr}")
            made.amis.append(ami)
        # Staging on an ebami AMI, as the runs that verify it need (the stock AMI of Amazon
        # Linux 1 has no SSM agent).
        applied = made.ebami(None, "apply", "--env", "staging", "--ami", made.amis[0])
        if applied.returncode != 0:
            raise RuntimeError(f"apply failed: {applied.stderr}")
        yield made
    finally:
        stop(directory)


def _unexercised(job: str, action: str) -> tuple[str, str, str]:
    """Kept when the table says on which path only the action is asked (`Call.when`)."""
    paths = [call.when for call in JOBS[job] if action in call.iam_actions]
    if paths and all(paths):
        return "kept", "", paths[0]
    return "unexercised", "", ""


def actions(world_: World, job: str) -> list[str]:
    document = _policy(world_, job)
    return sorted({action for item in document["Statement"] for action in item["Action"]})


def _policy(world_: World, job: str) -> dict[str, Any]:
    iam = world_.client("iam")
    found: dict[str, Any] = iam.get_user_policy(UserName=f"ebami-{job}", PolicyName=f"ebami-{job}")[
        "PolicyDocument"
    ]
    copied: dict[str, Any] = json.loads(json.dumps(found))
    return copied


def probe(world_: World, job: str, action: str) -> Verdict:
    """Take `action` out of `job`'s user and run the job's scenarios until one fails."""
    iam = world_.client("iam")
    original = _policy(world_, job)
    name = f"ebami-{job}"
    reduced = without(original, action)
    iam.put_user_policy(UserName=name, PolicyName=name, PolicyDocument=json.dumps(reduced))
    warned: Verdict | None = None
    refused = f"may not {action}"
    try:
        for scenario in (item for item in SCENARIOS if item.job == job):
            if scenario.prepare is not None:
                scenario.prepare(world_)
            done = world_.ebami(job, *scenario.argv(world_))
            lines = done.stderr.strip().splitlines()
            named = [
                line
                for line in lines + done.stdout.splitlines()
                if refused in line
                or f"not authorized to perform: {action}" in line
                or (action in PACKER_SAYS and PACKER_SAYS[action] in line)
            ]
            if done.returncode != 0:
                kind = "needed" if named else "broken"
                return Verdict(job, action, kind, scenario.name, (named or lines or [""])[-1])
            if named and warned is None:
                warned = Verdict(job, action, "optional", scenario.name, named[0])
        return warned or Verdict(job, action, *_unexercised(job, action))
    finally:
        iam.put_user_policy(UserName=name, PolicyName=name, PolicyDocument=json.dumps(original))
        world_.clear_leases()
        world_.settle()
