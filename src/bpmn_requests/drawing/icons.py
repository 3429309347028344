"""Small pictures inside activities: the task-type icon (top left) and the markers along the bottom edge."""

from __future__ import annotations

import math
from collections.abc import Callable

from .canvas import Glyph, Node, Pen, add, fmt
from .elements import TaskKind

ICON = 18.0
MARKER = 14.0
MARKER_GAP = 4.0


def task_icon(parent: Node, kind: TaskKind, ox: float, oy: float, pen: Pen) -> None:
    """The task-type icon in an 18px box whose top-left corner is ox, oy."""
    draw = TASK_ICONS.get(kind)
    if draw is not None:
        icon = add(parent, "g", class_=f"bpmn-icon bpmn-icon-{kind.replace('_', '-')}")
        draw(icon, ox, oy, pen)


def user_icon(parent: Node, ox: float, oy: float, pen: Pen) -> None:
    add(parent, "path", d=f"M{fmt(ox + 1)},{fmt(oy + 18)} C{fmt(ox + 1)},{fmt(oy + 9)} {fmt(ox + 17)},"
        f"{fmt(oy + 9)} {fmt(ox + 17)},{fmt(oy + 18)} Z", fill=pen.fill, stroke=pen.stroke, stroke_width=1.2)
    add(parent, "circle", cx=ox + 9, cy=oy + 5.5, r=4.5, fill=pen.fill, stroke=pen.stroke, stroke_width=1.2)


def service_icon(parent: Node, ox: float, oy: float, pen: Pen) -> None:
    glyph = Glyph(ox + 9, oy + 9, 1.0)
    teeth: list[tuple[float, float]] = []
    for tooth in range(8):
        for offset, radius in ((-17.0, 6.0), (-9.0, 8.5), (9.0, 8.5), (17.0, 6.0)):
            angle = math.radians(tooth * 45.0 + offset)
            teeth.append((radius * math.cos(angle), radius * math.sin(angle)))
    add(parent, "path", d=glyph.polygon(teeth), fill=pen.fill, stroke=pen.stroke, stroke_width=1.1,
        stroke_linejoin="round")
    add(parent, "circle", cx=ox + 9, cy=oy + 9, r=2.6, fill=pen.fill, stroke=pen.stroke, stroke_width=1.1)


def script_icon(parent: Node, ox: float, oy: float, pen: Pen) -> None:
    outline = (f"M{fmt(ox + 4)},{fmt(oy + 1)} H{fmt(ox + 17)} C{fmt(ox + 12)},{fmt(oy + 5)} {fmt(ox + 19)},"
               f"{fmt(oy + 13)} {fmt(ox + 14)},{fmt(oy + 17)} H{fmt(ox + 1)} C{fmt(ox + 6)},{fmt(oy + 13)} "
               f"{fmt(ox - 1)},{fmt(oy + 5)} {fmt(ox + 4)},{fmt(oy + 1)} Z")
    add(parent, "path", d=outline, fill=pen.fill, stroke=pen.stroke, stroke_width=1.1)
    lines = " ".join(f"M{fmt(ox + 5 + shift)},{fmt(oy + y)} H{fmt(ox + 12 + shift)}"
                     for y, shift in ((5, 0.5), (9, 1.5), (13, 0.5)))
    add(parent, "path", d=lines, stroke=pen.stroke, stroke_width=1.1)


def business_rule_icon(parent: Node, ox: float, oy: float, pen: Pen) -> None:
    add(parent, "rect", x=ox, y=oy + 2, width=18, height=14, fill=pen.fill, stroke=pen.stroke, stroke_width=1.1)
    add(parent, "rect", x=ox, y=oy + 2, width=18, height=4, fill=pen.stroke, stroke=pen.stroke,
        stroke_width=1.1)
    add(parent, "path", d=f"M{fmt(ox)},{fmt(oy + 11)} H{fmt(ox + 18)} M{fmt(ox + 6)},{fmt(oy + 6)} "
        f"V{fmt(oy + 16)}", stroke=pen.stroke, stroke_width=1.1)


def envelope(parent: Node, x: float, y: float, width: float, height: float, pen: Pen, filled: bool) -> None:
    """A letter: outlined for receiving, filled for sending."""
    body, flap = (pen.stroke, pen.fill) if filled else (pen.fill, pen.stroke)
    add(parent, "rect", x=x, y=y, width=width, height=height, fill=body, stroke=pen.stroke, stroke_width=1.1)
    add(parent, "path", d=f"M{fmt(x)},{fmt(y)} L{fmt(x + width / 2)},{fmt(y + height * 0.55)} "
        f"L{fmt(x + width)},{fmt(y)}", fill="none", stroke=flap, stroke_width=1.1)


def send_icon(parent: Node, ox: float, oy: float, pen: Pen) -> None:
    envelope(parent, ox, oy + 3, 18, 12, pen, filled=True)


def receive_icon(parent: Node, ox: float, oy: float, pen: Pen) -> None:
    envelope(parent, ox, oy + 3, 18, 12, pen, filled=False)


def manual_icon(parent: Node, ox: float, oy: float, pen: Pen) -> None:
    glyph = Glyph(ox, oy, 1.0)
    hand = [(0.5, 9), (5, 4.5), (10, 4.5), (8.5, 7), (17.5, 7), (17.5, 9.5), (11, 9.5), (16.5, 9.5), (16.5, 12),
            (11, 12), (15.5, 12), (15.5, 14.5), (11, 14.5), (14, 14.5), (14, 17), (5, 17), (0.5, 13.5)]
    add(parent, "path", d=glyph.polygon(hand), fill=pen.fill, stroke=pen.stroke, stroke_width=1.1,
        stroke_linejoin="round")


TASK_ICONS: dict[str, Callable[[Node, float, float, Pen], None]] = {
    "user": user_icon, "service": service_icon, "script": script_icon, "business_rule": business_rule_icon,
    "send": send_icon, "receive": receive_icon, "manual": manual_icon,
}

MARKER_ORDER: tuple[str, ...] = ("compensation", "loop", "parallel", "sequential", "collapsed", "ad_hoc")


def activity_markers(parent: Node, markers: set[str], cx: float, bottom: float, pen: Pen) -> None:
    """The markers in their standard order, as a row centred on cx just above the bottom edge."""
    row = [name for name in MARKER_ORDER if name in markers]
    left = cx - (len(row) * MARKER + (len(row) - 1) * MARKER_GAP) / 2
    for index, name in enumerate(row):
        x = left + index * (MARKER + MARKER_GAP)
        node = add(parent, "g", class_=f"bpmn-marker bpmn-marker-{name.replace('_', '-')}")
        MARKERS[name](node, x, bottom - MARKER - 3, pen)


def collapsed_marker(parent: Node, x: float, y: float, pen: Pen) -> None:
    add(parent, "rect", x=x, y=y, width=MARKER, height=MARKER, fill=pen.fill, stroke=pen.stroke,
        stroke_width=1.2)
    add(parent, "path", d=Glyph(x + 7, y + 7, 1.0).lines([(-4, 0, 4, 0), (0, -4, 0, 4)]), stroke=pen.stroke,
        stroke_width=1.5)


def loop_marker(parent: Node, x: float, y: float, pen: Pen) -> None:
    """A circular arrow, open at the bottom, its head at the bottom right pointing back down-left."""
    cx, cy, r = x + 7, y + 7, 5.5
    corner = r * math.cos(math.radians(45))
    add(parent, "path", d=f"M{fmt(cx - corner)},{fmt(cy + corner)} A{fmt(r)},{fmt(r)} 0 1 1 {fmt(cx + corner)},"
        f"{fmt(cy + corner)}", fill="none", stroke=pen.stroke, stroke_width=1.5)
    head = Glyph(cx + corner, cy + corner, 1.0)
    tangent, normal = (-0.7071, 0.7071), (0.7071, 0.7071)
    corners = [(tangent[0] * 2.5, tangent[1] * 2.5),
               (-tangent[0] * 1.5 + normal[0] * 2.8, -tangent[1] * 1.5 + normal[1] * 2.8),
               (-tangent[0] * 1.5 - normal[0] * 2.8, -tangent[1] * 1.5 - normal[1] * 2.8)]
    add(parent, "path", d=head.polygon(corners), fill=pen.stroke, stroke=pen.stroke, stroke_width=0.8)


def parallel_marker(parent: Node, x: float, y: float, pen: Pen) -> None:
    add(parent, "path", d=" ".join(f"M{fmt(x + dx)},{fmt(y + 1)} V{fmt(y + 13)}" for dx in (2.5, 7, 11.5)),
        stroke=pen.stroke, stroke_width=2)


def sequential_marker(parent: Node, x: float, y: float, pen: Pen) -> None:
    add(parent, "path", d=" ".join(f"M{fmt(x + 1)},{fmt(y + dy)} H{fmt(x + 13)}" for dy in (2.5, 7, 11.5)),
        stroke=pen.stroke, stroke_width=2)


def compensation_marker(parent: Node, x: float, y: float, pen: Pen) -> None:
    glyph = Glyph(x + 7, y + 7, 1.0)
    for shift in (-3.5, 3.5):
        add(parent, "path", d=glyph.polygon([(shift - 3.5, 0), (shift + 3.5, -5), (shift + 3.5, 5)]),
            fill="none", stroke=pen.stroke, stroke_width=1.2, stroke_linejoin="round")


def ad_hoc_marker(parent: Node, x: float, y: float, pen: Pen) -> None:
    add(parent, "path", d=f"M{fmt(x + 1)},{fmt(y + 8.5)} C{fmt(x + 3)},{fmt(y + 3.5)} {fmt(x + 6)},"
        f"{fmt(y + 5)} {fmt(x + 7)},{fmt(y + 7)} S{fmt(x + 11)},{fmt(y + 10.5)} {fmt(x + 13)},{fmt(y + 5.5)}",
        fill="none", stroke=pen.stroke, stroke_width=1.6)


MARKERS: dict[str, Callable[[Node, float, float, Pen], None]] = {
    "collapsed": collapsed_marker, "loop": loop_marker, "parallel": parallel_marker,
    "sequential": sequential_marker, "compensation": compensation_marker, "ad_hoc": ad_hoc_marker,
}
