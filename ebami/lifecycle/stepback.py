"""The step-back rule of channels: which earlier value a channel goes back to.

"The previous value" of a channel is the newest earlier version whose value differs from the
current one and names an AMI `ebami promote --ami` would accept for that channel: an
`ebami:managed` AMI of this account, available, verified, not revoked, of the channel's platform
and release (`ManagedImage.channel_refusal`). The others (values written outside ebami, say
with `aws ssm put-parameter`) are skipped, and each is named with why. Stepping back twice
therefore toggles between the last two values, as `cd -` does: the history records each step,
and no version is ever rewritten. `ebami promote --previous` and `ebami revoke` both use it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ebami.core.errors import NotFoundError
from ebami.image import tags
from ebami.image.channels import ChannelKey, ParameterVersion
from ebami.image.managed import ManagedImage

if TYPE_CHECKING:
    from ebami.aws.ec2_values import Image


class ImagesEc2(Protocol):
    """What judging AMIs reads of EC2."""

    def get_image(self, image_id: str) -> Image: ...
    def find_own_images_by_tag(self, key: str, value: str) -> list[Image]: ...


@dataclass(frozen=True)
class Skipped:
    """An earlier value the step back passed over, and why."""

    version: int
    image_id: str
    reason: str

    def __str__(self) -> str:
        return f"version {self.version} {self.image_id} ({self.reason})"


@dataclass(frozen=True)
class Previous:
    """The value a channel steps back to (None: no earlier value is usable) and what was
    skipped on the way."""

    version: ParameterVersion | None
    skipped: tuple[Skipped, ...] = ()

    @property
    def image_id(self) -> str | None:
        return self.version.value if self.version else None

    def skipped_text(self) -> str:
        return "skipped " + "; ".join(str(item) for item in self.skipped) if self.skipped else ""

    def to_json(self) -> dict[str, Any]:
        return {
            "ami_id": self.image_id,
            "version": self.version.version if self.version else None,
            "skipped": [
                {"version": item.version, "ami_id": item.image_id, "reason": item.reason}
                for item in self.skipped
            ],
        }


def previous_value(
    history: Sequence[ParameterVersion], refusal: Callable[[str], str | None]
) -> Previous:
    """The newest version before the last (`history` oldest first) whose value differs from the
    last one and that `refusal` accepts (None: usable; else why not)."""
    if not history:
        return Previous(None)
    current = history[-1].value
    skipped: list[Skipped] = []
    seen: dict[str, str | None] = {}
    for version in reversed(history[:-1]):
        if version.value == current:
            continue
        if version.value not in seen:
            seen[version.value] = refusal(version.value)
        reason = seen[version.value]
        if reason is None:
            return Previous(version, tuple(skipped))
        skipped.append(Skipped(version.version, version.value, reason))
    return Previous(None, tuple(skipped))


class Candidates:
    """Judges the values a channel may step back to as `ebami promote --ami` judges an AMI (an
    `ebami:managed` AMI of this account, available, verified, not revoked) and, beyond it, by
    the channel: the AMI must be of the channel's platform and release. This account's ebami
    AMIs are read once (one DescribeImages call), whatever the number of values judged."""

    def __init__(self, ec2: ImagesEc2) -> None:
        self._ec2 = ec2
        self._own: dict[str, ManagedImage] | None = None

    def own(self) -> dict[str, ManagedImage]:
        """This account's `ebami:managed` AMIs, by id."""
        if self._own is None:
            found = self._ec2.find_own_images_by_tag(tags.MANAGED, "true")
            self._own = {
                image.image_id: image for image in (ManagedImage.of(item) for item in found)
            }
        return self._own

    def refusal(self, image_id: str, key: ChannelKey) -> str | None:
        """Why channel `key` may not name `image_id` (short, for a list of skipped values);
        None when it may."""
        image = self.own().get(image_id)
        if image is None:
            return self._not_own(image_id)
        return image.channel_refusal(key.platform, key.release)

    def judge(self, key: ChannelKey) -> Callable[[str], str | None]:
        """`refusal` for one channel, as `previous_value` takes it."""
        return lambda image_id: self.refusal(image_id, key)

    def _not_own(self, image_id: str) -> str:
        try:
            image = ManagedImage.of(self._ec2.get_image(image_id))
        except NotFoundError:
            return "no longer exists"
        if not image.managed:
            return "not an ebami AMI"
        return "another account's AMI"


def own_managed_image(
    ec2: ImagesEc2,
    image_id: str,
    region: str,
    *,
    refuse: type[Exception],
    own: Mapping[str, ManagedImage] | None = None,
) -> ManagedImage:
    """The AMI `image_id` if it is an `ebami:managed` AMI of this account (any state); else
    `refuse` with the reason. Tags on a shared AMI are the tagging account's own, so a tag
    alone proves nothing: the AMI must be among this account's own (`Owners=self`). `own`:
    this account's ebami AMIs when already read (`Candidates.own`)."""
    if own is None:
        own = Candidates(ec2).own()
    if image_id in own:
        return own[image_id]
    try:
        image = ManagedImage.of(ec2.get_image(image_id))
    except NotFoundError:
        raise refuse(
            f"{image_id} does not exist in {region} or is not shared with this account"
        ) from None
    if not image.managed:
        raise refuse(f"{image_id} is not an AMI ebami made (no {tags.MANAGED}=true tag)")
    raise refuse(f"{image_id} belongs to another account: only this account's AMIs qualify")
