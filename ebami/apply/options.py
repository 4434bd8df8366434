"""What `ebami apply` is asked: which AMI (`--ami`, `--rollback`, `--channel`, `--stock`, or
the newest verified one), whether an unverified AMI is accepted, how long an update may take,
and a fleet's target pinned before its first wave. Refused as made when it cannot work."""

from __future__ import annotations

from dataclasses import dataclass

from ebami.core.errors import InputError
from ebami.image.channels import check_channel_name


@dataclass(frozen=True)
class ApplyOptions:
    ami: str | None = None
    rollback: bool = False
    allow_unverified: bool = False
    # Seconds the update may take; None: what the update policy allows.
    timeout: float | None = None
    # The channel (`ebami promote`) whose AMI to switch to, instead of --ami.
    channel: str | None = None
    # A fleet apply's choice, made for every environment before its first wave: the AMI the
    # channel (or the newest-verified choice) named then. Later waves switch to it, not to what
    # the channel names when their turn comes (the canary tested this one); gates still run.
    pinned: str | None = None
    # Back to the platform version's own AMI (the ImageId option removed), gated by the
    # remembered verdict on it (`ebami verify --stock`).
    stock: bool = False

    def __post_init__(self) -> None:
        if self.timeout is not None and not 1 <= self.timeout <= 24 * 3600:
            raise InputError(
                f"--timeout {self.timeout:g} is out of range: give seconds from 1 to 86400"
            )
        chosen = [
            flag
            for flag, given in (
                ("--ami", self.ami is not None),
                ("--rollback", self.rollback),
                ("--channel", self.channel is not None),
                ("--stock", self.stock),
            )
            if given
        ]
        if len(chosen) > 1:
            raise InputError(
                f"give one of --ami, --rollback, --channel and --stock, not {' and '.join(chosen)}"
            )
        if self.channel is not None:
            check_channel_name(self.channel)
