"""An AMI's EC2 deregistration protection: as ebami reads it (`Protection`), and turned on for
the AMIs environments and channels use (`ImageGuard`).

Read: off, on (turned on by ebami, which records why in `ebami:protected-for`, or by someone
else), or off but still holding through its 24-hour cooldown. EC2 words it `disabled`,
`enabled-with-cooldown`, `enabled-without-cooldown` and, while a cooldown runs,
`disabled-until TIME`. A word ebami does not know counts as protection on; no word at all (an
API or botocore that does not report protection) as off, and EC2 refuses to deregister an AMI
that is protected all the same.

Turned on: by apply for the AMI an environment will run and its way back, by promote for the
AMI a channel will name. EC2 then refuses to deregister them, whoever asks (another tool, a
person in the console): an environment whose AMI, or way back, was deregistered can no longer
launch instances. Only ebami AMIs of this account's, only those not protected yet, each once per
run and region. The tag lets prune turn it off again once nothing uses the AMI
(`ebami.lifecycle.deletion`), and leave alone the protection someone else turned on. Where EC2's
guard cannot be used (an older botocore, a policy without the action) or the call fails, one
warning: the command goes on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from ebami.core.errors import AwsError, GuardUnavailable
from ebami.core.once import OnceCache
from ebami.core.reporting import OnceEach, Reporter
from ebami.core.times import parse_utc_timestamp
from ebami.image import tags

OFF = "disabled"
COOLING = "disabled-until"
# How EC2's answer to turning protection off starts while the protection still holds.
HOLDING = ("enabled", COOLING)


@dataclass(frozen=True)
class Protection:
    """`shown`: EC2's word ("" where EC2 said nothing: an older API or botocore);
    `protected_for`: the `ebami:protected-for` tag, when ebami turned it on."""

    shown: str = ""
    protected_for: str | None = None

    @property
    def on(self) -> bool:
        """Whether it is on (a word ebami does not know included)."""
        return self.shown not in ("", OFF) and not self.shown.startswith(COOLING)

    @property
    def by_ebami(self) -> bool:
        return self.on and self.protected_for is not None

    def cooling_until(self, now: datetime) -> datetime | None:
        """When a running cooldown ends (None: none runs at `now`)."""
        if not self.shown.startswith(COOLING):
            return None
        until = parse_utc_timestamp(self.shown.removeprefix(COOLING).strip())
        return until if until is not None and until > now else None

    def __str__(self) -> str:
        if not self.shown:
            return "unknown"
        if self.by_ebami:
            return f"{self.shown} (ebami: {self.protected_for})"
        return self.shown + (" (not by ebami)" if self.on else "")


class ProtectingEc2(Protocol):
    def protect_image(self, image_id: str) -> str: ...
    def tag_resources(self, resource_ids: list[str], tags: dict[str, str]) -> None: ...


class ImageGuard:
    """One region's protections of one run (thread-safe: the waves' threads share it)."""

    def __init__(self, ec2: ProtectingEc2, reporter: Reporter) -> None:
        self._ec2 = ec2
        self._reporter = reporter
        self._done: OnceCache[str, bool] = OnceCache()
        self._once = OnceEach(reporter)

    def protect(self, image_ids: Sequence[str], why: str) -> list[str]:
        """Turn on each AMI's protection (`why`: what it is for, as its tag says); the AMIs
        this call protected."""
        done = []
        for image_id in dict.fromkeys(image_ids):

            def protect(image_id: str = image_id) -> bool:
                return self._protect(image_id, why)

            if self._done.get(image_id, protect):
                done.append(image_id)
        return done

    def _protect(self, image_id: str, why: str) -> bool:
        try:
            # The tag first: protection without it would read as someone else's, which prune
            # never turns off; a tag without protection is read as no protection.
            self._ec2.tag_resources([image_id], {tags.PROTECTED_FOR: why})
            self._ec2.protect_image(image_id)
        except GuardUnavailable as exc:
            self._once.warn(
                f"deregistration protection not turned on ({exc.message}): the AMIs "
                "environments use are not protected from deregistration"
            )
            return False
        except AwsError as exc:
            self._reporter.warn(f"could not protect {image_id} from deregistration: {exc}")
            return False
        self._reporter.detail(f"{image_id}: deregistration protection on ({why})")
        return True
