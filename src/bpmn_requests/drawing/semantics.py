"""What a BPMN element's notation depends on: its kind, event trigger, gateway type, markers, data flags."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

from .elements import (
    ActivityType,
    Bounds,
    Direction,
    Edge,
    EdgeKind,
    EventKind,
    EventTrigger,
    GatewayKind,
    Marker,
    Point,
    Shape,
    ShapeKind,
    TaskKind,
)

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"

TASK_KINDS: dict[str, TaskKind] = {
    "task": "none", "userTask": "user", "serviceTask": "service", "scriptTask": "script",
    "businessRuleTask": "business_rule", "sendTask": "send", "receiveTask": "receive", "manualTask": "manual",
}
ACTIVITY_TYPES: dict[str, ActivityType] = {
    **{tag: "task" for tag in TASK_KINDS},
    "subProcess": "subprocess", "transaction": "transaction", "adHocSubProcess": "ad_hoc",
    "callActivity": "call_activity",
}
GLOBAL_TASKS: dict[str, TaskKind] = {
    "globalTask": "none", "globalUserTask": "user", "globalScriptTask": "script",
    "globalBusinessRuleTask": "business_rule", "globalManualTask": "manual",
}
CONTAINER_TAGS = frozenset({"subProcess", "transaction", "adHocSubProcess", "callActivity"})
EVENT_TAGS = frozenset({"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent",
                        "boundaryEvent"})
THROWING_TAGS = frozenset({"endEvent", "intermediateThrowEvent"})
GATEWAY_KINDS: dict[str, GatewayKind] = {
    "exclusiveGateway": "exclusive", "parallelGateway": "parallel", "inclusiveGateway": "inclusive",
    "eventBasedGateway": "event_based", "complexGateway": "complex",
}
SHAPE_KINDS: dict[str, ShapeKind] = {
    **{tag: "activity" for tag in ACTIVITY_TYPES},
    **{tag: "event" for tag in EVENT_TAGS},
    **{tag: "gateway" for tag in GATEWAY_KINDS},
    "dataObjectReference": "data_object", "dataObject": "data_object", "dataInput": "data_object",
    "dataOutput": "data_object", "dataStoreReference": "data_store", "dataStore": "data_store",
    "participant": "pool", "lane": "lane", "textAnnotation": "annotation", "group": "group",
}
EDGE_KINDS: dict[str, EdgeKind] = {
    "sequenceFlow": "sequence_flow", "messageFlow": "message_flow", "association": "association",
    "dataInputAssociation": "data_input_association", "dataOutputAssociation": "data_output_association",
}
EVENT_KINDS: dict[str, EventKind] = {
    "messageEventDefinition": "message", "timerEventDefinition": "timer", "errorEventDefinition": "error",
    "escalationEventDefinition": "escalation", "signalEventDefinition": "signal",
    "conditionalEventDefinition": "conditional", "linkEventDefinition": "link",
    "compensateEventDefinition": "compensation", "cancelEventDefinition": "cancel",
    "terminateEventDefinition": "terminate",
}

Lookup = Mapping[str, Any]


def parse_number(value: str | None) -> float | None:
    """A finite float from an attribute, or None when absent or not a finite number."""
    if value is None:
        return None
    try:
        number = float(value)
    except ValueError:
        return None
    return number if math.isfinite(number) else None


def local_name(element: Any) -> str:
    tag = element.tag
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def bpmn_children(element: Any, name: str | None = None) -> list[Any]:
    """Direct children in the BPMN model namespace, optionally only those called `name`."""
    return [child for child in element
            if isinstance(child.tag, str) and child.tag.startswith(f"{{{BPMN_NS}}}")
            and (name is None or local_name(child) == name)]


def read_bounds(di: Any) -> Bounds | None:
    """The dc:Bounds directly under a DI element, when present and made of finite numbers."""
    for child in di:
        if local_name(child) == "Bounds":
            values = [parse_number(child.get(attr)) for attr in ("x", "y", "width", "height")]
            x, y, width, height = values
            if x is None or y is None or width is None or height is None or width < 0 or height < 0:
                return None
            return Bounds(x, y, width, height)
    return None


def read_label(di: Any) -> Bounds | None:
    for child in di:
        if local_name(child) == "BPMNLabel":
            return read_bounds(child)
    return None


def read_shape(di: Any, element: Any, by_id: Lookup, drawn: frozenset[str]) -> Shape | None:
    """The shape for one BPMNShape, or None when its bounds are missing or invalid."""
    bounds = read_bounds(di)
    if bounds is None:
        return None
    tag = local_name(element)
    kind = SHAPE_KINDS.get(tag, "other")
    common: dict[str, Any] = {"element_id": element.get("id"), "tag": tag, "kind": kind, "bounds": bounds,
                              "name": (element.get("name") or "").strip(), "label": read_label(di)}
    details = DETAILS.get(kind)
    if details is not None:
        common.update(details(di, element, by_id, drawn))
    return Shape(**common)


def activity_details(di: Any, element: Any, by_id: Lookup, drawn: frozenset[str]) -> dict[str, Any]:
    tag = local_name(element)
    details: dict[str, Any] = {"activity": ACTIVITY_TYPES[tag], "task": TASK_KINDS.get(tag, "none"),
                               "markers": markers_of(element)}
    if tag in CONTAINER_TAGS:
        details["is_expanded"] = is_expanded(di, element, drawn)
    called_id = (element.get("calledElement") or "").rpartition(":")[2]
    called = by_id.get(called_id) if tag == "callActivity" else None
    if called is not None and local_name(called) in GLOBAL_TASKS:
        details.update(task=GLOBAL_TASKS[local_name(called)], calls_task=True, is_expanded=False)
    if tag == "subProcess" and element.get("triggeredByEvent") == "true":
        details["event_subprocess"] = True
        starts = bpmn_children(element, "startEvent")
        if starts:
            details["event"] = trigger_of(starts[0], by_id)
    return details


def markers_of(element: Any) -> frozenset[Marker]:
    markers: set[Marker] = set()
    for child in bpmn_children(element):
        name = local_name(child)
        if name == "standardLoopCharacteristics":
            markers.add("loop")
        elif name == "multiInstanceLoopCharacteristics":
            markers.add("sequential" if child.get("isSequential") == "true" else "parallel")
    if element.get("isForCompensation") == "true":
        markers.add("compensation")
    if local_name(element) == "adHocSubProcess":
        markers.add("ad_hoc")
    return frozenset(markers)


def is_expanded(di: Any, element: Any, drawn: frozenset[str]) -> bool:
    """DI's isExpanded when given; otherwise expanded when some child of the activity is drawn on this plane."""
    flag: str | None = di.get("isExpanded")
    if flag is not None:
        return flag == "true"
    return any(str(child.get("id")) in drawn for child in bpmn_children(element))


def trigger_of(element: Any, by_id: Lookup) -> EventTrigger:
    """The event definitions of an event, inline or referenced, folded into one trigger kind."""
    kinds: list[EventKind] = []
    for child in bpmn_children(element):
        name = local_name(child)
        if name == "eventDefinitionRef":
            target = by_id.get((child.text or "").strip().rpartition(":")[2])
            name = local_name(target) if target is not None else ""
        if name in EVENT_KINDS:
            kinds.append(EVENT_KINDS[name])
    kind: EventKind = "none"
    if len(kinds) == 1:
        kind = kinds[0]
    elif kinds:
        kind = "parallel_multiple" if element.get("parallelMultiple") == "true" else "multiple"
    interrupting = element.get("cancelActivity") != "false" and element.get("isInterrupting") != "false"
    return EventTrigger(kind, local_name(element) in THROWING_TAGS, interrupting)


def event_details(di: Any, element: Any, by_id: Lookup, drawn: frozenset[str]) -> dict[str, Any]:
    return {"event": trigger_of(element, by_id), "attached_to": element.get("attachedToRef")}


def gateway_details(di: Any, element: Any, by_id: Lookup, drawn: frozenset[str]) -> dict[str, Any]:
    return {"gateway": GATEWAY_KINDS[local_name(element)],
            "marker_visible": di.get("isMarkerVisible") != "false",
            "instantiate": element.get("instantiate") == "true",
            "parallel_events": element.get("eventGatewayType") == "Parallel"}


def data_object_details(di: Any, element: Any, by_id: Lookup, drawn: frozenset[str]) -> dict[str, Any]:
    target = by_id.get(element.get("dataObjectRef") or "")
    collection = element.get("isCollection") == "true" or (
        target is not None and target.get("isCollection") == "true")
    direction = {"dataInput": "input", "dataOutput": "output"}.get(local_name(element))
    return {"collection": collection, "data_direction": direction}


def lane_details(di: Any, element: Any, by_id: Lookup, drawn: frozenset[str]) -> dict[str, Any]:
    details: dict[str, Any] = {"is_horizontal": di.get("isHorizontal") != "false",
                               "is_expanded": element.get("processRef") is not None}
    process = by_id.get(element.get("processRef") or "")
    if not element.get("name") and process is not None:
        details["name"] = (process.get("name") or "").strip()
    return details


def annotation_details(di: Any, element: Any, by_id: Lookup, drawn: frozenset[str]) -> dict[str, Any]:
    texts = bpmn_children(element, "text")
    return {"text": (texts[0].text or "").strip() if texts else ""}


def group_details(di: Any, element: Any, by_id: Lookup, drawn: frozenset[str]) -> dict[str, Any]:
    value = by_id.get(element.get("categoryValueRef") or "")
    return {"name": (value.get("value") or "").strip()} if value is not None else {}


Details = Callable[[Any, Any, Lookup, frozenset[str]], dict[str, Any]]
DETAILS: dict[ShapeKind, Details] = {
    "activity": activity_details, "event": event_details, "gateway": gateway_details,
    "data_object": data_object_details, "pool": lane_details, "lane": lane_details,
    "annotation": annotation_details, "group": group_details,
}


def read_edge(di: Any, element: Any, by_id: Lookup) -> Edge | None:
    """The edge for one BPMNEdge, or None when it has fewer than two valid waypoints."""
    points = []
    for child in di:
        if local_name(child) == "waypoint":
            x, y = parse_number(child.get("x")), parse_number(child.get("y"))
            if x is not None and y is not None:
                points.append(Point(x, y))
    if len(points) < 2:
        return None
    tag = local_name(element)
    source_id, target_id = ends_of(element)
    source = by_id.get(source_id or "")
    conditional = (tag == "sequenceFlow" and bool(bpmn_children(element, "conditionExpression"))
                   and source is not None and local_name(source) in ACTIVITY_TYPES)
    directions: dict[str, Direction] = {"One": "one", "Both": "both"}
    direction = directions.get(element.get("associationDirection") or "", "none")
    visible = di.get("messageVisibleKind")
    return Edge(element_id=element.get("id"), tag=tag, kind=EDGE_KINDS.get(tag, "other"),
                waypoints=tuple(points), name=(element.get("name") or "").strip(), label=read_label(di),
                source_id=source_id, target_id=target_id,
                is_default=source is not None and source.get("default") == element.get("id"),
                is_conditional=conditional, direction=direction,
                message_visible=visible if visible in ("initiating", "non_initiating") else None)


def ends_of(element: Any) -> tuple[str | None, str | None]:
    """Source and target ids: attributes on flows, child elements on data associations."""
    if element.get("sourceRef") is not None or element.get("targetRef") is not None:
        return element.get("sourceRef"), element.get("targetRef")
    refs = {name: (children[0].text or "").strip() or None
            for name in ("sourceRef", "targetRef") if (children := bpmn_children(element, name))}
    owner = element.getparent()
    owner_id = owner.get("id") if owner is not None else None
    if local_name(element) == "dataInputAssociation":
        return refs.get("sourceRef"), owner_id
    if local_name(element) == "dataOutputAssociation":
        return owner_id, refs.get("targetRef")
    return refs.get("sourceRef"), refs.get("targetRef")
