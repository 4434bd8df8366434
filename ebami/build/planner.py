"""The read-only half of a build: the base AMI, the user data, the bake key and the AMI that
already carries it. `plan_build` makes only Describe/List/Get calls; `ebami check` compares its
answer with what exists, and `ebami build` turns it into instructions (`ebami.build.steps`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from ebami import __version__
from ebami.build.leftovers import AwsCommands, LeftoverEc2, find_leftovers
from ebami.build.options import BuildOptions
from ebami.core.errors import Leftover, NotFoundError
from ebami.core.reporting import Reporter
from ebami.image import tags
from ebami.image.bake import reusable
from ebami.image.lookup import BaseAmi, LookupEb, find_base_ami
from ebami.image.provenance import BakeKey, provenance_tags
from ebami.image.userdata import SSM_AGENT_RPM_URL, UserData, render_user_data
from ebami.packer.template import templates_digest

if TYPE_CHECKING:
    from ebami.aws.ec2_values import Image


class BuildPlanEc2(LeftoverEc2, Protocol):
    """The EC2 calls `plan_build` makes (`ebami.aws.ec2.Ec2` has them)."""

    def get_image(self, image_id: str) -> Image: ...

    def find_images_by_tag(self, key: str, value: str) -> list[Image]: ...


@dataclass(frozen=True)
class BuildPlan:
    """What a build would make and whether it exists already, worked out without changes."""

    region: str
    base: BaseAmi
    user_data: UserData
    bake_key: BakeKey
    ami_name: str
    description: str
    tags: Mapping[str, str]
    # The AMI carrying the bake key a build reuses (the newest not revoked), if any.
    existing: Image | None
    force: bool
    # This run: tagged on what it creates, so that its clean-up touches nothing else.
    run_id: str
    # What earlier runs may have left (reported, never removed).
    leftovers: tuple[Leftover, ...]
    # When no AMI carrying the bake key may be reused: the newest revoked one, if any.
    revoked: Image | None = None

    @property
    def skips(self) -> bool:
        return self.existing is not None and not self.force

    @property
    def action(self) -> str:
        """What the build will do, in words."""
        if self.existing is None:
            return "build"
        if self.force:
            return "build (--force)"
        return f"skip: {self.existing.image_id} already carries the bake key"


def plan_build(
    options: BuildOptions,
    *,
    eb: LookupEb,
    ec2: BuildPlanEc2,
    region: str,
    environ: Mapping[str, str],
    now: datetime,
    run_id: str,
    cli: AwsCommands,
    reporter: Reporter,
    look_for_leftovers: bool = True,
) -> BuildPlan:
    """`cli` writes the commands that remove what earlier runs left (they are only reported;
    `ebami check`, which bakes nothing, does not look for them)."""
    base = base_ami(options, eb=eb, ec2=ec2, region=region, reporter=reporter)
    user_data = render_user_data(
        options.platform, options.drivers, options.release, packages=_packages(options)
    )
    bake_key = BakeKey.of(
        base_ami=base.image_id,
        region=region,
        user_data=user_data,
        templates_digest=templates_digest(),
        image_options=options.image_options(region),
    )
    reporter.progress(f"bake key {bake_key.value[:16]}…; looking for an AMI carrying it")
    # The newest AMI carrying the key that is not revoked: a revoked one is no bake to reuse.
    existing, revoked = reusable(ec2.find_images_by_tag(tags.BAKE_KEY, bake_key.value))
    leftovers = find_leftovers(ec2, cli, reporter) if look_for_leftovers else ()
    name = ami_name(base, user_data, now, bake_key)
    return BuildPlan(
        region=region,
        base=base,
        user_data=user_data,
        bake_key=bake_key,
        ami_name=name,
        description=_description(base, user_data),
        tags=provenance_tags(
            base=base,
            user_data=user_data,
            bake_key=bake_key,
            ami_name=name,
            environ=environ,
            extra=options.tags,
            run_id=run_id,
        ),
        existing=existing,
        revoked=revoked,
        force=options.force,
        run_id=run_id,
        leftovers=leftovers,
    )


def new_run_id() -> str:
    """A build run's id: 16 hex digits, like a verify run's."""
    return uuid.uuid4().hex[:16]


def base_ami(
    options: BuildOptions,
    *,
    eb: LookupEb,
    ec2: BuildPlanEc2,
    region: str,
    reporter: Reporter,
) -> BaseAmi:
    """The platform's base AMI (looked up), or `--base-ami` (checked to be available)."""
    if options.base_ami is None:
        reporter.progress(f"looking up the base AMI of {options.platform.name} in {region}")
        return find_base_ami(
            eb,
            options.platform,
            region=region,
            release=options.release,
            platform_version=options.platform_version,
        )
    image = ec2.get_image(options.base_ami)
    if image.state != "available":
        raise NotFoundError(f"--base-ami {image.image_id} is {image.state}, not available")
    return BaseAmi(
        image_id=image.image_id,
        region=region,
        platform=options.platform.alias,
        platform_name=options.platform.name,
        platform_arn="",
        platform_version=options.platform_version or "",
        os_name="",
        os_version=options.release or "",
        lifecycle_state="",
        branch_name="",
    )


def _packages(options: BuildOptions) -> list[str]:
    """The SSM agent's rpm where the platform's base AMI lacks the agent (Amazon Linux 1)."""
    if options.ssm_agent and not options.platform.base_ami_has_ssm_agent:
        return [SSM_AGENT_RPM_URL]
    return []


def ami_name(base: BaseAmi, user_data: UserData, now: datetime, bake_key: BakeKey) -> str:
    """`ebami-PLATFORM-RELEASE-VERSION-TIME-KEY`: EC2 refuses a second AMI of one name, and two
    bakes (other drivers, say) may start in the same second; the bake key's first characters
    tell them apart."""
    parts = [
        "ebami",
        base.platform,
        user_data.release or user_data.platform.os_family.value,
        base.platform_version or base.image_id,
        now.strftime("%Y%m%dT%H%M%SZ"),
        bake_key.value[:8],
    ]
    return "-".join(part for part in parts if part)


def _description(base: BaseAmi, user_data: UserData) -> str:
    text = (
        f"ebami {__version__}: {base.platform_name} {base.platform_version} from "
        f"{base.image_id}, log drivers {' '.join(user_data.drivers)}"
    )
    return text[:255]
