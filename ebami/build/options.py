"""What a build is asked to make. Every option that changes the artifact comes from settings
(`ebami.toml`, `EBAMI_*`, flags), so that `build` and `check` read one source.

Light to import: `ebami build --help` reads `Communicator` from here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from ebami.core.errors import InputError

if TYPE_CHECKING:
    from ebami.config.settings import Settings
    from ebami.image.platforms import Platform


class Communicator(str, Enum):
    SSH = "ssh"
    SESSION_MANAGER = "session-manager"


@dataclass(frozen=True)
class BuildOptions:
    platform: Platform
    release: str | None
    drivers: tuple[str, ...]
    base_ami: str | None = None
    platform_version: str | None = None
    ssm_agent: bool = True
    instance_type: str = "t3.micro"
    subnet_id: str | None = None
    instance_profile: str | None = None
    communicator: Communicator = Communicator.SSH
    ssh_cidrs: tuple[str, ...] = ()
    encrypt: bool = False
    kms_key_id: str | None = None
    copy_to: tuple[str, ...] = ()
    share_with: tuple[str, ...] = ()
    tags: Mapping[str, str] = field(default_factory=dict)
    force: bool = False
    ssm_parameter: str | None = None
    # Wait while another run bakes the same bake key (`--no-wait`: stop at once instead).
    wait: bool = True

    def __post_init__(self) -> None:
        """Refuse combinations that cannot work, and names AWS would refuse after the bake,
        before anything talks to AWS."""
        from ebami.image.provenance import check_extra_tags
        from ebami.image.userdata import render_user_data

        check_extra_tags(self.tags)
        self.check_names(region=None)
        # Rendering is pure: it refuses bad drivers, a release of another OS family and a
        # missing release where the user data pins one.
        render_user_data(self.platform, self.drivers, self.release)
        if self.communicator is Communicator.SESSION_MANAGER and not (
            self.platform.base_ami_has_ssm_agent
        ):
            raise InputError(
                f"--communicator session-manager needs an SSM agent on the builder, and "
                f"{self.platform.alias}'s base AMI has none; use --communicator ssh"
            )

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        *,
        base_ami: str | None = None,
        platform_version: str | None = None,
        communicator: Communicator = Communicator.SSH,
        extra_tags: Mapping[str, str] | None = None,
        force: bool = False,
        ssm_parameter: str | None = None,
        wait: bool = True,
    ) -> BuildOptions:
        """The options of a build (or of the build a `check` compares with) from settings."""
        platform = settings.resolved_platform()
        return cls(
            platform=platform,
            release=settings.resolved_release(platform),
            drivers=settings.resolved_drivers(),
            base_ami=base_ami,
            platform_version=platform_version,
            ssm_agent=settings.ssm_agent,
            instance_type=settings.instance_type,
            subnet_id=settings.subnet_id,
            instance_profile=settings.instance_profile,
            communicator=communicator,
            ssh_cidrs=tuple(settings.ssh_cidrs),
            encrypt=settings.encrypt,
            kms_key_id=settings.kms_key_id,
            copy_to=tuple(settings.copy_to),
            share_with=tuple(settings.share_with),
            tags={**settings.tags, **(extra_tags or {})},
            force=force,
            ssm_parameter=ssm_parameter,
            wait=wait,
        )

    def check_names(self, region: str | None) -> None:
        """The names of the build's outputs as AWS will judge them; with `region` (once it is
        known), the limits that depend on it too."""
        from ebami.config.formats import check_ssm_parameter_name

        if self.ssm_parameter is not None:
            try:
                check_ssm_parameter_name(self.ssm_parameter, region)
            except ValueError as exc:
                raise InputError(f"--ssm-parameter: {exc}") from None

    def copies(self, region: str) -> list[str]:
        """The regions the AMI is copied to from `region`: each once, never `region` itself
        (wherever the region came from: a setting, AWS_DEFAULT_REGION or the profile)."""
        return [item for item in dict.fromkeys(self.copy_to) if item != region]

    def image_options(self, region: str) -> dict[str, object]:
        """The options that change the image built in `region`, as the bake key records them."""
        return {
            "encrypt": self.encrypt or bool(self.kms_key_id),
            "kms_key_id": self.kms_key_id or "",
            "copy_to": sorted(self.copies(region)),
        }
