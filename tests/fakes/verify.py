"""Verify's fakes: an EC2 that launches, describes and terminates instances, an SSM that brings
them online and runs the probe, an Elastic Beanstalk with one environment, and the probe's
output as an instance would print it."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from ebami.aws.eb_values import Environment
from ebami.aws.ec2_values import Egress, Image, Instance, InstanceSpec
from ebami.aws.ssm import CommandInvocation, ManagedInstance
from ebami.verify import probe_script
from ebami.verify.expectations import Expectations, Fact


def expected(agent: bool | None = None) -> Expectations:
    """What verify expects of `RUNNING`'s AMI when only --require fluentd is known (`agent`:
    the AMI's ebami:ssm-agent tag, None when it has none)."""
    return Expectations(
        image_id=RUNNING.image_id,
        family=None,
        family_source="unknown",
        release=Fact(None, "unknown"),
        drivers=("fluentd",),
        drivers_source="--require",
        ssm_agent=agent,
        ssm_agent_source="tag ebami:ssm-agent=no" if agent is False else "unknown",
    )


# A running instance as EC2 describes it, for tests of what is done with one.
RUNNING = Instance(
    instance_id="i-0123456789abcdef0",
    image_id="ami-0123456789abcdef0",
    state="running",
    state_reason="",
    subnet_id="subnet-1",
    vpc_id="vpc-1",
    public_ip="198.51.100.7",
    instance_profile_arn="arn:aws:iam::123456789012:instance-profile/p",
    tags={},
)
GOOD = 'ECS_AVAILABLE_LOGGING_DRIVERS=["json-file","syslog","awslogs","fluentd","none"]\n'


def probe_output(config: str = GOOD) -> str:
    """What the probe prints on an Amazon Linux 2017.09 instance whose ecs.config is `config`."""
    files = {
        "/etc/ecs/ecs.config": config,
        "/etc/os-release": 'VERSION_ID="2017.09"\n',
        "/etc/yum.conf": "[main]\nreleasever=2017.09\n",
    }
    lines = []
    for path, text in files.items():
        lines += [f"{probe_script.MARK} file {path}", base64.b64encode(text.encode()).decode()]
    lines += [f"{probe_script.MARK} ecs-init ecs-init-1.16.2-1.amzn1", f"{probe_script.MARK} end"]
    return "\n".join(lines) + "\n"


@dataclass
class LaunchingEc2:
    """AMIs and instances by id: launched instances are running when described; `calls`
    names each call, `terminated` and `tagged` keep what changed; `launch_error` is raised
    after the launch (the instance exists by then)."""

    images: dict[str, Image] = field(default_factory=dict)
    instances: dict[str, Instance] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    terminated: list[str] = field(default_factory=list)
    tagged: dict[str, dict[str, str]] = field(default_factory=dict)
    launch_error: BaseException | None = None
    egress_result: Egress = field(default_factory=lambda: Egress("igw-1", frozenset()))

    def get_image(self, image_id: str) -> Image:
        self.calls.append("get_image")
        return self.images[image_id]

    def launch_instance(self, spec: InstanceSpec) -> Instance:
        self.calls.append("launch_instance")
        instance = Instance(
            f"i-{len(self.instances):017x}", spec.image_id, "pending", "", "subnet-1", "vpc-1",
            "", "", dict(spec.tags),
        )  # fmt: skip
        self.instances[instance.instance_id] = instance
        if self.launch_error is not None:
            raise self.launch_error
        return instance

    def describe_instances(self, instance_ids: list[str]) -> list[Instance]:
        self.calls.append("describe_instances")
        return [replace(self.instances[i], state="running") for i in instance_ids]

    def find_instances_by_tag(self, key: str, value: str) -> list[Instance]:
        self.calls.append("find_instances_by_tag")
        return [i for i in self.instances.values() if i.tags.get(key) == value]

    def terminate_instances(self, instance_ids: list[str]) -> None:
        self.calls.append("terminate_instances")
        self.terminated += instance_ids

    def tag_resources(self, resource_ids: list[str], tags: dict[str, str]) -> None:
        for resource in resource_ids:
            self.tagged[resource] = tags

    def egress(self, subnet_id: str, vpc_id: str) -> Egress:
        self.calls.append("egress")
        return self.egress_result


@dataclass
class RunCommandSsm:
    """Managed instances and Run Command: instances are `ping` after `online_after` polls
    (never with None); each invocation read is the next of `invocations`, then the probe's
    output of a good instance."""

    online_after: int | None = 0  # polls before Online; None: never registers
    ping: str = "Online"
    invocations: list[CommandInvocation | None] = field(default_factory=list)
    polls: int = 0
    sent: list[list[str]] = field(default_factory=list)

    def managed_instances(self, instance_ids: Sequence[str]) -> dict[str, ManagedInstance]:
        self.polls += 1
        if self.online_after is None or self.polls <= self.online_after:
            return {}
        return {i: ManagedInstance(i, self.ping, "3.3.0", "Amazon Linux") for i in instance_ids}

    def run_shell_script(
        self,
        instance_ids: Sequence[str],
        lines: Sequence[str],
        *,
        comment: str,
        delivery_timeout: int,
        execution_timeout: int,
    ) -> str:
        self.sent.append(list(instance_ids))
        return "cmd-1"

    def command_invocation(self, command_id: str, instance_id: str) -> CommandInvocation | None:
        if self.invocations:
            return self.invocations.pop(0)
        return CommandInvocation(instance_id, "Success", "Success", 0, probe_output(), "")


@dataclass
class EnvironmentEb:
    """Elastic Beanstalk with one Ready environment, configured with the AMI `configured`,
    whose instances are i-a and i-b."""

    configured: str

    def get_environment(self, name: str, application: str | None = None) -> Environment:
        return Environment(name, "e-1", "webapp", "Ready", "Green", "arn")

    def image_id(self, environment: Environment) -> str | None:
        return self.configured

    def instance_ids(self, environment: Environment) -> list[str]:
        return ["i-a", "i-b"]
