"""The estate's readers against the sandbox in this process (moto and ebami's extensions): every
kind of use is found, a failed read makes the inventory incomplete, and the deleting calls
treat what is gone already as gone. Then `ebami prune`'s refusals of bad input."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager, nullcontext
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from ebami.aws.autoscaling import AutoScaling
from ebami.aws.ec2 import Ec2
from ebami.aws.elasticbeanstalk import ElasticBeanstalk
from ebami.aws.ssm import Ssm
from ebami.cli.main import main
from ebami.core.errors import AwsError, ExitCode
from ebami.image.managed import ManagedImage, newest_first
from ebami.lifecycle.inventory import (
    IncompleteInventory,
    RegionSources,
    UseKind,
    read_inventory,
    read_region,
    read_sharing,
)
from ebami.sandbox import world
from ebami.sandbox.faults import Faults
from ebami.sandbox.realism import Realism
from tests.fakes.clock import FakeClock
from tests.sandbox_helpers import sandbox_in_process

REGION = "us-east-1"
APP = world.APPLICATION
LAUNCH = "aws:autoscaling:launchconfiguration"
STOCK = world.ENVIRONMENT_PLATFORM.image_id(REGION)


def unbounded(seconds: float) -> AbstractContextManager[object]:
    return nullcontext()


def client(service: str) -> Any:
    make: Any = boto3.client
    return make(service, region_name=REGION)


def sources() -> RegionSources:
    return RegionSources(
        region=REGION,
        ec2=Ec2(client("ec2")),
        eb=ElasticBeanstalk(client("elasticbeanstalk")),
        ssm=Ssm(client("ssm")),
        autoscaling=AutoScaling(client("autoscaling")),
        bounded=unbounded,
    )


@pytest.fixture
def sandbox(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    # On a clock that never moves, a new AMI would stay invisible: EC2's NotFound window off.
    faults = Faults(realism=replace(Realism(), ec2_not_found=0))
    with sandbox_in_process(tmp_path, monkeypatch, clock=FakeClock(), region=REGION, faults=faults):
        yield


def managed_ami(ec2: Any, name: str) -> tuple[str, str]:
    """An ebami AMI made from an instance of the stock AMI: its id and its snapshot's."""
    instance = ec2.run_instances(ImageId=STOCK, MinCount=1, MaxCount=1)["Instances"][0]
    image_id = ec2.create_image(InstanceId=instance["InstanceId"], Name=name)["ImageId"]
    ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
    ec2.create_tags(
        Resources=[image_id],
        Tags=[{"Key": "ebami:managed", "Value": "true"}, {"Key": "ebami:bake-key", "Value": name}],
    )
    image = ec2.describe_images(ImageIds=[image_id])["Images"][0]
    (snapshot,) = [item["Ebs"]["SnapshotId"] for item in image["BlockDeviceMappings"]]
    return image_id, snapshot


def test_every_kind_of_use_is_read(sandbox: None) -> None:
    ec2, eb, ssm = client("ec2"), client("elasticbeanstalk"), client("ssm")
    used, snapshot = managed_ami(ec2, "used-image")
    spare, _ = managed_ami(ec2, "spare-image")
    unmanaged = ec2.create_image(
        InstanceId=ec2.run_instances(ImageId=STOCK, MinCount=1, MaxCount=1)["Instances"][0][
            "InstanceId"
        ],
        Name="not-ebami",
    )["ImageId"]

    stopped = ec2.run_instances(ImageId=used, MinCount=1, MaxCount=1)["Instances"][0]
    ec2.stop_instances(InstanceIds=[stopped["InstanceId"]])
    template = ec2.create_launch_template(
        LaunchTemplateName="web", LaunchTemplateData={"ImageId": used}
    )["LaunchTemplate"]["LaunchTemplateId"]
    ec2.create_launch_template_version(
        LaunchTemplateId=template, LaunchTemplateData={"ImageId": STOCK}
    )
    client("autoscaling").create_launch_configuration(
        LaunchConfigurationName="web-lc", ImageId=used, InstanceType="t3.micro"
    )
    ssm.put_parameter(Name="/ebami/x/stable", Value=used, Type="String")
    ssm.put_parameter(Name="/ebami/x/stable", Value=STOCK, Type="String", Overwrite=True)
    ssm.put_parameter(Name="/notes", Value=f"old: {used}, new: {STOCK}", Type="StringList")
    eb.create_configuration_template(
        ApplicationName=APP,
        TemplateName="base",
        SolutionStackName=world.ENVIRONMENT_PLATFORM.solution_stack,
        OptionSettings=[{"Namespace": LAUNCH, "OptionName": "ImageId", "Value": used}],
    )
    prod = eb.describe_environments(EnvironmentNames=["prod"])["Environments"][0]
    eb.update_tags_for_resource(
        ResourceArn=prod["EnvironmentArn"],
        TagsToAdd=[{"Key": "ebami:previous-image-id", "Value": used}],
    )

    found = read_region(sources())

    assert sorted(image.image_id for image in found.images) == sorted([used, spare])
    assert unmanaged not in {image.image_id for image in found.images}
    assert snapshot in found.owned_snapshots
    assert found.snapshot_users[snapshot] == (used,)
    uses = {(use.kind, use.where) for use in found.uses if use.image_id == used}
    launch_template = f"launch template {template} (web) version 1"
    assert uses == {
        (UseKind.SAVED_CONFIGURATION, f"saved configuration {APP}/base"),
        (UseKind.INSTANCE, f"instance {stopped['InstanceId']} (stopped)"),
        (UseKind.LAUNCH_TEMPLATE, launch_template),
        (UseKind.LAUNCH_CONFIGURATION, "launch configuration web-lc"),
        (UseKind.SSM_PARAMETER, "SSM parameter /ebami/x/stable version 1"),
        (UseKind.SSM_PARAMETER, "SSM parameter /notes version 1 (current)"),
        (UseKind.ROLLBACK_TARGET, "rollback target of environment prod"),
    }
    stock_uses = {use.where for use in found.uses if use.image_id == STOCK}
    assert "SSM parameter /ebami/x/stable version 2 (current)" in stock_uses
    assert f"launch template {template} (web) version 2" in stock_uses
    assert "environment staging (Ready) ImageId" in stock_uses
    assert not [use for use in found.uses if use.image_id == spare]
    by_name = {env.name: env for env in found.environments}
    assert by_name["prod"].previous_image_id == used
    assert by_name["staging"].image_id == STOCK
    assert by_name["staging"].status == "Ready"


def test_an_ami_other_accounts_may_launch_is_used_there(sandbox: None) -> None:
    ec2 = client("ec2")
    shared, _ = managed_ami(ec2, "shared")
    public, _ = managed_ami(ec2, "public")
    private, _ = managed_ami(ec2, "private")
    ec2.modify_image_attribute(
        ImageId=shared, LaunchPermission={"Add": [{"UserId": "111122223333"}]}
    )
    ec2.modify_image_attribute(ImageId=public, LaunchPermission={"Add": [{"Group": "all"}]})
    found = read_sharing(sources().ec2, REGION, [shared, public, private])
    shares = {(use.image_id, use.where) for use in found if use.kind is UseKind.SHARED}
    assert shares == {
        (shared, "launch permission for 111122223333"),
        (public, "launch permission for all"),
    }
    assert private not in {image_id for image_id, _ in shares}
    # Only prune asks, apart: the estate's read has no launch permission.
    assert not [use for use in read_region(sources()).uses if use.kind is UseKind.SHARED]


def test_a_failed_read_makes_the_inventory_incomplete(sandbox: None) -> None:
    ssm_client = client("ssm")
    stubbed = Stubber(ssm_client)
    # The rollback targets are read first: none; then the parameters' listing is refused.
    stubbed.add_response("get_parameters_by_path", {"Parameters": []})
    stubbed.add_client_error(
        "describe_parameters", "AccessDeniedException", "not allowed", http_status_code=400
    )
    region = sources()
    with stubbed, pytest.raises(IncompleteInventory) as failed:
        read_inventory(
            [
                RegionSources(
                    REGION,
                    region.ec2,
                    region.eb,
                    Ssm(ssm_client),
                    region.autoscaling,
                    unbounded,
                )
            ],
            now=datetime.now(timezone.utc),
        )
    assert failed.value.message == (
        "reading the estate in us-east-1: access denied: the caller may not "
        "ssm:DescribeParameters; `ebami iam policy` prints what it needs"
    )
    assert failed.value.exit_code == ExitCode.AWS


def test_deleting_what_is_gone_already_is_no_error(sandbox: None) -> None:
    ec2 = client("ec2")
    image_id, snapshot = managed_ami(ec2, "to-delete")
    wrapper = Ec2(ec2)
    assert wrapper.deregister_image(image_id) is True
    assert wrapper.deregister_image(image_id) is False
    assert wrapper.delete_snapshot(snapshot) is True
    assert wrapper.delete_snapshot(snapshot) is False


def test_a_snapshot_in_use_is_refused(sandbox: None) -> None:
    ec2 = client("ec2")
    _, snapshot = managed_ami(ec2, "in-use")
    with pytest.raises(AwsError, match=r"InvalidSnapshot\.InUse"):
        Ec2(ec2).delete_snapshot(snapshot)


# --- ebami prune's input ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "line"),
    [
        (["--keep", "0"], "--keep 0 is out of range: give a number of bakes from 1 to 1000"),
        (["--older-than", "-1"], "--older-than -1 is out of range: give days from 0 to 3650"),
        (
            ["--regions", "eu-west-1,moon"],
            "--regions: 'moon' is not an AWS region name; accepted: an AWS region name such as "
            "us-east-1, eu-central-2 or us-gov-west-1",
        ),
        (
            ["--regions", "eu-west-1", "--all-regions"],
            "--regions and --all-regions exclude each other: give one of them",
        ),
    ],
)
def test_bad_input_is_refused_before_any_call(
    argv: list[str], line: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")  # a call would fail otherwise
    assert main(["--region", REGION, "prune", *argv]) == ExitCode.USAGE
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == [f"error: {line}"]


def test_the_estate_holds_the_verified_amis_drift_would_scan_for(sandbox: None) -> None:
    ec2 = client("ec2")
    verified_at = [{"Key": "ebami:verified", "Value": "2026-11-01T00:00:00Z"}]
    first, _ = managed_ami(ec2, "verified-first")
    second, _ = managed_ami(ec2, "verified-second")
    managed_ami(ec2, "never-verified")
    not_ebami = ec2.create_image(
        InstanceId=ec2.run_instances(ImageId=STOCK, MinCount=1, MaxCount=1)["Instances"][0][
            "InstanceId"
        ],
        Name="verified-not-ebami",
    )["ImageId"]
    ec2.create_tags(Resources=[first, second, not_ebami], Tags=verified_at)

    found = read_region(sources())

    scanned = newest_first(
        ManagedImage.of(image, REGION)
        for image in Ec2(client("ec2")).find_images_with_tag("ebami:verified")
    )
    assert found.verified == tuple(scanned)
    assert {image.image_id for image in found.verified} == {first, second, not_ebami}


@pytest.mark.parametrize("padding", [0, 450], ids=["one filter", "more than a filter takes"])
def test_uses_by_instance_and_owned_snapshots_in_one_read(sandbox: None, padding: int) -> None:
    """More AMIs (or snapshots) than one filter takes are not asked for 200 at a time: the
    region's live instances (own snapshots) are read in one paged scan and kept here, with the
    same answer as the filtered read."""
    ec2 = client("ec2")
    used, snapshot = managed_ami(ec2, "used-image")
    other = ec2.run_instances(ImageId=STOCK, MinCount=1, MaxCount=1)["Instances"][0]
    mine = ec2.run_instances(ImageId=used, MinCount=1, MaxCount=1)["Instances"][0]
    calls: list[str] = []
    ec2.meta.events.register("before-call.ec2", lambda model, **_: calls.append(model.name))
    absent = [f"ami-{index:017x}" for index in range(padding)]
    absent_snapshots = [f"snap-{index:017x}" for index in range(padding)]

    found = Ec2(ec2).instances_of_images([*absent, used])
    owned = Ec2(ec2).own_snapshot_ids([*absent_snapshots, snapshot])

    assert [instance.instance_id for instance in found] == [mine["InstanceId"]]
    assert other["InstanceId"] not in {instance.instance_id for instance in found}
    assert owned == {snapshot}
    assert calls == ["DescribeInstances", "DescribeSnapshots"]
