"""STS: who the caller is (GetCallerIdentity needs no permission)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ebami.aws.errors import aws_errors

if TYPE_CHECKING:
    from mypy_boto3_sts.client import STSClient


class Sts:
    def __init__(self, client: STSClient) -> None:
        self._client = client

    def account(self) -> str:
        """The account id of the caller's credentials."""
        with aws_errors("sts:GetCallerIdentity"):
            return str(self._client.get_caller_identity()["Account"])
