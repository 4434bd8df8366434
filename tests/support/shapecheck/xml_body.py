"""An XML body against an output shape, named as botocore's XML parsers name it: a member is
found under its `locationName` (ec2's lowercase-first names), lists hold `member` elements or the
member shape's own name (ec2's `item`), flattened lists and maps repeat in their parent, maps
hold `entry` elements of `key` and `value`, `xmlAttribute` members are attributes. Members that
live in headers or the status line are not looked for in the body."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable

from botocore.model import ListShape, MapShape, Shape, StructureShape

from .findings import MISSING, TYPE, UNKNOWN, Findings, child
from .members import body_members
from .scalars import text_problem


def tag(element: ET.Element) -> str:
    """The element's name without its namespace."""
    return element.tag.rsplit("}", 1)[-1]


def _flattened(shape: Shape) -> bool:
    return shape.type_name in ("list", "map") and bool(shape.serialization.get("flattened"))


def wire_name(name: str, shape: Shape) -> str:
    """The element name of member `name` (botocore's `_member_key_name`)."""
    if isinstance(shape, ListShape) and _flattened(shape):
        item_name = shape.member.serialization.get("name")
        if item_name is not None:
            return str(item_name)
    return str(shape.serialization.get("name", name))


class XmlWalk:
    """Walks one XML answer (or part of it), adding what does not match to `findings`."""

    def __init__(self, findings: Findings, protocol: str) -> None:
        self.findings = findings
        self.protocol = protocol

    def value(self, shape: Shape, element: ET.Element, path: str) -> None:
        if isinstance(shape, StructureShape):
            self.structure(shape, element, path)
        elif isinstance(shape, ListShape):
            self._items(shape, element, path)
        elif isinstance(shape, MapShape):
            for entry in self._children_named(element, "entry", path, shape):
                self._entry(shape, entry, path)
        else:
            self.scalar(shape, element, path)

    def structure(
        self,
        shape: StructureShape,
        element: ET.Element,
        path: str,
        *,
        protocol_members: Iterable[str] = (),
    ) -> None:
        """`element`'s children against `shape`'s members; `protocol_members` are the envelope's
        own elements (ec2's `requestId`), which the caller checks."""
        self._no_text(element, path, shape)
        members = body_members(shape)
        by_wire = {
            wire_name(name, member): (name, member)
            for name, member in members.items()
            if not member.serialization.get("xmlAttribute")
        }
        groups: dict[str, list[ET.Element]] = {}
        for node in element:
            groups.setdefault(tag(node), []).append(node)
        for wire, nodes in groups.items():
            if wire in protocol_members:
                continue
            if wire not in by_wire:
                self.findings.add(
                    child(path, wire), UNKNOWN, f"<{wire}> is not a member of {shape.name}",
                    shape=shape.name,
                )  # fmt: skip
                continue
            name, member = by_wire[wire]
            where = child(path, name)
            if _flattened(member):
                self._flattened(member, nodes, where)
                continue
            if len(nodes) > 1:
                self.findings.add(where, TYPE, f"<{wire}> appears {len(nodes)} times")
            self.value(member, nodes[0], where)
        for name in shape.required_members:
            required = members.get(name)
            if required is None:
                continue
            if required.serialization.get("xmlAttribute"):
                present = required.serialization.get("name", name) in element.attrib
            else:
                present = wire_name(name, required) in groups
            if not present:
                self.findings.add(
                    child(path, name), MISSING, f"{shape.name} requires {name}", shape=shape.name
                )
        for name, member in members.items():
            attribute = member.serialization.get("xmlAttribute") and member.serialization.get(
                "name", name
            )
            if attribute and attribute in element.attrib:
                self._text(member, element.attrib[attribute], child(path, name))

    def scalar(self, shape: Shape, element: ET.Element, path: str) -> None:
        if len(element):
            self.findings.add(
                path, TYPE, f"elements inside a {shape.type_name} ({shape.name})", shape=shape.name
            )
            return
        self._text(shape, element.text or "", path)

    def _text(self, shape: Shape, text: str, path: str) -> None:
        problem = text_problem(shape, text, self.protocol)
        if problem:
            kind, detail = problem
            self.findings.add(path, kind, detail, shape=shape.name, value=text)

    def _no_text(self, element: ET.Element, path: str, shape: Shape) -> None:
        if (element.text or "").strip():
            self.findings.add(
                path, TYPE, f"text {element.text!r} where {shape.name} has members",
                shape=shape.name, value=element.text,
            )  # fmt: skip

    def _children_named(
        self, element: ET.Element, name: str, path: str, shape: Shape
    ) -> list[ET.Element]:
        self._no_text(element, path, shape)
        wanted = []
        for node in element:
            if tag(node) == name:
                wanted.append(node)
            else:
                self.findings.add(
                    child(path, tag(node)), UNKNOWN,
                    f"<{tag(node)}> inside {shape.name}, whose elements are <{name}>",
                    shape=shape.name,
                )  # fmt: skip
        return wanted

    def _items(self, shape: ListShape, element: ET.Element, path: str) -> None:
        name = str(shape.member.serialization.get("name", "member"))
        for index, node in enumerate(self._children_named(element, name, path, shape)):
            self.value(shape.member, node, f"{path}[{index}]")

    def _flattened(self, shape: Shape, nodes: list[ET.Element], path: str) -> None:
        if isinstance(shape, ListShape):
            for index, node in enumerate(nodes):
                self.value(shape.member, node, f"{path}[{index}]")
        elif isinstance(shape, MapShape):
            for node in nodes:
                self._entry(shape, node, path)

    def _entry(self, shape: MapShape, entry: ET.Element, path: str) -> None:
        key_name = str(shape.key.serialization.get("name", "key"))
        value_name = str(shape.value.serialization.get("name", "value"))
        parts: dict[str, ET.Element] = {}
        for node in entry:
            if tag(node) in (key_name, value_name) and tag(node) not in parts:
                parts[tag(node)] = node
            else:
                self.findings.add(
                    child(path, tag(node)), UNKNOWN,
                    f"<{tag(node)}> in an entry of {shape.name} (<{key_name}>, <{value_name}>)",
                    shape=shape.name,
                )  # fmt: skip
        if key_name not in parts or value_name not in parts:
            self.findings.add(path, MISSING, f"an entry of {shape.name} without key or value")
            return
        key = parts[key_name].text or ""
        self.scalar(shape.key, parts[key_name], f"{path}.<key>")
        self.value(shape.value, parts[value_name], f"{path}[{key!r}]")
