"""`DeleteEnvironmentConfiguration`: the draft configuration of an environment removed.

API reference: "Deletes the draft configuration associated with the running environment.
Updating a running environment with any configuration changes creates a draft configuration
set ... The draft configuration remains in existence until it is deleted with this action."
The sandbox keeps one draft that failed to deploy (`ebami.sandbox.drafts`); a draft still being
deployed is the update's own, and deleting it is refused as Elastic Beanstalk refuses an
operation while another is in progress (`OperationInProgressFailure`, in the model's errors).
"""

from __future__ import annotations

from moto.core.exceptions import ServiceException
from moto.core.responses import ActionResult, EmptyResult
from moto.elasticbeanstalk.responses import EBResponse

from ebami.sandbox import runtime
from ebami.sandbox.eb_requests import InvalidParameterValue, request_environment
from ebami.sandbox.patching import fill


class OperationInProgressFailure(ServiceException):
    code = "OperationInProgressFailure"


@fill(EBResponse, "DeleteEnvironmentConfiguration")
def delete_environment_configuration(self: EBResponse) -> ActionResult:
    env = request_environment(self)
    application = self._get_param("ApplicationName")
    if application and application != env.application:
        raise InvalidParameterValue(f"No Environment found for EnvironmentName = '{env.name}'.")
    with runtime.current().lock:
        if env.update is not None:
            raise OperationInProgressFailure(
                f"Environment named {env.name} is in an invalid state for this operation: its "
                "draft configuration is being deployed."
            )
        env.failed_draft = None
    return EmptyResult()
