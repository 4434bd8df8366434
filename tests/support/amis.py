"""AMIs and instances of a sandbox as the end-to-end tests make and read them: the platforms'
base AMIs, instances launched with user data, shell commands over SSM Run Command, an AMI baked
the way the source article bakes one, and AMIs' tags."""

from __future__ import annotations

from typing import Any

from ebami.sandbox import world
from tests.sandbox_helpers import Sandbox, wait_for
from tests.support.environments import STOCK

FLUENTD_LINE = 'ECS_AVAILABLE_LOGGING_DRIVERS=["json-file","syslog","awslogs","fluentd","none"]'
# The source article's cloud-config, verbatim, plus the SSM agent so that Run Command reaches
# the instance (the Amazon Linux 1 base AMI has none; `ebami build` adds it the same way).
ARTICLE_USER_DATA = f"""#cloud-config
repo_releasever: 2017.09
repo_upgrade: none

runcmd:
  - echo '{FLUENTD_LINE}' >> /etc/ecs/ecs.config
packages:
  - amazon-ssm-agent
"""


def base_ami(sandbox: Sandbox, name: str, version: str) -> str:
    eb = sandbox.client("elasticbeanstalk")
    arn = f"arn:aws:elasticbeanstalk:us-east-1::platform/{name}/{version}"
    amis = eb.describe_platform_version(PlatformArn=arn)["PlatformDescription"]["CustomAmiList"]
    image_id: str = next(ami["ImageId"] for ami in amis if ami["VirtualizationType"] == "hvm")
    return image_id


def launch(sandbox: Sandbox, image_id: str, user_data: str, *, profile: bool = True) -> str:
    kwargs: dict[str, Any] = {"IamInstanceProfile": {"Name": world.EC2_ROLE}} if profile else {}
    reservation = sandbox.client("ec2").run_instances(
        ImageId=image_id, MinCount=1, MaxCount=1, UserData=user_data, **kwargs
    )
    return str(reservation["Instances"][0]["InstanceId"])


def run_shell(
    sandbox: Sandbox, instance_id: str, *commands: str, **parameters: list[str]
) -> dict[str, Any]:
    ssm = sandbox.client("ssm")
    command = ssm.send_command(
        InstanceIds=[instance_id],
        DocumentName="AWS-RunShellScript",
        Parameters={"commands": list(commands), **parameters},
    )["Command"]
    assert command["Status"] == "Pending"
    seen: list[str] = []

    def finished() -> dict[str, Any] | None:
        invocation = ssm.get_command_invocation(
            CommandId=command["CommandId"], InstanceId=instance_id
        )
        seen.append(invocation["Status"])
        return invocation if invocation["Status"] not in ("Pending", "InProgress") else None

    invocation: dict[str, Any] = wait_for(finished)
    assert seen[0] == "InProgress"  # a command is never final on the first poll
    return invocation


def bake(sandbox: Sandbox, user_data: str) -> str:
    """A custom AMI the way the source article makes one: boot, stop, CreateImage."""
    ec2 = sandbox.client("ec2")
    instance_id = launch(sandbox, STOCK, user_data)
    ec2.stop_instances(InstanceIds=[instance_id])
    image_id = str(
        ec2.create_image(InstanceId=instance_id, Name=f"custom-{instance_id}")["ImageId"]
    )
    ec2.terminate_instances(InstanceIds=[instance_id])
    return image_id


def image(sandbox: Sandbox, image_id: str) -> dict[str, Any]:
    images: list[dict[str, Any]] = sandbox.client("ec2").describe_images(ImageIds=[image_id])[
        "Images"
    ]
    return images[0]


def tags_of(item: dict[str, Any]) -> dict[str, str]:
    return {tag["Key"]: tag["Value"] for tag in item.get("Tags", [])}


def own_images(sandbox: Sandbox) -> list[dict[str, Any]]:
    images: list[dict[str, Any]] = sandbox.client("ec2").describe_images(Owners=["self"])["Images"]
    return images
