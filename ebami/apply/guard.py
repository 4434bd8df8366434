"""Deregistration protection for the AMIs an apply leaves in use: the one the environment will
run and its rollback target. EC2 then refuses to deregister either, whoever asks (another tool,
a person in the console): an environment whose AMI (or way back) was deregistered can no longer
launch instances.

Only ebami AMIs of this account's are protected (the verified AMIs apply reads already), and
only those not protected yet; each once per run and region, however many environments it
serves. Protection ebami turns on carries `ebami:protected-for` (what it was for): prune turns
it off again once nothing uses the AMI (`ebami.lifecycle.deletion`), and leaves alone the
protection someone else turned on. Where EC2's guard cannot be used (an older botocore, a
policy without the action) or the call fails, one warning: the apply goes on unprotected.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from ebami.core.errors import AwsError, GuardUnavailable
from ebami.core.once import OnceCache
from ebami.core.reporting import Reporter
from ebami.image import tags


class ProtectingEc2(Protocol):
    def protect_image(self, image_id: str, *, cooldown: bool = False) -> str: ...
    def tag_resources(self, resource_ids: list[str], tags: dict[str, str]) -> None: ...


class ImageGuard:
    """One region's protections of one run (thread-safe: the waves' threads share it)."""

    def __init__(self, ec2: ProtectingEc2, reporter: Reporter) -> None:
        self._ec2 = ec2
        self._reporter = reporter
        self._done: OnceCache[str, bool] = OnceCache()
        self._warned: OnceCache[str, None] = OnceCache()

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
            self._ec2.protect_image(image_id)
            self._ec2.tag_resources([image_id], {tags.PROTECTED_FOR: why})
        except GuardUnavailable as exc:
            warning = (
                f"deregistration protection not turned on ({exc.message}): the AMIs "
                "environments use are not protected from deregistration"
            )
            self._warned.get(warning, lambda: self._reporter.warn(warning))
            return False
        except AwsError as exc:
            self._reporter.warn(f"could not protect {image_id} from deregistration: {exc}")
            return False
        self._reporter.detail(f"{image_id}: deregistration protection on ({why})")
        return True
