"""What the sandbox's Elastic Beanstalk actions share: EB's errors, the sandbox state of the
request's backend, the environment a request names, and option settings as EB reads them from a
request and lists them in an answer (environment properties among them:
`ebami.sandbox.environment_properties`).

The actions themselves are `ebami.sandbox.elasticbeanstalk` (environments, events, versions,
tags), `ebami.sandbox.platform_versions` and `ebami.sandbox.saved_configurations`.
"""

from __future__ import annotations

from typing import Any

from moto.core.exceptions import ServiceException
from moto.elasticbeanstalk.responses import EBResponse

from ebami.sandbox import environment_properties, runtime
from ebami.sandbox.environments import (
    DEFAULT_OPTIONS,
    IMAGE_ID,
    LAUNCH_CONFIGURATION,
    EbState,
    SandboxEnvironment,
)


class InvalidParameterValue(ServiceException):
    code = "InvalidParameterValue"


class InvalidParameterCombination(ServiceException):
    code = "InvalidParameterCombination"


class ConfigurationValidationException(ServiceException):
    code = "ConfigurationValidationException"


def request_state(self: EBResponse) -> EbState:
    """The sandbox state of the backend (account and region) the request is for."""
    return runtime.state_of(self.elasticbeanstalk_backend)


def request_environment(self: EBResponse) -> SandboxEnvironment:
    """The environment the request names by `EnvironmentName` or `EnvironmentId`; EB's refusal
    when it names none, or one that does not exist."""
    state = request_state(self)
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


def option_refusal(item: dict[str, Any]) -> str | None:
    """Why EB refuses an option setting (or an option to remove, which has no `Value`): an
    option the sandbox does not know, or an environment property outside EB's limits; None when
    it takes it."""
    key = (str(item.get("Namespace", "")), str(item.get("OptionName", "")))
    if key[0] == environment_properties.NAMESPACE:
        value = item.get("Value")
        return environment_properties.property_refusal(
            key[1], None if value is None else str(value)
        )
    if key not in DEFAULT_OPTIONS and key != IMAGE_ID:
        return (
            f"Invalid option specification (Namespace: '{key[0]}', OptionName: '{key[1]}'): "
            "Unknown configuration setting."
        )
    return None


def known_option(item: dict[str, Any]) -> tuple[str, str]:
    """The (namespace, name) of an option setting; EB's refusal (`option_refusal`) for one it
    does not take."""
    refusal = option_refusal(item)
    if refusal is not None:
        raise InvalidParameterValue(refusal)
    return (str(item.get("Namespace", "")), str(item.get("OptionName", "")))


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
        if namespace == LAUNCH_CONFIGURATION:
            setting = {"ResourceName": "AWSEBAutoScalingLaunchConfiguration", **setting}
        settings.append(setting)
    return settings
