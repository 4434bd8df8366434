"""S3 calls ebami makes: reading an application version's source bundle."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ebami.aws.errors import aws_errors
from ebami.core.errors import EbamiError

if TYPE_CHECKING:
    from mypy_boto3_s3.client import S3Client

# Elastic Beanstalk takes source bundles of up to 500 MB; a Dockerrun.aws.json is a few KB.
MAX_BUNDLE_BYTES = 512 * 1024 * 1024


class TooLarge(EbamiError):
    """The object is larger than ebami reads."""


class S3:
    def __init__(self, client: S3Client) -> None:
        self._client = client

    def read(self, bucket: str, key: str, *, limit: int = MAX_BUNDLE_BYTES) -> bytes:
        """The object's bytes; TooLarge when it is over `limit`."""
        with aws_errors(f"s3:GetObject s3://{bucket}/{key}"):
            response: Any = self._client.get_object(Bucket=bucket, Key=key)
            size = int(response.get("ContentLength") or 0)
            body = response["Body"]
            try:
                if size > limit:
                    raise TooLarge(f"s3://{bucket}/{key} is {size} bytes, over {limit}")
                data: bytes = body.read()
            finally:
                body.close()
        return data
