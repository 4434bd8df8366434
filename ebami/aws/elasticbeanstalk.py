"""Elastic Beanstalk calls ebami makes, named by intent."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast

from ebami.aws.errors import aws_errors
from ebami.core.errors import AwsError, EbamiError, InputError, NotFoundError

if TYPE_CHECKING:
    from mypy_boto3_elasticbeanstalk.client import ElasticBeanstalkClient
    from mypy_boto3_elasticbeanstalk.type_defs import (
        PlatformDescriptionTypeDef,
        PlatformFilterTypeDef,
        PlatformSummaryTypeDef,
    )

from ebami.aws.eb_values import (
    DEPLOYED,
    IMAGE_ID,
    INSTANCE_HEALTH_ATTRIBUTES,
    LAUNCH_CONFIGURATION,
    Configuration,
    ConfigurationSet,
    Environment,
    Event,
    Health,
    InstanceHealth,
    SavedConfiguration,
)

# Environment names asked in one DescribeEnvironments: the service model sets no bound on the
# list (its answers are paged, up to 1,000 environments a page); a hundred keeps a request small.
NAMES_PER_CALL = 100
# More pages than any listing ebami makes could have (a million events at 1,000 a page).
MAX_PAGES = 1000


class ElasticBeanstalk:
    def __init__(self, client: ElasticBeanstalkClient) -> None:
        self._client = client

    def list_platform_versions(
        self, filters: Sequence[PlatformFilterTypeDef]
    ) -> list[PlatformSummaryTypeDef]:
        """All platform versions matching `filters` (AND of the terms), every page."""
        summaries: list[PlatformSummaryTypeDef] = []
        with aws_errors("elasticbeanstalk:ListPlatformVersions"):
            paginator = self._client.get_paginator("list_platform_versions")
            for page in paginator.paginate(Filters=list(filters)):
                summaries.extend(page.get("PlatformSummaryList", []))
        return summaries

    def describe_platform_version(self, platform_arn: str) -> PlatformDescriptionTypeDef:
        with aws_errors(f"elasticbeanstalk:DescribePlatformVersion {platform_arn}"):
            response: Any = self._client.describe_platform_version(PlatformArn=platform_arn)
        description: PlatformDescriptionTypeDef = response["PlatformDescription"]
        return description

    def get_environment(self, name: str, application: str | None = None) -> Environment:
        """The live environment `name` (in `application` when given); NotFoundError if none."""
        request: dict[str, Any] = {"EnvironmentNames": [name], "IncludeDeleted": False}
        if application:
            request["ApplicationName"] = application
        with aws_errors(f"elasticbeanstalk:DescribeEnvironments {name}"):
            response: Any = self._client.describe_environments(**request)
        found = [
            item for item in response.get("Environments", []) if item.get("Status") != "Terminated"
        ]
        return _one_environment(name, application, found)

    def environments_named(
        self, names: Sequence[str], application: str | None = None
    ) -> dict[str, Environment]:
        """The live environments `names` (of `application` when given), by name, asked
        `NAMES_PER_CALL` names at a time; NotFoundError names the first one that does not exist,
        InputError the first that several applications have."""
        found = self.environments_found(names, application)
        for outcome in found.values():
            if isinstance(outcome, EbamiError):
                raise outcome
        return cast(dict[str, Environment], found)

    def environments_found(
        self, names: Sequence[str], application: str | None = None
    ) -> dict[str, Environment | EbamiError]:
        """Each of `names` (of `application` when given): the live environment, or the error
        that says why there is none (NotFoundError: it does not exist; InputError: several
        applications have one of that name), asked `NAMES_PER_CALL` names at a time."""
        wanted = list(dict.fromkeys(names))
        found: dict[str, list[Any]] = {name: [] for name in wanted}
        for start in range(0, len(wanted), NAMES_PER_CALL):
            chunk = wanted[start : start + NAMES_PER_CALL]
            request: dict[str, Any] = {"EnvironmentNames": chunk, "IncludeDeleted": False}
            if application:
                request["ApplicationName"] = application
            with aws_errors(f"elasticbeanstalk:DescribeEnvironments {', '.join(chunk)}"):
                for page in self._client.get_paginator("describe_environments").paginate(**request):
                    for item in page.get("Environments", []):
                        if item.get("Status") != "Terminated" and item["EnvironmentName"] in found:
                            found[item["EnvironmentName"]].append(item)
        outcomes: dict[str, Environment | EbamiError] = {}
        for name in wanted:
            try:
                outcomes[name] = _one_environment(name, application, found[name])
            except EbamiError as exc:
                outcomes[name] = exc
        return outcomes

    def refresh(self, environment: Environment) -> Environment:
        """The environment as it is now (status, health, abortable operation)."""
        with aws_errors(f"elasticbeanstalk:DescribeEnvironments {environment.name}"):
            response: Any = self._client.describe_environments(
                EnvironmentIds=[environment.environment_id], IncludeDeleted=False
            )
        found = response.get("Environments", [])
        if not found:
            raise NotFoundError(f"Elastic Beanstalk environment {environment.name!r} is gone")
        return _environment(found[0])

    def environments_by_id(self, environment_ids: Sequence[str]) -> dict[str, Environment]:
        """The environments `environment_ids` as they are now, by id, asked `NAMES_PER_CALL`
        at a time (one call for the environments a run follows in a region); an id Elastic
        Beanstalk no longer knows is missing from the answer."""
        wanted = list(dict.fromkeys(environment_ids))
        found: dict[str, Environment] = {}
        for start in range(0, len(wanted), NAMES_PER_CALL):
            chunk = wanted[start : start + NAMES_PER_CALL]
            request: dict[str, Any] = {"EnvironmentIds": chunk, "IncludeDeleted": False}
            with aws_errors(f"elasticbeanstalk:DescribeEnvironments ({len(chunk)} environments)"):
                for page in self._client.get_paginator("describe_environments").paginate(**request):
                    for item in page.get("Environments", []):
                        environment = _environment(item)
                        if environment.environment_id in chunk:
                            found[environment.environment_id] = environment
        return found

    def instance_ids(self, environment: Environment) -> list[str]:
        """The EC2 instances serving the environment now."""
        with aws_errors(f"elasticbeanstalk:DescribeEnvironmentResources {environment.name}"):
            response: Any = self._client.describe_environment_resources(
                EnvironmentId=environment.environment_id
            )
        return [item["Id"] for item in response["EnvironmentResources"].get("Instances", [])]

    def image_id(self, environment: Environment) -> str | None:
        """The AMI the environment's launch configuration names (its option `ImageId`)."""
        return self.configuration(environment).image_id

    def configuration(self, environment: Environment) -> Configuration:
        """The environment's option settings. While a deployment failed, Elastic Beanstalk
        returns two sets; the deployed one's values win."""
        return self._configuration(environment.application, environment=environment.name)

    def _configuration(
        self,
        application: str,
        *,
        environment: str | None = None,
        saved_configuration: str | None = None,
    ) -> Configuration:
        """An environment's or a saved configuration's settings (`configuration`)."""
        request: dict[str, Any] = {"ApplicationName": application}
        if environment is not None:
            request["EnvironmentName"] = environment
        if saved_configuration is not None:
            request["TemplateName"] = saved_configuration
        name = environment or f"{application}/{saved_configuration}"
        with aws_errors(f"elasticbeanstalk:DescribeConfigurationSettings {name}"):
            response: Any = self._client.describe_configuration_settings(**request)
        sets = response.get("ConfigurationSettings", [])
        # The options are the deployed set's: a pending or failed draft is not what the
        # environment runs (a draft's value must never pass for the deployed one).
        primary = next(
            (item for item in sets if item.get("DeploymentStatus") == DEPLOYED),
            next((item for item in sets if not item.get("DeploymentStatus")), None),
        )
        if primary is None and sets:
            primary = sets[0]
        options = _options(primary) if primary is not None else {}
        described = tuple(
            ConfigurationSet(
                str(item.get("DeploymentStatus") or ""),
                _options(item).get((LAUNCH_CONFIGURATION, IMAGE_ID)) or None,
            )
            for item in sets
        )
        return Configuration(options, described)

    def environments(self) -> list[Environment]:
        """Every environment of every application in the region that is not terminated (every
        page; Launching, Updating and Terminating ones included)."""
        found: list[Environment] = []
        with aws_errors("elasticbeanstalk:DescribeEnvironments"):
            paginator = self._client.get_paginator("describe_environments")
            for page in paginator.paginate(IncludeDeleted=False):
                found.extend(
                    _environment(item)
                    for item in page.get("Environments", [])
                    if item.get("Status") != "Terminated"
                )
        return found

    def saved_configurations(self) -> list[SavedConfiguration]:
        """Every saved configuration of every application in the region."""
        with aws_errors("elasticbeanstalk:DescribeApplications"):
            response: Any = self._client.describe_applications()
        return [
            SavedConfiguration(item["ApplicationName"], str(name))
            for item in response.get("Applications", [])
            for name in item.get("ConfigurationTemplates", [])
        ]

    def image_ids(
        self,
        application: str,
        *,
        environment: str | None = None,
        saved_configuration: str | None = None,
    ) -> tuple[str, ...]:
        """The `ImageId` of an environment or a saved configuration, in every configuration
        set Elastic Beanstalk returns (a failed deployment's set too), each once."""
        return self._configuration(
            application, environment=environment, saved_configuration=saved_configuration
        ).image_ids

    def update_image(self, environment: Environment, image_id: str | None) -> str:
        """Set the environment's `ImageId` (None: remove the option, back to the platform's
        AMI). Returns the request id that the update's events carry."""
        option = {"Namespace": LAUNCH_CONFIGURATION, "OptionName": IMAGE_ID}
        request: dict[str, Any] = {"EnvironmentId": environment.environment_id}
        if image_id is None:
            request["OptionsToRemove"] = [option]
        else:
            request["OptionSettings"] = [{**option, "Value": image_id}]
        with aws_errors(f"elasticbeanstalk:UpdateEnvironment {environment.name}"):
            response: Any = self._client.update_environment(**request)
        return str(response["ResponseMetadata"]["RequestId"])

    def abort_update(self, environment: Environment) -> None:
        with aws_errors(f"elasticbeanstalk:AbortEnvironmentUpdate {environment.name}"):
            self._client.abort_environment_update(EnvironmentId=environment.environment_id)

    def events(
        self,
        environment: Environment,
        *,
        request_id: str | None = None,
        since: datetime | None = None,
        limit: int = 1000,
    ) -> list[Event]:
        """The environment's events (of one request, when given) from `since` on, oldest
        first; at most `limit` of the newest."""
        request: dict[str, Any] = {
            "ApplicationName": environment.application,
            "EnvironmentName": environment.name,
            "MaxRecords": min(limit, 1000),
        }
        if request_id:
            request["RequestId"] = request_id
        if since is not None:
            request["StartTime"] = since
        found: list[Event] = []
        with aws_errors(f"elasticbeanstalk:DescribeEvents {environment.name}"):
            for page in _pages(self._client.describe_events, request):
                found.extend(_event(item) for item in page.get("Events", []))
                if len(found) >= limit:
                    break
        # Elastic Beanstalk answers newest first.
        return sorted(found[:limit], key=lambda event: event.date)

    def recent_events(self, *, since: datetime, application: str | None = None) -> list[Event]:
        """Every event of the region (of `application`, when given) from `since` on, oldest
        first, every page: the events of all the updates a run follows there, in one call."""
        request: dict[str, Any] = {"StartTime": since, "MaxRecords": 1000}
        if application:
            request["ApplicationName"] = application
        with aws_errors("elasticbeanstalk:DescribeEvents"):
            found = [
                _event(item)
                for page in _pages(self._client.describe_events, request)
                for item in page.get("Events", [])
            ]
        return sorted(found, key=lambda event: event.date)

    def health(self, environment: Environment) -> Health:
        """Enhanced health (`DescribeEnvironmentHealth`); only for environments that report it."""
        with aws_errors(f"elasticbeanstalk:DescribeEnvironmentHealth {environment.name}"):
            response: Any = self._client.describe_environment_health(
                EnvironmentId=environment.environment_id,
                AttributeNames=["Color", "HealthStatus", "Causes"],
            )
        return Health(
            color=str(response.get("Color", "")),
            status=str(response.get("HealthStatus", "")),
            causes=tuple(str(cause) for cause in response.get("Causes", [])),
        )

    def instances_health(self, environment: Environment) -> list[InstanceHealth]:
        """Enhanced health of each instance of the environment (`DescribeInstancesHealth`, every
        page: botocore has no paginator for it); only for environments that report it."""
        request: dict[str, Any] = {
            "EnvironmentId": environment.environment_id,
            "AttributeNames": list(INSTANCE_HEALTH_ATTRIBUTES),
        }
        with aws_errors(f"elasticbeanstalk:DescribeInstancesHealth {environment.name}"):
            return [
                _instance_health(item)
                for page in _pages(self._client.describe_instances_health, request)
                for item in page.get("InstanceHealthList", [])
            ]

    def source_bundle(self, application: str, version_label: str) -> tuple[str, str] | None:
        """Where the application version's source bundle is in S3 (bucket, key), if it has one."""
        with aws_errors(f"elasticbeanstalk:DescribeApplicationVersions {version_label}"):
            response: Any = self._client.describe_application_versions(
                ApplicationName=application, VersionLabels=[version_label]
            )
        for version in response.get("ApplicationVersions", []):
            bundle = version.get("SourceBundle") or {}
            if bundle.get("S3Bucket") and bundle.get("S3Key"):
                return str(bundle["S3Bucket"]), str(bundle["S3Key"])
        return None

    def tags(self, environment: Environment) -> dict[str, str]:
        with aws_errors(f"elasticbeanstalk:ListTagsForResource {environment.name}"):
            response: Any = self._client.list_tags_for_resource(ResourceArn=environment.arn)
        return {item["Key"]: item.get("Value", "") for item in response.get("ResourceTags", [])}

    def tag(self, environment: Environment, tags: Mapping[str, str]) -> None:
        with aws_errors(f"elasticbeanstalk:UpdateTagsForResource {environment.name}"):
            self._client.update_tags_for_resource(
                ResourceArn=environment.arn,
                TagsToAdd=[{"Key": key, "Value": value} for key, value in tags.items()],
            )


def _environment(item: Any) -> Environment:
    return Environment(
        name=item["EnvironmentName"],
        environment_id=item.get("EnvironmentId", ""),
        application=item["ApplicationName"],
        status=item.get("Status", ""),
        health=item.get("Health", ""),
        platform_arn=item.get("PlatformArn", ""),
        health_status=item.get("HealthStatus", ""),
        version_label=item.get("VersionLabel", ""),
        arn=item.get("EnvironmentArn", ""),
        abortable=bool(item.get("AbortableOperationInProgress", False)),
        updated=item.get("DateUpdated"),
    )


def _pages(call: Callable[..., Any], request: dict[str, Any]) -> Iterator[Any]:
    """Every page of a call that pages by `NextToken` (where botocore has no paginator, or
    the caller stops early), ending on the last page; a token answered twice would never end,
    so it is an error, as botocore's paginators make it, and so is a listing longer than
    `MAX_PAGES` (each page's call fits the caller's deadline, but the pages would not end)."""
    seen: set[str] = set()
    for _ in range(MAX_PAGES):
        page = call(**request)
        yield page
        token = page.get("NextToken")
        if not token:
            return
        if token in seen:
            raise AwsError(f"the service answered the page token {token!r} twice")
        seen.add(token)
        request = {**request, "NextToken": token}
    raise AwsError(f"the service answered more than {MAX_PAGES} pages")


def _options(settings: Any) -> dict[tuple[str, str], str]:
    return {
        (str(option.get("Namespace", "")), str(option.get("OptionName", ""))): str(
            option.get("Value", "")
        )
        for option in settings.get("OptionSettings", [])
    }


def _event(item: Any) -> Event:
    return Event(
        date=item["EventDate"],
        message=str(item.get("Message", "")),
        severity=str(item.get("Severity", "INFO")),
        request_id=str(item.get("RequestId", "")),
        environment=str(item.get("EnvironmentName", "")),
    )


def _instance_health(item: Any) -> InstanceHealth:
    deployment = item.get("Deployment") or {}
    deployment_id = deployment.get("DeploymentId")
    return InstanceHealth(
        instance_id=str(item.get("InstanceId", "")),
        color=str(item.get("Color", "")),
        status=str(item.get("HealthStatus", "")),
        causes=tuple(str(cause) for cause in item.get("Causes", [])),
        launched_at=item.get("LaunchedAt"),
        deployment_status=str(deployment.get("Status", "")),
        deployment_id=int(deployment_id) if deployment_id is not None else None,
    )


def _one_environment(name: str, application: str | None, found: list[Any]) -> Environment:
    """The one live environment `name` among `found` (DescribeEnvironments' answers for it)."""
    if not found:
        where = f" of application {application}" if application else ""
        raise NotFoundError(f"Elastic Beanstalk environment {name!r}{where} does not exist")
    if len(found) > 1:
        owners = ", ".join(sorted(item["ApplicationName"] for item in found))
        raise InputError(
            f"environment name {name!r} exists in several applications ({owners}); configure "
            "[environments.NAME] with its application in ebami.toml"
        )
    return _environment(found[0])
