"""`ebami status`: one view of the estate, from what the other commands already read.

- the build verdict of the settings' platform and release (`ebami check`'s: whether a newer
  base AMI waits for a bake, or a bake for its verify);
- every ebami AMI per platform, release and region: its age, whether it is verified or
  revoked, EC2's own guards on it (disabled, deregistration protection, its last launch), the
  channels that name it and what uses it (the inventory `ebami prune` protects by, with what
  EC2's DescribeImageReferences adds);
- every environment: the AMI it runs and its drift from the newest verified AMI that fits it
  (`ebami check --env`'s: stock, behind, old, missing or current).

Only a view: made of values, no AWS call, so that the table, the JSON and the GitHub summary
cannot disagree.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ebami.core.tables import columns, table
from ebami.image.managed import ManagedImage, order_key
from ebami.lifecycle.inventory import EnvironmentFacts, Inventory, Use, UseKind

if TYPE_CHECKING:
    from ebami.image.bake import BuildVerdict
    from ebami.image.channels import ChannelState
    from ebami.lifecycle.drift import Drift


# Uses shown by name; the other kinds (instances, launch templates...) are counted.
NAMED_USES = (UseKind.ENVIRONMENT, UseKind.SAVED_CONFIGURATION)
IMAGE_HEADERS = (
    "Platform/release",
    "Region",
    "AMI",
    "Age (days)",
    "Standing",
    "EC2 guards",
    "Channels",
    "Used by",
)
ENVIRONMENT_HEADERS = ("Region", "Environment", "Status", "AMI", "Drift", "Detail")


@dataclass(frozen=True)
class RegionChannel:
    region: str
    state: ChannelState

    @property
    def name(self) -> str:
        return self.state.key.channel


@dataclass(frozen=True)
class ImageStatus:
    image: ManagedImage
    age_days: int | None
    channels: tuple[str, ...]
    uses: tuple[Use, ...]
    # EC2's own guards on it, in a few words (`guards`).
    guards: str = "-"

    @property
    def standing(self) -> str:
        """Verified, unverified or revoked."""
        return self.image.standing

    @property
    def used_by(self) -> str:
        """What uses the AMI, in a few words: environments and saved configurations by name,
        the other kinds counted."""
        named = [use.where for use in self.uses if use.kind in NAMED_USES]
        counted = Counter(use.kind for use in self.uses if use.kind not in NAMED_USES)
        named += [f"{count} {kind.value}(s)" for kind, count in counted.items()]
        return "; ".join(named) or "-"

    def to_json(self) -> dict[str, Any]:
        return {
            **self.image.to_json(),
            "age_days": self.age_days,
            "standing": self.standing,
            "channels": list(self.channels),
            "used_by": [{"kind": use.kind.value, "where": use.where} for use in self.uses],
        }


def guards(image: ManagedImage, now: datetime) -> str:
    """EC2's own guards on an AMI in a few words: disabled, its deregistration protection (and
    what ebami turned it on for), when an instance was last launched from it; `-` for none."""
    found = ["disabled"] if image.state == "disabled" else []
    protection = image.protection
    if protection.by_ebami:
        found.append(f"protected for {protection.protected_for}")
    elif protection.on:
        found.append("protected (not by ebami)")
    cooling = protection.cooling_until(now)
    if cooling is not None:
        found.append(f"protection holds until {cooling:%Y-%m-%d %H:%M}Z")
    launched = image.last_launched_at
    if launched is not None:
        found.append(f"launched {max(0, (now - launched).days)} day(s) ago")
    return ", ".join(found) or "-"


@dataclass(frozen=True)
class EnvironmentStatus:
    facts: EnvironmentFacts
    drift: Drift | None
    # Why there is no drift verdict (the check failed), if so.
    note: str = ""

    @property
    def verdict(self) -> str:
        return self.drift.status.value if self.drift else "unknown"

    @property
    def detail(self) -> str:
        return self.drift.full_detail if self.drift else self.note

    def to_json(self) -> dict[str, Any]:
        facts = self.facts
        return {
            "region": facts.region,
            "application": facts.application,
            "environment": facts.name,
            "status": facts.status,
            "health": facts.health,
            "version_label": facts.version_label or None,
            "image_id": self.drift.image_id if self.drift else facts.image_id,
            "previous_image_id": facts.previous_image_id,
            "drift": self.verdict,
            "detail": self.drift.detail if self.drift else self.note,
            "newest_verified": self.drift.newest if self.drift else None,
            "age_days": self.drift.age_days if self.drift else None,
            "custom_ami": self.drift.need.to_json() if self.drift and self.drift.need else None,
        }


@dataclass(frozen=True)
class StatusReport:
    regions: tuple[str, ...]
    build: BuildVerdict | None
    images: tuple[ImageStatus, ...]
    environments: tuple[EnvironmentStatus, ...]
    channels: tuple[RegionChannel, ...]

    @classmethod
    def of(
        cls,
        inventory: Inventory,
        *,
        build: BuildVerdict | None,
        drift: list[EnvironmentStatus],
        channels: list[RegionChannel],
        now: datetime,
    ) -> StatusReport:
        uses: dict[str, list[Use]] = {}
        for use in inventory.uses:
            uses.setdefault(use.image_id, []).append(use)
        images = []
        for image in sorted(
            inventory.images,
            key=lambda item: (item.platform_alias, item.release, item.region, order_key(item)),
        ):
            images.append(
                ImageStatus(
                    image=image,
                    age_days=image.age_days(now),
                    channels=tuple(
                        item.name
                        for item in channels
                        if item.region == image.region and item.state.image_id == image.image_id
                    ),
                    uses=tuple(uses.get(image.image_id, ())),
                    guards=guards(image, now),
                )
            )
        return cls(
            regions=tuple(region.region for region in inventory.regions),
            build=build,
            images=tuple(images),
            environments=tuple(drift),
            channels=tuple(channels),
        )

    @property
    def drifting(self) -> list[EnvironmentStatus]:
        return [item for item in self.environments if item.drift and item.drift.drifts]

    def to_json(self) -> dict[str, Any]:
        return {
            "regions": list(self.regions),
            "build": self.build.to_json() if self.build else None,
            "images": [item.to_json() for item in self.images],
            "environments": [item.to_json() for item in self.environments],
            "channels": [{"region": item.region, **item.state.to_json()} for item in self.channels],
            "drift_count": len(self.drifting),
        }

    # --- for people ---------------------------------------------------------------------------

    def image_rows(self) -> list[tuple[str, ...]]:
        return [
            (
                f"{item.image.platform_alias or '-'} {item.image.release or '-'}",
                item.image.region,
                item.image.image_id,
                "-" if item.age_days is None else str(item.age_days),
                item.standing,
                item.guards,
                ", ".join(item.channels) or "-",
                item.used_by,
            )
            for item in self.images
        ]

    def environment_rows(self) -> list[tuple[str, ...]]:
        return [
            (
                item.facts.region,
                item.facts.name,
                f"{item.facts.status}/{item.facts.health or '-'}",
                (item.drift.image_id if item.drift else item.facts.image_id) or "-",
                item.verdict,
                item.detail,
            )
            for item in self.environments
        ]

    def summary(self) -> str:
        verified = sum(1 for item in self.images if item.standing == "verified")
        build = f"{self.build.summary}; " if self.build else ""
        return (
            f"{build}{len(self.images)} ebami AMI(s) ({verified} verified) and "
            f"{len(self.environments)} environment(s) in {', '.join(self.regions)}; "
            f"{len(self.drifting)} drift"
        )

    def github_outputs(self) -> dict[str, str]:
        build = self.build
        return {
            "build-needed": "true" if build and build.needed else "false",
            "verify-needed": "true" if build and build.verify_needed else "false",
            "ami-count": str(len(self.images)),
            "drift": "\n".join(
                f"{item.facts.name} {item.verdict}: {item.detail}" for item in self.drifting
            ),
            "drift-count": str(len(self.drifting)),
        }

    def text(self) -> str:
        """The two tables as plain aligned columns, for a terminal or a pipe."""
        return (
            "AMIs\n" + columns(IMAGE_HEADERS, self.image_rows())
            + "\nEnvironments\n" + columns(ENVIRONMENT_HEADERS, self.environment_rows())
        )  # fmt: skip

    def markdown(self) -> str:
        text = "## ebami status\n\n" + self.summary() + "\n\n"
        text += "### AMIs\n\n" + table(IMAGE_HEADERS, self.image_rows())
        text += "\n### Environments\n\n" + table(ENVIRONMENT_HEADERS, self.environment_rows())
        return text
