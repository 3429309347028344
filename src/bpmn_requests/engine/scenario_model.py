"""What a diagram is made of, for coverage: its flow nodes and sequence flows, keyed as the engine sees them.

The engine names each task by (process or subprocess id, element id); a sequence flow is taken when
the task of its target descends from the task of its source. Both are indexed here so the tasks of a
finished run map back to the elements of the diagram.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

from lxml import etree

from .dialects import BPMN_NS, FLOW_NODE_TAGS
from .xml import parse_xml

SCOPES = {"process", "subProcess", "transaction", "adHocSubProcess"}


def _local(node: etree._Element) -> str:
    return etree.QName(node).localname if isinstance(node.tag, str) else ""


def _scope(node: etree._Element) -> str:
    parent = node.getparent()
    while parent is not None and _local(parent) not in SCOPES:
        parent = parent.getparent()
    return parent.get("id", "") if parent is not None else ""


def _executable(root: etree._Element) -> list[etree._Element]:
    return [p for p in root.iter(f"{{{BPMN_NS}}}process") if p.get("isExecutable", "true") == "true"]


def diagram_elements(diagram: Path) -> dict[str, tuple[str, str]]:
    """Element id -> (tag, name) of every flow node and sequence flow of the executable processes."""
    root = parse_xml(diagram.read_bytes(), diagram.name)
    elements: dict[str, tuple[str, str]] = {}
    for process in _executable(root):
        for node in process.iter():
            tag = _local(node)
            if (tag in FLOW_NODE_TAGS or tag == "sequenceFlow") and node.get("id"):
                elements[node.get("id", "")] = (tag, " ".join((node.get("name") or "").split()))
    return elements


def element_index(diagram: Path) -> dict[tuple[str, str], list[str]]:
    """(scope id, element id) -> [element id] and (scope id, 'source->target') -> [sequence flow ids]."""
    root = parse_xml(diagram.read_bytes(), diagram.name)
    index: dict[tuple[str, str], list[str]] = defaultdict(list)
    for process in _executable(root):
        for node in process.iter():
            tag = _local(node)
            if tag in FLOW_NODE_TAGS and node.get("id"):
                index[(_scope(node), node.get("id", ""))].append(node.get("id", ""))
            elif tag == "sequenceFlow" and node.get("id"):
                edge = f"{node.get('sourceRef')}->{node.get('targetRef')}"
                index[(_scope(node), edge)].append(node.get("id", ""))
    return dict(index)


def event_gateways(diagram: Path) -> dict[str, str]:
    """Timer catch event id -> the event-based gateway before it: such a timer waits at the gateway."""
    root = parse_xml(diagram.read_bytes(), diagram.name)
    found: dict[str, str] = {}
    for process in _executable(root):
        gateways = {g.get("id", "") for g in process.iter(f"{{{BPMN_NS}}}eventBasedGateway")}
        timers = {e.get("id", "") for e in process.iter(f"{{{BPMN_NS}}}intermediateCatchEvent")
                  if e.find(f"{{{BPMN_NS}}}timerEventDefinition") is not None}
        for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
            if flow.get("sourceRef") in gateways and flow.get("targetRef") in timers:
                found[flow.get("targetRef", "")] = flow.get("sourceRef", "")
    return found
