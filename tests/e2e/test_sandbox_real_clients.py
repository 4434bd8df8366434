"""The real EB CLI and AWS CLI against a sandbox: what a person rehearses with.

Both clients come from scripts/setup (.tools/awsebcli, .tools/awscli). They reach the sandbox
through AWS_ENDPOINT_URL (botocore's configured endpoint, which the EB CLI's clients honour as
they pass no endpoint of their own) with the sandbox's fake keys, and a HOME of their own, so
no configuration of the person running the tests is read. The module shares one sandbox and
one `eb init` project; tests that change the environment run last, in file order.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from ebami.sandbox import world
from tests.sandbox_helpers import Sandbox, wait_for

ROOT = Path(__file__).resolve().parents[2]
EB = ROOT / ".tools" / "awsebcli" / "bin" / "eb"
AWS = ROOT / ".tools" / "awscli" / "bin" / "aws"
PLATFORM = world.ECS_AL2023
ENV = "staging"
PROPERTIES = "aws:elasticbeanstalk:application:environment"
TIMEOUT = 60.0


@dataclass
class Clients:
    sandbox: Sandbox
    home: Path
    project: Path

    def environ(self) -> dict[str, str]:
        return {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(self.home),
            "LC_ALL": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",  # `eb events -f` prints as it goes, even into a pipe
            "AWS_CONFIG_FILE": str(self.home / "no-aws-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(self.home / "no-aws-credentials"),
            **self.sandbox.env(),
        }

    def run(
        self, tool: Path, *args: str, check: bool = True, timeout: float = TIMEOUT
    ) -> subprocess.CompletedProcess[str]:
        """Run a client to its end in the project folder; the test fails, showing the client's
        output, when it exits non-zero (with `check`) or outlives `timeout`."""
        command = [str(tool), *args]
        try:
            result = subprocess.run(
                command,
                cwd=self.project,
                env=self.environ(),
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except subprocess.TimeoutExpired as expired:
            pytest.fail(f"{tool.name} {' '.join(args)} ran past {timeout} s{_shown(expired)}")
        if check and result.returncode != 0:
            pytest.fail(f"{tool.name} {' '.join(args)} exited {result.returncode}{_shown(result)}")
        return result

    def eb(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run(EB, *args, check=check)

    def aws(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return self.run(AWS, *args, "--output", "json", check=check)

    def watch(self, tool: Path, *args: str, until: str, timeout: float) -> Watched:
        """Start a client that may not end by itself (`eb events -f`); read its output until
        `until` appears in it, the client ends or `timeout` passes, then stop it."""
        process = subprocess.Popen(
            [str(tool), *args],
            cwd=self.project,
            env=self.environ(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        assert process.stdout is not None
        assert process.stderr is not None
        out, err = process.stdout.fileno(), process.stderr.fileno()
        read = {out: b"", err: b""}
        deadline = time.monotonic() + timeout
        with selectors.DefaultSelector() as selector:
            for stream in (process.stdout, process.stderr):
                selector.register(stream, selectors.EVENT_READ)
            while until.encode() not in read[out] + read[err]:
                left = deadline - time.monotonic()
                if left <= 0 or not selector.get_map():
                    break
                for key, _events in selector.select(timeout=left):
                    chunk = os.read(key.fd, 65536)
                    if chunk:
                        read[key.fd] += chunk
                    else:
                        selector.unregister(key.fileobj)
            ended = not selector.get_map()
        if ended:
            # Both streams closed: the client is exiting. The kernel closes its pipes before the
            # process can be reaped, so poll() at end of file may still answer None; wait (within
            # the deadline) for the exit itself before calling the client still running.
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.0, deadline - time.monotonic()))
        running = process.poll() is None
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
        process.stderr.close()
        return Watched(
            running, read[out].decode(errors="replace"), read[err].decode(errors="replace")
        )


@dataclass(frozen=True)
class Watched:
    """What a watched client printed, and whether it was still running when stopped."""

    running: bool
    stdout: str
    stderr: str


def _shown(result: Any) -> str:
    def text(value: Any) -> str:
        return value.decode(errors="replace") if isinstance(value, bytes) else str(value or "")

    return f"\n--- stdout\n{text(result.stdout)}\n--- stderr\n{text(result.stderr)}"


@pytest.fixture(scope="module")
def clients(sandbox: Sandbox, tmp_path_factory: pytest.TempPathFactory) -> Clients:
    missing = [str(tool) for tool in (EB, AWS) if not os.access(tool, os.X_OK)]
    if missing:
        pytest.fail(f"the real clients are missing ({', '.join(missing)}): run scripts/setup")
    home = tmp_path_factory.mktemp("client-home")
    project = tmp_path_factory.mktemp("eb-project")
    found = Clients(sandbox, home, project)
    found.eb("init", world.APPLICATION, "--platform", PLATFORM, "--region", sandbox.info.region)
    found.eb("use", ENV)
    return found


def instance_ids(sandbox: Sandbox) -> list[str]:
    eb = sandbox.client("elasticbeanstalk")
    resources = eb.describe_environment_resources(EnvironmentName=ENV)["EnvironmentResources"]
    return sorted(instance["Id"] for instance in resources["Instances"])


def test_eb_init_writes_the_project_for_the_application_and_platform(clients: Clients) -> None:
    config = yaml.safe_load((clients.project / ".elasticbeanstalk" / "config.yml").read_text())
    assert config["global"]["application_name"] == world.APPLICATION
    assert config["global"]["default_platform"] == PLATFORM
    assert config["global"]["default_region"] == clients.sandbox.info.region
    assert config["branch-defaults"]["default"]["environment"] == ENV


def test_eb_status_shows_the_environment(clients: Clients) -> None:
    shown = clients.eb("status").stdout
    assert f"Environment details for: {ENV}" in shown
    assert f"Deployed Version: {world.APPLICATION_VERSION}" in shown
    assert world.ENVIRONMENT_PLATFORM.arn(clients.sandbox.info.region) in shown
    assert "Status: Ready" in shown
    assert "Health: Red" in shown  # the seeded app needs fluentd, which the stock AMI lacks
    assert "retired platform branch" in shown  # from ListPlatformBranches


def test_eb_health_shows_the_instances(clients: Clients) -> None:
    ids = instance_ids(clients.sandbox)
    # Shown once, `eb health` exits; the watch stops it early on an error (after which its
    # display would wait on a poller that is gone).
    watched = clients.watch(EB, "health", until="ERROR", timeout=30)
    shown = _shown(watched)
    assert not watched.running, f"eb health did not end within 30 s{shown}"
    assert ENV in watched.stdout, shown
    for instance_id in ids:
        assert instance_id in watched.stdout, shown


def test_eb_events_lists_the_environments_events(clients: Clients) -> None:
    shown = clients.eb("events").stdout
    assert "createEnvironment completed successfully." in shown
    assert '"reason": "ATTRIBUTE"' in shown


def test_eb_events_follow_prints_events_until_stopped(clients: Clients) -> None:
    last = "createEnvironment completed successfully."
    watched = clients.watch(EB, "events", "-f", until=last, timeout=30)
    assert last in watched.stdout, _shown(watched)
    assert watched.running, f"eb events -f stopped by itself{_shown(watched)}"


def test_eb_platform_list_shows_the_seeded_platforms(clients: Clients) -> None:
    shown = clients.eb("platform", "list", "--verbose").stdout
    for platform in world.PLATFORMS:
        assert platform.solution_stack in shown


def test_aws_describe_environments(clients: Clients) -> None:
    answer = yaml.safe_load(clients.aws("elasticbeanstalk", "describe-environments").stdout)
    found = {env["EnvironmentName"]: env for env in answer["Environments"]}
    assert set(found) == {"staging", "prod"}
    assert found[ENV]["PlatformArn"] == world.ENVIRONMENT_PLATFORM.arn(clients.sandbox.info.region)


def test_aws_describe_instances_health(clients: Clients) -> None:
    result = clients.aws(
        "elasticbeanstalk",
        "describe-instances-health",
        "--environment-name",
        ENV,
        "--attribute-names",
        "All",
        check=False,
    )
    assert result.returncode == 0, _shown(result)
    answer = yaml.safe_load(result.stdout)
    found = sorted(item["InstanceId"] for item in answer["InstanceHealthList"])
    assert found == instance_ids(clients.sandbox)


def test_aws_describe_images_owned_by_self(clients: Clients) -> None:
    ec2 = clients.sandbox.client("ec2")
    stock = world.ENVIRONMENT_PLATFORM.image_id(clients.sandbox.info.region)
    copy = ec2.copy_image(
        Name="real-clients-own-image", SourceImageId=stock, SourceRegion=clients.sandbox.info.region
    )["ImageId"]
    answer = yaml.safe_load(clients.aws("ec2", "describe-images", "--owners", "self").stdout)
    assert [image["ImageId"] for image in answer["Images"]] == [copy]


# --- the tests below change the environment or the application -----------------------------


def test_eb_config_save_then_get(clients: Clients) -> None:
    saved = clients.project / ".elasticbeanstalk" / "saved_configs" / "snap.cfg.yml"
    clients.eb("config", "save", "--cfg", "snap")
    document = yaml.safe_load(saved.read_text())
    region = clients.sandbox.info.region
    assert document["Platform"]["PlatformArn"] == world.ENVIRONMENT_PLATFORM.arn(region)
    launch = document["OptionSettings"]["aws:autoscaling:launchconfiguration"]
    assert launch["ImageId"] == world.ENVIRONMENT_PLATFORM.image_id(region)
    assert "snap" in clients.eb("config", "list").stdout
    saved.unlink()
    clients.eb("config", "get", "snap")
    assert yaml.safe_load(saved.read_text()) == document


def printed_properties(clients: Clients) -> dict[str, str]:
    lines = clients.eb("printenv").stdout.splitlines()
    found = {}
    for line in lines:
        name, equals, value = line.strip().partition(" = ")
        if equals:
            found[name] = value
    return found


def test_eb_setenv_then_printenv(clients: Clients) -> None:
    eb = clients.sandbox.client("elasticbeanstalk")
    # A property set beforehand (through the API, which is quicker), for setenv to remove.
    old = {"Namespace": PROPERTIES, "OptionName": "OLD_FLAG", "Value": "1"}
    eb.update_environment(EnvironmentName=ENV, OptionSettings=[old])
    wait_for(lambda: environment(eb)["Status"] == "Ready")
    assert printed_properties(clients) == {"OLD_FLAG": "1"}
    # One call sets two properties and removes one (an empty value), as `eb setenv` documents.
    clients.eb("setenv", "LOG_LEVEL=debug", "GREETING=hello world", "OLD_FLAG=")
    assert printed_properties(clients) == {"LOG_LEVEL": "debug", "GREETING": "hello world"}
    (settings,) = eb.describe_configuration_settings(
        ApplicationName=world.APPLICATION, EnvironmentName=ENV
    )["ConfigurationSettings"]
    assert {
        item["OptionName"]: item["Value"]
        for item in settings["OptionSettings"]
        if item["Namespace"] == PROPERTIES
    } == {"LOG_LEVEL": "debug", "GREETING": "hello world"}
    assert environment(eb)["Status"] == "Ready"  # the EB CLI waited for the update's end


def environment(eb: Any) -> dict[str, Any]:
    (found,) = eb.describe_environments(EnvironmentNames=[ENV])["Environments"]
    return dict(found)
