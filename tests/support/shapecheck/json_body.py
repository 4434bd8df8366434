"""A JSON body against an output shape, named as botocore's JSON parsers name it: a member is
found under its `locationName` if it has one, else its own name; lists are arrays, maps objects.
Members that live in headers or the status line are not looked for in the body."""

from __future__ import annotations

from typing import Any

from botocore.model import ListShape, MapShape, Shape, StructureShape

from .findings import MISSING, TYPE, UNKNOWN, Findings, child
from .members import body_members
from .scalars import json_problem


class JsonWalk:
    """Walks one JSON answer (or part of it), adding what does not match to `findings`."""

    def __init__(self, findings: Findings, protocol: str) -> None:
        self.findings = findings
        self.protocol = protocol

    def value(self, shape: Shape, value: Any, path: str) -> None:
        if value is None:
            self.findings.add(path, TYPE, f"null where {shape.name} is expected", shape=shape.name)
        elif isinstance(shape, StructureShape):
            self.structure(shape, value, path)
        elif isinstance(shape, ListShape):
            if self._is(value, list, "an array", shape, path):
                for index, item in enumerate(value):
                    self.value(shape.member, item, f"{path}[{index}]")
        elif isinstance(shape, MapShape):
            if self._is(value, dict, "an object", shape, path):
                for key, item in value.items():
                    self.scalar(shape.key, key, f"{path}.<key>")
                    self.value(shape.value, item, f"{path}[{key!r}]")
        else:
            self.scalar(shape, value, path)

    def structure(self, shape: StructureShape, value: Any, path: str) -> None:
        if not self._is(value, dict, "an object", shape, path):
            return
        members = body_members(shape)
        by_wire = {
            str(member.serialization.get("name", name)): (name, member)
            for name, member in members.items()
        }
        for wire, item in value.items():
            if wire not in by_wire:
                self.findings.add(
                    child(path, wire), UNKNOWN, f"{wire!r} is not a member of {shape.name}",
                    shape=shape.name,
                )  # fmt: skip
                continue
            name, member = by_wire[wire]
            self.value(member, item, child(path, name))
        for name in shape.required_members:
            required = members.get(name)
            if required is not None and str(required.serialization.get("name", name)) not in value:
                self.findings.add(
                    child(path, name), MISSING, f"{shape.name} requires {name}", shape=shape.name
                )

    def scalar(self, shape: Shape, value: Any, path: str) -> None:
        problem = json_problem(shape, value, self.protocol)
        if problem:
            kind, detail = problem
            shown = value if isinstance(value, str) else repr(value)
            self.findings.add(path, kind, detail, shape=shape.name, value=shown)

    def _is(self, value: Any, kind: type, name: str, shape: Shape, path: str) -> bool:
        if isinstance(value, kind):
            return True
        self.findings.add(
            path, TYPE, f"{value!r:.60} is not {name} ({shape.name})", shape=shape.name
        )
        return False
