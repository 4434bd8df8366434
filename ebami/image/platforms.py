"""The catalog of Elastic Beanstalk platforms ebami supports, and what `--release` means on each.

The OS family decides how an instance is locked on launch (see templates/cloud-config):

* Amazon Linux 1 ("Multi-container Docker"): `repo_releasever: <release>` pins yum to the
  release's repositories and `repo_upgrade: none` skips the security update at boot. A release
  is an Amazon Linux AMI release such as 2017.09 or 2018.03.
* Amazon Linux 2: only `repo_upgrade: none`; AL2 does not support `repo_releasever`. It has a
  single release line, so the only release is `2`.
* Amazon Linux 2023: repositories are locked to the AMI's release by default; the release is
  `2023`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import Enum

from ebami.core.errors import InputError
from ebami.image.drivers import AgentVersions


class OsFamily(str, Enum):
    """The operating system family of a platform; it decides lock-on-launch."""

    AL1 = "al1"
    AL2 = "al2"
    AL2023 = "al2023"

    @property
    def display_name(self) -> str:
        return _FAMILY_TITLES[self]


_FAMILY_TITLES = {
    OsFamily.AL1: "Amazon Linux 1",
    OsFamily.AL2: "Amazon Linux 2",
    OsFamily.AL2023: "Amazon Linux 2023",
}

# Amazon Linux AMI (AL1) shipped these releases and no others; 2018.03 was the last one.
AL1_RELEASES = (
    "2011.09", "2012.03", "2012.09", "2013.03", "2013.09", "2014.03", "2014.09",
    "2015.03", "2015.09", "2016.03", "2016.09", "2017.03", "2017.09", "2018.03",
)  # fmt: skip

_RELEASES: dict[OsFamily, tuple[str, ...]] = {
    OsFamily.AL1: AL1_RELEASES,
    OsFamily.AL2: ("2",),
    OsFamily.AL2023: ("2023",),
}


@dataclass(frozen=True)
class Platform:
    """An Elastic Beanstalk platform (all its versions), as ebami knows it."""

    alias: str
    name: str
    os_family: OsFamily

    @property
    def releases(self) -> tuple[str, ...]:
        """The values `--release` accepts for this platform, oldest first."""
        return _RELEASES[self.os_family]

    @property
    def releases_pin_repositories(self) -> bool:
        """Whether the release is written into the user data (`repo_releasever`)."""
        return self.os_family is OsFamily.AL1

    @property
    def base_ami_has_ssm_agent(self) -> bool:
        """Whether the platform's base AMI ships the SSM agent (Amazon Linux 1's does not)."""
        return self.os_family is not OsFamily.AL1

    def agent_versions(self, release: str | None = None) -> AgentVersions:
        """The ECS agents this platform's base AMIs may run, decided per OS family (and on
        Amazon Linux 1 per release) from what AWS shipped; render needs no AWS call for it."""
        if self.os_family is OsFamily.AL1:
            if release is not None and release >= "2017.09":
                # ecs-init 1.15.0-4 (2017-10, agent 1.15.0) is the 2017.09 AMIs' package;
                # Amazon Linux 1 platforms never shipped agent 1.50.0 (2021-02).
                return AgentVersions(
                    (1, 15, 0), (1, 50, 0), f"Amazon Linux 1 {release} shipped ecs-init 1.15.0-4+"
                )
            return AgentVersions(
                (1, 5, 0),
                (1, 15, 0),
                f"Amazon Linux 1 {release or 'of unknown release'}: the agent version is not "
                "known, older than 1.15.0 before 2017.09",
            )
        if self.os_family is OsFamily.AL2:
            # The ECS-on-AL2 branch postdates agent 1.15.0 (2017-10); whether each of its
            # platform versions ships 1.50.0 or newer is not known without asking AWS.
            return AgentVersions((1, 15, 0), None, "Amazon Linux 2 ECS platforms")
        return AgentVersions((1, 50, 0), None, "Amazon Linux 2023 (2023 on) ECS platforms")

    def validate_release(self, release: str) -> str:
        """Return `release` if this platform accepts it; otherwise raise a one-line error."""
        if release in self.releases:
            return release
        accepted = ", ".join(self.releases)
        owner = next((p for p in PLATFORMS if release in p.releases), None)
        family = self.os_family.display_name
        if owner is not None:
            raise InputError(
                f"release {release!r} is an {owner.os_family.display_name} release, but "
                f"{self.alias} runs {family}; accepted: {accepted}"
            )
        raise InputError(
            f"release {release!r} is not a release of {self.alias} ({family}); accepted: {accepted}"
        )

    def os_version_matches(self, release: str, os_version: str) -> bool:
        """Whether a platform version's `OperatingSystemVersion` belongs to `release`.

        AL1 platform versions report the release itself (`2017.09`); newer families report
        their major version, possibly with a minor part (`2023`, `2023.6`).
        """
        return os_version == release or os_version.startswith(release + ".")


PLATFORMS: tuple[Platform, ...] = (
    Platform(
        alias="multicontainer-docker",
        name="Multi-container Docker running on 64bit Amazon Linux",
        os_family=OsFamily.AL1,
    ),
    Platform(
        alias="ecs-al2",
        name="ECS running on 64bit Amazon Linux 2",
        os_family=OsFamily.AL2,
    ),
    Platform(
        alias="ecs-al2023",
        name="ECS running on 64bit Amazon Linux 2023",
        os_family=OsFamily.AL2023,
    ),
)

DEFAULT_PLATFORM = PLATFORMS[0]


def resolve_platform(value: str) -> Platform:
    """Find a platform by alias or by its full Elastic Beanstalk name (case-insensitive)."""
    wanted = value.strip().casefold()
    for platform in PLATFORMS:
        if wanted in (platform.alias.casefold(), platform.name.casefold()):
            return platform
    raise InputError(f"unknown platform {value!r}; accepted: {_names(PLATFORMS)}")


def _names(platforms: Iterable[Platform]) -> str:
    return ", ".join(f"{p.alias} ({p.name})" for p in platforms)
