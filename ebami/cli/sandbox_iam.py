"""`ebami sandbox start --enforce-iam`: one IAM user per job, each with exactly the policy
`ebami iam policy --job JOB` prints for the sandbox's world, made with the account's root key
(the key `sandbox start` exports), and their keys in a shared credentials file in the sandbox's
folder."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ebami.iam.calls import JOBS
from ebami.iam.document import job_policy
from ebami.iam.scope import Scope
from ebami.sandbox import world
from ebami.sandbox.clients import root_client
from ebami.sandbox.server import ACCOUNT_ID
from ebami.sandbox.state_file import SandboxInfo

CREDENTIALS_FILE = "credentials"


@dataclass(frozen=True)
class JobUser:
    job: str
    user: str
    access_key_id: str
    secret_access_key: str

    @property
    def profile(self) -> str:
        return self.user

    def environment(self) -> dict[str, str]:
        """The variables that make a client act as this job."""
        return {
            "AWS_ACCESS_KEY_ID": self.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.secret_access_key,
        }

    def to_json(self) -> dict[str, Any]:
        return {"job": self.job, "user": self.user, "access_key_id": self.access_key_id,
                "secret_access_key": self.secret_access_key}  # fmt: skip


def sandbox_scope(info: SandboxInfo) -> Scope:
    """What the sandbox's world holds: its regions, any environment, the instance profile its
    instances run with, and parameters under `/ebami/` (channels, leases, published)."""
    regions = [info.region, *world.fleet_regions(info.fleet, info.region).values()]
    return Scope(
        account=ACCOUNT_ID,
        regions=tuple(dict.fromkeys(regions)),
        published=("/ebami/*",),
        instance_profile=world.EC2_ROLE,
        role=world.EC2_ROLE,
    )


def create_job_users(info: SandboxInfo) -> list[JobUser]:
    """Each job's user, its inline policy and an access key, made as the root user; then the
    shared credentials file (`<folder>/credentials`, a profile per user, mode 0600)."""
    iam = root_client("iam", info.endpoint, info.region)
    scope = sandbox_scope(info)
    users: list[JobUser] = []
    for job in JOBS:
        policy = job_policy(job, scope)
        name = f"ebami-{job}"
        iam.create_user(UserName=name)
        iam.put_user_policy(
            UserName=name, PolicyName=name, PolicyDocument=json.dumps(policy.document)
        )
        key = iam.create_access_key(UserName=name)["AccessKey"]
        users.append(JobUser(job, name, key["AccessKeyId"], key["SecretAccessKey"]))
    _write_credentials(Path(info.directory) / CREDENTIALS_FILE, users)
    return users


def _write_credentials(path: Path, users: list[JobUser]) -> None:
    text = "".join(
        f"[{user.profile}]\naws_access_key_id = {user.access_key_id}\n"
        f"aws_secret_access_key = {user.secret_access_key}\n\n"
        for user in users
    )
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w") as file:
        file.write(text)
