"""Events: the ring that tells start, intermediate and end apart, and the glyph of what they catch or throw.

Glyphs are drawn in a frame where the event's radius is 18 (the usual 36px event) and scaled to the shape.
Catching glyphs are outlined, throwing glyphs filled.
"""

from __future__ import annotations

from collections.abc import Callable

from .canvas import Glyph, Node, Pen, add, cross, regular_polygon
from .elements import EventTrigger, Shape

START_WIDTH = 2.0
INTERMEDIATE_WIDTH = 1.5
END_WIDTH = 4.0
NON_INTERRUPTING_DASH = "5.5,3"
UNIT_RADIUS = 18.0


def draw_event(parent: Node, shape: Shape, pen: Pen) -> None:
    """An event's circle (or circles) and its trigger glyph, inside the DI bounds."""
    centre = shape.bounds.center
    radius = min(shape.bounds.width, shape.bounds.height) / 2
    trigger = shape.event or EventTrigger()
    dash = None if trigger.interrupting else NON_INTERRUPTING_DASH
    thinner = min(1.0, radius / UNIT_RADIUS)  # small events keep their proportions
    if shape.tag == "startEvent":
        add(parent, "circle", cx=centre.x, cy=centre.y, r=radius, fill=pen.fill, stroke=pen.stroke,
            stroke_width=pen.width(START_WIDTH * thinner), stroke_dasharray=dash)
    elif shape.tag == "endEvent":
        add(parent, "circle", cx=centre.x, cy=centre.y, r=radius, fill=pen.fill, stroke=pen.stroke,
            stroke_width=pen.width(END_WIDTH * thinner))
    else:
        for ring in (radius, max(radius - 3 * thinner, 1)):
            add(parent, "circle", cx=centre.x, cy=centre.y, r=ring, fill=pen.fill, stroke=pen.stroke,
                stroke_width=pen.width(INTERMEDIATE_WIDTH * thinner), stroke_dasharray=dash)
    event_glyph(parent, trigger, Glyph(centre.x, centre.y, radius / UNIT_RADIUS), pen)


def event_glyph(parent: Node, trigger: EventTrigger, glyph: Glyph, pen: Pen) -> None:
    """The picture of the trigger kind (message, timer, ...) at the glyph's centre; nothing for none."""
    draw = GLYPHS.get(trigger.kind)
    if draw is not None:
        node = add(parent, "g", class_=f"bpmn-glyph bpmn-glyph-{trigger.kind.replace('_', '-')}")
        draw(node, glyph, pen, trigger.throwing)


def filled_shape(parent: Node, data: str, pen: Pen, filled: bool, glyph: Glyph, width: float = 1.5) -> Node:
    return add(parent, "path", d=data, fill=pen.stroke if filled else pen.fill, stroke=pen.stroke,
               stroke_width=pen.width(glyph.size(width)), stroke_linejoin="round")


def message(parent: Node, glyph: Glyph, pen: Pen, filled: bool) -> None:
    filled_shape(parent, glyph.polygon([(-8, -5.5), (8, -5.5), (8, 5.5), (-8, 5.5)]), pen, filled, glyph)
    flap = glyph.lines([(-8, -5.5, 0, 1), (0, 1, 8, -5.5)])
    add(parent, "path", d=flap, fill="none", stroke=pen.fill if filled else pen.stroke,
        stroke_width=pen.width(glyph.size(1.5)), stroke_linejoin="round")


def timer(parent: Node, glyph: Glyph, pen: Pen, filled: bool) -> None:
    add(parent, "circle", cx=glyph.cx, cy=glyph.cy, r=glyph.size(11), fill=pen.fill, stroke=pen.stroke,
        stroke_width=pen.width(glyph.size(1.5)))
    ticks = []
    for u, v in regular_polygon(12, 1.0):
        ticks.append((u * 8.5, v * 8.5, u * 11, v * 11))
    add(parent, "path", d=glyph.lines(ticks), stroke=pen.stroke, stroke_width=pen.width(glyph.size(1)))
    add(parent, "path", d=glyph.lines([(0, 0, 0, -8), (0, 0, 5.5, 2)]), stroke=pen.stroke,
        stroke_width=pen.width(glyph.size(1.5)), stroke_linecap="round")


def error(parent: Node, glyph: Glyph, pen: Pen, filled: bool) -> None:
    bolt = [(-8, 8), (-3.5, -7), (1.5, 1.5), (8, -8), (3.5, 7), (-1.5, -1.5)]
    filled_shape(parent, glyph.polygon(bolt), pen, filled, glyph)


def escalation(parent: Node, glyph: Glyph, pen: Pen, filled: bool) -> None:
    filled_shape(parent, glyph.polygon([(0, -9), (6.5, 8), (0, 2), (-6.5, 8)]), pen, filled, glyph)


def signal(parent: Node, glyph: Glyph, pen: Pen, filled: bool) -> None:
    filled_shape(parent, glyph.polygon([(0, -8.5), (9, 7.5), (-9, 7.5)]), pen, filled, glyph)


def conditional(parent: Node, glyph: Glyph, pen: Pen, filled: bool) -> None:
    filled_shape(parent, glyph.polygon([(-6.5, -8.5), (6.5, -8.5), (6.5, 8.5), (-6.5, 8.5)]), pen, False, glyph)
    rows = [(-4.5, v, 4.5, v) for v in (-5, -1.7, 1.7, 5)]
    add(parent, "path", d=glyph.lines(rows), stroke=pen.stroke, stroke_width=pen.width(glyph.size(1.2)))


def link(parent: Node, glyph: Glyph, pen: Pen, filled: bool) -> None:
    arrow = [(-8, -3), (1, -3), (1, -7.5), (8.5, 0), (1, 7.5), (1, 3), (-8, 3)]
    filled_shape(parent, glyph.polygon(arrow), pen, filled, glyph)


def compensation(parent: Node, glyph: Glyph, pen: Pen, filled: bool) -> None:
    for shift in (-8.5, 0.0):
        filled_shape(parent, glyph.polygon([(shift, 0), (shift + 8.5, -6.5), (shift + 8.5, 6.5)]), pen, filled,
                     glyph)


def cancel(parent: Node, glyph: Glyph, pen: Pen, filled: bool) -> None:
    filled_shape(parent, glyph.polygon(cross(9.5, 2.2, 45.0)), pen, filled, glyph)


def terminate(parent: Node, glyph: Glyph, pen: Pen, filled: bool) -> None:
    add(parent, "circle", cx=glyph.cx, cy=glyph.cy, r=glyph.size(10.5), fill=pen.stroke, stroke=pen.stroke)


def multiple(parent: Node, glyph: Glyph, pen: Pen, filled: bool) -> None:
    filled_shape(parent, glyph.polygon(regular_polygon(5, 9.5)), pen, filled, glyph)


def parallel_multiple(parent: Node, glyph: Glyph, pen: Pen, filled: bool) -> None:
    filled_shape(parent, glyph.polygon(cross(9.5, 2.8)), pen, filled, glyph)


GLYPHS: dict[str, Callable[[Node, Glyph, Pen, bool], None]] = {
    "message": message, "timer": timer, "error": error, "escalation": escalation, "signal": signal,
    "conditional": conditional, "link": link, "compensation": compensation, "cancel": cancel,
    "terminate": terminate, "multiple": multiple, "parallel_multiple": parallel_multiple,
}
