"""EC2's own AMI guards end to end, against the sandbox over HTTP with the real Packer.

One story in a sandbox of its own: three bakes applied to staging in turn. Each apply protects
the AMI staging will run (and its way back) from deregistration, so EC2 refuses to deregister
it, as AWS refuses it; each records its rollback target in SSM and writes nothing to the
environment. Prune then deletes the one AMI nothing uses any more, turning off the protection
ebami turned on and deleting its snapshot with it (DeleteAssociatedSnapshots), and keeps the
rollback target. `revoke --disable` makes apply and promote refuse the AMI and EC2 refuse to
launch it. Then ebami runs on a botocore that knows none of the guards: one warning each, and
the run succeeds (prune's own fallbacks are unit-tested: `tests/unit/test_prune_guards.py`).
Last, "is a custom AMI still needed?": the platforms' own AMIs checked (`verify --stock`), an
Amazon Linux 2023 environment made with CreateEnvironment told it needs its custom AMI no more
and back on the platform's AMI (`apply --stock`), an Amazon Linux 1 one told it still does."""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from botocore.exceptions import ClientError

from tests.sandbox_helpers import Sandbox, module_sandbox
from tests.support.environments import (
    IMAGE_ID,
    PREVIOUS,
    STOCK,
    configured_image,
    environment_tags,
    rollback_target,
)
from tests.support.runs import (
    PROFILE,
    api_calls,
    apply,
    baked,
    build,
    ebami,
    last_error,
    verify,
)

FLUENTD = ("json-file,fluentd", "json-file,syslog,fluentd", "json-file,awslogs,fluentd")
# A botocore from before the guards: sitecustomize takes them out of EC2's service model.
OLD_BOTOCORE = """
import botocore.loaders

_load = botocore.loaders.Loader.load_service_model
GONE = ("EnableImageDeregistrationProtection", "DisableImageDeregistrationProtection",
        "DisableImage", "EnableImage", "DescribeImageReferences")


def load_service_model(self, service_name, type_name, api_version=None):
    model = _load(self, service_name, type_name, api_version)
    if service_name == "ec2" and type_name == "service-2":
        for name in GONE:
            model["operations"].pop(name, None)
        model["shapes"]["DescribeImagesRequest"]["members"].pop("IncludeDisabled", None)
        model["shapes"]["DeregisterImageRequest"]["members"].pop("DeleteAssociatedSnapshots", None)
    return model


botocore.loaders.Loader.load_service_model = load_service_model
"""


@dataclass
class Story:
    sandbox: Sandbox
    work: Path
    # Baked in this order, applied to staging in this order: the oldest is unused at the end.
    oldest: str
    middle: str
    newest: str


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Story]:
    with module_sandbox(tmp_path_factory) as (sandbox, work):
        oldest, middle, newest = (baked(sandbox, work, "--drivers", d) for d in FLUENTD)
        checked = verify(sandbox, "--ami", newest, *PROFILE, cwd=work)
        assert checked.returncode == 0, checked.stderr
        yield Story(sandbox, work, oldest, middle, newest)


def image(sandbox: Sandbox, image_id: str) -> dict[str, object]:
    ec2 = sandbox.client("ec2")
    (found,) = ec2.describe_images(ImageIds=[image_id], IncludeDisabled=True)["Images"]
    return dict(found)


def tags_of(found: dict[str, object]) -> dict[str, str]:
    return {str(t["Key"]): str(t["Value"]) for t in found.get("Tags", [])}  # type: ignore[attr-defined]


def snapshots(found: dict[str, object]) -> list[str]:
    mappings = found["BlockDeviceMappings"]
    return [str(item["Ebs"]["SnapshotId"]) for item in mappings]  # type: ignore[attr-defined]


def owned_snapshots(sandbox: Sandbox) -> set[str]:
    found = sandbox.client("ec2").describe_snapshots(OwnerIds=["self"])["Snapshots"]
    return {item["SnapshotId"] for item in found}


def test_apply_protects_records_in_ssm_and_prune_releases_only_what_nothing_uses(
    story: Story,
) -> None:
    sandbox, work = story.sandbox, story.work
    ec2 = sandbox.client("ec2")
    for target in (story.oldest, story.middle, story.newest):
        done = apply(
            sandbox, "--env", "staging", "--ami", target, "--allow-unverified", cwd=work,
            stats=True,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        calls = api_calls(done.stderr)
        # The way back goes to SSM; the environment gets nothing but its update.
        assert "elasticbeanstalk.UpdateTagsForResource" not in calls
        assert calls["ssm.PutParameter"] == 1
        shown = image(sandbox, target)
        assert shown["DeregistrationProtection"] == "enabled-without-cooldown"
        assert tags_of(shown)["ebami:protected-for"] == "apply staging"
        # EC2 refuses to deregister what staging runs, whoever asks.
        with pytest.raises(ClientError) as refused:
            ec2.deregister_image(ImageId=target)
        assert refused.value.response["Error"]["Code"] == "OperationNotPermitted"
    assert configured_image(sandbox, "staging") == story.newest
    assert rollback_target(sandbox, "staging") == story.middle
    assert PREVIOUS not in environment_tags(sandbox, "staging")

    gone_snapshots = snapshots(image(sandbox, story.oldest))
    kept_snapshots = owned_snapshots(sandbox) - set(gone_snapshots)
    pruned = ebami(
        sandbox, "prune", "--keep", "1", "--older-than", "0", "--yes", cwd=work, stats=True,
        json_output=True,
    )  # fmt: skip
    assert pruned.returncode == 0, pruned.stderr
    calls = api_calls(pruned.stderr)
    # The oldest is used by nothing: its protection (ebami's) off, then it goes with its
    # snapshot in one call; the middle one is staging's way back, and stays.
    assert calls["ec2.DisableImageDeregistrationProtection"] == 1
    assert calls["ec2.DeregisterImage"] == 1
    assert "ec2.DeleteSnapshot" not in calls
    assert calls["ec2.DescribeImageReferences"] >= 1
    verdicts = {item["image_id"]: item for item in json.loads(pruned.stdout)["amis"]}
    assert verdicts[story.middle]["verdict"] == "protected"
    assert verdicts[story.middle]["used_by"] == ["rollback target of environment staging"]
    assert [item["image_id"] for item in json.loads(pruned.stdout)["deleted"]] == [story.oldest]
    assert owned_snapshots(sandbox) == kept_snapshots  # exactly the oldest's went
    # The rollback target survives a later apply and the prune, still protected.
    assert rollback_target(sandbox, "staging") == story.middle
    assert image(sandbox, story.middle)["DeregistrationProtection"] == "enabled-without-cooldown"


def test_a_disabled_ami_is_refused_by_apply_promote_and_ec2(story: Story) -> None:
    sandbox, work = story.sandbox, story.work
    revoked = ebami(
        sandbox, "revoke", "--ami", story.newest, "--reason", "CVE-2026-1", "--disable",
        cwd=work, stats=True,
    )  # fmt: skip
    assert revoked.returncode == 0, revoked.stderr
    assert api_calls(revoked.stderr)["ec2.DisableImage"] == 1
    assert image(sandbox, story.newest)["State"] == "disabled"
    # Listings leave it out unless asked; status lists it, disabled.
    listed = sandbox.client("ec2").describe_images(Owners=["self"])["Images"]
    assert story.newest not in {item["ImageId"] for item in listed}
    status = ebami(sandbox, "status", cwd=work, json_output=True)
    assert status.returncode == 0, status.stderr
    (shown,) = [i for i in json.loads(status.stdout)["images"] if i["image_id"] == story.newest]
    assert shown["state"] == "disabled"

    refused = apply(sandbox, "--env", "prod", "--ami", story.newest, cwd=work)
    assert refused.returncode == 7, refused.stderr
    assert f"{story.newest} is disabled, not available" in last_error(refused)
    promoted = ebami(sandbox, "promote", "--ami", story.newest, "--channel", "stable", cwd=work)
    assert promoted.returncode == 7, promoted.stderr
    assert "it is disabled, not available" in last_error(promoted)
    with pytest.raises(ClientError) as launch:
        sandbox.client("ec2").run_instances(
            ImageId=story.newest, MinCount=1, MaxCount=1, InstanceType="t3.micro"
        )
    assert launch.value.response["Error"]["Code"] == "InvalidAMIID.Unavailable"


def test_without_the_guards_in_botocore_one_warning_each_and_the_runs_succeed(
    story: Story, tmp_path: Path
) -> None:
    sandbox, work = story.sandbox, story.work
    (tmp_path / "sitecustomize.py").write_text(textwrap.dedent(OLD_BOTOCORE))
    old = {
        "PYTHONPATH": os.pathsep.join(filter(None, [str(tmp_path), os.environ.get("PYTHONPATH")]))
    }
    fresh = baked(sandbox, work, "--drivers", "json-file,gelf,fluentd")
    done = apply(sandbox, "--env", "prod", "--ami", fresh, "--allow-unverified", cwd=work, env=old)
    assert done.returncode == 0, done.stderr
    warnings = [line for line in done.stderr.splitlines() if line.startswith("warning: ")]
    assert warnings[-1].startswith(
        "warning: deregistration protection not turned on (EnableImageDeregistrationProtection "
        "is unknown to the installed botocore "
    ), done.stderr
    assert "(it came with 1.34.90)" in warnings[-1]
    assert len([line for line in warnings if "deregistration protection" in line]) == 1
    assert image(sandbox, fresh)["DeregistrationProtection"] == "disabled"
    assert configured_image(sandbox, "prod") == fresh
    assert rollback_target(sandbox, "prod") == STOCK


def test_is_a_custom_ami_still_needed_al2023_not_al1(story: Story) -> None:
    """Amazon Linux 2023's own AMI (ecs-init 1.89) allows fluentd: its environment on a custom
    AMI is told it needs it no more and goes back with `apply --stock`; Amazon Linux 1's own AMI
    cannot be checked (no SSM agent), so its environment still needs one."""
    sandbox, work = story.sandbox, story.work
    # Amazon Linux 1: prod runs a custom AMI (the test before applied it).
    assert configured_image(sandbox, "prod") not in (None, STOCK)
    al1 = verify(sandbox, "--stock", "--release", "2017.09", *PROFILE, cwd=work, stats=True)
    assert al1.returncode == 0, al1.stderr
    assert "ec2.RunInstances" not in api_calls(al1.stderr)
    assert "a custom AMI is needed: the platform's AMI " in al1.stdout
    assert " could not be checked: no SSM agent: " in al1.stdout
    checked = ebami(sandbox, "check", "--release", "2017.09", "--env", "prod", cwd=work,
                    json_output=True)  # fmt: skip
    (prod,) = json.loads(checked.stdout)["drift"]
    assert prod["custom_ami"]["needed"] is True, checked.stdout

    # Amazon Linux 2023: an environment made with CreateEnvironment on an ebami AMI.
    built = build(sandbox, "--platform", "ecs-al2023", cwd=work)
    assert built.returncode == 0, built.stderr
    custom = built.stdout.strip()
    eb = sandbox.client("elasticbeanstalk")
    (arn,) = [
        item["PlatformArn"]
        for item in eb.list_platform_versions()["PlatformSummaryList"]
        if item["PlatformArn"].endswith("Amazon Linux 2023/4.2.0")
    ]
    created = eb.create_environment(
        ApplicationName="webapp", EnvironmentName="modern", PlatformArn=arn, VersionLabel="v42",
        OptionSettings=[{**IMAGE_ID, "Value": custom}],
    )  # fmt: skip
    assert created["Status"] == "Ready"
    stock = eb.describe_platform_version(PlatformArn=arn)["PlatformDescription"]
    (own,) = [a["ImageId"] for a in stock["CustomAmiList"] if a["VirtualizationType"] == "hvm"]

    # Not judged before the stock AMI is checked; checked once, remembered in SSM.
    before = ebami(sandbox, "check", "--platform", "ecs-al2023", "--env", "modern", cwd=work,
                   json_output=True)  # fmt: skip
    assert json.loads(before.stdout)["drift"][0]["custom_ami"]["needed"] is None
    al2023 = verify(sandbox, "--stock", "--platform", "ecs-al2023", *PROFILE, cwd=work,
                    json_output=True, stats=True)  # fmt: skip
    assert al2023.returncode == 0, al2023.stderr
    assert api_calls(al2023.stderr)["ec2.RunInstances"] == 1
    remembered = json.loads(al2023.stdout)["stock"]
    assert remembered["image_id"] == own
    assert "fluentd" in remembered["allows"]
    assert remembered["ecs_init"].startswith("1.89.2")
    parameter = sandbox.client("ssm").get_parameter(Name="/ebami/stock-ami/ecs-al2023/4.2.0")
    assert json.loads(parameter["Parameter"]["Value"]) == remembered
    # A driver its agent does not allow: the same AMI, judged by the drivers, needs a custom one.
    splunk = verify(sandbox, "--stock", "--platform", "ecs-al2023", "--require", "fluentd,splunk",
                    *PROFILE, cwd=work)  # fmt: skip
    assert splunk.returncode == 0, splunk.stderr
    assert "a custom AMI is needed: the platform's AMI " in splunk.stdout
    assert " does not allow splunk (ecs-init 1.89.2" in splunk.stdout
    assert "FAIL  logging-drivers  splunk missing" in splunk.stdout

    after = ebami(sandbox, "check", "--platform", "ecs-al2023", "--env", "modern", cwd=work,
                  stats=True)  # fmt: skip
    assert after.returncode == 0, after.stderr
    assert "ec2.RunInstances" not in api_calls(after.stderr)  # the verdict is read, not made
    assert "custom AMI not needed: the platform's AMI" in after.stdout
    assert "go back with `ebami apply --env modern --stock`" in after.stdout
    status = ebami(sandbox, "status", cwd=work, json_output=True)
    (shown,) = [
        e for e in json.loads(status.stdout)["environments"] if e["environment"] == "modern"
    ]
    assert shown["custom_ami"]["needed"] is False

    # A custom AMI baked for splunk too, which the platform's AMI does not allow: the deployed
    # Dockerrun (version v42 uses fluentd only) decides, read once per version.
    ec2 = sandbox.client("ec2")
    (image,) = ec2.describe_images(ImageIds=[custom])["Images"]
    (tag,) = [t for t in image["Tags"] if t["Key"] == "ebami:drivers"]
    ec2.create_tags(Resources=[custom], Tags=[{**tag, "Value": tag["Value"] + " splunk"}])
    try:
        by_dockerrun = ebami(sandbox, "check", "--platform", "ecs-al2023", "--env", "modern",
                             cwd=work, stats=True)  # fmt: skip
        status = ebami(sandbox, "status", "--env", "modern", cwd=work, json_output=True)
    finally:
        ec2.create_tags(Resources=[custom], Tags=[tag])
    allowed = "allows fluentd, which application version 'v42' uses (ecs-init 1.89.2"
    (shown,) = json.loads(status.stdout)["environments"]
    assert (shown["version_label"], shown["custom_ami"]["needed"]) == ("v42", False)
    assert allowed in shown["custom_ami"]["detail"]
    assert by_dockerrun.returncode == 0, by_dockerrun.stderr
    assert "custom AMI not needed: the platform's AMI" in by_dockerrun.stdout
    assert allowed in by_dockerrun.stdout
    calls = api_calls(by_dockerrun.stderr)
    assert calls["elasticbeanstalk.DescribeApplicationVersions"] == 1
    assert calls["s3.GetObject"] == 1

    back = apply(sandbox, "--env", "modern", "--stock", cwd=work, json_output=True)
    assert back.returncode == 0, back.stderr
    assert configured_image(sandbox, "modern") == own
    assert rollback_target(sandbox, "modern") == custom
    now = ebami(sandbox, "check", "--platform", "ecs-al2023", "--env", "modern", cwd=work,
                json_output=True)  # fmt: skip
    (modern,) = json.loads(now.stdout)["drift"]
    assert (modern["status"], modern["custom_ami"]["needed"]) == ("current", False)
