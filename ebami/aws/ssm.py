"""SSM calls ebami makes, named by intent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ebami.aws.errors import aws_errors

if TYPE_CHECKING:
    from mypy_boto3_ssm.client import SSMClient

RUN_SHELL_SCRIPT = "AWS-RunShellScript"
# SendCommand's TimeoutSeconds (delivery) accepts 30 seconds at least.
MIN_DELIVERY_TIMEOUT = 30
FINAL_STATUSES = frozenset(
    {"Success", "Failed", "TimedOut", "Cancelled", "Cancelling", "Undeliverable", "Terminated"}
)


@dataclass(frozen=True)
class ManagedInstance:
    """An instance as SSM sees it: registered, with its agent's ping status."""

    instance_id: str
    ping_status: str
    agent_version: str
    platform: str


@dataclass(frozen=True)
class CommandInvocation:
    instance_id: str
    status: str
    status_details: str
    response_code: int
    stdout: str
    stderr: str

    @property
    def final(self) -> bool:
        return self.status in FINAL_STATUSES


@dataclass(frozen=True)
class ParameterVersion:
    """One version of a parameter, as GetParameterHistory keeps it."""

    name: str
    version: int
    value: str
    data_type: str
    modified: datetime | None
    labels: tuple[str, ...] = ()


class Ssm:
    def __init__(self, client: SSMClient) -> None:
        self._client = client

    def publish_image_id(self, name: str, image_id: str) -> int:
        """Write `image_id` to the parameter `name` as an `aws:ec2:image`; its new version.

        With that data type, SSM checks that the value is an AMI the account can use, and
        launch templates can refer to the parameter as `resolve:ssm:NAME`.
        """
        with aws_errors(f"ssm:PutParameter {name}"):
            response = self._client.put_parameter(
                Name=name,
                Value=image_id,
                Type="String",
                DataType="aws:ec2:image",
                Overwrite=True,
            )
        return response["Version"]

    def put_value(self, name: str, value: str, *, description: str) -> int:
        """Write the String parameter `name` (created, or a new version); its version. SSM
        validates nothing of a String after answering: the version is there at once."""
        with aws_errors(f"ssm:PutParameter {name}"):
            response = self._client.put_parameter(
                Name=name, Value=value, Type="String", Description=description, Overwrite=True
            )
        return response["Version"]

    def create_parameter(
        self, name: str, value: str, *, description: str, tags: Mapping[str, str]
    ) -> bool:
        """Create the String parameter `name` unless it exists; whether this call created it.

        PutParameter without Overwrite is SSM's one atomic "create if absent": of two callers
        at once, exactly one gets True.
        """
        with aws_errors(f"ssm:PutParameter {name}"):
            try:
                self._client.put_parameter(
                    Name=name,
                    Value=value,
                    Type="String",
                    Description=description,
                    Overwrite=False,
                    Tags=[{"Key": key, "Value": item} for key, item in tags.items()],
                )
            except ClientError as exc:
                if _code(exc) == "ParameterAlreadyExists":
                    return False
                raise
        return True

    def parameter_value(self, name: str) -> str | None:
        """The value of the parameter `name`; None when there is none."""
        with aws_errors(f"ssm:GetParameter {name}"):
            try:
                response: Any = self._client.get_parameter(Name=name)
            except ClientError as exc:
                if _code(exc) == "ParameterNotFound":
                    return None
                raise
        value: str = response["Parameter"]["Value"]
        return value

    def delete_parameter(self, name: str) -> bool:
        """Delete the parameter `name`; False when there was none."""
        with aws_errors(f"ssm:DeleteParameter {name}"):
            try:
                self._client.delete_parameter(Name=name)
            except ClientError as exc:
                if _code(exc) == "ParameterNotFound":
                    return False
                raise
        return True

    def parameter_names(self, path: str | None = None) -> list[str]:
        """The names of the account's plain (String and StringList) parameters, or of those
        under `path` (recursively); SecureString values are never read."""
        names: list[str] = []
        with aws_errors("ssm:DescribeParameters"):
            filters: list[Any] = [
                {"Key": "Type", "Option": "Equals", "Values": ["String", "StringList"]}
            ]
            if path is not None:
                filters.append({"Key": "Path", "Option": "Recursive", "Values": [path]})
            paginator = self._client.get_paginator("describe_parameters")
            for page in paginator.paginate(ParameterFilters=filters):
                names += [item["Name"] for item in page.get("Parameters", [])]
        return names

    def parameter_values(self, path: str) -> dict[str, str]:
        """The values of the plain (String and StringList) parameters under `path`
        (recursively), by name: GetParametersByPath answers ten at a time, with their values,
        where DescribeParameters gives names only (and a GetParameter each)."""
        values: dict[str, str] = {}
        with aws_errors(f"ssm:GetParametersByPath {path}"):
            paginator = self._client.get_paginator("get_parameters_by_path")
            for page in paginator.paginate(
                Path=path,
                Recursive=True,
                ParameterFilters=[
                    {"Key": "Type", "Option": "Equals", "Values": ["String", "StringList"]}
                ],
            ):
                values |= {item["Name"]: item.get("Value", "") for item in page["Parameters"]}
        return values

    def history(self, name: str) -> list[ParameterVersion]:
        """Every version SSM keeps of the parameter `name`, oldest first; [] when there is no
        such parameter."""
        versions: list[ParameterVersion] = []
        with aws_errors(f"ssm:GetParameterHistory {name}"):
            try:
                paginator = self._client.get_paginator("get_parameter_history")
                for page in paginator.paginate(Name=name):
                    versions += [
                        ParameterVersion(
                            name=name,
                            version=int(item["Version"]),
                            value=item.get("Value", ""),
                            data_type=item.get("DataType", "text"),
                            modified=item.get("LastModifiedDate"),
                            labels=tuple(item.get("Labels", ())),
                        )
                        for item in page.get("Parameters", [])
                    ]
            except ClientError as exc:
                if _code(exc) == "ParameterNotFound":
                    return []
                raise
        return sorted(versions, key=lambda item: item.version)

    def managed_instances(self, instance_ids: Sequence[str]) -> dict[str, ManagedInstance]:
        """Those of `instance_ids` registered with SSM (any ping status), by id."""
        found: dict[str, ManagedInstance] = {}
        with aws_errors("ssm:DescribeInstanceInformation"):
            paginator = self._client.get_paginator("describe_instance_information")
            for page in paginator.paginate(
                Filters=[{"Key": "InstanceIds", "Values": list(instance_ids)}]
            ):
                for item in page.get("InstanceInformationList", []):
                    found[item["InstanceId"]] = ManagedInstance(
                        instance_id=item["InstanceId"],
                        ping_status=item.get("PingStatus", ""),
                        agent_version=item.get("AgentVersion", ""),
                        platform=" ".join(
                            part
                            for part in (item.get("PlatformName"), item.get("PlatformVersion"))
                            if part
                        ),
                    )
        return found

    def run_shell_script(
        self,
        instance_ids: Sequence[str],
        lines: Sequence[str],
        *,
        comment: str,
        delivery_timeout: int,
        execution_timeout: int,
    ) -> str:
        """Send `lines` as one AWS-RunShellScript command to the instances; the command id."""
        with aws_errors(f"ssm:SendCommand {', '.join(instance_ids)}"):
            response: Any = self._client.send_command(
                InstanceIds=list(instance_ids),
                DocumentName=RUN_SHELL_SCRIPT,
                Comment=comment[:100],
                TimeoutSeconds=max(MIN_DELIVERY_TIMEOUT, delivery_timeout),
                Parameters={
                    "commands": list(lines),
                    "executionTimeout": [str(execution_timeout)],
                },
            )
        command_id: str = response["Command"]["CommandId"]
        return command_id

    def command_invocation(self, command_id: str, instance_id: str) -> CommandInvocation | None:
        """The command's result on one instance; None while SSM does not know it yet."""
        with aws_errors(f"ssm:GetCommandInvocation {command_id} {instance_id}"):
            try:
                item: Any = self._client.get_command_invocation(
                    CommandId=command_id, InstanceId=instance_id
                )
            except ClientError as exc:
                # SSM may answer this for a moment right after SendCommand.
                if _code(exc) == "InvocationDoesNotExist":
                    return None
                raise
        return CommandInvocation(
            instance_id=instance_id,
            status=item.get("Status", ""),
            status_details=item.get("StatusDetails", ""),
            response_code=int(item.get("ResponseCode", -1)),
            stdout=item.get("StandardOutputContent", ""),
            stderr=item.get("StandardErrorContent", ""),
        )


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))
