"""The members of an output shape that travel in the body."""

from __future__ import annotations

from botocore.model import Shape, StructureShape


def body_members(shape: StructureShape) -> dict[str, Shape]:
    """The members of `shape` that travel in the body (not in headers, the URI or the status)."""
    return {
        name: member
        for name, member in shape.members.items()
        if not member.serialization.get("location")
    }
