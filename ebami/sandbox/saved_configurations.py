"""Elastic Beanstalk saved configurations (configuration templates) in the sandbox.

moto has none of their actions. A saved configuration holds a platform and option values; made
from an environment (`EnvironmentId`) it keeps the environment's options, its `ImageId` among
them, as EB does, which is why `ebami prune` must read them: a saved configuration naming an
AMI can recreate an environment on it. `DescribeApplications` lists them by name under
`ConfigurationTemplates`; `DescribeConfigurationSettings` with `TemplateName` gives their
settings in the shape it gives an environment's (without `EnvironmentName` and
`DeploymentStatus`): this module registers that action, and hands a request without
`TemplateName` to `ebami.sandbox.elasticbeanstalk.environment_settings`. The sandbox seeds none.
Each saved configuration also has its file in the storage location
(`ebami.sandbox.saved_configuration_files`), which `eb config get` downloads.

The EB CLI's `eb config save` names its source as `TemplateSpecification.TemplateSource.
EnvironmentName`, a member of the EB CLI's own service model (not botocore's): the sandbox
takes `TemplateSource`'s `EnvironmentName`, `SolutionStackName` and `PlatformArn` as it takes
`EnvironmentId`, `SolutionStackName` and `PlatformArn`.

Shapes are botocore's (`CreateConfigurationTemplate` and `UpdateConfigurationTemplate` answer a
`ConfigurationSettingsDescription`). "No Configuration Template named 'APP/NAME' found." is EB's
wording (relayed by SDK users in public issues); the others are the sandbox's own.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from moto.core.responses import ActionResult, EmptyResult
from moto.elasticbeanstalk.responses import EBResponse

from ebami.sandbox import environments, runtime, saved_configuration_files
from ebami.sandbox.eb_requests import (
    InvalidParameterCombination,
    InvalidParameterValue,
    known_option,
    option_settings,
    request_state,
)
from ebami.sandbox.elasticbeanstalk import environment_settings
from ebami.sandbox.environments import EbState, SavedConfiguration
from ebami.sandbox.patching import fill, replace


def application_named(self: EBResponse) -> str:
    name = str(self._get_param("ApplicationName") or "")
    if name not in self.elasticbeanstalk_backend.applications:
        raise InvalidParameterValue(f"No Application named '{name}' found.")
    return name


def template_of(state: EbState, application: str, name: str) -> SavedConfiguration:
    found = state.templates.get((application, name))
    if found is None:
        raise InvalidParameterValue(
            f"No Configuration Template named '{application}/{name}' found."
        )
    return found


def description(template: SavedConfiguration) -> dict[str, Any]:
    """A saved configuration as `ConfigurationSettingsDescription`."""
    return {
        "SolutionStackName": template.solution_stack,
        "PlatformArn": template.platform_arn,
        "ApplicationName": template.application,
        "TemplateName": template.name,
        "Description": template.description,
        "DateCreated": template.created,
        "DateUpdated": template.updated,
        "OptionSettings": option_settings(template.options, template.image_id),
    }


def platform_of(state: EbState, *, stack: str = "", arn: str = "") -> tuple[str, str, str]:
    """(solution stack, platform ARN, stock AMI) of a platform given by stack name or ARN."""
    for platform in state.platforms:
        found = platform["description"]
        if (stack and found["SolutionStackName"] == stack) or (arn and found["PlatformArn"] == arn):
            stock = next(
                ami["ImageId"]
                for ami in found["CustomAmiList"]
                if ami["VirtualizationType"] == "hvm"
            )
            return str(found["SolutionStackName"]), str(found["PlatformArn"]), str(stock)
    if stack:
        raise InvalidParameterValue(f"No Solution Stack named '{stack}' found.")
    raise InvalidParameterValue(f"No Platform found for PlatformArn = '{arn}'.")


_TEMPLATE_SOURCE = "TemplateSpecification.TemplateSource."


def _template_source(self: EBResponse, member: str) -> str:
    """A member of the EB CLI's `TemplateSpecification.TemplateSource` (botocore's model has
    none, so it is read from the request's form)."""
    values = self.querystring.get(_TEMPLATE_SOURCE + member) or [""]
    return str(values[0])


def _source(self: EBResponse, state: EbState, application: str) -> SavedConfiguration:
    """What a new saved configuration starts from: an environment, another saved
    configuration, or a platform (by solution stack or ARN) with no options."""
    now = datetime.now(timezone.utc)
    env_id = self._get_param("EnvironmentId")
    env_name = _template_source(self, "EnvironmentName")
    source = self._get_param("SourceConfiguration") or {}
    stack = self._get_param("SolutionStackName") or _template_source(self, "SolutionStackName")
    arn = self._get_param("PlatformArn") or _template_source(self, "PlatformArn")
    given = [bool(env_id or env_name), bool(source), bool(stack or arn)]
    if sum(given) != 1:
        raise InvalidParameterCombination(
            "the ebami sandbox makes a saved configuration from exactly one of EnvironmentId "
            "(or TemplateSpecification.TemplateSource.EnvironmentName), SourceConfiguration, "
            "or SolutionStackName/PlatformArn"
        )
    if env_id or env_name:
        env = next(
            (
                e
                for e in state.environments.values()
                if (e.env_id == env_id if env_id else e.name == env_name)
            ),
            None,
        )
        if env is None or env.application != application:
            named = f"EnvironmentId = '{env_id}'" if env_id else f"EnvironmentName = '{env_name}'"
            raise InvalidParameterValue(f"No Environment found for {named}.")
        # The environment's settings as they are now: its AMI becomes an explicit ImageId.
        options = {**env.options, environments.IMAGE_ID: env.image_id}
        return SavedConfiguration(
            application, "", "", env.solution_stack, env.platform_arn, env.stock_image,
            options, now, now,
        )  # fmt: skip
    if source:
        origin = template_of(
            state,
            str(source.get("ApplicationName") or application),
            str(source.get("TemplateName") or ""),
        )
        return SavedConfiguration(
            application, "", "", origin.solution_stack, origin.platform_arn, origin.stock_image,
            dict(origin.options), now, now,
        )  # fmt: skip
    solution_stack, platform_arn, stock = platform_of(state, stack=stack or "", arn=arn or "")
    return SavedConfiguration(
        application, "", "", solution_stack, platform_arn, stock, {}, now, now
    )


def option_changes(self: EBResponse, options: dict[tuple[str, str], str]) -> None:
    """Apply the request's `OptionsToRemove`, then its `OptionSettings`, to `options`."""
    for key in [known_option(item) for item in self._get_param("OptionsToRemove", []) or []]:
        options.pop(key, None)
    for item in self._get_param("OptionSettings", []) or []:
        options[known_option(item)] = str(item.get("Value", ""))


@fill(EBResponse, "CreateConfigurationTemplate")
def create_configuration_template(self: EBResponse) -> ActionResult:
    application = application_named(self)
    name = str(self._get_param("TemplateName") or "")
    state = request_state(self)
    with runtime.current().lock:
        if (application, name) in state.templates:
            raise InvalidParameterValue(
                f"Configuration Template {name} already exists for application {application}."
            )
        template = _source(self, state, application)
        template.name = name
        template.description = str(self._get_param("Description") or "")
        option_changes(self, template.options)
        state.templates[(application, name)] = template
        saved_configuration_files.store(state, template)
        return ActionResult(description(template))


@fill(EBResponse, "UpdateConfigurationTemplate")
def update_configuration_template(self: EBResponse) -> ActionResult:
    application = application_named(self)
    state = request_state(self)
    with runtime.current().lock:
        template = template_of(state, application, str(self._get_param("TemplateName") or ""))
        option_changes(self, template.options)
        if self._get_param("Description") is not None:
            template.description = str(self._get_param("Description"))
        template.updated = datetime.now(timezone.utc)
        saved_configuration_files.store(state, template)
        return ActionResult(description(template))


@fill(EBResponse, "DeleteConfigurationTemplate")
def delete_configuration_template(self: EBResponse) -> EmptyResult:
    application = application_named(self)
    state = request_state(self)
    with runtime.current().lock:
        template = template_of(state, application, str(self._get_param("TemplateName") or ""))
        del state.templates[(template.application, template.name)]
        saved_configuration_files.remove(state, template)
    return EmptyResult()


@fill(EBResponse, "DescribeConfigurationSettings")
def describe_configuration_settings(self: EBResponse) -> ActionResult:
    """A saved configuration's settings (`TemplateName`), or else an environment's."""
    if not self._get_param("TemplateName"):
        return environment_settings(self)
    if self._get_param("EnvironmentName"):
        raise InvalidParameterCombination(
            "You cannot specify both an environment name and a template name."
        )
    application = application_named(self)
    with runtime.current().lock:
        name = str(self._get_param("TemplateName"))
        template = template_of(request_state(self), application, name)
        return ActionResult({"ConfigurationSettings": [description(template)]})


@replace(
    EBResponse,
    "DescribeApplications",
    gap="moto's applications have no dates, versions or configuration templates, and it ignores "
    "ApplicationNames",
)
def describe_applications(self: EBResponse) -> ActionResult:
    wanted = self._get_param("ApplicationNames", []) or []
    state = request_state(self)
    backend = self.elasticbeanstalk_backend
    found = []
    with runtime.current().lock:
        for name, application in backend.applications.items():
            if wanted and name not in wanted:
                continue
            envs = [env for env in state.environments.values() if env.application == name]
            created = min((env.created for env in envs), default=datetime.now(timezone.utc))
            found.append(
                {
                    "ApplicationArn": application.arn,
                    "ApplicationName": name,
                    "Description": "",
                    "DateCreated": created,
                    "DateUpdated": created,
                    "Versions": sorted(label for app, label in state.versions if app == name),
                    "ConfigurationTemplates": sorted(
                        template for app, template in state.templates if app == name
                    ),
                }
            )
    return ActionResult({"Applications": found})
