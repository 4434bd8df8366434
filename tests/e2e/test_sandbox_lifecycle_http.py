"""The sandbox's AMI-lifecycle world over HTTP: a fleet in two regions, launch templates and
launch configurations, stopped instances, SSM image parameters with their history, image
deprecation, deregistration and snapshots, and an environment whose AMI is gone.

One sandbox with a fleet of 20 serves the module; each test uses environments of its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ebami.core.errors import InputError
from ebami.sandbox import world
from ebami.sandbox.control import start_background, stop
from ebami.sandbox.faults import Faults
from ebami.sandbox.release import replace_instance
from tests.sandbox_helpers import Sandbox, wait_for
from tests.support.runs import PROFILE, apply, ebami, verified_ami
from tests.support.visibility import image_exists, put_image_parameter

REGION = "us-east-1"
SECOND = "us-west-2"
AL2 = next(p for p in world.PLATFORMS if p.name == world.ECS_AL2 and p.version == "3.5.0")
AL2023 = next(p for p in world.PLATFORMS if p.name == world.ECS_AL2023 and p.version == "4.2.0")
IMAGE_ID = {"Namespace": "aws:autoscaling:launchconfiguration", "OptionName": "ImageId"}


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Sandbox]:
    directory = tmp_path_factory.mktemp("sandbox")
    info = start_background(directory, port=0, region=REGION, faults=Faults(), seed=1, fleet=20)
    yield Sandbox(info, directory)
    stop(directory)


def error_of(call: Any, **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as failed:
        call(**kwargs)
    found = failed.value.response["Error"]
    return str(found["Code"]), str(found["Message"])


def own_image(sandbox: Sandbox, base: str, name: str) -> tuple[str, str]:
    """An AMI of this account made from an instance of `base`, and its snapshot."""
    ec2 = sandbox.client("ec2")
    instance = ec2.run_instances(ImageId=base, MinCount=1, MaxCount=1)["Instances"][0]
    image_id = ec2.create_image(InstanceId=instance["InstanceId"], Name=name)["ImageId"]
    ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])
    image = image_exists(ec2, image_id)
    snapshot = image["BlockDeviceMappings"][0]["Ebs"]["SnapshotId"]
    return str(image_id), str(snapshot)


def ready(sandbox: Sandbox, name: str) -> dict[str, Any] | None:
    eb = sandbox.client("elasticbeanstalk")
    env: dict[str, Any] = eb.describe_environments(EnvironmentNames=[name])["Environments"][0]
    return env if env["Status"] == "Ready" else None


def test_apply_reaches_a_fleet_environment_in_the_second_region(
    fleet: Sandbox, tmp_path: Path
) -> None:
    """A build copied to us-west-2 and verified there is what apply needs in that region: the
    copy carries the build's tags (Packer tags every copy) but not ebami:verified."""
    ami = verified_ami(fleet, tmp_path, "--copy-to", SECOND)
    ec2 = fleet.client("ec2", region=SECOND)
    (copy,) = ec2.describe_images(
        Owners=["self"], Filters=[{"Name": "tag:ebami:managed", "Values": ["true"]}]
    )["Images"]
    tags = {tag["Key"]: tag["Value"] for tag in copy["Tags"]}
    assert "ebami:verified" not in tags
    assert copy["CreationDate"]
    done = ebami(
        fleet, "--region", SECOND, "verify", "--ami", copy["ImageId"], *PROFILE, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    applied = ebami(fleet, "--region", SECOND, "apply", "--env", "fleet-11", cwd=tmp_path)
    assert applied.returncode == 0, applied.stderr
    eb = fleet.client("elasticbeanstalk", region=SECOND)
    (after,) = eb.describe_environments(EnvironmentNames=["fleet-11"])["Environments"]
    assert after["Health"] == "Green"
    result = apply(fleet, "--env", "fleet-01", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (home,) = fleet.client("elasticbeanstalk").describe_environments(EnvironmentNames=["fleet-01"])[
        "Environments"
    ]
    assert home["Health"] == "Green"
    assert f"fleet-01  applied  {ami}" in result.stdout


def test_launch_templates_configurations_and_stopped_instances(fleet: Sandbox) -> None:
    ec2, autoscaling = fleet.client("ec2"), fleet.client("autoscaling")
    first, second = AL2.image_id(REGION), AL2023.image_id(REGION)
    ec2.create_launch_template(LaunchTemplateName="nightly", LaunchTemplateData={"ImageId": first})
    ec2.create_launch_template_version(
        LaunchTemplateName="nightly", LaunchTemplateData={"ImageId": second}
    )
    (template,) = ec2.describe_launch_templates(LaunchTemplateNames=["nightly"])["LaunchTemplates"]
    assert (template["DefaultVersionNumber"], template["LatestVersionNumber"]) == (1, 2)
    versions = ec2.describe_launch_template_versions(LaunchTemplateName="nightly")[
        "LaunchTemplateVersions"
    ]
    assert sorted((v["VersionNumber"], v["LaunchTemplateData"]["ImageId"]) for v in versions) == [
        (1, first),
        (2, second),
    ]
    autoscaling.create_launch_configuration(
        LaunchConfigurationName="lc", ImageId=first, InstanceType="t3.micro"
    )
    (configuration,) = autoscaling.describe_launch_configurations(LaunchConfigurationNames=["lc"])[
        "LaunchConfigurations"
    ]
    assert configuration["ImageId"] == first
    instance = ec2.run_instances(ImageId=second, MinCount=1, MaxCount=1)["Instances"][0]
    ec2.stop_instances(InstanceIds=[instance["InstanceId"]])
    found = ec2.describe_instances(Filters=[{"Name": "image-id", "Values": [second]}])
    states = [i["State"]["Name"] for r in found["Reservations"] for i in r["Instances"]]
    assert states == ["stopped"]
    ec2.terminate_instances(InstanceIds=[instance["InstanceId"]])


def test_image_parameters_keep_their_history(fleet: Sandbox) -> None:
    ssm = fleet.client("ssm")
    name = "/ebami/multicontainer-docker/2017.09/stable"
    first, second = AL2.image_id(REGION), AL2023.image_id(REGION)
    for value in (first, second):
        put_image_parameter(ssm, name, value, Overwrite=True)
    history = ssm.get_parameter_history(Name=name)["Parameters"]
    assert [(h["Version"], h["Value"], h["DataType"]) for h in history] == [
        (1, first, "aws:ec2:image"),
        (2, second, "aws:ec2:image"),
    ]
    # A well-formed id of an AMI the region lacks: success, yet nothing changes (AWS checks it
    # asynchronously and drops the value). The sandbox validates writes in their order: once
    # the next one shows, this one has been judged.
    answer = ssm.put_parameter(
        Name=name, Value="ami-0123456789abcdef0", Type="String", DataType="aws:ec2:image",
        Overwrite=True,
    )  # fmt: skip
    assert answer["Version"] == 3
    assert ssm.get_parameter(Name=name)["Parameter"]["Value"] == second
    assert put_image_parameter(ssm, name, first, Overwrite=True) == 4
    history = ssm.get_parameter_history(Name=name)["Parameters"]
    assert [(h["Version"], h["Value"]) for h in history] == [(1, first), (2, second), (4, first)]
    code, _message = error_of(
        ssm.put_parameter, Name=name, Value="not-an-ami", Type="String",
        DataType="aws:ec2:image", Overwrite=True,
    )  # fmt: skip
    assert code == "ValidationException"
    # (Other tests of the module apply ebami: their rollback targets are there too.)
    described = ssm.describe_parameters(
        ParameterFilters=[
            {"Key": "Type", "Values": ["String"]},
            {"Key": "Path", "Option": "Recursive", "Values": ["/ebami/multicontainer-docker"]},
        ]
    )["Parameters"]
    assert [(p["Name"], p["DataType"]) for p in described] == [(name, "aws:ec2:image")]
    by_path = ssm.get_parameters_by_path(Path="/ebami/multicontainer-docker", Recursive=True)
    assert [(p["Name"], p["Value"]) for p in by_path["Parameters"]] == [(name, first)]


def test_deprecation_deregistration_and_snapshots(fleet: Sandbox) -> None:
    ec2 = fleet.client("ec2")
    image_id, snapshot = own_image(fleet, AL2.image_id(REGION), "lifecycle-deprecation")
    image = ec2.describe_images(ImageIds=[image_id])["Images"][0]
    assert image["CreationDate"]
    assert "DeprecationTime" not in image
    ec2.enable_image_deprecation(ImageId=image_id, DeprecateAt="2031-06-01T10:20:40Z")
    image = ec2.describe_images(ImageIds=[image_id])["Images"][0]
    assert image["DeprecationTime"] == "2031-06-01T10:21:00.000Z"
    ec2.disable_image_deprecation(ImageId=image_id)
    assert "DeprecationTime" not in ec2.describe_images(ImageIds=[image_id])["Images"][0]
    code, _message = error_of(
        ec2.enable_image_deprecation, ImageId=image_id, DeprecateAt="2001-01-01T00:00:00Z"
    )
    assert code == "InvalidParameterValue"
    assert error_of(ec2.delete_snapshot, SnapshotId=snapshot) == (
        "InvalidSnapshot.InUse",
        f"The snapshot {snapshot} is currently in use by {image_id}",
    )
    ec2.deregister_image(ImageId=image_id)
    assert image_id not in [i["ImageId"] for i in ec2.describe_images(Owners=["self"])["Images"]]
    code, _message = error_of(ec2.run_instances, ImageId=image_id, MinCount=1, MaxCount=1)
    assert code == "InvalidAMIID.NotFound"
    assert ec2.describe_snapshots(SnapshotIds=[snapshot])["Snapshots"][0]["SnapshotId"] == snapshot
    ec2.delete_snapshot(SnapshotId=snapshot)
    assert error_of(ec2.delete_snapshot, SnapshotId=snapshot) == (
        "InvalidSnapshot.NotFound",
        f"The snapshot '{snapshot}' does not exist.",
    )


def test_an_environment_whose_ami_is_deregistered_cannot_replace_an_instance(
    fleet: Sandbox,
) -> None:
    eb, ec2 = fleet.client("elasticbeanstalk"), fleet.client("ec2")
    image_id, _snapshot = own_image(fleet, AL2.image_id(REGION), "lifecycle-gone")
    eb.update_environment(
        EnvironmentName="fleet-03", OptionSettings=[{**IMAGE_ID, "Value": image_id}]
    )
    assert wait_for(lambda: ready(fleet, "fleet-03"))["Health"] == "Green"
    replaced = replace_instance(fleet.endpoint, "fleet-03")
    assert replaced["launched"] is not None
    assert replaced["error"] is None
    ec2.deregister_image(ImageId=image_id)
    replaced = replace_instance(fleet.endpoint, "fleet-03")
    assert replaced["launched"] is None
    assert f"'[{image_id}]' does not exist" in str(replaced["error"])
    (env,) = eb.describe_environments(EnvironmentNames=["fleet-03"])["Environments"]
    assert env["Health"] == "Red"
    events = eb.describe_events(EnvironmentName="fleet-03", Severity="ERROR")["Events"]
    assert events[0]["Message"] == replaced["error"]
    resources = eb.describe_environment_resources(EnvironmentName="fleet-03")
    assert resources["EnvironmentResources"]["Instances"] == []
    with pytest.raises(InputError, match=r"^no environment fleet-11 in us-east-1$"):
        replace_instance(fleet.endpoint, "fleet-11")
    # An update that needs new instances of the gone AMI fails the same way.
    eb.update_environment(
        EnvironmentName="fleet-04", OptionSettings=[{**IMAGE_ID, "Value": image_id}]
    )
    assert wait_for(lambda: ready(fleet, "fleet-04"))["Health"] == "Red"
    errors = eb.describe_events(EnvironmentName="fleet-04", Severity="ERROR")["Events"]
    assert any(f"'[{image_id}]' does not exist" in event["Message"] for event in errors)
