"""Elastic Beanstalk calls ebami makes, named by intent."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ebami.aws.errors import aws_errors

if TYPE_CHECKING:
    from mypy_boto3_elasticbeanstalk.client import ElasticBeanstalkClient
    from mypy_boto3_elasticbeanstalk.type_defs import (
        PlatformDescriptionTypeDef,
        PlatformFilterTypeDef,
        PlatformSummaryTypeDef,
    )


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
