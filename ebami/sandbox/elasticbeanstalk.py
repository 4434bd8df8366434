"""Elastic Beanstalk actions moto lacks (or gets wrong), served from the sandbox's state.

Environment updates advance on the sandbox's clock: before any call is answered, the updates
are brought up to the clock's now (`environments.catch_up`), so what a client sees does not
depend on which action it polls."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime
from typing import Any

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, BaseResponse, EmptyResult
from moto.elasticbeanstalk.models import EBBackend
from moto.elasticbeanstalk.responses import EBResponse
from moto.utilities.aws_headers import gen_amzn_requestid_long

from ebami.image.lookup import version_key
from ebami.sandbox import environments, rollout, runtime
from ebami.sandbox.environments import (
    DEFAULT_OPTIONS,
    IMAGE_ID,
    SEVERITIES,
    EbState,
    SandboxEnvironment,
)
from ebami.sandbox.patching import fill, fix, hook, replace

# moto's response header for the request id (botocore reads it for JSON protocols).
REQUEST_ID_HEADER = "x-amzn-requestid"


class InvalidParameterValue(ServiceException):
    code = "InvalidParameterValue"


class InvalidParameterCombination(ServiceException):
    code = "InvalidParameterCombination"


class ConfigurationValidationException(ServiceException):
    code = "ConfigurationValidationException"


def _state(self: EBResponse) -> EbState:
    return environments.state_of(self.elasticbeanstalk_backend)


def _environment(self: EBResponse, *, required: bool = True) -> SandboxEnvironment:
    state = _state(self)
    name = self._get_param("EnvironmentName")
    env_id = self._get_param("EnvironmentId")
    for env in state.environments.values():
        if (name and env.name == name) or (env_id and env.env_id == env_id):
            return env
    if not name and not env_id:
        raise InvalidParameterCombination(
            "You must specify either EnvironmentId or EnvironmentName."
        )
    raise InvalidParameterValue(
        f"No Environment found for {'EnvironmentName' if name else 'EnvironmentId'} = "
        f"'{name or env_id}'."
    )


# --- platforms -----------------------------------------------------------------------------

_FILTER_FIELDS = {
    "PlatformName": "PlatformName",
    "PlatformVersion": "PlatformVersion",
    "PlatformStatus": "PlatformStatus",
    "PlatformBranchName": "PlatformBranchName",
    "PlatformLifecycleState": "PlatformLifecycleState",
    "PlatformOwner": "PlatformOwner",
    "SupportedTier": "SupportedTierList",
    "SupportedAddon": "SupportedAddonList",
    "ProgrammingLanguageName": "ProgrammingLanguageName",
    "OperatingSystemName": "OperatingSystemName",
}
_STRING_OPERATORS = {"=", "!=", "contains", "begins_with", "ends_with"}
_VERSION_OPERATORS = {"=", "!=", "<", "<=", ">", ">="}


def _matches(platform: dict[str, Any], kind: str, operator: str, value: str) -> bool:
    field = _FILTER_FIELDS[kind]
    actual = platform.get(field, "")
    values = actual if isinstance(actual, list) else [actual]
    if kind == "PlatformName":
        values = [platform["PlatformArn"].split("/")[1]]
    if kind == "PlatformVersion":
        have, want = version_key(str(values[0])), version_key(value)
        comparisons = {
            "=": have == want, "!=": have != want, "<": have < want,
            "<=": have <= want, ">": have > want, ">=": have >= want,
        }  # fmt: skip
        return comparisons[operator]
    checks: dict[str, Callable[[str], bool]] = {
        "=": lambda text: text == value,
        "!=": lambda text: text != value,
        "contains": lambda text: value in text,
        "begins_with": lambda text: text.startswith(value),
        "ends_with": lambda text: text.endswith(value),
    }
    if operator == "!=":
        return all(checks["!="](str(text)) for text in values)
    return any(checks[operator](str(text)) for text in values)


@fill(EBResponse, "ListPlatformVersions")
def list_platform_versions(self: EBResponse) -> ActionResult:
    filters = self._get_param("Filters", []) or []
    for item in filters:
        kind, operator, values = item.get("Type"), item.get("Operator", "="), item.get("Values", [])
        if kind not in _FILTER_FIELDS:
            raise InvalidParameterValue(
                f"Invalid filter type: {kind}. Valid types: {', '.join(_FILTER_FIELDS)}"
            )
        allowed = _VERSION_OPERATORS if kind == "PlatformVersion" else _STRING_OPERATORS
        if operator not in allowed:
            raise InvalidParameterValue(f"Invalid operator {operator} for filter type {kind}")
        if len(values) != 1:
            raise InvalidParameterValue(f"Filter {kind} must have exactly one value")
    found = [
        platform["summary"]
        for platform in _state(self).platforms
        if all(
            _matches(platform["description"], f["Type"], f.get("Operator", "="), f["Values"][0])
            for f in filters
        )
    ]
    max_records = int(self._get_param("MaxRecords") or 100)
    start = int(self._get_param("NextToken") or 0)
    page = found[start : start + max_records]
    result: dict[str, Any] = {"PlatformSummaryList": page}
    if start + max_records < len(found):
        result["NextToken"] = str(start + max_records)
    return ActionResult(result)


@fill(EBResponse, "DescribePlatformVersion")
def describe_platform_version(self: EBResponse) -> ActionResult:
    arn = self._get_param("PlatformArn")
    for platform in _state(self).platforms:
        if platform["description"]["PlatformArn"] == arn:
            return ActionResult({"PlatformDescription": platform["description"]})
    raise InvalidParameterValue(f"No Platform found for PlatformArn = '{arn}'.")


# --- environments --------------------------------------------------------------------------


@replace(
    EBResponse,
    "DescribeEnvironments",
    gap="moto ignores EnvironmentNames/EnvironmentIds and reports PlatformArn 'TODO'",
)
def describe_environments(self: EBResponse) -> ActionResult:
    state = _state(self)
    names = self._get_param("EnvironmentNames", []) or []
    ids = self._get_param("EnvironmentIds", []) or []
    application = self._get_param("ApplicationName")
    with runtime.current().lock:
        found = [
            env.to_api()
            for env in state.environments.values()
            if (not names or env.name in names)
            and (not ids or env.env_id in ids)
            and (not application or env.application == application)
        ]
    return ActionResult({"Environments": found})


@fill(EBResponse, "DescribeConfigurationSettings")
def describe_configuration_settings(self: EBResponse) -> ActionResult:
    if self._get_param("TemplateName"):
        from ebami.sandbox import saved_configurations

        return saved_configurations.describe(self)
    env = _environment(self)
    application = self._get_param("ApplicationName")
    if application and application != env.application:
        raise InvalidParameterValue(f"No Environment found for EnvironmentName = '{env.name}'.")
    return ActionResult(
        {
            "ConfigurationSettings": [
                {
                    "SolutionStackName": env.solution_stack,
                    "PlatformArn": env.platform_arn,
                    "ApplicationName": env.application,
                    "EnvironmentName": env.name,
                    "DeploymentStatus": "deployed",
                    "DateCreated": env.created,
                    "DateUpdated": env.updated,
                    "OptionSettings": option_settings(env.options, env.image_id),
                }
            ]
        }
    )


def option_settings(options: dict[tuple[str, str], str], image_id: str) -> list[dict[str, str]]:
    """An environment's or a saved configuration's settings as EB lists them: every option the
    sandbox knows, its value or the default, and the AMI in effect."""
    keys = sorted({*DEFAULT_OPTIONS, *options, IMAGE_ID})
    settings = []
    for namespace, name in keys:
        value = (
            image_id
            if (namespace, name) == IMAGE_ID
            else options.get((namespace, name), DEFAULT_OPTIONS.get((namespace, name), ""))
        )
        setting = {"Namespace": namespace, "OptionName": name, "Value": value}
        if namespace == environments.LAUNCH_CONFIGURATION:
            setting = {"ResourceName": "AWSEBAutoScalingLaunchConfiguration", **setting}
        settings.append(setting)
    return settings


_UNSUPPORTED_UPDATE = (
    "VersionLabel",
    "TemplateName",
    "SolutionStackName",
    "PlatformArn",
    "Tier",
    "GroupName",
)


@fill(EBResponse, "UpdateEnvironment")
def update_environment(self: EBResponse) -> ActionResult:
    env = _environment(self)
    for name in _UNSUPPORTED_UPDATE:
        if self._get_param(name):
            raise InvalidParameterValue(
                "the ebami sandbox emulates updates of OptionSettings and OptionsToRemove "
                f"only, not {name}"
            )
    options: dict[tuple[str, str], str] = {}
    for item in self._get_param("OptionSettings", []) or []:
        options[known_option(item)] = str(item.get("Value", ""))
    removed = [known_option(item) for item in self._get_param("OptionsToRemove", []) or []]
    state = _state(self)
    sandbox = runtime.current()
    with sandbox.lock:
        if env.status != "Ready":
            raise InvalidParameterValue(
                f"Environment named {env.name} is in an invalid state for this operation. "
                "Must be Ready."
            )
        try:
            request_id = rollout.start_update(state, env, options, removed, sandbox.clock())
        except rollout.PolicyRefused as refused:
            if refused.configuration:
                raise ConfigurationValidationException(refused.message) from None
            raise InvalidParameterValue(refused.message) from None
        # The answer's RequestId is the one the update's events carry, as on AWS, so that
        # DescribeEvents(RequestId=...) finds them; `enrich_response` keeps it.
        self.response_headers[REQUEST_ID_HEADER] = request_id
        return ActionResult(env.to_api())


def known_option(item: dict[str, Any]) -> tuple[str, str]:
    """The (namespace, name) of an option setting; EB's refusal for an option the sandbox does
    not know."""
    key = (str(item.get("Namespace", "")), str(item.get("OptionName", "")))
    if key not in DEFAULT_OPTIONS and key != IMAGE_ID:
        raise InvalidParameterValue(
            f"Invalid option specification (Namespace: '{key[0]}', OptionName: '{key[1]}'): "
            "Unknown configuration setting."
        )
    return key


@fill(EBResponse, "AbortEnvironmentUpdate")
def abort_environment_update(self: EBResponse) -> ActionResult:
    env = _environment(self)
    sandbox = runtime.current()
    with sandbox.lock:
        if not rollout.abort_update(_state(self), env, sandbox.clock()):
            # EB's answer when AbortableOperationInProgress is false (the EB CLI relays it).
            raise InvalidParameterValue(
                f"Environment named {env.name} is in an invalid state for this operation. "
                "Must be pending deployment."
            )
    return EmptyResult()


@fill(EBResponse, "DescribeApplicationVersions")
def describe_application_versions(self: EBResponse) -> ActionResult:
    state = _state(self)
    application = self._get_param("ApplicationName")
    labels = self._get_param("VersionLabels", []) or []
    found = [
        version.to_api(state.region, state.account_id)
        for version in state.versions.values()
        if (not application or version.application == application)
        and (not labels or version.label in labels)
    ]
    max_records = int(self._get_param("MaxRecords") or 1000)
    start = int(self._get_param("NextToken") or 0)
    result: dict[str, Any] = {"ApplicationVersions": found[start : start + max_records]}
    if start + max_records < len(found):
        result["NextToken"] = str(start + max_records)
    return ActionResult(result)


# Tag key prefixes AWS keeps for itself: EB's own tags on environments use `elasticbeanstalk:`.
RESERVED_TAG_PREFIXES = ("aws:", "elasticbeanstalk:")


@replace(
    EBResponse,
    "UpdateTagsForResource",
    gap="moto lets a caller set or remove reserved aws:/elasticbeanstalk: tag keys, and answers "
    "an internal error when asked to remove a key the resource does not have",
)
def update_tags_for_resource(self: EBResponse) -> ActionResult:
    arn = self._get_param("ResourceArn")
    to_add = {tag["Key"]: tag.get("Value", "") for tag in self._get_param("TagsToAdd", []) or []}
    to_remove = list(self._get_param("TagsToRemove", []) or [])
    for key in [*to_add, *to_remove]:
        reserved = next((p for p in RESERVED_TAG_PREFIXES if key.startswith(p)), None)
        if reserved:
            raise InvalidParameterValue(f"Tag key '{key}' cannot start with '{reserved}'")
    backend: EBBackend = self.elasticbeanstalk_backend
    # Keywords, so that a moto rename fails loudly (the contract tests bind them).
    present = backend.list_tags_for_resource(resource_arn=arn)  # ResourceNotFound for a bad ARN
    backend.update_tags_for_resource(
        resource_arn=arn,
        tags_to_add=to_add,
        tags_to_remove=[key for key in to_remove if key in present and key not in to_add],
    )
    return EmptyResult()


@fill(EBResponse, "DescribeEvents")
def describe_events(self: EBResponse) -> ActionResult:
    state = _state(self)
    wanted = {
        "application": self._get_param("ApplicationName"),
        "environment": self._get_param("EnvironmentName"),
        "request_id": self._get_param("RequestId"),
        "version_label": self._get_param("VersionLabel"),
        "platform_arn": self._get_param("PlatformArn"),
    }
    env_id = self._get_param("EnvironmentId")
    if env_id:
        names = [env.name for env in state.environments.values() if env.env_id == env_id]
        wanted["environment"] = names[0] if names else "\0"
    severity = self._get_param("Severity")
    minimum = SEVERITIES.index(severity) if severity in SEVERITIES else 0
    start, end = self._get_param("StartTime"), self._get_param("EndTime")
    with runtime.current().lock:
        events = [
            event
            for event in reversed(state.events)  # newest first, as Elastic Beanstalk returns them
            if all(not value or getattr(event, key) == value for key, value in wanted.items())
            and SEVERITIES.index(event.severity) >= minimum
            and (not start or event.date >= _aware(start))
            and (not end or event.date < _aware(end))
        ]
    max_records = int(self._get_param("MaxRecords") or 1000)
    offset = int(self._get_param("NextToken") or 0)
    result: dict[str, Any] = {
        "Events": [event.to_api() for event in events[offset : offset + max_records]]
    }
    if offset + max_records < len(events):
        result["NextToken"] = str(offset + max_records)
    return ActionResult(result)


def _aware(moment: datetime) -> datetime:
    from datetime import timezone

    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@fill(EBResponse, "DescribeEnvironmentResources")
def describe_environment_resources(self: EBResponse) -> ActionResult:
    env = _environment(self)
    with runtime.current().lock:
        instances = env.serving_instances
        groups = [env.auto_scaling_group]
        if env.update is not None and env.update.temporary_group:
            groups.append(env.update.temporary_group)
    return ActionResult(
        {
            "EnvironmentResources": {
                "EnvironmentName": env.name,
                "AutoScalingGroups": [{"Name": group} for group in groups],
                "Instances": [{"Id": instance_id} for instance_id in instances],
                "LaunchConfigurations": [{"Name": env.launch_configuration}],
                "LaunchTemplates": [],
                "LoadBalancers": [{"Name": env.load_balancer}],
                "Triggers": [],
                "Queues": [],
            }
        }
    )


INSTANCE_HEALTH_STATES = (
    "NoData", "Unknown", "Pending", "Ok", "Info", "Warning", "Degraded", "Severe"
)  # fmt: skip


@fill(EBResponse, "DescribeEnvironmentHealth")
def describe_environment_health(self: EBResponse) -> ActionResult:
    env = _environment(self)
    with runtime.current().lock:
        # Per instance, as last settled; an instance not settled yet has no data.
        states = [env.instance_health.get(iid, "NoData") for iid in env.serving_instances]
        result = {
            "EnvironmentName": env.name,
            "HealthStatus": env.health_status,
            "Status": env.status,
            "Color": env.health,
            "Causes": list(env.causes),
            "InstancesHealth": {name: states.count(name) for name in INSTANCE_HEALTH_STATES},
            "RefreshedAt": datetime.now(env.updated.tzinfo),
        }
    return ActionResult(result)


_RESPONSE_REQUEST_ID = re.compile(r"(<ResponseMetadata>\s*<RequestId>)[^<]*(</RequestId>)")


@fix(
    BaseResponse,
    "_enrich_response",
    gap="moto sets the request id with a greedy regex over the whole body, which corrupts the "
    "XML of any response holding a RequestId of its own (DescribeEvents)",
)
def enrich_response(headers: dict[str, str], body: Any) -> tuple[dict[str, str], Any]:
    """moto's `_enrich_response`, touching only the response's own RequestId, and keeping the
    request id an action chose (UpdateEnvironment's, which its events carry)."""
    if "status" in headers:
        headers["status"] = str(headers["status"])
    request_id = headers.get(REQUEST_ID_HEADER) or gen_amzn_requestid_long(headers)
    if isinstance(body, str):
        body = _RESPONSE_REQUEST_ID.sub(lambda m: m.group(1) + request_id + m.group(2), body)
    return headers, body


@hook(BaseResponse, "call_action")
def _catch_up(original: Callable[..., Any], self: BaseResponse, *args: Any, **kwargs: Any) -> Any:
    """Bring environment updates up to the sandbox's clock before answering any call, whatever
    the service or action: progress then depends on time, never on what a client polls."""
    sandbox = runtime.current()
    with sandbox.lock:
        rollout.catch_up(sandbox.eb_states, sandbox.clock())
    return original(self, *args, **kwargs)
