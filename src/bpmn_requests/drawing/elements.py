"""The drawable content of a BPMN diagram as plain, typed values: shapes, edges and the plane holding them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ShapeKind = Literal["activity", "event", "gateway", "data_object", "data_store", "pool", "lane",
                    "annotation", "group", "other"]
ActivityType = Literal["task", "subprocess", "call_activity", "transaction", "ad_hoc"]
TaskKind = Literal["none", "user", "service", "script", "business_rule", "send", "receive", "manual"]
EventKind = Literal["none", "message", "timer", "error", "escalation", "signal", "conditional", "link",
                    "compensation", "cancel", "terminate", "multiple", "parallel_multiple"]
GatewayKind = Literal["exclusive", "parallel", "inclusive", "event_based", "complex"]
Marker = Literal["loop", "parallel", "sequential", "compensation", "ad_hoc"]
EdgeKind = Literal["sequence_flow", "message_flow", "association", "data_input_association",
                   "data_output_association", "other"]
Direction = Literal["none", "one", "both"]


@dataclass(frozen=True, slots=True)
class Point:
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class Bounds:
    x: float
    y: float
    width: float
    height: float

    @property
    def right(self) -> float:
        return self.x + self.width

    @property
    def bottom(self) -> float:
        return self.y + self.height

    @property
    def center(self) -> Point:
        return Point(self.x + self.width / 2, self.y + self.height / 2)


@dataclass(frozen=True, slots=True)
class EventTrigger:
    """What an event (or an event subprocess's start event) reacts to or throws."""

    kind: EventKind = "none"
    throwing: bool = False
    interrupting: bool = True


@dataclass(frozen=True, slots=True)
class Shape:
    """One BPMNShape: a node of the diagram with its bounds and everything its notation depends on."""

    element_id: str
    tag: str
    kind: ShapeKind
    bounds: Bounds
    name: str = ""
    label: Bounds | None = None
    is_expanded: bool = False  # activities: drawn open; pools: has a process (not a black box)
    is_horizontal: bool = True
    activity: ActivityType | None = None
    task: TaskKind = "none"
    calls_task: bool = False  # a call activity calling a global task: drawn with that task's icon
    markers: frozenset[Marker] = frozenset()
    event_subprocess: bool = False
    event: EventTrigger | None = None
    gateway: GatewayKind | None = None
    marker_visible: bool = True
    instantiate: bool = False
    parallel_events: bool = False
    collection: bool = False
    data_direction: Literal["input", "output"] | None = None
    text: str = ""
    attached_to: str | None = None


@dataclass(frozen=True, slots=True)
class Edge:
    """One BPMNEdge: a connection with its waypoints and the markers at its ends."""

    element_id: str
    tag: str
    kind: EdgeKind
    waypoints: tuple[Point, ...]
    name: str = ""
    label: Bounds | None = None
    source_id: str | None = None
    target_id: str | None = None
    is_default: bool = False
    is_conditional: bool = False
    direction: Direction = "none"
    message_visible: Literal["initiating", "non_initiating"] | None = None


@dataclass(frozen=True, slots=True)
class Diagram:
    """One BPMNDiagram's plane: what to draw, what has no DI here, and DI that refers to nothing."""

    diagram_id: str
    name: str
    plane_element: str | None
    shapes: tuple[Shape, ...]
    edges: tuple[Edge, ...]
    missing: tuple[str, ...] = ()
    unresolved: tuple[str, ...] = ()
    processes: tuple[str, ...] = ()
