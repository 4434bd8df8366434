"""The gates an AMI passes before `ebami apply` changes an environment: each gives a verdict and
the data it rests on, so that a refusal says exactly why and `--dry-run` shows all of them.

1. image: the AMI exists in the environment's region, is `available`, and is not revoked;
2. verified: `ebami verify` proved it (`ebami:verified`), unless allowed otherwise;
3. dockerrun: every log driver the deployed application version's containers use is one the
   AMI's ECS agent allows (its `ebami:drivers`), which is what task placement checks
   (`ATTRIBUTE` otherwise);
4. platform: the AMI was baked for the environment's OS family (refused otherwise); a platform
   version other than the environment's is a warning.

`apply --stock` switches to the platform version's own AMI: the verdict `ebami verify --stock`
remembered on it stands in for the verified tag and the drivers tag.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from ebami.image import tags
from ebami.image.dockerrun import DriverUse
from ebami.image.environment import EnvironmentPlatform
from ebami.image.managed import ManagedImage
from ebami.image.stock import StockVerdict


class Verdict(str, Enum):
    PASSED = "pass"
    FAILED = "fail"
    WARNED = "warn"
    SKIPPED = "skip"


@dataclass(frozen=True)
class Gate:
    name: str
    verdict: Verdict
    detail: str
    data: Mapping[str, Any] = field(default_factory=dict)

    @property
    def refuses(self) -> bool:
        return self.verdict is Verdict.FAILED

    def to_json(self) -> dict[str, Any]:
        return {
            "gate": self.name,
            "verdict": self.verdict.value,
            "detail": self.detail,
            "data": dict(self.data),
        }


def image_gate(
    image: ManagedImage | None,
    image_id: str,
    region: str,
    *,
    channel: str | None = None,
    pinned: bool = False,
) -> Gate:
    """`channel`: the channel (`apply --channel`) the AMI was read from, if any; `pinned`: the
    AMI was chosen for the whole fleet before wave 1."""
    data: dict[str, str | None] = {"image_id": image_id, "region": region}
    if image is None:
        return Gate(
            "image",
            Verdict.FAILED,
            f"{image_id} does not exist in {region} or is not shared with this account",
            data,
        )
    data |= {"state": image.state, "name": image.name}
    if image.state != "available":
        return Gate("image", Verdict.FAILED, f"{image_id} is {image.state}, not available", data)
    if image.revocation is not None:
        data |= {"revoked_at": image.revocation.at, "revoked_reason": image.revocation.reason}
        if pinned:
            move_on = (
                "it was chosen for the fleet before wave 1 and revoked since: run ebami apply "
                "again to choose anew"
            )
        elif channel:
            move_on = (
                f"channel {channel} still names it: ebami revoke --ami {image_id} moves every "
                "channel off it"
            )
        else:
            move_on = "ebami apply without --ami takes the newest verified AMI that is not revoked"
        return Gate("image", Verdict.FAILED, f"{image_id} was {image.revocation}; {move_on}", data)
    return Gate("image", Verdict.PASSED, f"{image_id} is available in {region}", data)


def verified_gate(image: ManagedImage, *, allow_unverified: bool) -> Gate:
    verified = image.verified_at
    data = {"verified": verified, "checks": image.verified_checks}
    if verified:
        return Gate("verified", Verdict.PASSED, f"verified by ebami verify at {verified}", data)
    if allow_unverified:
        return Gate(
            "verified",
            Verdict.WARNED,
            f"not verified (no {tags.VERIFIED} tag); allowed by --allow-unverified",
            data,
        )
    return Gate(
        "verified",
        Verdict.FAILED,
        f"not verified (no {tags.VERIFIED} tag): run ebami verify --ami {image.image_id}, or "
        "pass --allow-unverified",
        data,
    )


def stock_gate(
    image_id: str,
    platform: EnvironmentPlatform,
    verdict: StockVerdict | None,
    *,
    allow: bool,
    drivers_used: bool,
) -> Gate:
    """`apply --stock`: the platform's own AMI stands in for a verified one when `ebami verify
    --stock` checked it (`allow`: --allow-unverified accepts it unchecked, which helps only
    where no container sets a log driver: `drivers_used`, else the dockerrun gate refuses)."""
    data = {"stock_verdict": verdict.to_json() if verdict else None}
    if verdict is not None and verdict.checked:
        return Gate(
            "verified",
            Verdict.PASSED,
            f"the platform's own AMI, checked by ebami verify --stock at {verdict.checked_at}",
            data,
        )
    why = _unchecked(verdict, platform)
    if allow:
        return Gate(
            "verified", Verdict.WARNED, f"{image_id}: {why}; allowed by --allow-unverified", data
        )
    also = "" if drivers_used else ", or pass --allow-unverified"
    return Gate("verified", Verdict.FAILED, f"{image_id}: {why}{also}", data)


def _unchecked(verdict: StockVerdict | None, platform: EnvironmentPlatform) -> str:
    """Why the platform's own AMI is not known to allow the drivers."""
    if verdict is None:
        return (
            f"no ebami verify --stock verdict on it: run ebami verify --stock --platform "
            f"{platform.alias} --platform-version {platform.version}"
        )
    if verdict.allows is None:
        return f"it could not be checked ({verdict.detail})"
    return f"its ECS agent would not start ({verdict.detail})"


def dockerrun_gate(
    image: ManagedImage,
    uses: Sequence[DriverUse] | None,
    *,
    version_label: str,
    problem: str = "",
    stock: StockVerdict | None = None,
    on_stock: bool = False,
) -> Gate:
    """`uses`: the drivers of the deployed version's containers; None when they could not be
    read (`problem` says why). `on_stock`: the AMI is the platform's own, whose drivers the
    verdict on it (`stock`) tells, where an ebami AMI's tag does."""
    allowed = (stock.allows if stock and stock.checked else None) if on_stock else image.drivers
    data: dict[str, Any] = {
        "version_label": version_label,
        "containers": [use.to_json() for use in uses or ()],
        "allowed": list(allowed or ()),
    }
    if uses is None:
        return Gate(
            "dockerrun",
            Verdict.WARNED,
            f"the log drivers of version {version_label!r} are unknown: {problem}",
            data,
        )
    if not uses:
        return Gate(
            "dockerrun",
            Verdict.PASSED,
            f"no container of version {version_label!r} sets a log driver",
            data,
        )
    if allowed is None:
        unknown = (
            "which log drivers its ECS agent allows is unknown (see the verified gate)"
            if on_stock
            else f"it has no {tags.DRIVERS} tag: which log drivers its ECS agent allows is "
            "unknown; bake it with ebami build"
        )
        return Gate("dockerrun", Verdict.FAILED, f"{image.image_id}: {unknown}", data)
    missing = [use for use in uses if use.driver not in allowed]
    if missing:
        named = ", ".join(f"{use.driver} (container {use.container})" for use in missing)
        return Gate(
            "dockerrun",
            Verdict.FAILED,
            f"version {version_label!r} needs log driver {named}, which {image.image_id} does "
            f"not allow (it allows {', '.join(allowed)}): its tasks would fail placement with "
            "ATTRIBUTE",
            data,
        )
    needed = ", ".join(sorted({use.driver for use in uses}))
    return Gate(
        "dockerrun",
        Verdict.PASSED,
        f"{image.image_id} allows every log driver version {version_label!r} uses ({needed})",
        data,
    )


def platform_gate(image: ManagedImage, environment: EnvironmentPlatform) -> Gate:
    baked_alias = image.platform_tag
    baked_version = image.platform_version
    data = {
        "environment_platform": environment.name,
        "environment_platform_version": environment.version,
        "environment_os_version": environment.os_version,
        "image_platform": baked_alias,
        "image_platform_version": baked_version,
        "image_release": image.release_tag,
    }
    target = environment.platform
    if target is None:
        return _not_ours(environment, data)
    baked = image.platform
    if baked is None:
        return Gate(
            "platform",
            Verdict.FAILED,
            f"{image.image_id} has no {tags.PLATFORM} tag ebami knows: its OS family is unknown",
            data,
        )
    if baked.os_family is not target.os_family:
        return Gate(
            "platform",
            Verdict.FAILED,
            f"{image.image_id} is {baked.os_family.display_name} ({baked.alias}), the "
            f"environment's platform is {target.os_family.display_name} ({target.alias})",
            data,
        )
    release = image.release_tag
    if release and not target.os_version_matches(release, environment.os_version):
        return Gate(
            "platform",
            Verdict.WARNED,
            f"{image.image_id} was baked for release {release}, the environment runs "
            f"{environment.os_version}: rebuild with ebami build --release "
            f"{environment.os_version}",
            data,
        )
    if baked_version and baked_version != environment.version:
        return Gate(
            "platform",
            Verdict.WARNED,
            f"{image.image_id} was baked from platform version {baked_version}, the environment "
            f"runs {environment.version}: AWS advises a custom AMI built on the environment's "
            f"platform version (ebami build --platform-version {environment.version})",
            data,
        )
    return Gate(
        "platform",
        Verdict.PASSED,
        f"{image.image_id} was baked for {target.alias} {environment.version}, as the "
        "environment runs",
        data,
    )


def gates_for(
    image: ManagedImage | None,
    image_id: str,
    region: str,
    platform: EnvironmentPlatform,
    *,
    version_label: str,
    uses: Sequence[DriverUse] | None,
    problem: str,
    channel: str | None,
    pinned: bool,
    rollback: bool,
    allow_unverified: bool,
    on_stock: bool = False,
    stock: StockVerdict | None = None,
) -> tuple[Gate, ...]:
    """Every gate of a switch to `image_id` (`image`: None when it is not found), in order;
    after a refused image gate, no other. With `rollback`, the gates after the first inform and
    never refuse: going back is what it is for. `on_stock` (`apply --stock`): the AMI is the
    platform version's own, judged by the verdict on it (`stock`)."""
    first = image_gate(image, image_id, region, channel=channel, pinned=pinned)
    if image is None or first.refuses:
        return (first,)
    if on_stock:
        return (
            first,
            stock_gate(
                image_id, platform, stock, allow=allow_unverified, drivers_used=bool(uses),
            ),
            dockerrun_gate(
                image, uses, version_label=version_label, problem=problem, stock=stock,
                on_stock=True,
            ),
            _own_platform_gate(image_id, platform),
        )  # fmt: skip
    checks: tuple[Gate, ...] = (
        verified_gate(image, allow_unverified=allow_unverified),
        dockerrun_gate(image, uses, version_label=version_label, problem=problem),
        platform_gate(image, platform),
    )
    if rollback:
        checks = tuple(_informative(gate, "--rollback") for gate in checks)
    return (first, *checks)


def _own_platform_gate(image_id: str, platform: EnvironmentPlatform) -> Gate:
    """`apply --stock`: the platform version's own AMI fits it by definition, on a platform
    ebami bakes for."""
    data = {"environment_platform": platform.name, "environment_platform_version": platform.version}
    if platform.platform is None:
        return _not_ours(platform, data)
    return Gate(
        "platform",
        Verdict.PASSED,
        f"{image_id} is the own AMI of {platform.name} {platform.version}, as the environment runs",
        data,
    )


def _not_ours(environment: EnvironmentPlatform, data: Mapping[str, Any]) -> Gate:
    return Gate(
        "platform",
        Verdict.FAILED,
        f"the environment runs {environment.name!r}, not an ECS-based platform ebami bakes for",
        data,
    )


def _informative(gate: Gate, reason: str) -> Gate:
    if gate.verdict is not Verdict.FAILED:
        return gate
    return Gate(gate.name, Verdict.WARNED, f"{gate.detail} (not refused: {reason})", gate.data)
