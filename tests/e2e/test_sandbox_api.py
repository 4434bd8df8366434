"""Each extended action over real HTTP, parsed by botocore; instances boot in bubblewrap."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ebami.image.ecsconfig import effective_drivers
from ebami.image.ecsfiles import ConfigFile
from ebami.image.ecsreport import DriversOrigin
from ebami.sandbox import world
from tests.sandbox_helpers import Sandbox
from tests.support.amis import ARTICLE_USER_DATA, FLUENTD_LINE, base_ami, launch, run_shell
from tests.support.visibility import visible

MCD = world.MULTICONTAINER_DOCKER


# --- platforms -----------------------------------------------------------------------------


def test_list_platform_versions_applies_filters_like_aws(sandbox: Sandbox) -> None:
    eb = sandbox.client("elasticbeanstalk")

    def versions(*filters: tuple[str, str, str]) -> list[str]:
        summaries = eb.list_platform_versions(
            Filters=[{"Type": t, "Operator": o, "Values": [v]} for t, o, v in filters]
        )["PlatformSummaryList"]
        return [summary["PlatformVersion"] for summary in summaries]

    assert versions(("PlatformName", "=", MCD)) == ["2.8.0", "2.8.4", "2.10.0", "2.11.0"]
    assert versions(("PlatformName", "=", MCD), ("PlatformVersion", ">=", "2.9")) == [
        "2.10.0",
        "2.11.0",
    ]
    assert versions(("PlatformName", "begins_with", "ECS running")) == [
        "3.4.2",
        "3.5.0",
        "4.1.0",
        "4.2.0",
    ]
    assert versions(("PlatformLifecycleState", "=", "Recommended")) == ["3.5.0", "4.2.0"]
    assert versions(("PlatformOwner", "=", "someone-else")) == []
    # "ECS running on 64bit Amazon Linux 2" must not also match the Amazon Linux 2023 branch.
    assert versions(("PlatformName", "=", world.ECS_AL2)) == ["3.4.2", "3.5.0"]
    with pytest.raises(ClientError, match="Invalid filter type: Color"):
        versions(("Color", "=", "blue"))


def test_list_platform_versions_pages(sandbox: Sandbox) -> None:
    eb = sandbox.client("elasticbeanstalk")
    first = eb.list_platform_versions(MaxRecords=3)
    second = eb.list_platform_versions(MaxRecords=3, NextToken=first["NextToken"])
    pages = list(
        eb.get_paginator("list_platform_versions").paginate(PaginationConfig={"PageSize": 3})
    )
    assert len(first["PlatformSummaryList"]) == 3
    assert second["PlatformSummaryList"][0] != first["PlatformSummaryList"][0]
    assert sum(len(page["PlatformSummaryList"]) for page in pages) == len(world.PLATFORMS)


def test_describe_platform_version_has_what_lookup_reads(sandbox: Sandbox) -> None:
    eb = sandbox.client("elasticbeanstalk")
    arn = f"arn:aws:elasticbeanstalk:us-east-1::platform/{MCD}/2.8.4"
    description = eb.describe_platform_version(PlatformArn=arn)["PlatformDescription"]
    assert description["PlatformArn"] == arn
    assert description["OperatingSystemName"] == "Amazon Linux"
    assert description["OperatingSystemVersion"] == "2017.09"
    assert description["PlatformBranchName"] == MCD
    assert description["SolutionStackName"].startswith("64bit Amazon Linux 2017.09 v2.8.4 running")
    hvm = [ami for ami in description["CustomAmiList"] if ami["VirtualizationType"] == "hvm"]
    image = sandbox.client("ec2").describe_images(ImageIds=[hvm[0]["ImageId"]])["Images"][0]
    assert image["ImageOwnerAlias"] == "amazon"
    assert image["State"] == "available"
    with pytest.raises(ClientError, match="No Platform found"):
        eb.describe_platform_version(PlatformArn=arn + "9")


@pytest.mark.parametrize(
    ("args", "version", "os_version"),
    [
        (["--release", "2017.09"], "2.8.4", "2017.09"),
        (["--release", "2018.03"], "2.11.0", "2018.03"),
        (["--platform", "ecs-al2"], "3.5.0", "2"),
        (["--platform", "ecs-al2023"], "4.2.0", "2023"),
    ],
)
def test_ebami_lookup_over_http(
    sandbox: Sandbox, args: list[str], version: str, os_version: str
) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "ebami", "--output", "json", "lookup", *args],
        env={"PATH": "/usr/bin:/bin", **sandbox.env()},
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert (found["platform_version"], found["os_version"]) == (version, os_version)
    assert proc.stderr.count("sandbox: talking to the ebami sandbox at") == 1


# --- environments --------------------------------------------------------------------------


def test_describe_environments_honours_names_and_reports_the_platform(sandbox: Sandbox) -> None:
    eb = sandbox.client("elasticbeanstalk")
    envs = eb.describe_environments(EnvironmentNames=["prod"])["Environments"]
    assert [env["EnvironmentName"] for env in envs] == ["prod"]
    assert envs[0]["PlatformArn"] == world.ENVIRONMENT_PLATFORM.arn("us-east-1")
    assert envs[0]["EnvironmentId"].startswith("e-")
    assert envs[0]["Status"] == "Ready"
    both = eb.describe_environments(ApplicationName=world.APPLICATION)["Environments"]
    assert sorted(env["EnvironmentName"] for env in both) == ["prod", "staging"]


def test_seeded_prod_runs_the_stock_ami_and_fails_on_fluentd(sandbox: Sandbox) -> None:
    eb = sandbox.client("elasticbeanstalk")
    settings = eb.describe_configuration_settings(
        ApplicationName=world.APPLICATION, EnvironmentName="prod"
    )
    options = {
        (o["Namespace"], o["OptionName"]): o["Value"]
        for o in settings["ConfigurationSettings"][0]["OptionSettings"]
    }
    stock = world.ENVIRONMENT_PLATFORM.image_id("us-east-1")
    assert options[("aws:autoscaling:launchconfiguration", "ImageId")] == stock
    assert options[("aws:autoscaling:updatepolicy:rollingupdate", "Timeout")] == "PT30M"

    resources = eb.describe_environment_resources(EnvironmentName="prod")["EnvironmentResources"]
    ids = [instance["Id"] for instance in resources["Instances"]]
    assert len(ids) == 2
    instances = [
        i
        for r in sandbox.client("ec2").describe_instances(InstanceIds=ids)["Reservations"]
        for i in r["Instances"]
    ]
    assert {i["ImageId"] for i in instances} == {stock}
    assert {i["State"]["Name"] for i in instances} == {"running"}

    health = eb.describe_environment_health(EnvironmentName="prod", AttributeNames=["All"])
    assert (health["Color"], health["HealthStatus"]) == ("Red", "Severe")
    assert "ATTRIBUTE" in health["Causes"][0]
    assert health["InstancesHealth"]["Severe"] == 2

    events = eb.describe_events(EnvironmentName="prod")["Events"]
    dates = [event["EventDate"] for event in events]
    assert dates == sorted(dates, reverse=True)  # newest first
    messages = [event["Message"] for event in events]
    assert any('"reason": "ATTRIBUTE"' in message for message in messages)
    # EB's bootstrap appended the cluster; the stock ecs.config has no drivers line.
    config = (sandbox.instance_root(ids[0]) / "etc/ecs/ecs.config").read_text()
    assert config.startswith("ECS_CLUSTER=awseb-prod-")
    assert "ECS_AVAILABLE_LOGGING_DRIVERS" not in config


def test_unknown_environment_is_refused(sandbox: Sandbox) -> None:
    eb = sandbox.client("elasticbeanstalk")
    with pytest.raises(ClientError, match="No Environment found for EnvironmentName = 'nope'"):
        eb.describe_environment_health(EnvironmentName="nope", AttributeNames=["All"])


# --- instances, boot and SSM ---------------------------------------------------------------


def test_article_cloud_config_then_ssm_cat_shows_the_fluentd_line(sandbox: Sandbox) -> None:
    instance_id = launch(sandbox, base_ami(sandbox, MCD, "2.8.4"), ARTICLE_USER_DATA)
    info = sandbox.client("ssm").describe_instance_information(
        Filters=[{"Key": "InstanceIds", "Values": [instance_id]}]
    )["InstanceInformationList"]
    assert [(i["InstanceId"], i["PingStatus"]) for i in info] == [(instance_id, "Online")]
    assert info[0]["PlatformVersion"] == "2017.09"

    invocation = run_shell(
        sandbox, instance_id, "cat /etc/ecs/ecs.config", "grep ^releasever /etc/yum.conf"
    )
    assert invocation["Status"] == "Success"
    assert invocation["ResponseCode"] == 0
    out = invocation["StandardOutputContent"]
    assert out == FLUENTD_LINE + "\nreleasever=2017.09\n"
    report = effective_drivers([ConfigFile("/etc/ecs/ecs.config", out.split("\n")[0])])
    assert report.origin is DriversOrigin.CONFIG
    assert "fluentd" in report.drivers

    listed = sandbox.client("ssm").list_command_invocations(
        CommandId=invocation["CommandId"], Details=True
    )["CommandInvocations"]
    assert listed[0]["CommandPlugins"][0]["Output"].startswith(FLUENTD_LINE)


def test_failing_and_timed_out_commands(sandbox: Sandbox) -> None:
    instance_id = launch(sandbox, base_ami(sandbox, world.ECS_AL2, "3.5.0"), "")
    failed = run_shell(sandbox, instance_id, "echo partial", "echo oops >&2", "exit 3")
    assert (failed["Status"], failed["ResponseCode"]) == ("Failed", 3)
    assert (failed["StandardOutputContent"], failed["StandardErrorContent"]) == (
        "partial\n",
        "oops\n",
    )
    timed_out = run_shell(sandbox, instance_id, "sleep 30", executionTimeout=["1"])
    assert (timed_out["Status"], timed_out["StatusDetails"]) == ("TimedOut", "ExecutionTimedOut")


def test_commands_cannot_touch_the_host(sandbox: Sandbox, tmp_path: Any) -> None:
    instance_id = launch(sandbox, base_ami(sandbox, world.ECS_AL2, "3.5.0"), "")
    marker = tmp_path / "marker"
    result = run_shell(
        sandbox,
        instance_id,
        f"touch {marker} 2>/dev/null && echo host-writable",
        "touch /usr/ebami-probe 2>/dev/null && echo usr-writable",
        "cat /etc/system-release",
        "(exec 3<>/dev/tcp/127.0.0.1/22) 2>/dev/null && echo network || echo no-network",
    )
    assert result["StandardOutputContent"] == "Amazon Linux release 2 (Karoo)\nno-network\n"
    assert not marker.exists()


def test_image_without_agent_or_profile_is_not_managed(sandbox: Sandbox) -> None:
    ssm = sandbox.client("ssm")
    no_agent = launch(sandbox, base_ami(sandbox, MCD, "2.8.4"), "")
    no_profile = launch(sandbox, base_ami(sandbox, world.ECS_AL2, "3.5.0"), "", profile=False)
    managed = {
        i["InstanceId"] for i in ssm.describe_instance_information()["InstanceInformationList"]
    }
    assert no_agent not in managed
    assert no_profile not in managed
    with pytest.raises(ClientError, match="InvalidInstanceId"):
        ssm.send_command(
            InstanceIds=[no_agent],
            DocumentName="AWS-RunShellScript",
            Parameters={"commands": ["true"]},
        )


def test_quoting_bug_in_user_data_fails_visibly(sandbox: Sandbox) -> None:
    # Double quotes around JSON: the shell eats the inner quotes, the agent cannot decode the
    # value and silently falls back to json-file and none.
    eaten = f"""#cloud-config
runcmd:
  - echo "{FLUENTD_LINE}" >> /etc/ecs/ecs.config
"""
    instance_id = launch(sandbox, base_ami(sandbox, MCD, "2.8.4"), eaten)
    config = (sandbox.instance_root(instance_id) / "etc/ecs/ecs.config").read_text()
    assert config == "ECS_AVAILABLE_LOGGING_DRIVERS=[json-file,syslog,awslogs,fluentd,none]\n"
    report = effective_drivers([ConfigFile("/etc/ecs/ecs.config", config)])
    assert report.origin is DriversOrigin.AGENT_FALLBACK
    assert "fluentd" not in report.drivers

    # An unbalanced quote: the shell refuses the script and cloud-init records the failure.
    broken = f"""#cloud-config
runcmd:
  - echo '{FLUENTD_LINE} >> /etc/ecs/ecs.config
"""
    instance_id = launch(sandbox, base_ami(sandbox, MCD, "2.8.4"), broken)
    root = sandbox.instance_root(instance_id)
    result = json.loads((root / "var/lib/cloud/data/result.json").read_text())
    assert result["v1"]["errors"] == ["runcmd failed with exit code 2"]
    log = (root / "var/log/cloud-init-output.log").read_text()
    assert "Unterminated quoted string" in log or "unterminated" in log.lower()
    assert (root / "etc/ecs/ecs.config").read_text() == ""


def test_create_image_carries_the_root_and_terminate_drops_it(sandbox: Sandbox) -> None:
    ec2 = sandbox.client("ec2")
    instance_id = launch(sandbox, base_ami(sandbox, MCD, "2.8.4"), ARTICLE_USER_DATA)
    image_id = ec2.create_image(InstanceId=instance_id, Name="baked")["ImageId"]
    assert (sandbox.image_root(image_id) / "etc/ecs/ecs.config").read_text() == FLUENTD_LINE + "\n"
    ec2.stop_instances(InstanceIds=[instance_id])
    assert sandbox.instance_root(instance_id).is_dir()  # stopping keeps the volume
    ec2.terminate_instances(InstanceIds=[instance_id])
    assert not sandbox.instance_root(instance_id).exists()

    second = launch(sandbox, image_id, "#!/bin/sh\necho from-a-script >> /etc/motd\n")
    root = sandbox.instance_root(second)
    assert (root / "etc/ecs/ecs.config").read_text() == FLUENTD_LINE + "\n"
    assert (root / "etc/motd").read_text() == "from-a-script\n"
    ec2.terminate_instances(InstanceIds=[second])
    ec2.deregister_image(ImageId=image_id)
    assert not sandbox.image_root(image_id).exists()


def test_created_and_copied_images_have_the_instance_s_ebs_root_device(sandbox: Sandbox) -> None:
    ec2 = sandbox.client("ec2")
    base = base_ami(sandbox, MCD, "2.8.4")
    instance_id = launch(sandbox, base, "")
    image_id = ec2.create_image(InstanceId=instance_id, Name="baked-root-device")["ImageId"]
    ec2.terminate_instances(InstanceIds=[instance_id])
    copy_id = ec2.copy_image(
        SourceImageId=image_id, SourceRegion=sandbox.info.region, Name="copied-root-device"
    )["ImageId"]
    images = visible(
        lambda: ec2.describe_images(ImageIds=[base, image_id, copy_id])["Images"],
        what=f"the new images {image_id} and {copy_id}",
    )
    devices = {i["ImageId"]: (i["RootDeviceType"], i["RootDeviceName"]) for i in images}
    assert devices == dict.fromkeys((base, image_id, copy_id), ("ebs", "/dev/xvda"))
    for made in (image_id, copy_id):
        ec2.deregister_image(ImageId=made)


def test_copies_keep_their_source_s_root_and_names_stay_unique(sandbox: Sandbox) -> None:
    ec2 = sandbox.client("ec2")
    region = sandbox.info.region
    instance_id = launch(sandbox, base_ami(sandbox, MCD, "2.8.4"), ARTICLE_USER_DATA)
    source = ec2.create_image(InstanceId=instance_id, Name="shared-root")["ImageId"]
    ec2.terminate_instances(InstanceIds=[instance_id])
    copies = [
        ec2.copy_image(SourceImageId=source, SourceRegion=region, Name=f"shared-root-{n}")[
            "ImageId"
        ]
        for n in range(2)
    ]
    with pytest.raises(ClientError) as refused:
        ec2.copy_image(SourceImageId=source, SourceRegion=region, Name="shared-root-1")
    assert refused.value.response["Error"] == {
        "Code": "InvalidAMIName.Duplicate",
        "Message": f"AMI name shared-root-1 is already in use by AMI {copies[1]}",
    }
    # The source goes first: its copies still launch with its files.
    ec2.deregister_image(ImageId=source)
    second = launch(sandbox, visible_image(sandbox, copies[0]), "")
    assert (sandbox.instance_root(second) / "etc/ecs/ecs.config").read_text() == (
        FLUENTD_LINE + "\n"
    )
    ec2.terminate_instances(InstanceIds=[second])
    for copy in copies:
        ec2.deregister_image(ImageId=copy)
    left = {path.name for path in (sandbox.directory / "roots" / "images").iterdir()}
    assert left.isdisjoint({source, *copies})
    # Deregistered, the names are free again.
    again = ec2.register_image(Name="shared-root-1", RootDeviceName="/dev/xvda")["ImageId"]
    ec2.deregister_image(ImageId=again)


def visible_image(sandbox: Sandbox, image_id: str) -> str:
    ec2 = sandbox.client("ec2")
    visible(lambda: ec2.describe_images(ImageIds=[image_id]), what=f"the copy {image_id}")
    return image_id


def test_unknown_ami_is_refused(sandbox: Sandbox) -> None:
    with pytest.raises(ClientError, match=r"InvalidAMIID\.NotFound"):
        launch(sandbox, "ami-0123456789abcdef0", "")
