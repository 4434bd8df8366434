"""Put the seed world (ebami.sandbox.world) into moto's backends for one account and region.

moto's backend methods are called with keywords, so that a moto upgrade that renames a
parameter fails here loudly (tests/functional/test_sandbox_moto_contract.py binds the same)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from moto.ec2.models import ec2_backends
from moto.ec2.models.amis import Ami
from moto.elasticbeanstalk.models import eb_backends
from moto.iam.models import iam_backends
from moto.s3.models import s3_backends

from ebami.sandbox import environments, runtime, world
from ebami.sandbox.eb_create import open_environment
from ebami.sandbox.rootfs import record_packages

_ASSUME_EC2 = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "ec2.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }
)


def seed(account_id: str, region: str, *, fleet: int = 0) -> None:
    """Create the platforms, base AMIs, the instance profile, the application and environments;
    with `fleet`, that many more environments, half of them in a second region, which gets its
    own platforms, base AMIs and copy of the application (`world.fleet_regions`)."""
    _instance_profile(account_id)
    homes = world.fleet_regions(fleet, region)
    layout: dict[str, list[_Seeded]] = {region: [(n, c, n) for n, c in world.ENVIRONMENTS.items()]}
    for name, home in homes.items():
        layout.setdefault(home, []).append(
            (name, world.ENVIRONMENTS[world.FLEET_LIKE], world.FLEET_LIKE)
        )
    for home, seeded in layout.items():
        _region(account_id, home, seeded)


# An environment to seed: its name, its number of instances, and the environment whose update
# policy it has (a fleet environment has staging's).
_Seeded = tuple[str, int, str]


def _region(account_id: str, region: str, seeded: list[_Seeded]) -> None:
    _internet_route(account_id, region)
    _images(account_id, region)
    version = _application_version(account_id, region)
    state = runtime.state_of(eb_backends[account_id][region])
    state.platforms = [platform_record(platform, region) for platform in world.PLATFORMS]
    state.versions[(version.application, version.label)] = version
    _environments(state, account_id, region, seeded)


def _internet_route(account_id: str, region: str) -> None:
    """Give the default VPC what AWS gives it: an internet gateway and a 0.0.0.0/0 route to it."""
    backend = ec2_backends[account_id][region]
    vpc = backend.get_default_vpc()
    if vpc is None:  # pragma: no cover - moto makes the default VPC with the backend
        return
    gateway = backend.create_internet_gateway()
    backend.attach_internet_gateway(internet_gateway_id=gateway.id, vpc_id=vpc.id)
    main = next(
        table
        for table in backend.route_tables.values()
        if table.vpc_id == vpc.id and table.main_association_id
    )
    backend.create_route(
        route_table_id=main.id, destination_cidr_block="0.0.0.0/0", gateway_id=gateway.id
    )


def _images(account_id: str, region: str) -> None:
    roots = runtime.current().roots
    for platform in world.PLATFORMS:
        register_image(account_id, region, platform)
        root = roots.create_image(platform.image_id(region), platform.files)
        record_packages(root, platform.packages)


def register_image(account_id: str, region: str, platform: world.SeedPlatform) -> str:
    """Register `platform`'s base AMI (owner amazon, public) in moto; its root is the caller's."""
    backend = ec2_backends[account_id][region]
    image_id = platform.image_id(region)
    backend.amis[image_id] = Ami(
        ec2_backend=backend,
        ami_id=image_id,
        name=platform.image_name,
        description=f"Elastic Beanstalk base AMI: {platform.solution_stack}",
        owner_id=world.AMAZON_OWNER_ID,
        owner_alias="amazon",
        public=True,
        virtualization_type="hvm",
        architecture="x86_64",
        creation_date=platform.released,
        root_device_type="ebs",
        root_device_name="/dev/xvda",
        boot_mode="legacy-bios",
    )
    return image_id


def _instance_profile(account_id: str) -> None:
    iam = iam_backends[account_id]["aws"]
    iam.create_role(
        role_name=world.EC2_ROLE,
        assume_role_policy_document=_ASSUME_EC2,
        path="/",
        permissions_boundary=None,
        description="Elastic Beanstalk EC2 role",
        tags=[],
        max_session_duration=None,
    )
    iam.create_instance_profile(name=world.EC2_ROLE, path="/", role_names=[world.EC2_ROLE])


def _application_version(account_id: str, region: str) -> environments.ApplicationVersion:
    s3 = s3_backends[account_id]["aws"]
    bucket = world.storage_bucket(region, account_id)
    key = f"{world.APPLICATION}/{world.APPLICATION_VERSION}-dockerrun.zip"
    s3.create_bucket(bucket_name=bucket, region_name=region)
    s3.put_object(bucket_name=bucket, key_name=key, value=world.dockerrun_bundle())
    return environments.ApplicationVersion(
        application=world.APPLICATION,
        label=world.APPLICATION_VERSION,
        bucket=bucket,
        key=key,
        created=datetime.now(timezone.utc),
        description=world.APPLICATION_VERSION_DESCRIPTION,
    )


def platform_record(platform: world.SeedPlatform, region: str) -> dict[str, Any]:
    """A platform version as the sandbox's Elastic Beanstalk state holds it: the summary
    `ListPlatformVersions` lists and the description `DescribePlatformVersion` gives."""
    arn = platform.arn(region)
    common: dict[str, Any] = {
        "PlatformArn": arn,
        "PlatformOwner": world.PLATFORM_OWNER,
        "PlatformStatus": "Ready",
        "PlatformCategory": platform.category,
        "OperatingSystemName": "Amazon Linux",
        "OperatingSystemVersion": platform.os_version,
        "SupportedTierList": ["WebServer/Standard", "Worker/SQS/HTTP"],
        "SupportedAddonList": ["Log/S3", "Monitoring/Healthd", "WorkerDaemon/SQSD"],
        "PlatformVersion": platform.version,
        "PlatformBranchName": platform.name,
        "PlatformBranchLifecycleState": platform.branch_state,
    }
    if platform.lifecycle:
        common["PlatformLifecycleState"] = platform.lifecycle
    description = {
        **common,
        "PlatformName": platform.name,
        "SolutionStackName": platform.solution_stack,
        "Description": platform.solution_stack,
        "Maintainer": "aws-elasticbeanstalk-platforms@amazon.com",
        "DateCreated": platform.released,
        "DateUpdated": platform.released,
        "ProgrammingLanguages": [],
        "Frameworks": [],
        "CustomAmiList": [
            {"VirtualizationType": "hvm", "ImageId": platform.image_id(region)},
            *(
                [{"VirtualizationType": "pv", "ImageId": "ami-1" + platform.image_id(region)[5:]}]
                if platform.category != "ECS"
                else []
            ),
        ],
    }
    return {"summary": common, "description": description}


def _environments(
    state: environments.EbState, account_id: str, region: str, seeded: list[_Seeded]
) -> None:
    backend = eb_backends[account_id][region]
    backend.create_application(application_name=world.APPLICATION)
    platform = world.ENVIRONMENT_PLATFORM
    for name, count, like in seeded:
        open_environment(
            state,
            name=name,
            application=world.APPLICATION,
            platform=(platform.solution_stack, platform.arn(region), platform.image_id(region)),
            version_label=world.APPLICATION_VERSION,
            count=count,
            options=dict(world.UPDATE_POLICIES[like]),
        )
