"""The seed world: Elastic Beanstalk platforms and their base AMIs, and a demo application.

Platform names, versions, OS versions and dates follow Elastic Beanstalk's real catalogue for
the three ECS-based branches ebami supports. Base AMIs are owned by amazon and have root
filesystems with `/etc/system-release`, `/etc/os-release` and an `/etc/ecs/ecs.config` without
a drivers line, so ecs-init's default applies: on Amazon Linux 1 that default lacks fluentd.
The Amazon Linux 1 images have no SSM agent.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, timezone

APPLICATION = "webapp"
APPLICATION_VERSION = "v42"
ENVIRONMENTS = {"staging": 1, "prod": 2}  # name -> number of instances
APPLICATION_VERSION_DESCRIPTION = "nginx logging through the fluentd log driver"
_ROLLING_UPDATE = "aws:autoscaling:updatepolicy:rollingupdate"
# Each environment's `aws:autoscaling:updatepolicy:rollingupdate` options: staging replaces its
# one instance all at once, prod is health-based and replaces one instance at a time.
UPDATE_POLICIES: dict[str, dict[tuple[str, str], str]] = {
    "staging": {(_ROLLING_UPDATE, "RollingUpdateEnabled"): "false"},
    "prod": {
        (_ROLLING_UPDATE, "RollingUpdateEnabled"): "true",
        (_ROLLING_UPDATE, "RollingUpdateType"): "Health",
        (_ROLLING_UPDATE, "MaxBatchSize"): "1",
        (_ROLLING_UPDATE, "MinInstancesInService"): "1",
    },
}
# The fleet (`ebami sandbox start --fleet N`): N more environments of the application, each
# like staging (one instance, rolling updates disabled, the same platform version), named
# fleet-01 ... fleet-NN. The first half (rounded up) lives in the sandbox's region, the rest in
# a second region: us-west-2, or us-east-1 when the sandbox's region is us-west-2.
FLEET_PREFIX = "fleet-"
FLEET_MAX = 500
FLEET_LIKE = "staging"
SECOND_REGION = "us-west-2"
SECOND_REGION_OF_US_WEST_2 = "us-east-1"
EC2_ROLE = "aws-elasticbeanstalk-ec2-role"
PLATFORM_OWNER = "AWSElasticBeanstalk"
AMAZON_OWNER_ID = "137112412989"

MULTICONTAINER_DOCKER = "Multi-container Docker running on 64bit Amazon Linux"
ECS_AL2 = "ECS running on 64bit Amazon Linux 2"
ECS_AL2023 = "ECS running on 64bit Amazon Linux 2023"

# The application's containers: the source article's setup, which needs the fluentd driver.
DOCKERRUN = {
    "AWSEBDockerrunVersion": 2,
    "containerDefinitions": [
        {
            "name": "web",
            "image": "nginx:1.13",
            "essential": True,
            "memory": 128,
            "portMappings": [{"hostPort": 80, "containerPort": 80}],
            "logConfiguration": {
                "logDriver": "fluentd",
                "options": {"fluentd-address": "127.0.0.1:24224", "tag": "docker.web"},
            },
        }
    ],
}

_AL1_YUM_CONF = """[main]
cachedir=/var/cache/yum/$basearch/$releasever
keepcache=0
debuglevel=2
logfile=/var/log/yum.log
distroverpkg=system-release
exactarch=1
obsoletes=1
gpgcheck=1
plugins=1
installonly_limit=3
releasever=latest
timeout=5
retries=7
"""


@dataclass(frozen=True)
class SeedPlatform:
    """One Elastic Beanstalk platform version and the root filesystem of its base AMI."""

    name: str
    version: str
    os_version: str
    category: str
    solution_stack: str
    branch_state: str
    lifecycle: str
    released: datetime
    files: dict[str, str] = field(hash=False)
    packages: dict[str, str] = field(hash=False)

    def arn(self, region: str) -> str:
        return f"arn:aws:elasticbeanstalk:{region}::platform/{self.name}/{self.version}"

    def image_id(self, region: str) -> str:
        return "ami-0" + _digest(region, self.name, self.version)[:16]

    @property
    def image_name(self) -> str:
        slug = "ecs" if self.category == "ECS" else "docker-multi"
        stamp = f"{self.released:%Y%m%d%H%M}"
        return f"aws-elasticbeanstalk-amzn-{self.os_version}.x86_64-{slug}-hvm-{stamp}"


def _al1(
    version: str, release: str, docker: str, ecs_init: str, released: datetime
) -> SeedPlatform:
    return SeedPlatform(
        name=MULTICONTAINER_DOCKER,
        version=version,
        os_version=release,
        category="Multi-container Docker",
        solution_stack=(
            f"64bit Amazon Linux {release} v{version} running Multi-container Docker "
            f"{docker} (Generic)"
        ),
        branch_state="Retired",
        lifecycle="",
        released=released,
        files={
            "/etc/system-release": f"Amazon Linux AMI release {release}\n",
            "/etc/os-release": (
                'NAME="Amazon Linux AMI"\n'
                f'VERSION="{release}"\nID="amzn"\nID_LIKE="rhel fedora"\n'
                f'VERSION_ID="{release}"\nPRETTY_NAME="Amazon Linux AMI {release}"\n'
            ),
            "/etc/yum.conf": _AL1_YUM_CONF,
            "/etc/ecs/ecs.config": "",
        },
        packages={"ecs-init": ecs_init, "docker": docker.replace("-", "") + "-1.amzn1"},
    )


def _al2(version: str, ecs_init: str, lifecycle: str, released: datetime) -> SeedPlatform:
    return SeedPlatform(
        name=ECS_AL2,
        version=version,
        os_version="2",
        category="ECS",
        solution_stack=f"64bit Amazon Linux 2 v{version} running ECS",
        branch_state="Supported",
        lifecycle=lifecycle,
        released=released,
        files={
            "/etc/system-release": "Amazon Linux release 2 (Karoo)\n",
            "/etc/os-release": (
                'NAME="Amazon Linux"\nVERSION="2"\nID="amzn"\nID_LIKE="centos rhel fedora"\n'
                'VERSION_ID="2"\nPRETTY_NAME="Amazon Linux 2"\n'
            ),
            "/etc/ecs/ecs.config": "",
        },
        packages={
            "ecs-init": ecs_init,
            "amazon-ssm-agent": "3.3.131.0-1.amzn2",
            "docker": "25.0.6-1.amzn2.0.1",
        },
    )


def _al2023(
    version: str, repo: str, ecs_init: str, lifecycle: str, released: datetime
) -> SeedPlatform:
    return SeedPlatform(
        name=ECS_AL2023,
        version=version,
        os_version="2023",
        category="ECS",
        solution_stack=f"64bit Amazon Linux 2023 v{version} running ECS",
        branch_state="Supported",
        lifecycle=lifecycle,
        released=released,
        files={
            "/etc/system-release": f"Amazon Linux release {repo} (Amazon Linux)\n",
            "/etc/os-release": (
                'NAME="Amazon Linux"\nVERSION="2023"\nID="amzn"\nID_LIKE="fedora"\n'
                'VERSION_ID="2023"\nPRETTY_NAME="Amazon Linux 2023"\n'
            ),
            "/etc/dnf/vars/releasever": repo + "\n",
            "/etc/ecs/ecs.config": "",
        },
        packages={
            "ecs-init": ecs_init,
            "amazon-ssm-agent": "3.3.1142.0-1.amzn2023",
            "docker": "25.0.6-1.amzn2023.0.2",
        },
    )


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=timezone.utc)


PLATFORMS: tuple[SeedPlatform, ...] = (
    _al1("2.8.0", "2017.09", "17.06.2-ce", "1.15.1-1.amzn1", _utc("2017-10-12T20:41:00")),
    _al1("2.8.4", "2017.09", "17.09.1-ce", "1.16.2-1.amzn1", _utc("2018-01-18T23:27:00")),
    _al1("2.10.0", "2018.03", "17.12.1-ce", "1.18.0-1.amzn1", _utc("2018-05-02T18:10:00")),
    _al1("2.11.0", "2018.03", "18.03.1-ce", "1.18.0-2.amzn1", _utc("2018-06-28T21:54:00")),
    _al2("3.4.2", "1.86.3-1.amzn2", "", _utc("2024-10-10T19:30:00")),
    _al2("3.5.0", "1.89.2-1.amzn2", "Recommended", _utc("2025-01-30T22:05:00")),
    _al2023("4.1.0", "2023.5.20240819", "1.86.3-1.amzn2023", "", _utc("2024-09-03T20:15:00")),
    _al2023(
        "4.2.0", "2023.6.20241212", "1.89.2-1.amzn2023", "Recommended", _utc("2025-01-30T22:05:00")
    ),
)

# The platform version the demo environments run: the source article's Amazon Linux 2017.09.
ENVIRONMENT_PLATFORM = PLATFORMS[1]


def dockerrun_bundle() -> bytes:
    """The application version's source bundle: a zip holding Dockerrun.aws.json (v2)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        bundle.writestr("Dockerrun.aws.json", json.dumps(DOCKERRUN, indent=2) + "\n")
    return buffer.getvalue()


def storage_bucket(region: str, account_id: str) -> str:
    """The bucket Elastic Beanstalk stores application versions in."""
    return f"elasticbeanstalk-{region}-{account_id}"


def _digest(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def short_id(*parts: str, length: int = 10) -> str:
    """A stable lowercase id, for environment ids and generated resource names."""
    alphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
    number = int(_digest(*parts), 16)
    chars = []
    for _ in range(length):
        number, index = divmod(number, len(alphabet))
        chars.append(alphabet[index])
    return "".join(chars)


def second_region(region: str) -> str:
    """The region the second half of a fleet lives in, for a sandbox seeded in `region`."""
    return SECOND_REGION_OF_US_WEST_2 if region == SECOND_REGION else SECOND_REGION


def fleet_regions(count: int, region: str) -> dict[str, str]:
    """The fleet's environments, fleet-01 ... in order, and the region each lives in."""
    first_half = (count + 1) // 2
    return {
        f"{FLEET_PREFIX}{number:02d}": region if number <= first_half else second_region(region)
        for number in range(1, count + 1)
    }


def describe_fleet(count: int, region: str) -> str:
    """One line for `ebami sandbox status`: which fleet environments live in which region."""
    if not count:
        return "none"
    by_region: dict[str, list[str]] = {}
    for name, home in fleet_regions(count, region).items():
        by_region.setdefault(home, []).append(name)
    parts = [
        f"{names[0]} to {names[-1]} in {home}" if len(names) > 1 else f"{names[0]} in {home}"
        for home, names in by_region.items()
    ]
    return f"{count} environments: " + ", ".join(parts)
