"""Elastic Beanstalk's environment actions moto lacks (or gets wrong), served from the sandbox's
state: describing environments, their settings and resources; updating and aborting an update
(how an update advances is `ebami.sandbox.rollout`); events (some filed late:
`ebami.sandbox.late_events`); application versions; tags. Enhanced health's actions are
`ebami.sandbox.health_actions`.

What the actions share is `ebami.sandbox.eb_requests`; `DescribeConfigurationSettings` is
registered by `ebami.sandbox.saved_configurations`, which hands environments to
`environment_settings`."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.elasticbeanstalk.models import EBBackend
from moto.elasticbeanstalk.responses import EBResponse

from ebami.sandbox import late_events, rollout, runtime
from ebami.sandbox.calls import REQUEST_ID_HEADER
from ebami.sandbox.drafts import configuration_sets
from ebami.sandbox.eb_requests import (
    ConfigurationValidationException,
    InvalidParameterValue,
    known_option,
    request_environment,
    request_state,
)
from ebami.sandbox.environments import SEVERITIES, SandboxEnvironment
from ebami.sandbox.health_report import environment_health
from ebami.sandbox.patching import fill, replace
from ebami.sandbox.update_policy import PolicyRefused

# --- environments --------------------------------------------------------------------------


@replace(
    EBResponse,
    "DescribeEnvironments",
    gap="moto ignores EnvironmentNames/EnvironmentIds and reports PlatformArn 'TODO'",
)
def describe_environments(self: EBResponse) -> ActionResult:
    state = request_state(self)
    names = self._get_param("EnvironmentNames", []) or []
    ids = self._get_param("EnvironmentIds", []) or []
    application = self._get_param("ApplicationName")
    sandbox = runtime.current()
    with sandbox.lock:
        found = [
            described(env, sandbox.clock())
            for env in state.environments.values()
            if (not names or env.name in names)
            and (not ids or env.env_id in ids)
            and (not application or env.application == application)
        ]
    return ActionResult({"Environments": found})


def described(env: SandboxEnvironment, now: float) -> dict[str, Any]:
    """An `EnvironmentDescription`, its health as enhanced health reports it at `now`."""
    reported = environment_health(env, now)
    return {**env.to_api(), "Health": reported.color, "HealthStatus": reported.status}


def environment_settings(self: EBResponse) -> ActionResult:
    """`DescribeConfigurationSettings` of an environment (without `TemplateName`): the deployed
    set and a draft (`ebami.sandbox.drafts`)."""
    env = request_environment(self)
    application = self._get_param("ApplicationName")
    if application and application != env.application:
        raise InvalidParameterValue(f"No Environment found for EnvironmentName = '{env.name}'.")
    sandbox = runtime.current()
    with sandbox.lock:
        drafts = sandbox.faults.realism.configuration_drafts
        return ActionResult({"ConfigurationSettings": configuration_sets(env, drafts=drafts)})


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
    env = request_environment(self)
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
    state = request_state(self)
    sandbox = runtime.current()
    with sandbox.lock:
        if env.status != "Ready":
            raise InvalidParameterValue(
                f"Environment named {env.name} is in an invalid state for this operation. "
                "Must be Ready."
            )
        try:
            request_id = rollout.start_update(state, env, options, removed, sandbox.clock())
        except PolicyRefused as refused:
            if refused.configuration:
                raise ConfigurationValidationException(refused.message) from None
            raise InvalidParameterValue(refused.message) from None
        # The answer's RequestId is the one the update's events carry, as on AWS, so that
        # DescribeEvents(RequestId=...) finds them; `enrich_response` keeps it.
        self.response_headers[REQUEST_ID_HEADER] = request_id
        return ActionResult(described(env, sandbox.clock()))


@fill(EBResponse, "AbortEnvironmentUpdate")
def abort_environment_update(self: EBResponse) -> ActionResult:
    env = request_environment(self)
    sandbox = runtime.current()
    with sandbox.lock:
        if not rollout.abort_update(request_state(self), env, sandbox.clock()):
            # EB's answer when AbortableOperationInProgress is false (the EB CLI relays it).
            raise InvalidParameterValue(
                f"Environment named {env.name} is in an invalid state for this operation. "
                "Must be pending deployment."
            )
    return EmptyResult()


@fill(EBResponse, "DescribeApplicationVersions")
def describe_application_versions(self: EBResponse) -> ActionResult:
    state = request_state(self)
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
    state = request_state(self)
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
    sandbox = runtime.current()
    with sandbox.lock:
        now, late = sandbox.clock(), sandbox.faults.realism.late_events
        events = [
            event
            for event in reversed(state.events)  # newest first, as Elastic Beanstalk returns them
            if late_events.visible(state, event, now, late)
            and all(not value or getattr(event, key) == value for key, value in wanted.items())
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
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


@fill(EBResponse, "DescribeEnvironmentResources")
def describe_environment_resources(self: EBResponse) -> ActionResult:
    env = request_environment(self)
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
