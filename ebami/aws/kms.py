"""KMS calls ebami makes: only reading whether a key can encrypt an AMI's snapshots."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from ebami.aws.errors import aws_errors

if TYPE_CHECKING:
    from mypy_boto3_kms.client import KMSClient


class Kms:
    def __init__(self, client: KMSClient) -> None:
        self._client = client

    def key_state(self, key_id: str) -> str | None:
        """The key's state (`Enabled`, `Disabled`, `PendingDeletion`...); None when there is no
        such key or alias in the client's region."""
        with aws_errors(f"kms:DescribeKey {key_id}"):
            try:
                response: Any = self._client.describe_key(KeyId=key_id)
            except ClientError as exc:
                if exc.response.get("Error", {}).get("Code") == "NotFoundException":
                    return None
                raise
        return str(response["KeyMetadata"].get("KeyState", ""))
