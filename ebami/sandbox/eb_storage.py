"""Elastic Beanstalk's storage location in the sandbox: `CreateStorageLocation`, and the files
Elastic Beanstalk keeps there.

API reference: CreateStorageLocation "creates a bucket in Amazon S3 to store application
versions, logs, and other files used by Elastic Beanstalk environments"; when it exists already
it "still returns the bucket name but does not create a new bucket". The answer is
`{"S3Bucket": NAME}`; the name is `elasticbeanstalk-REGION-ACCOUNT`
(`ebami.sandbox.world.storage_bucket`), the bucket the seed keeps application versions in. moto
has no such action.
"""

from __future__ import annotations

from moto.core.responses import ActionResult
from moto.elasticbeanstalk.responses import EBResponse
from moto.s3.exceptions import MissingBucket
from moto.s3.models import s3_backends

from ebami.sandbox import world
from ebami.sandbox.patching import fill


def storage_location(account_id: str, region: str) -> str:
    """The Elastic Beanstalk bucket of the account and region, made if it is missing."""
    s3 = s3_backends[account_id]["aws"]
    bucket = world.storage_bucket(region, account_id)
    try:
        s3.get_bucket(bucket)
    except MissingBucket:
        s3.create_bucket(bucket_name=bucket, region_name=region)
    return bucket


def put_file(account_id: str, region: str, key: str, body: bytes) -> None:
    """Store `body` at `key` in the storage location (made if missing)."""
    bucket = storage_location(account_id, region)
    s3_backends[account_id]["aws"].put_object(bucket_name=bucket, key_name=key, value=body)


def delete_file(account_id: str, region: str, key: str) -> None:
    """Remove `key` from the storage location (nothing happens when it is not there)."""
    bucket = storage_location(account_id, region)
    s3_backends[account_id]["aws"].delete_object(bucket_name=bucket, key_name=key)


@fill(EBResponse, "CreateStorageLocation")
def create_storage_location(self: EBResponse) -> ActionResult:
    backend = self.elasticbeanstalk_backend
    return ActionResult({"S3Bucket": storage_location(backend.account_id, backend.region_name)})
