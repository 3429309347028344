"""Activities and gateways: rounded task boxes with their icons and markers, subprocess variants, diamonds."""

from __future__ import annotations

from .canvas import Glyph, Node, Pen, add, cross, fmt, regular_polygon
from .elements import EventTrigger, Shape
from .events import NON_INTERRUPTING_DASH, event_glyph
from .icons import activity_markers, task_icon
from .labels import block_height, wrap, write_lines

TASK_WIDTH = 2.0
CALL_ACTIVITY_WIDTH = 5.0
GATEWAY_WIDTH = 2.0
EVENT_SUBPROCESS_DASH = "1.5,3"
LABEL_SIZE = 12.0
ICON_CLEARANCE = 25.0
MARKER_CLEARANCE = 19.0


def draw_activity(parent: Node, shape: Shape, pen: Pen) -> None:
    """Task, call activity, subprocess (collapsed, expanded, event), transaction or ad-hoc subprocess."""
    b = shape.bounds
    radius = min(10.0, b.width / 5, b.height / 5)
    width = CALL_ACTIVITY_WIDTH if shape.activity == "call_activity" else TASK_WIDTH
    dash = EVENT_SUBPROCESS_DASH if shape.event_subprocess else None
    add(parent, "rect", x=b.x, y=b.y, width=b.width, height=b.height, rx=radius, ry=radius, fill=pen.fill,
        stroke=pen.stroke, stroke_width=pen.width(width), stroke_dasharray=dash, class_="bpmn-outline")
    if shape.activity == "transaction":
        inset = 3.0
        add(parent, "rect", x=b.x + inset, y=b.y + inset, width=max(b.width - 2 * inset, 0),
            height=max(b.height - 2 * inset, 0), rx=max(radius - inset, 0), ry=max(radius - inset, 0),
            fill="none", stroke=pen.stroke, stroke_width=pen.width(1.5), class_="bpmn-inner-outline")
    if shape.activity == "task" or shape.calls_task:
        task_icon(parent, shape.task, b.x + 6, b.y + 6, pen)
    if shape.event_subprocess and not shape.is_expanded and shape.event is not None:
        trigger_badge(parent, shape.event, b.x + 14, b.y + 14, pen)
    markers: set[str] = set(shape.markers)
    if shape.activity != "task" and not shape.is_expanded and not shape.calls_task:
        markers.add("collapsed")
    activity_markers(parent, markers, b.center.x, b.bottom, pen)
    activity_label(parent, shape, pen, bool(markers))


def trigger_badge(parent: Node, trigger: EventTrigger, cx: float, cy: float, pen: Pen) -> None:
    """The small start event in the corner of a collapsed event subprocess."""
    dash = None if trigger.interrupting else NON_INTERRUPTING_DASH
    add(parent, "circle", cx=cx, cy=cy, r=9, fill=pen.fill, stroke=pen.stroke, stroke_width=pen.width(1),
        stroke_dasharray=dash)
    event_glyph(parent, trigger, Glyph(cx, cy, 0.5), pen)


def activity_label(parent: Node, shape: Shape, pen: Pen, has_markers: bool) -> None:
    """Top left in an expanded activity; otherwise centred between the icon and the markers, in a
    smaller size when the name does not fit there."""
    b = shape.bounds
    if not shape.name:
        return
    if shape.is_expanded:
        lines = wrap(shape.name, max(b.width - 16, LABEL_SIZE), LABEL_SIZE)
        write_lines(parent, lines, b.x + 8, b.y + 6, LABEL_SIZE, pen.text, anchor="start")
        return
    has_icon = shape.task != "none" and (shape.activity == "task" or shape.calls_task)
    top_limit = b.y + (ICON_CLEARANCE if has_icon else 4)
    bottom_limit = b.bottom - (MARKER_CLEARANCE if has_markers else 4)
    for size in (LABEL_SIZE, LABEL_SIZE - 1, LABEL_SIZE - 2):
        lines = wrap(shape.name, max(b.width - 10, size), size)
        height = block_height(lines, size)
        if height <= bottom_limit - top_limit:
            break
    top = b.y + (b.height - height) / 2
    if height <= bottom_limit - top_limit:
        top = min(max(top, top_limit), bottom_limit - height)
    write_lines(parent, lines, b.center.x, top, size, pen.text)


def draw_gateway(parent: Node, shape: Shape, pen: Pen) -> None:
    """A diamond in the bounds with the marker of its kind."""
    b = shape.bounds
    c = b.center
    diamond = (f"M{fmt(c.x)},{fmt(b.y)} L{fmt(b.right)},{fmt(c.y)} L{fmt(c.x)},{fmt(b.bottom)} "
               f"L{fmt(b.x)},{fmt(c.y)} Z")
    add(parent, "path", d=diamond, fill=pen.fill, stroke=pen.stroke, stroke_width=pen.width(GATEWAY_WIDTH),
        stroke_linejoin="round", class_="bpmn-outline")
    glyph = Glyph(c.x, c.y, min(b.width, b.height) / 50)
    kind = (shape.gateway or "exclusive").replace("_", "-")
    marker = add(parent, "g", class_=f"bpmn-marker bpmn-marker-{kind}")
    if shape.gateway == "exclusive" and shape.marker_visible:
        add(marker, "path", d=glyph.polygon(cross(11, 2.6, 45.0)), fill=pen.stroke, stroke="none")
    elif shape.gateway == "parallel":
        add(marker, "path", d=glyph.polygon(cross(12, 2.6)), fill=pen.stroke, stroke="none")
    elif shape.gateway == "complex":
        add(marker, "path", d=glyph.lines([(0, -12, 0, 12), (-12, 0, 12, 0), (-8.5, -8.5, 8.5, 8.5),
                                            (-8.5, 8.5, 8.5, -8.5)]),
            stroke=pen.stroke, stroke_width=glyph.size(3.5))
    elif shape.gateway == "inclusive":
        add(marker, "circle", cx=c.x, cy=c.y, r=glyph.size(10.5), fill="none", stroke=pen.stroke,
            stroke_width=glyph.size(2.8))
    elif shape.gateway == "event_based":
        event_based_marker(marker, shape, glyph, pen)


def event_based_marker(parent: Node, shape: Shape, glyph: Glyph, pen: Pen) -> None:
    """Double circle and pentagon; a single circle when it starts a process; a plus for parallel ones."""
    add(parent, "circle", cx=glyph.cx, cy=glyph.cy, r=glyph.size(13), fill="none", stroke=pen.stroke,
        stroke_width=glyph.size(1.2))
    if not (shape.instantiate or shape.parallel_events):
        add(parent, "circle", cx=glyph.cx, cy=glyph.cy, r=glyph.size(10.5), fill="none", stroke=pen.stroke,
            stroke_width=glyph.size(1.2))
    figure = cross(8, 2.2) if shape.parallel_events else regular_polygon(5, 7)
    add(parent, "path", d=glyph.polygon(figure), fill="none", stroke=pen.stroke, stroke_width=glyph.size(1.4),
        stroke_linejoin="round")
