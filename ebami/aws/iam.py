"""IAM calls ebami makes: only reading whether an instance profile exists."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from ebami.aws.errors import aws_errors

if TYPE_CHECKING:
    from mypy_boto3_iam.client import IAMClient


class Iam:
    def __init__(self, client: IAMClient) -> None:
        self._client = client

    def instance_profile_exists(self, name: str) -> bool:
        with aws_errors(f"iam:GetInstanceProfile {name}"):
            try:
                self._client.get_instance_profile(InstanceProfileName=name)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "NoSuchEntity":
                    return False
                raise
        return True
