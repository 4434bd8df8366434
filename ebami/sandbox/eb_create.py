"""`CreateEnvironment` in the sandbox, and the making of an environment the seed shares.

API reference (CreateEnvironment): `ApplicationName` is required; the platform comes from one of
`TemplateName` (a saved configuration), `SolutionStackName` or `PlatformArn`; `VersionLabel`
names an application version of the application; `EnvironmentName` is 4 to 40 letters, digits
and hyphens, neither first nor last a hyphen, and unique in the account and region;
`OptionSettings` and `OptionsToRemove` are applied over the saved configuration's settings; the
answer is the new environment's `EnvironmentDescription`. `SolutionStackName` goes without
`PlatformArn` and `TemplateName`; a saved configuration may be given with a `PlatformArn`.

What the sandbox models, and where it differs from AWS (the README says so): the environment is
made at once, answering `Ready` where AWS answers `Launching` and takes minutes; it is a web
server environment with one instance, in the sandbox's VPC; without `VersionLabel` it runs no
application version (AWS deploys its sample application); an `ImageId` or `IamInstanceProfile`
naming nothing is refused at once, in the sandbox's words (the reference does not say how AWS
answers: a validation error, or a launch that fails); `CNAMEPrefix`,
`Description` and `Tags` are taken, `GroupName`, `OperationsRole` and a `Tier` other than
`WebServer` are refused as not modelled; a name is required. moto's own CreateEnvironment
answers with `SolutionStackName` only and makes an environment the sandbox's actions do not
know.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from moto.core.responses import ActionResult
from moto.ec2.models import ec2_backends
from moto.elasticbeanstalk.models import eb_backends
from moto.elasticbeanstalk.responses import EBResponse
from moto.iam.exceptions import NotFoundException
from moto.iam.models import iam_backends

from ebami.sandbox import environments, health, runtime
from ebami.sandbox.eb_requests import (
    InvalidParameterCombination,
    InvalidParameterValue,
    request_state,
)
from ebami.sandbox.elasticbeanstalk import described
from ebami.sandbox.environments import EbState, SandboxEnvironment
from ebami.sandbox.patching import replace
from ebami.sandbox.saved_configurations import (
    application_named,
    option_changes,
    platform_of,
    template_of,
)
from ebami.sandbox.world import short_id

# EnvironmentName: 4 to 40 letters, digits and hyphens, not starting or ending with a hyphen.
_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9-]{2,38})[A-Za-z0-9]")
_NOT_MODELLED = ("GroupName", "OperationsRole")
_PROFILE = (environments.LAUNCH_CONFIGURATION, "IamInstanceProfile")
PARTITION = "aws"


def open_environment(
    state: EbState,
    *,
    name: str,
    application: str,
    platform: tuple[str, str, str],
    version_label: str,
    count: int,
    options: dict[tuple[str, str], str],
    tags: dict[str, str] | None = None,
) -> SandboxEnvironment:
    """Make environment `name` of `application` on `platform` (solution stack, ARN, its own
    AMI) with `count` instances of its AMI (the ImageId option's, else the platform's), its
    events and its health settled."""
    backend = eb_backends[state.account_id][state.region]
    solution_stack, platform_arn, stock = platform
    env_id = "e-" + short_id(state.account_id, state.region, name)
    # The tags Elastic Beanstalk puts on every environment (ListTagsForResource shows them).
    own = {"elasticbeanstalk:environment-name": name, "elasticbeanstalk:environment-id": env_id}
    backend.create_environment(
        app=backend.applications[application],
        environment_name=name,
        stack_name=solution_stack,
        tags={**(tags or {}), **own},
    )
    now = datetime.now(timezone.utc)
    env = SandboxEnvironment(
        name=name,
        env_id=env_id,
        application=application,
        account_id=state.account_id,
        region=state.region,
        platform_arn=platform_arn,
        solution_stack=solution_stack,
        stock_image=stock,
        version_label=version_label,
        instance_count=count,
        options=options,
        created=now,
        updated=now,
    )
    state.environments[name] = env
    state.emit(env, "createEnvironment is starting.")
    env.instance_ids = environments.launch_instances(env, env.image_id, count)
    for instance_id in env.instance_ids:
        state.emit(env, f"Added instance [{instance_id}] to your environment.")
    health.settle_health(state, env)
    state.emit(env, "createEnvironment completed successfully.")
    return env


@replace(
    EBResponse,
    "CreateEnvironment",
    gap="moto's environment has no platform ARN, options, instances or events",
)
def create_environment(self: EBResponse) -> ActionResult:
    state = request_state(self)
    application = application_named(self)
    name = str(self._get_param("EnvironmentName") or "")
    _check_request(self, name)
    platform, options = _platform_and_options(self, state, application)
    label = str(self._get_param("VersionLabel") or "")
    if label and (application, label) not in state.versions:
        raise InvalidParameterValue(f"No Application Version named '{label}' found.")
    tags = {
        str(item.get("Key", "")): str(item.get("Value", ""))
        for item in self._get_param("Tags", []) or []
    }
    sandbox = runtime.current()
    with sandbox.lock:
        if name in state.environments:
            raise InvalidParameterValue(f"Environment {name} already exists.")
        try:
            env = open_environment(
                state,
                name=name,
                application=application,
                platform=platform,
                version_label=label,
                count=1,
                options=options,
                tags=tags,
            )
        except Exception:
            _forget(state, application, name)
            raise
        return ActionResult(described(env, sandbox.clock()))


def _forget(state: EbState, application: str, name: str) -> None:
    """Undo an environment whose making failed: no half-made environment is left."""
    env = state.environments.pop(name, None)
    if env is not None:
        environments.terminate_instances(env, env.instance_ids)
    state.events[:] = [event for event in state.events if event.environment != name]
    moto_app = eb_backends[state.account_id][state.region].applications.get(application)
    if moto_app is not None:
        moto_app.environments.pop(name, None)


def _check_request(self: EBResponse, name: str) -> None:
    if not name:
        raise InvalidParameterValue("the ebami sandbox needs an EnvironmentName")
    if not _NAME.fullmatch(name):
        raise InvalidParameterValue(
            f"Value {name!r} at 'environmentName' failed to satisfy constraint: 4 to 40 "
            "letters, digits and hyphens, not starting or ending with a hyphen"
        )
    for member in _NOT_MODELLED:
        if self._get_param(member):
            raise InvalidParameterValue(f"the ebami sandbox does not model {member}")
    tier = self._get_param("Tier") or {}
    if tier.get("Name", "WebServer") != "WebServer":
        raise InvalidParameterValue(
            "the ebami sandbox models web server environments only (Tier WebServer)"
        )


def _platform_and_options(
    self: EBResponse, state: EbState, application: str
) -> tuple[tuple[str, str, str], dict[tuple[str, str], str]]:
    """The platform (solution stack, ARN, its own AMI) and the option values: the saved
    configuration's (`TemplateName`), on its platform or `PlatformArn`'s, or none on the
    platform given, with the request's changes over them. `SolutionStackName` goes alone."""
    template = self._get_param("TemplateName")
    stack = self._get_param("SolutionStackName")
    arn = self._get_param("PlatformArn")
    if stack and (template or arn):
        raise InvalidParameterCombination(
            "SolutionStackName goes without TemplateName and PlatformArn"
        )
    if not (template or stack or arn):
        raise InvalidParameterValue(
            "give TemplateName, SolutionStackName or PlatformArn: the environment's platform"
        )
    options: dict[tuple[str, str], str] = {}
    if template:
        saved = template_of(state, application, str(template))
        platform = (saved.solution_stack, saved.platform_arn, saved.stock_image)
        options = dict(saved.options)
    if stack or arn:
        platform = platform_of(state, stack=str(stack or ""), arn=str(arn or ""))
    option_changes(self, options)
    _check_references(state, options)
    return platform, options


def _check_references(state: EbState, options: dict[tuple[str, str], str]) -> None:
    """The AMI and the instance profile the options name exist (refused at once, in the
    sandbox's words: the reference does not say how AWS answers)."""
    image = options.get(environments.IMAGE_ID)
    if image and image not in ec2_backends[state.account_id][state.region].amis:
        raise InvalidParameterValue(
            f"the ebami sandbox refuses ImageId {image}: no such AMI in {state.region}"
        )
    profile = options.get(_PROFILE)
    if profile:
        try:
            iam_backends[state.account_id][PARTITION].get_instance_profile(profile)
        except NotFoundException:
            raise InvalidParameterValue(
                f"the ebami sandbox refuses IamInstanceProfile {profile}: no such instance profile"
            ) from None
