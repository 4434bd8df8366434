"""`ValidateConfigurationSettings` in the sandbox: option settings checked against an
environment or a saved configuration, with the sandbox's own option checks
(`ebami.sandbox.eb_requests.option_refusal`, the ones UpdateEnvironment and the saved
configuration actions apply).

API reference: the request names an application and either `TemplateName` or
`EnvironmentName` ("If you specify both, AWS Elastic Beanstalk returns an
InvalidParameterCombination error. If you do not specify either, AWS Elastic Beanstalk returns
an InvalidParameterValue error."); the answer lists `Messages`, each a `ValidationMessage`
(`Message`, `Severity` error or warning, `Namespace`, `OptionName`); no message means valid.
moto has no such action.
"""

from __future__ import annotations

from typing import Any

from moto.core.responses import ActionResult
from moto.elasticbeanstalk.responses import EBResponse

from ebami.sandbox import runtime
from ebami.sandbox.eb_requests import (
    InvalidParameterCombination,
    InvalidParameterValue,
    option_refusal,
    request_environment,
    request_state,
)
from ebami.sandbox.patching import fill


def _check_target(self: EBResponse) -> None:
    """EB's refusal when the request names no environment or saved configuration that exists,
    or names both."""
    application = str(self._get_param("ApplicationName") or "")
    template = self._get_param("TemplateName")
    if template and self._get_param("EnvironmentName"):
        raise InvalidParameterCombination(
            "You cannot specify both an environment name and a template name."
        )
    if not template and not self._get_param("EnvironmentName"):
        raise InvalidParameterValue(
            "You must specify either a template name or an environment name."
        )
    if application not in self.elasticbeanstalk_backend.applications:
        raise InvalidParameterValue(f"No Application named '{application}' found.")
    if template:
        with runtime.current().lock:
            if (application, template) not in request_state(self).templates:
                raise InvalidParameterValue(
                    f"No Configuration Template named '{application}/{template}' found."
                )
        return
    env = request_environment(self)
    if env.application != application:
        raise InvalidParameterValue(f"No Environment found for EnvironmentName = '{env.name}'.")


def validation_messages(settings: list[dict[str, Any]]) -> list[dict[str, str]]:
    """A `ValidationMessage` (severity error) for each setting EB would refuse."""
    messages = []
    for item in settings:
        refusal = option_refusal(item)
        if refusal is not None:
            messages.append(
                {
                    "Message": refusal,
                    "Severity": "error",
                    "Namespace": str(item.get("Namespace", "")),
                    "OptionName": str(item.get("OptionName", "")),
                }
            )
    return messages


@fill(EBResponse, "ValidateConfigurationSettings")
def validate_configuration_settings(self: EBResponse) -> ActionResult:
    _check_target(self)
    settings = self._get_param("OptionSettings", []) or []
    return ActionResult({"Messages": validation_messages(settings)})
