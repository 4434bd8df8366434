"""Reading Packer's `-machine-readable` output.

Each line is `timestamp,target,type,data...`. Commas inside data are written as
`%!(PACKER_COMMA)` and new lines as the two characters `\\n`. Lines that do not have this shape
(a plugin's crash, a panic) are kept as plain text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

COMMA = "%!(PACKER_COMMA)"


class UiKind(str, Enum):
    """What a line means to a person watching the build."""

    SAY = "say"  # a step of the build (`==> amazon-ebs.aws: Launching a source AWS instance...`)
    MESSAGE = "message"  # a detail of the step (`    amazon-ebs.aws: Instance ID: i-...`)
    ERROR = "error"  # an error Packer reports
    OTHER = "other"  # anything else, including text that is not machine-readable
    # Not Packer's: ebami's own line while Packer has printed nothing for a while.
    HEARTBEAT = "heartbeat"


@dataclass(frozen=True)
class MachineLine:
    timestamp: str
    target: str
    type: str
    data: tuple[str, ...]


@dataclass(frozen=True)
class Artifact:
    """An AMI Packer made, in one region."""

    region: str
    image_id: str


def parse_line(line: str) -> MachineLine | None:
    """Split one machine-readable line; None when the line is not one."""
    fields = line.rstrip("\r\n").split(",")
    if len(fields) < 3 or not fields[0].isdigit():
        return None
    return MachineLine(fields[0], fields[1], fields[2], tuple(_unescape(f) for f in fields[3:]))


def ui_text(line: str) -> tuple[UiKind, str]:
    """What a raw output line says to a person, and of which kind."""
    parsed = parse_line(line)
    if parsed is None:
        return UiKind.OTHER, line.rstrip("\r\n")
    if parsed.type == "ui" and parsed.data:
        kind = {"say": UiKind.SAY, "message": UiKind.MESSAGE, "error": UiKind.ERROR}.get(
            parsed.data[0], UiKind.OTHER
        )
        return kind, ",".join(parsed.data[1:]).strip("\n")
    if parsed.type == "error" and parsed.data:
        return UiKind.ERROR, ",".join(parsed.data).strip("\n")
    return UiKind.OTHER, ""


def artifacts(lines: list[MachineLine]) -> list[Artifact]:
    """The AMIs in `artifact,N,id` lines (`region:ami,region:ami` when copied), de-duplicated.

    A post-processor such as manifest passes the builder's artifact on, so one AMI can be
    announced more than once.
    """
    found: dict[tuple[str, str], Artifact] = {}
    for line in lines:
        if line.type == "artifact" and len(line.data) >= 3 and line.data[1] == "id":
            for artifact in parse_artifact_id(line.data[2]):
                found.setdefault((artifact.region, artifact.image_id), artifact)
    return list(found.values())


def parse_artifact_id(value: str) -> list[Artifact]:
    """`us-east-1:ami-1,eu-west-1:ami-2` as artifacts, in Packer's order."""
    result: list[Artifact] = []
    for pair in value.split(","):
        region, sep, image_id = pair.strip().partition(":")
        if sep and image_id.startswith("ami-"):
            result.append(Artifact(region, image_id))
    return result


# `    amazon-ebs.aws: AMI: ami-0123...`: the message Packer prints right after CreateImage.
_REGISTERED = re.compile(r"\s*[\w.-]+: AMI: (ami-[0-9a-f]+)\s*")


def registered_image(kind: UiKind, text: str) -> str | None:
    """The AMI a UI line says Packer has just registered, if it says so.

    Packer tags its AMI only once it is available, and removes it on failure only then: an AMI
    still pending when the build fails or is interrupted is known by this line alone.
    """
    match = _REGISTERED.fullmatch(text) if kind is UiKind.MESSAGE else None
    return match.group(1) if match else None


class OwnRemoval(Enum):
    """Packer's clean-up of the AMI it registered, after a failure or a cancel."""

    STARTED = "started"  # `==> amazon-ebs.aws: Deregistering the AMI because cancel(l)ation...`
    FAILED = "failed"  # `Error deregistering AMI, may still be around: ...` (a UI error)


# What Packer's AMI steps say as they remove their own AMI, and the error it shows when that
# fails. Both spellings of "cancellation" across Packer versions, and the wording of the step
# that made the AMI with CreateImage (Packer 1.6.6 and the amazon plugin): "Deregistering the
# AMI and deleting associated snapshots because of cancellation, or error...". The AMI id is
# not in these lines (a "Deregistered AMI id" line may follow, as force_deregister also says of
# an older AMI of the same name, which is not this run's).
_REMOVING = re.compile(
    r"\bDeregistering the AMI (?:and deleting associated snapshots )?because (?:of )?"
    r"cancell?ation,? or error"
)
_REMOVAL_FAILED = re.compile(r"\bError deregistering AMI, may still be around")


def own_image_removal(kind: UiKind, text: str) -> OwnRemoval | None:
    """What a UI line says of Packer removing the AMI it registered, if it says anything."""
    if kind is UiKind.SAY and _REMOVING.search(text):
        return OwnRemoval.STARTED
    if kind is UiKind.ERROR and _REMOVAL_FAILED.search(text):
        return OwnRemoval.FAILED
    return None


def _unescape(field: str) -> str:
    return field.replace(COMMA, ",").replace("\\n", "\n").replace("\\r", "\r")
