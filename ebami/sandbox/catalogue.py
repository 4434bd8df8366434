"""Platform versions added while the sandbox runs: "AWS shipped a new base AMI", on demand.

`release_version` adds, in every Elastic Beanstalk state the sandbox seeded, the next patch
version of a platform: the newest version (of one OS release, when given) with its patch number
plus one, released now, on the same branch, with a base AMI of its own (owner amazon) whose root
filesystem is a copy of the previous version's. The new version becomes the branch's
`Recommended` one. The route `POST /__ebami__/release` (ebami.sandbox.routes) calls it; the
client is ebami.sandbox.release.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ebami.core.errors import InputError
from ebami.image.lookup import version_key
from ebami.image.platforms import Platform, resolve_platform
from ebami.sandbox import runtime, seed, world
from ebami.sandbox.environments import EbState
from ebami.sandbox.rootfs import record_packages

RECOMMENDED = "Recommended"
_LIFECYCLE = "PlatformLifecycleState"


@dataclass(frozen=True)
class _Plan:
    """One region's new platform version, decided before anything changes."""

    state: EbState
    previous: dict[str, Any]
    platform: world.SeedPlatform
    previous_image: str


def release_version(platform_name: str, release: str | None) -> dict[str, str]:
    """Add the next patch version of `platform_name` (alias or full name) in every seeded
    region; return the new version's facts in the sandbox's own region.

    InputError, with nothing changed, for an unknown platform or a release it has no version of.
    """
    platform = resolve_platform(platform_name)
    if release is not None:
        release = platform.validate_release(release)
    sandbox = runtime.current()
    now = datetime.now(timezone.utc).replace(microsecond=0)
    with sandbox.lock:
        seeded = [state for state in sandbox.eb_states if state.platforms]
        plans = [_plan(state, platform, release, now) for state in seeded]
        if not plans:
            raise InputError("the sandbox has no seeded Elastic Beanstalk platforms")
        for plan in plans:
            _apply(plan)
    chosen = next((p for p in plans if p.state.region == sandbox.region), plans[0])
    added = chosen.platform
    return {
        "platform_arn": added.arn(chosen.state.region),
        "platform_name": added.name,
        "platform_version": added.version,
        "os_version": added.os_version,
        "image_id": added.image_id(chosen.state.region),
        "released": added.released.isoformat(),
    }


def _plan(state: EbState, platform: Platform, release: str | None, now: datetime) -> _Plan:
    versions = [
        record
        for record in state.platforms
        if record["description"]["PlatformName"] == platform.name
        and (
            release is None
            or platform.os_version_matches(release, record["description"]["OperatingSystemVersion"])
        )
    ]
    if not versions:
        have = sorted(
            {
                record["description"]["OperatingSystemVersion"]
                for record in state.platforms
                if record["description"]["PlatformName"] == platform.name
            }
        )
        raise InputError(
            f"{platform.alias} has no platform version on release {release} in {state.region} "
            f"to follow; its releases there: {', '.join(have) or 'none'}"
        )
    previous = max(versions, key=lambda r: version_key(r["description"]["PlatformVersion"]))
    description = previous["description"]
    old = str(description["PlatformVersion"])
    major, minor, patch = old.split(".")
    new = f"{major}.{minor}.{int(patch) + 1}"
    added = world.SeedPlatform(
        name=description["PlatformName"],
        version=new,
        os_version=description["OperatingSystemVersion"],
        category=description["PlatformCategory"],
        solution_stack=description["SolutionStackName"].replace(f" v{old} ", f" v{new} "),
        branch_state=description["PlatformBranchLifecycleState"],
        lifecycle=RECOMMENDED,
        released=now,
        files={},
        packages={},
    )
    arn = added.arn(state.region)
    if any(record["description"]["PlatformArn"] == arn for record in state.platforms):
        raise InputError(f"{arn} exists already in {state.region}")
    previous_image = next(
        ami["ImageId"] for ami in description["CustomAmiList"] if ami["VirtualizationType"] == "hvm"
    )
    return _Plan(state, previous, added, previous_image)


def _apply(plan: _Plan) -> None:
    state, added = plan.state, plan.platform
    roots = runtime.current().roots
    image_id = seed.register_image(state.account_id, state.region, added)
    roots.clone_image(plan.previous_image, image_id)
    if not roots.image(image_id).is_dir():  # the previous AMI has no root: the seed's files
        origin = _seed_platform(added)
        root = roots.create_image(image_id, origin.files)
        record_packages(root, origin.packages)
    branch = plan.previous["description"]["PlatformBranchName"]
    platforms: list[dict[str, Any]] = []
    for record in state.platforms:
        if record["description"].get("PlatformBranchName") == branch:
            record = _not_recommended(record)
        platforms.append(record)
        if record["description"]["PlatformArn"] == plan.previous["description"]["PlatformArn"]:
            platforms.append(seed.platform_record(added, state.region))
    # One assignment: a ListPlatformVersions answered meanwhile sees the old list or the new.
    state.platforms = platforms


def _not_recommended(record: dict[str, Any]) -> dict[str, Any]:
    if record["summary"].get(_LIFECYCLE) != RECOMMENDED:
        return record
    return {
        part: {key: value for key, value in record[part].items() if key != _LIFECYCLE}
        for part in ("summary", "description")
    }


def _seed_platform(added: world.SeedPlatform) -> world.SeedPlatform:
    """The newest seed version of `added`'s platform and OS version (for its files)."""
    return max(
        (p for p in world.PLATFORMS if p.name == added.name and p.os_version == added.os_version),
        key=lambda p: version_key(p.version),
    )
