"""Elastic Beanstalk calls ebami makes, named by intent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ebami.aws.errors import aws_errors
from ebami.errors import InputError, NotFoundError

if TYPE_CHECKING:
    from mypy_boto3_elasticbeanstalk.client import ElasticBeanstalkClient
    from mypy_boto3_elasticbeanstalk.type_defs import (
        PlatformDescriptionTypeDef,
        PlatformFilterTypeDef,
        PlatformSummaryTypeDef,
    )


LAUNCH_CONFIGURATION = "aws:autoscaling:launchconfiguration"
IMAGE_ID = "ImageId"


@dataclass(frozen=True)
class Environment:
    name: str
    environment_id: str
    application: str
    status: str
    health: str
    platform_arn: str


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
        if not found:
            where = f" of application {application}" if application else ""
            raise NotFoundError(f"Elastic Beanstalk environment {name!r}{where} does not exist")
        if len(found) > 1:
            owners = ", ".join(sorted(item["ApplicationName"] for item in found))
            raise InputError(
                f"environment name {name!r} exists in several applications ({owners}); configure "
                "[environments.NAME] with its application in ebami.toml"
            )
        item = found[0]
        return Environment(
            name=item["EnvironmentName"],
            environment_id=item.get("EnvironmentId", ""),
            application=item["ApplicationName"],
            status=item.get("Status", ""),
            health=item.get("Health", ""),
            platform_arn=item.get("PlatformArn", ""),
        )

    def instance_ids(self, environment: Environment) -> list[str]:
        """The EC2 instances serving the environment now."""
        with aws_errors(f"elasticbeanstalk:DescribeEnvironmentResources {environment.name}"):
            response: Any = self._client.describe_environment_resources(
                EnvironmentId=environment.environment_id
            )
        return [item["Id"] for item in response["EnvironmentResources"].get("Instances", [])]

    def image_id(self, environment: Environment) -> str | None:
        """The AMI the environment's launch configuration names (its option `ImageId`)."""
        with aws_errors(f"elasticbeanstalk:DescribeConfigurationSettings {environment.name}"):
            response: Any = self._client.describe_configuration_settings(
                ApplicationName=environment.application, EnvironmentName=environment.name
            )
        for settings in response.get("ConfigurationSettings", []):
            for option in settings.get("OptionSettings", []):
                if (option.get("Namespace"), option.get("OptionName")) == (
                    LAUNCH_CONFIGURATION,
                    IMAGE_ID,
                ):
                    value: str | None = option.get("Value") or None
                    return value
        return None
