"""nightly.yml and apply.yml, run for real against a sandbox by the local workflow runner.

Three nightly runs: the first bakes, verifies and publishes; the second finds the AMI built
(nothing baked, nothing published); then AWS ships a new base AMI (`ebami sandbox release`) and
the third bakes again, from it. Then staging follows the first nightly's published AMI (the
`staging` job), and apply.yml switches prod by hand. IAM decides every request (`sandbox start
--enforce-iam`): the bake job runs with the `nightly` policy, the staging and apply jobs with
the `apply` policy (`ebami iam policy`), through IAM users that stand in for the roles the
workflows assume. What is not exercised here: GitHub's hosted runners, OIDC and the real actions
(the runner stands in for them, see tests/workflow_runner.py).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from ebami.cli.sandbox_iam import JobUser, create_job_users
from tests.sandbox_helpers import Sandbox, SandboxFactory
from tests.workflow_runner import JobResult, Runner

ROOT = Path(__file__).resolve().parents[2]
NIGHTLY = ROOT / ".github" / "workflows" / "nightly.yml"
APPLY = ROOT / ".github" / "workflows" / "apply.yml"
VENV_BIN = Path(sys.executable).parent
PARAMETER = "/ebami/multicontainer-docker/latest"


def repository_variables(sandbox: Sandbox) -> dict[str, str]:
    return {
        "EBAMI_AWS_ROLE_ARN": "arn:aws:iam::123456789012:role/ebami-nightly",
        "AWS_REGION": sandbox.info.region,
        "EBAMI_SSM_PARAMETER": PARAMETER,
        "EBAMI_VERIFY_INSTANCE_PROFILE": "aws-elasticbeanstalk-ec2-role",
    }


def run_job(
    workflow: Path,
    job: str,
    sandbox: Sandbox,
    tmp_path: Path,
    run_id: int,
    *,
    event: str = "workflow_dispatch",
    inputs: dict[str, object] | None = None,
    needs: dict[str, dict[str, Any]] | None = None,
    user: JobUser | None = None,
) -> tuple[JobResult, Path]:
    folder = tmp_path / f"run-{run_id}"
    artifacts = folder / "artifacts"
    result = Runner(
        workflow,
        source=ROOT,
        workspace=folder / "workspace",
        artifacts=artifacts,
        event_name=event,
        inputs=inputs,
        needs=needs,
        vars=repository_variables(sandbox),
        aws_env={**sandbox.env(), **(user.environment() if user else {})},
        python_bin=VENV_BIN,
        run_id=run_id,
    ).run(job)
    return result, artifacts


def account_amis(sandbox: Sandbox) -> dict[str, dict[str, str]]:
    images = sandbox.client("ec2").describe_images(Owners=["self"])["Images"]
    return {
        image["ImageId"]: {tag["Key"]: tag["Value"] for tag in image.get("Tags", [])}
        for image in images
    }


def published(sandbox: Sandbox) -> str:
    return str(sandbox.client("ssm").get_parameter(Name=PARAMETER)["Parameter"]["Value"])


def environment_image(sandbox: Sandbox, name: str) -> str | None:
    settings = sandbox.client("elasticbeanstalk").describe_configuration_settings(
        ApplicationName="webapp", EnvironmentName=name
    )["ConfigurationSettings"][0]["OptionSettings"]
    for option in settings:
        if option["OptionName"] == "ImageId":
            value = option.get("Value")
            return None if value is None else str(value)
    return None


def test_nightly_bakes_once_per_base_ami_and_apply_rolls_it_out(
    make_sandbox: SandboxFactory, tmp_path: Path
) -> None:
    sandbox = make_sandbox(enforce_iam=True)
    users = {user.job: user for user in create_job_users(sandbox.info)}
    nightly, apply = users["nightly"], users["apply"]

    # 1. The scheduled run: a build is needed; bake, verify, publish.
    first, artifacts = run_job(
        NIGHTLY, "bake", sandbox, tmp_path, 1, event="schedule", user=nightly
    )
    assert first.result == "success", first.log()
    check = first.step("check").outputs
    assert check["build-needed"] == "true"
    build = first.step("build").outputs
    assert build["built"] == "true"
    ami = build["ami-id"]
    verify = first.step("verify").outputs
    assert (verify["verified"], verify["ami-id"]) == ("true", ami)
    assert first.step("publish").outputs["ami-id"] == ami
    assert first.outputs == {"published": ami}
    assert published(sandbox) == ami
    tags = account_amis(sandbox)[ami]
    assert tags["ebami:bake-key"] == check["bake-key"]
    assert tags["ebami:base-ami"] == check["base-ami"]
    assert "ebami:verified" in tags
    assert tags["ebami:run-url"] == "https://github.com/example/ebami/actions/runs/1"
    record = json.loads((artifacts / "build-record-1" / "build.json").read_text())
    assert ami in json.dumps(record)
    assert check["bake-key"] in json.dumps(record)
    assert "| published | " + ami in first.summary
    assert "| build needed | true" in first.summary
    assert "## ebami check" in first.summary  # ebami's own table, from the check step
    # No verdict on the platform's own AMI yet: checked once (Amazon Linux 1's has no SSM
    # agent: remembered as such, nothing launched), and a custom AMI is needed.
    assert check["custom-ami-needed"] == "unknown"
    assert first.step("stock").outputs["custom-ami-needed"] == "true"
    assert "| custom AMI needed | true |" in first.summary

    # 2. Nothing new: the check says so, and nothing is baked, verified or published.
    second, artifacts = run_job(
        NIGHTLY, "bake", sandbox, tmp_path, 2, event="schedule", user=nightly
    )
    assert second.result == "success", second.log()
    assert second.step("check").outputs["build-needed"] == "false"
    assert second.step("check").outputs["existing-ami"] == ami
    assert second.step("check").outputs["custom-ami-needed"] == "true"  # remembered
    for skipped in ("stock", "build", "verify", "publish"):
        assert second.step(skipped).outcome == "skipped"
    assert not artifacts.exists()
    assert set(account_amis(sandbox)) == {ami}
    assert second.outputs == {"published": ""}
    assert "| build needed | false" in second.summary

    # 3. AWS ships a new base AMI: the next run bakes from it.
    subprocess.run(
        [str(VENV_BIN / "ebami"), "sandbox", "release", "--dir", str(sandbox.directory),
         "--platform", "multicontainer-docker", "--release", "2017.09"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    third, _ = run_job(
        NIGHTLY,
        "bake",
        sandbox,
        tmp_path,
        3,
        inputs={"release": "2017.09", "force": False},
        user=nightly,
    )
    assert third.result == "success", third.log()
    check3 = third.step("check").outputs
    assert check3["build-needed"] == "true"
    assert check3["base-ami"] != check["base-ami"]
    assert check3["platform-version"] != check["platform-version"]
    new_ami = third.step("build").outputs["ami-id"]
    assert new_ami != ami
    assert account_amis(sandbox)[new_ami]["ebami:base-ami"] == check3["base-ami"]
    assert published(sandbox) == new_ami

    # The staging job follows the bake job that published.
    needs = {"bake": {"outputs": third.outputs, "result": third.result}}
    staging, _ = run_job(NIGHTLY, "staging", sandbox, tmp_path, 4, needs=needs, user=apply)
    assert staging.result == "success", staging.log()
    assert staging.step("apply").outputs["result"] == "applied"
    assert environment_image(sandbox, "staging") == new_ami

    # apply.yml, by hand, for prod: the newest verified AMI that fits it.
    prod, _ = run_job(
        APPLY, "apply", sandbox, tmp_path, 5, inputs={"environment": "prod"}, user=apply
    )
    assert prod.result == "success", prod.log()
    applied = prod.step("apply").outputs
    assert (applied["result"], applied["ami-id"]) == ("applied", new_ami)
    assert environment_image(sandbox, "prod") == new_ami
    assert f"Apply to prod: applied {new_ami}" in prod.summary

    # 4. A night whose verify failed left an AMI carrying the bake key but never verified: the
    # next run verifies and publishes it, without baking again.
    subprocess.run(
        [str(VENV_BIN / "ebami"), "sandbox", "release", "--dir", str(sandbox.directory),
         "--platform", "multicontainer-docker", "--release", "2017.09"],
        check=True, capture_output=True, text=True,
    )  # fmt: skip
    baked = subprocess.run(
        [str(VENV_BIN / "ebami"), "build", "--release", "2017.09"],
        check=True, capture_output=True, text=True, env={**os.environ, **sandbox.env()},
    )  # fmt: skip
    unverified = baked.stdout.strip()
    assert "ebami:verified" not in account_amis(sandbox)[unverified]
    fourth, _ = run_job(NIGHTLY, "bake", sandbox, tmp_path, 6, event="schedule", user=nightly)
    assert fourth.result == "success", fourth.log()
    check4 = fourth.step("check").outputs
    assert (check4["build-needed"], check4["verify-needed"]) == ("false", "true")
    assert check4["existing-ami"] == unverified
    assert fourth.step("build").outcome == "skipped"
    assert fourth.step("verify").outputs["verified"] == "true"
    assert published(sandbox) == unverified
    assert "ebami:verified" in account_amis(sandbox)[unverified]
