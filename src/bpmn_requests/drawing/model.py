"""Read a BPMN file's diagram interchange (BPMNDI) safely into typed dataclasses, one Diagram per plane."""

from __future__ import annotations

from typing import Any

from lxml import etree

from .elements import (
    Bounds,
    Diagram,
    Edge,
    EventTrigger,
    Point,
    Shape,
)
from .semantics import BPMN_NS, CONTAINER_TAGS, EDGE_KINDS, SHAPE_KINDS, local_name, read_edge, read_shape

__all__ = ["Bounds", "Diagram", "DrawingError", "Edge", "EventTrigger", "Point", "Shape",
           "parse_definitions", "read_diagram", "read_diagrams"]

BPMNDI_NS = "http://www.omg.org/spec/BPMN/20100524/DI"
MAX_BYTES = 20 * 1024 * 1024
# Data objects and stores themselves are drawn through their references.
DRAWABLE_TAGS = (frozenset(SHAPE_KINDS) | frozenset(EDGE_KINDS)) - {"dataObject", "dataStore"}


class DrawingError(ValueError):
    """The file cannot be drawn: too large, unsafe, not well-formed, not BPMN, or without the diagram
    asked for."""


def parse_definitions(content: bytes) -> Any:
    """Parse a BPMN file with entities, DTDs and network off; refuse a DOCTYPE; return `definitions`."""
    if len(content) > MAX_BYTES:
        raise DrawingError(f"{len(content)} bytes is larger than the limit of {MAX_BYTES} bytes")
    if b"<!DOCTYPE" in content or b"<!ENTITY" in content:
        raise DrawingError("DOCTYPE and entity declarations are not allowed in diagrams")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False,
                             huge_tree=False, remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(content, parser)
    except etree.XMLSyntaxError as exc:
        raise DrawingError(f"line {exc.lineno or 0}: not well-formed XML: {exc.msg}") from None
    if root.getroottree().docinfo.doctype:
        raise DrawingError("DOCTYPE declarations are not allowed in diagrams")
    if root.tag != f"{{{BPMN_NS}}}definitions":
        raise DrawingError(f"not a BPMN 2.0 file: the root element is {root.tag!r}")
    return root


def read_diagrams(content: bytes) -> tuple[Diagram, ...]:
    """Every diagram (BPMNDiagram) of a BPMN file, in file order; empty when the file has no DI."""
    root = parse_definitions(content)
    by_id: dict[str, Any] = {}
    for element in root.iter(f"{{{BPMN_NS}}}*"):
        element_id = element.get("id")
        if element_id:
            by_id.setdefault(element_id, element)
    diagrams = root.findall(f"{{{BPMNDI_NS}}}BPMNDiagram")
    planes = [first_child(diagram, "BPMNPlane") for diagram in diagrams]
    planned = frozenset(plane.get("bpmnElement") for plane in planes if plane is not None) - {None}
    return tuple(read_plane(diagram, plane, by_id, planned)
                 for diagram, plane in zip(diagrams, planes, strict=True))


def read_diagram(content: bytes, *, element_id: str | None = None) -> Diagram:
    """The first diagram, or the one showing `element_id`: its plane's process or collaboration, its own id,
    or a process drawn as a pool of the plane's collaboration."""
    diagrams = read_diagrams(content)
    if not diagrams:
        raise DrawingError("the file has no diagram interchange (BPMNDI): there is nothing to draw")
    if element_id is None:
        return diagrams[0]
    for diagram in diagrams:
        if element_id in (diagram.plane_element, diagram.diagram_id):
            return diagram
    for diagram in diagrams:
        if element_id in diagram.processes:
            return diagram
    raise DrawingError(f"no diagram shows {element_id!r}")


def first_child(element: Any, name: str) -> Any:
    return next((child for child in element if local_name(child) == name), None)


def read_plane(diagram: Any, plane: Any, by_id: dict[str, Any], planned: frozenset[str]) -> Diagram:
    """The shapes and edges of one plane, with the elements of its scope that have no DI here."""
    plane_element = plane.get("bpmnElement") if plane is not None else None
    nodes = [] if plane is None else [node for node in plane.iter()
                                      if local_name(node) in ("BPMNShape", "BPMNEdge")]
    drawn = frozenset(node.get("bpmnElement") for node in nodes) - {None}
    shapes, edges, unresolved, undrawable = read_nodes(nodes, by_id, drawn)
    scope = scope_of(by_id.get(plane_element or ""), by_id)
    missing = undrawable + [element_id for element_id in undrawn(scope, drawn, planned - {plane_element})
                            if element_id not in undrawable]
    processes = [element.get("id") for element in scope if local_name(element) == "process"]
    return Diagram(diagram_id=diagram.get("id") or "", name=(diagram.get("name") or "").strip(),
                   plane_element=plane_element, shapes=tuple(shapes), edges=tuple(edges),
                   missing=tuple(missing), unresolved=tuple(unresolved),
                   processes=tuple(process_id for process_id in processes if process_id))


def read_nodes(nodes: list[Any], by_id: dict[str, Any], drawn: frozenset[str]
               ) -> tuple[list[Shape], list[Edge], list[str], list[str]]:
    """Shapes, edges, DI referring to no element (unresolved), and elements whose DI is unusable."""
    shapes: list[Shape] = []
    edges: list[Edge] = []
    unresolved: list[str] = []
    undrawable: list[str] = []
    for node in nodes:
        reference = node.get("bpmnElement")
        element = by_id.get(reference) if reference else None
        if element is None:
            unresolved.append(reference or node.get("id") or "(no id)")
        elif local_name(node) == "BPMNShape":
            shape = read_shape(node, element, by_id, drawn)
            if shape is None:
                undrawable.append(reference)
            else:
                shapes.append(shape)
        else:
            edge = read_edge(node, element, by_id)
            if edge is None:
                undrawable.append(reference)
            else:
                edges.append(edge)
    return shapes, edges, unresolved, undrawable


def scope_of(element: Any, by_id: dict[str, Any]) -> list[Any]:
    """The plane's element, then the processes of its participants when it is a collaboration."""
    if element is None:
        return []
    scope = [element]
    for participant in element.iterchildren(f"{{{BPMN_NS}}}participant"):
        process = by_id.get(participant.get("processRef") or "")
        if process is not None:
            scope.append(process)
    return scope


def undrawn(scope: list[Any], drawn: frozenset[str], elsewhere: frozenset[str]) -> list[str]:
    """Ids of drawable elements in scope without DI on this plane; subprocesses with their own plane are
    skipped, since their content is drawn there."""
    found: dict[str, None] = {}
    pending = list(scope)
    for parent in pending:
        for child in parent.iterchildren(f"{{{BPMN_NS}}}*"):
            child_id = child.get("id")
            tag = local_name(child)
            if tag in DRAWABLE_TAGS and child_id and child_id not in drawn and is_diagram_level(child):
                found[child_id] = None
            if not (tag in CONTAINER_TAGS and child_id in elsewhere):
                pending.append(child)
    return list(found)


def is_diagram_level(element: Any) -> bool:
    """Data inputs and outputs are drawn only for a process; an activity's own are not shapes."""
    if local_name(element) not in ("dataInput", "dataOutput"):
        return True
    specification = element.getparent()
    owner = specification.getparent() if specification is not None else None
    return owner is not None and local_name(owner) == "process"
