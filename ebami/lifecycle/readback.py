"""Reading channels back after writing them: the checks of promote and revoke are made when
planning, and another promote or revoke may write between the plan and the write. A channel
left naming a revoked AMI is named with the command that moves it off (`ebami revoke` again,
which is idempotent), and the run ends with exit code 9, "a person must look"."""

from __future__ import annotations

import shlex
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ebami.core.errors import NeedsAttention, NotFoundError
from ebami.image.channels import ChannelState
from ebami.image.managed import ManagedImage
from ebami.lifecycle.stepback import ImagesEc2


@dataclass(frozen=True)
class RevokedChannel:
    """A channel that names a revoked AMI, found when reading back what was written, and the
    command that moves it off."""

    state: ChannelState
    revoked: str
    command: str

    def __str__(self) -> str:
        state = self.state
        return (
            f"channel {state.key} ({state.parameter}) names {state.image_id}, which was "
            f"{self.revoked} (another command wrote meanwhile); move it off with: {self.command}"
        )


def revoke_command(image: ManagedImage, region: str | None = None) -> str:
    """The `ebami revoke` that moves every channel off a revoked AMI (revoking again keeps the
    first reason; `--reason` is required all the same). `region`: when not the settings'."""
    reason = (image.revocation.reason if image.revocation else None) or "revoked"
    where = f" --region {region}" if region else ""
    return f"ebami{where} revoke --ami {image.image_id} --reason {shlex.quote(reason)}"


def revoked_channels(
    states: Sequence[ChannelState],
    image_of: Callable[[str], ManagedImage | None],
    command: Callable[[ManagedImage], str] = revoke_command,
) -> list[RevokedChannel]:
    """The channels among `states` whose AMI is revoked, each with the command (`command`,
    given the AMI) that moves it off; `image_of` gives an AMI as it is now (None when it does
    not exist)."""
    found = []
    for state in states:
        image = image_of(state.image_id)
        if image is not None and image.revocation is not None:
            found.append(RevokedChannel(state, str(image.revocation), command(image)))
    return found


def image_reader(ec2: ImagesEc2) -> Callable[[str], ManagedImage | None]:
    """An AMI as it is now (None: it does not exist), each AMI read once."""
    read: dict[str, ManagedImage | None] = {}

    def image_of(image_id: str) -> ManagedImage | None:
        if image_id not in read:
            try:
                read[image_id] = ManagedImage.of(ec2.get_image(image_id))
            except NotFoundError:
                read[image_id] = None
        return read[image_id]

    return image_of


def needs_attention(stale: Sequence[RevokedChannel], command: str) -> NeedsAttention:
    """The error for channels left naming a revoked AMI after `command`'s writes."""
    return NeedsAttention(f"after this {command}, " + "; ".join(str(item) for item in stale))
