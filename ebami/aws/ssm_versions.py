"""Waiting until SSM shows a parameter's new version: SSM validates an `aws:ec2:image` value
after PutParameter has answered (PutParameter API reference, `DataType`: "a successful HTTP 200
response does not guarantee that your parameter was successfully created or updated"; Systems
Manager user guide, "Native parameter support for Amazon Machine Image IDs",
https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-ec2-aliases.html).
The value must be an AMI available to the account; one that fails is neither created nor updated
(the parameter keeps its previous version) and only an EventBridge event says so.

`wait_for_version` reads the parameter's history until the version PutParameter answered is
there, with a deadline; an older one only means "not yet", and ours followed by a newer one of
another value is another writer's (the caller's read-back judges it).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from ebami.aws.ec2_values import Image
from ebami.aws.ssm import ParameterVersion
from ebami.core.errors import AwsError, NotFoundError
from ebami.core.waiting import Deadline, poll_until

# How long ebami waits for SSM to validate a value: it takes seconds; this is the guard
# against a value AWS dropped.
VALIDATION_SECONDS = 120.0


class ValueNotTaken(AwsError):
    """SSM answered PutParameter but never showed the version: its validation dropped the
    value (exit code 3, as AWS refusing a call)."""


class HistorySsm(Protocol):
    def history(self, name: str) -> Sequence[ParameterVersion]: ...


class ImageReader(Protocol):
    def get_image(self, image_id: str) -> Image: ...


@dataclass(frozen=True)
class Written:
    """What the parameter's history shows once the wait ended: `version` is ours (or a newer
    one with our value), or, when `superseded`, a newer one another writer made."""

    version: ParameterVersion
    superseded: bool = False


def wait_for_version(
    ssm: HistorySsm,
    name: str,
    value: str,
    version: int,
    deadline: Deadline,
    *,
    report: Callable[[str], None],
    refusal: Callable[[], str | None] | None = None,
) -> Written:
    """Read `name`'s history until the version `version` (PutParameter's answer, of `value`)
    shows (or a newer one of the same value does); `ValueNotTaken` at the deadline.
    `refusal()` says why the value can no longer pass SSM's validation (the AMI was
    deregistered meanwhile), or None: asked while the version is not there, it ends the wait
    early."""
    shown: list[ParameterVersion] = []
    told = False

    def look() -> Written | None:
        nonlocal shown, told
        shown = list(ssm.history(name))
        written = _written(shown, value, version)
        if written is not None:
            return written
        if not told:
            told = True
            report(
                f"SSM answered version {version} of {name}; waiting until it has validated "
                f"{value} (aws:ec2:image values are checked after PutParameter answers)"
            )
        reason = refusal() if refusal is not None else None
        if reason is not None:
            raise ValueNotTaken(_not_taken(name, value, version, shown, reason))
        return None

    written = poll_until(
        look,
        deadline,
        waiting_for=lambda: f"still waiting for version {version} of {name} ({_now(shown)})",
        report=report,
    )
    if written is None:
        waited = f"not within {deadline.seconds:.0f} s"
        raise ValueNotTaken(_not_taken(name, value, version, shown, waited))
    return written


def _written(shown: Sequence[ParameterVersion], value: str, version: int) -> Written | None:
    """Ours once it shows (the newest version, `superseded` when another writer's value came
    after it); a newer version of our value also counts. A newer version of another value
    while ours has not shown proves nothing of ours (SSM may still be validating it, or have
    dropped it): the wait goes on, and ends with `ValueNotTaken` if ours never shows."""
    later = sorted(
        (item for item in shown if item.version >= version), key=lambda item: item.version
    )
    if any(item.version == version and item.value == value for item in later):
        return Written(later[-1], superseded=later[-1].value != value)
    same = [item for item in later if item.value == value]
    return Written(same[-1]) if same else None


def _now(shown: Sequence[ParameterVersion]) -> str:
    if not shown:
        return "no version yet"
    last = max(shown, key=lambda item: item.version)
    return f"version {last.version} names {last.value}"


def _not_taken(
    name: str, value: str, version: int, shown: Sequence[ParameterVersion], why: str
) -> str:
    return (
        f"SSM did not take {value} for {name}: version {version}, which PutParameter answered, "
        f"never showed ({why}); SSM validates aws:ec2:image values after answering and drops a "
        f"value that is not an AMI available to this account (an EventBridge 'Parameter Store "
        f"Change' event gives its reason); {name} keeps {_now(shown)}"
    )


def image_refusal(ec2: ImageReader, image_id: str) -> Callable[[], str | None]:
    """Why SSM's validation will drop `image_id` (not an available AMI any more), or None."""

    def refusal() -> str | None:
        try:
            image = ec2.get_image(image_id)
        except NotFoundError:
            return f"{image_id} does not exist any more (deregistered?)"
        if image.state != "available":
            return f"{image_id} is {image.state}, not available"
        return None

    return refusal
