"""SSM in the sandbox: Run Command executes `AWS-RunShellScript` for real in the instance's jail,
and instances whose root has the SSM agent (and that have an instance profile) are managed."""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult
from moto.ec2.models import ec2_backends
from moto.ec2.models.instances import Instance
from moto.ssm.responses import SimpleSystemManagerResponse

from ebami.sandbox import jail, runtime
from ebami.sandbox.ec2 import has_instance_profile, has_ssm_agent
from ebami.sandbox.patching import fill, replace
from ebami.sandbox.rootfs import installed_packages, read_text

RUN_SHELL_SCRIPT = "AWS-RunShellScript"
PLUGIN = "aws:runShellScript"
OUTPUT_LIMIT = 24000  # GetCommandInvocation returns at most this much of each stream
PLUGIN_OUTPUT_LIMIT = 2500  # ListCommandInvocations' plugin Output is shorter still
DEFAULT_EXECUTION_TIMEOUT = 3600
DEFAULT_DELIVERY_TIMEOUT = 3600


class InvalidInstanceId(ServiceException):
    code = "InvalidInstanceId"


class InvocationDoesNotExist(ServiceException):
    code = "InvocationDoesNotExist"


class InvalidCommandId(ServiceException):
    code = "InvalidCommandId"


class InvalidDocument(ServiceException):
    code = "InvalidDocument"


class InvalidFilterKey(ServiceException):
    code = "InvalidFilterKey"


@dataclass
class Invocation:
    instance_id: str
    status: str = "Pending"
    response_code: int = -1
    stdout: str = ""
    stderr: str = ""
    started: datetime | None = None
    finished: datetime | None = None
    polls: int = 0


@dataclass
class SandboxCommand:
    command_id: str
    document_name: str
    comment: str
    commands: list[str]
    execution_timeout: int
    delivery_timeout: int
    parameters: dict[str, list[str]]
    requested: datetime
    invocations: dict[str, Invocation] = field(default_factory=dict)


def _commands_of(backend: Any) -> dict[str, SandboxCommand]:
    store: dict[str, SandboxCommand] | None = getattr(backend, "ebami_commands", None)
    if store is None:
        store = {}
        backend.ebami_commands = store
    return store


def ping_status(instance: Instance) -> str | None:
    """`Online`, `ConnectionLost`, or None when the instance is not managed by SSM at all."""
    if instance.state == "terminated" or not has_ssm_agent(instance):
        return None
    if not has_instance_profile(instance):
        return None  # the agent runs but cannot register without credentials
    if instance.state != "running" or runtime.current().faults.ssm_offline:
        return "ConnectionLost"
    return "Online"


def _instances(response: SimpleSystemManagerResponse) -> list[Instance]:
    backend = ec2_backends[response.current_account][response.region]
    return list(backend.all_instances())


def _instance_info(instance: Instance, status: str) -> dict[str, Any]:
    root = runtime.current().roots.instance(instance.id)
    os_release = _os_release(read_text(root, "/etc/os-release") or "")
    agent = installed_packages(root).get("amazon-ssm-agent", "")
    return {
        "InstanceId": instance.id,
        "PingStatus": status,
        "LastPingDateTime": datetime.now(timezone.utc),
        "AgentVersion": agent.split("-")[0],
        "IsLatestVersion": False,
        "PlatformType": "Linux",
        "PlatformName": os_release.get("NAME", "Amazon Linux"),
        "PlatformVersion": os_release.get("VERSION_ID", ""),
        "ResourceType": "EC2Instance",
        "IPAddress": instance.private_ip,
        "ComputerName": f"ip-{str(instance.private_ip).replace('.', '-')}.ec2.internal",
    }


def _os_release(text: str) -> dict[str, str]:
    values = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip()] = value.strip().strip('"')
    return values


@fill(SimpleSystemManagerResponse, "DescribeInstanceInformation")
def describe_instance_information(self: SimpleSystemManagerResponse) -> ActionResult:
    filters: dict[str, list[str]] = {}
    for item in self._get_param("Filters", []) or []:
        filters[item["Key"]] = item["Values"]
    for item in self._get_param("InstanceInformationFilterList", []) or []:
        filters[item["key"]] = item["valueSet"]  # the older filter list, same keys
    for key in filters:
        if key not in ("InstanceIds", "PingStatus", "PlatformTypes", "ResourceType"):
            raise InvalidFilterKey(f"The filter key {key} is not supported by the ebami sandbox")
    found = []
    for instance in _instances(self):
        status = ping_status(instance)
        if status is None:
            continue
        info = _instance_info(instance, status)
        if all(
            info.get({"InstanceIds": "InstanceId", "PlatformTypes": "PlatformType"}.get(key, key))
            in values
            for key, values in filters.items()
        ):
            found.append(info)
    return ActionResult({"InstanceInformationList": found})


@replace(
    SimpleSystemManagerResponse,
    "SendCommand",
    gap="moto reports every command as Success at once, with empty output, and runs nothing",
)
def send_command(self: SimpleSystemManagerResponse) -> ActionResult:
    document = self._get_param("DocumentName")
    if document != RUN_SHELL_SCRIPT:
        raise InvalidDocument(f"the ebami sandbox runs only {RUN_SHELL_SCRIPT}, not {document}")
    instance_ids: list[str] = self._get_param("InstanceIds", []) or []
    if not instance_ids:
        raise InvalidInstanceId("the ebami sandbox needs InstanceIds (Targets are not emulated)")
    statuses = {instance.id: ping_status(instance) for instance in _instances(self)}
    unmanaged = [iid for iid in instance_ids if not statuses.get(iid)]
    if unmanaged:
        raise InvalidInstanceId(
            f"Instances {unmanaged} not in a valid state for account {self.current_account}"
        )
    parameters: dict[str, list[str]] = self._get_param("Parameters", {}) or {}
    command = SandboxCommand(
        command_id=str(uuid.uuid4()),
        document_name=document,
        comment=self._get_param("Comment", "") or "",
        commands=list(parameters.get("commands", [])),
        execution_timeout=int(
            (parameters.get("executionTimeout") or [str(DEFAULT_EXECUTION_TIMEOUT)])[0]
        ),
        delivery_timeout=int(self._get_param("TimeoutSeconds") or DEFAULT_DELIVERY_TIMEOUT),
        parameters=parameters,
        requested=datetime.now(timezone.utc),
    )
    state = runtime.current()
    with state.lock:
        _commands_of(self.ssm_backend)[command.command_id] = command
        for instance_id in instance_ids:
            invocation = Invocation(instance_id)
            command.invocations[instance_id] = invocation
            if statuses[instance_id] == "Online":
                _start(command, invocation)
    # AWS answers SendCommand with Pending whatever happens next.
    return ActionResult(
        {"Command": {**_command_summary(command), "Status": "Pending", "StatusDetails": "Pending"}}
    )


def _start(command: SandboxCommand, invocation: Invocation) -> None:
    invocation.status = "InProgress"
    invocation.started = datetime.now(timezone.utc)
    root = runtime.current().roots.instance(invocation.instance_id)
    script = "\n".join(command.commands) + "\n"

    def execute() -> None:
        outcome = jail.run_script(root, script, timeout=command.execution_timeout)
        with runtime.current().lock:
            invocation.stdout = outcome.stdout
            invocation.stderr = outcome.stderr
            invocation.finished = datetime.now(timezone.utc)
            if outcome.timed_out:
                invocation.status, invocation.response_code = "TimedOut", -1
            else:
                code = outcome.exit_code if outcome.exit_code is not None else -1
                invocation.response_code = code
                invocation.status = "Success" if code == 0 else "Failed"

    threading.Thread(target=execute, name=f"ssm-{command.command_id[:8]}", daemon=True).start()


def _observed_status(command: SandboxCommand, invocation: Invocation) -> str:
    """The status a poll sees: never final on the first poll; delivery times out when pending."""
    if invocation.status == "Pending":
        deadline = command.requested + timedelta(seconds=command.delivery_timeout)
        if datetime.now(timezone.utc) >= deadline:
            invocation.status = "TimedOut"
        return invocation.status
    if invocation.polls <= 1 and invocation.status != "TimedOut":
        return "InProgress"
    return invocation.status


def _status_details(command: SandboxCommand, invocation: Invocation, status: str) -> str:
    if status == "TimedOut":
        return "DeliveryTimedOut" if invocation.started is None else "ExecutionTimedOut"
    return status


def _selected(self: SimpleSystemManagerResponse) -> list[SandboxCommand]:
    """The request's CommandId, or every command; newest first."""
    commands = _commands_of(self.ssm_backend)
    command_id = self._get_param("CommandId")
    if not command_id:
        return sorted(commands.values(), key=lambda item: item.requested, reverse=True)
    if command_id not in commands:
        raise InvalidCommandId(f"command {command_id} was not found")
    return [commands[command_id]]


@replace(
    SimpleSystemManagerResponse,
    "GetCommandInvocation",
    gap="moto answers for its own placeholder commands only, with empty output",
)
def get_command_invocation(self: SimpleSystemManagerResponse) -> ActionResult:
    command_id = self._get_param("CommandId")
    instance_id = self._get_param("InstanceId")
    with runtime.current().lock:
        command = _commands_of(self.ssm_backend).get(command_id)
        invocation = command.invocations.get(instance_id) if command else None
        if command is None or invocation is None:
            raise InvocationDoesNotExist("An error occurred (InvocationDoesNotExist)")
        invocation.polls += 1
        status = _observed_status(command, invocation)
        final = status not in ("Pending", "InProgress")
        return ActionResult(
            {
                "CommandId": command.command_id,
                "InstanceId": instance_id,
                "Comment": command.comment,
                "DocumentName": command.document_name,
                "DocumentVersion": "$DEFAULT",
                "PluginName": PLUGIN,
                "ResponseCode": invocation.response_code if final else -1,
                "ExecutionStartDateTime": _iso(invocation.started),
                "ExecutionElapsedTime": _elapsed(invocation) if final else "",
                "ExecutionEndDateTime": _iso(invocation.finished) if final else "",
                "Status": status,
                "StatusDetails": _status_details(command, invocation, status),
                "StandardOutputContent": invocation.stdout[:OUTPUT_LIMIT] if final else "",
                "StandardOutputUrl": "",
                "StandardErrorContent": invocation.stderr[:OUTPUT_LIMIT] if final else "",
                "StandardErrorUrl": "",
                "CloudWatchOutputConfig": {
                    "CloudWatchLogGroupName": "",
                    "CloudWatchOutputEnabled": False,
                },
            }
        )


@fill(SimpleSystemManagerResponse, "ListCommandInvocations")
def list_command_invocations(self: SimpleSystemManagerResponse) -> ActionResult:
    instance_id = self._get_param("InstanceId")
    details = bool(self._get_param("Details", False))
    with runtime.current().lock:
        rows = []
        for command in _selected(self):
            for invocation in command.invocations.values():
                if instance_id and invocation.instance_id != instance_id:
                    continue
                rows.append(_invocation_row(command, invocation, details))
    return ActionResult({"CommandInvocations": rows})


def _invocation_row(
    command: SandboxCommand, invocation: Invocation, details: bool
) -> dict[str, Any]:
    status = invocation.status
    row: dict[str, Any] = {
        "CommandId": command.command_id,
        "InstanceId": invocation.instance_id,
        "Comment": command.comment,
        "DocumentName": command.document_name,
        "DocumentVersion": "$DEFAULT",
        "RequestedDateTime": command.requested,
        "Status": status,
        "StatusDetails": _status_details(command, invocation, status),
        "StandardOutputUrl": "",
        "StandardErrorUrl": "",
    }
    if details:
        final = status not in ("Pending", "InProgress")
        plugin: dict[str, Any] = {
            "Name": PLUGIN,
            "Status": status,
            "StatusDetails": row["StatusDetails"],
            "ResponseCode": invocation.response_code if final else -1,
            "Output": (invocation.stdout + invocation.stderr)[:PLUGIN_OUTPUT_LIMIT]
            if final
            else "",
            "StandardOutputUrl": "",
            "StandardErrorUrl": "",
        }
        if invocation.started:
            plugin["ResponseStartDateTime"] = invocation.started
        if invocation.finished:
            plugin["ResponseFinishDateTime"] = invocation.finished
        row["CommandPlugins"] = [plugin]
    return row


@replace(
    SimpleSystemManagerResponse,
    "ListCommands",
    gap="moto lists only its own placeholder commands, not the sandbox's",
)
def list_commands(self: SimpleSystemManagerResponse) -> ActionResult:
    instance_id = self._get_param("InstanceId")
    with runtime.current().lock:
        found = [
            _command_summary(command)
            for command in _selected(self)
            if not instance_id or instance_id in command.invocations
        ]
    return ActionResult({"Commands": found})


def _command_summary(command: SandboxCommand) -> dict[str, Any]:
    statuses = [invocation.status for invocation in command.invocations.values()]
    done = [status for status in statuses if status not in ("Pending", "InProgress")]
    if len(done) < len(statuses):
        overall = "InProgress" if any(status != "Pending" for status in statuses) else "Pending"
    elif all(status == "Success" for status in statuses):
        overall = "Success"
    elif any(status == "TimedOut" for status in statuses):
        overall = "TimedOut"
    else:
        overall = "Failed"
    return {
        "CommandId": command.command_id,
        "DocumentName": command.document_name,
        "DocumentVersion": "$DEFAULT",
        "Comment": command.comment,
        "ExpiresAfter": command.requested + timedelta(seconds=command.delivery_timeout),
        "Parameters": command.parameters,
        "InstanceIds": list(command.invocations),
        "RequestedDateTime": command.requested,
        "Status": overall,
        "StatusDetails": overall,
        "TimeoutSeconds": command.delivery_timeout,
        "TargetCount": len(statuses),
        "CompletedCount": len(done),
        "ErrorCount": sum(status in ("Failed", "TimedOut") for status in statuses),
        "DeliveryTimedOutCount": 0,
        "MaxConcurrency": "50",
        "MaxErrors": "0",
    }


def _iso(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z" if moment else ""


def _elapsed(invocation: Invocation) -> str:
    if invocation.started is None or invocation.finished is None:
        return ""
    seconds = (invocation.finished - invocation.started).total_seconds()
    return f"PT{seconds:.3f}S"
