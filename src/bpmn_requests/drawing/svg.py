"""Render one BPMN diagram as a standalone SVG 1.1 document: standard notation, element groups findable by
`data-element-id`, optional highlights (completed, active, heatmap) with a legend."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from lxml import etree

from .activities import draw_activity, draw_gateway
from .artifacts import draw_annotation, draw_data_object, draw_data_store, draw_group, draw_other, draw_pool
from .canvas import INK, PAPER, Node, Pen, add, fmt, group, svg_root
from .edges import draw_edge, label_anchor
from .elements import Bounds, Diagram, Edge, Shape
from .events import draw_event
from .highlights import Heat, Highlights, active_outline, badges, draw_legend, pen_for, state_classes
from .labels import EXTERNAL_SIZE, external_box, external_label, point_box, text_width
from .model import read_diagram

MARGIN = 20.0
TITLE_SIZE = 16.0
EXTERNAL_LABEL_KINDS = frozenset({"event", "gateway", "data_object", "data_store"})
NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

Drawer = Callable[[Node, Shape, Pen], None]
DRAWERS: dict[str, Drawer] = {
    "activity": draw_activity, "event": draw_event, "gateway": draw_gateway, "data_object": draw_data_object,
    "data_store": draw_data_store, "pool": draw_pool, "lane": draw_pool, "annotation": draw_annotation,
    "group": draw_group, "other": draw_other,
}


def render_svg(model_or_bytes: Diagram | bytes, *, highlights: Highlights | None = None,
               title: str | None = None) -> str:
    """The SVG of a diagram (the first one of a file given as bytes), fitted to its content."""
    diagram = model_or_bytes if isinstance(model_or_bytes, Diagram) else read_diagram(model_or_bytes)
    heat = Heat(highlights) if highlights is not None and (highlights.counts or highlights.durations) else None
    root = svg_root(version="1.1", class_="bpmn-diagram", font_family="Arial, Helvetica, sans-serif")
    add(root, "title").text = clean(title or diagram.name or diagram.plane_element or "BPMN diagram")
    background = add(root, "rect", fill=PAPER, class_="bpmn-background")
    draw_elements(root, diagram, highlights, heat)
    box = content_bounds(diagram)
    if title:
        box = draw_title(root, clean(title), box)
    if highlights is not None:
        box = union([box, draw_legend(root, box.x, box.bottom + 16, highlights, heat)])
    view = Bounds(box.x - MARGIN, box.y - MARGIN, box.width + 2 * MARGIN, box.height + 2 * MARGIN)
    root.set("viewBox", " ".join(fmt(value) for value in (view.x, view.y, view.width, view.height)))
    root.set("width", fmt(view.width))
    root.set("height", fmt(view.height))
    for name, value in (("x", view.x), ("y", view.y), ("width", view.width), ("height", view.height)):
        background.set(name, fmt(value))
    return str(etree.tostring(root, encoding="unicode"))


def draw_elements(root: Node, diagram: Diagram, highlights: Highlights | None, heat: Heat | None) -> None:
    """Containers and nodes, then the edges over them, then boundary events and groups on top."""
    below, above = layers(diagram.shapes)
    for shape in below:
        draw_shape(root, shape, highlights, heat)
    for edge in diagram.edges:
        pen = pen_for(edge.element_id, "edge", highlights, heat)
        states = state_classes(edge.element_id, highlights, None)
        draw_edge(group(root, edge.element_id, edge_classes(edge) + states), edge, pen)
    for shape in above:
        draw_shape(root, shape, highlights, heat)


def draw_title(root: Node, title: str, box: Bounds) -> Bounds:
    """The title above the content; returns the content box grown to hold it."""
    heading = add(root, "text", x=box.x, y=box.y - 12, font_size=TITLE_SIZE, font_weight="bold", fill=INK,
                  class_="bpmn-title")
    heading.text = title
    width = text_width(title, TITLE_SIZE) * 1.1  # bold runs about a tenth wider
    return union([box, Bounds(box.x, box.y - 12 - TITLE_SIZE, width, 0)])


def draw_shape(root: Node, shape: Shape, highlights: Highlights | None, heat: Heat | None) -> None:
    pen = pen_for(shape.element_id, shape.kind, highlights, heat)
    states = state_classes(shape.element_id, highlights, heat)
    node = group(root, shape.element_id, shape_classes(shape) + states)
    DRAWERS[shape.kind](node, shape, pen)
    if shape.kind in ("event", "gateway"):
        external_label(node, shape.name, shape.bounds, shape.label, INK)
    if highlights is not None:
        if shape.element_id in highlights.active:
            active_outline(node, shape)
        badges(node, shape.bounds, highlights, shape.element_id)


def layers(shapes: Iterable[Shape]) -> tuple[list[Shape], list[Shape]]:
    """Shapes drawn under the edges (containers first, outer before inner) and over them (boundary events,
    groups)."""
    below: list[tuple[int, float, Shape]] = []
    above: list[tuple[int, float, Shape]] = []
    for shape in shapes:
        area = -shape.bounds.width * shape.bounds.height
        if shape.kind == "group":
            above.append((1, 0.0, shape))
        elif shape.attached_to is not None:
            above.append((0, 0.0, shape))
        elif shape.kind in ("pool", "lane"):
            below.append((0 if shape.kind == "pool" else 1, 0.0, shape))
        elif shape.kind == "activity" and shape.is_expanded:
            below.append((2, area, shape))
        else:
            below.append((3, 0.0, shape))
    return ([entry[2] for entry in sorted(below, key=lambda entry: entry[:2])],
            [entry[2] for entry in sorted(above, key=lambda entry: entry[:2])])


def shape_classes(shape: Shape) -> list[str]:
    classes = ["bpmn-element", "bpmn-shape", f"bpmn-{kebab(shape.kind)}", f"bpmn-{kebab(shape.tag)}"]
    if shape.activity is not None:
        classes.append(f"bpmn-{kebab(shape.activity)}")
        classes.append("bpmn-expanded" if shape.is_expanded else "bpmn-collapsed")
        if shape.event_subprocess:
            classes.append("bpmn-event-subprocess")
    if shape.kind == "event" and shape.event is not None:
        classes.append(f"bpmn-{kebab(shape.event.kind)}-trigger")
        classes.append("bpmn-throwing" if shape.event.throwing else "bpmn-catching")
        if not shape.event.interrupting:
            classes.append("bpmn-non-interrupting")
    if shape.gateway is not None:
        classes.append(f"bpmn-{kebab(shape.gateway)}-gateway")
    return list(dict.fromkeys(classes))


def edge_classes(edge: Edge) -> list[str]:
    classes = ["bpmn-element", "bpmn-edge", f"bpmn-{kebab(edge.kind)}"]
    if edge.is_default:
        classes.append("bpmn-default-flow")
    if edge.is_conditional:
        classes.append("bpmn-conditional-flow")
    return classes


def content_bounds(diagram: Diagram) -> Bounds:
    """Everything drawn: shapes, waypoints and label boxes; a small empty area for an empty plane."""
    boxes: list[Bounds] = []
    for shape in diagram.shapes:
        boxes.append(shape.bounds)
        if shape.kind in EXTERNAL_LABEL_KINDS and shape.name:
            boxes.append(external_box(shape.name, shape.bounds, shape.label, EXTERNAL_SIZE))
        elif shape.label is not None and shape.kind == "group":
            boxes.append(shape.label)
    for edge in diagram.edges:
        boxes.extend(Bounds(point.x, point.y, 0, 0) for point in edge.waypoints)
        if edge.name:
            anchor = point_box(label_anchor(list(edge.waypoints)))
            boxes.append(external_box(edge.name, anchor, edge.label, EXTERNAL_SIZE))
    return union(boxes) if boxes else Bounds(0, 0, 200, 100)


def union(boxes: list[Bounds]) -> Bounds:
    left = min(box.x for box in boxes)
    top = min(box.y for box in boxes)
    right = max(box.right for box in boxes)
    bottom = max(box.bottom for box in boxes)
    return Bounds(left, top, right - left, bottom - top)


def kebab(name: str) -> str:
    """userTask -> user-task, data_object -> data-object."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", name).replace("_", "-").lower()


def clean(text: str) -> str:
    """Text with the characters XML cannot carry removed (a caller's title may contain any)."""
    return NOT_XML.sub("", text)
