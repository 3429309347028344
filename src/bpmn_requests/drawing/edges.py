"""Connections: sequence flows (solid, filled arrow, default slash, conditional diamond), message flows
(dashed, open circle and open arrow, optional envelope), associations and data associations (dotted)."""

from __future__ import annotations

import math

from .canvas import Node, Pen, add, fmt, polyline_data, unit
from .elements import Edge, Point
from .icons import envelope
from .labels import EXTERNAL_SIZE, external_label, point_box

FLOW_WIDTH = 1.5
MESSAGE_DASH = "8,5"
ASSOCIATION_DASH = "1.5,4"
ARROW_LENGTH = 11.0
ARROW_HALF_WIDTH = 4.0


def draw_edge(parent: Node, edge: Edge, pen: Pen) -> None:
    """The line and the end decorations its kind calls for, then its label."""
    points = list(edge.waypoints)
    dash = {"message_flow": MESSAGE_DASH, "sequence_flow": None}.get(edge.kind, ASSOCIATION_DASH)
    add(parent, "path", d=polyline_data(points), fill="none", stroke=pen.stroke,
        stroke_width=pen.width(FLOW_WIDTH), stroke_dasharray=dash, stroke_linejoin="round",
        stroke_linecap="round" if dash == ASSOCIATION_DASH else None, class_="bpmn-line")
    end, before_end = points[-1], points[-2]
    if edge.kind == "sequence_flow":
        arrowhead(parent, before_end, end, pen, fill=pen.stroke)
        if edge.is_conditional:
            source_diamond(parent, points[0], points[1], pen)
        elif edge.is_default:
            default_slash(parent, points[0], points[1], pen)
    elif edge.kind == "message_flow":
        add(parent, "circle", cx=points[0].x, cy=points[0].y, r=4.5, fill=pen.fill, stroke=pen.stroke,
            stroke_width=pen.width(1.2), class_="bpmn-source-marker")
        arrowhead(parent, before_end, end, pen, fill=pen.fill)
        if edge.message_visible is not None:
            middle = midpoint(points)
            shade = pen.fill if edge.message_visible == "initiating" else "#c9ccd1"
            envelope(parent, middle.x - 10, middle.y - 7, 20, 14, pen.with_fill(shade), filled=False)
    elif edge.kind in ("data_input_association", "data_output_association", "association"):
        if edge.kind != "association" or edge.direction != "none":
            open_arrow(parent, before_end, end, pen)
        if edge.kind == "association" and edge.direction == "both":
            open_arrow(parent, points[1], points[0], pen)
    external_label(parent, edge.name, point_box(label_anchor(points)), edge.label, pen.text, EXTERNAL_SIZE)


def arrowhead(parent: Node, start: Point, end: Point, pen: Pen, fill: str) -> None:
    """A closed triangle whose tip is at `end`, pointing along start -> end."""
    ux, uy = unit(start, end)
    base = Point(end.x - ux * ARROW_LENGTH, end.y - uy * ARROW_LENGTH)
    corners = [end, Point(base.x - uy * ARROW_HALF_WIDTH, base.y + ux * ARROW_HALF_WIDTH),
               Point(base.x + uy * ARROW_HALF_WIDTH, base.y - ux * ARROW_HALF_WIDTH)]
    add(parent, "path", d=polyline_data(corners, close=True), fill=fill, stroke=pen.stroke,
        stroke_width=pen.width(1), stroke_linejoin="round", class_="bpmn-arrow")


def open_arrow(parent: Node, start: Point, end: Point, pen: Pen) -> None:
    """Two strokes meeting at `end`: the arrow of associations and data associations."""
    ux, uy = unit(start, end)
    base = Point(end.x - ux * ARROW_LENGTH, end.y - uy * ARROW_LENGTH)
    left = Point(base.x - uy * ARROW_HALF_WIDTH * 1.3, base.y + ux * ARROW_HALF_WIDTH * 1.3)
    right = Point(base.x + uy * ARROW_HALF_WIDTH * 1.3, base.y - ux * ARROW_HALF_WIDTH * 1.3)
    add(parent, "path", d=polyline_data([left, end, right]), fill="none", stroke=pen.stroke,
        stroke_width=pen.width(FLOW_WIDTH), stroke_linejoin="round", class_="bpmn-arrow")


def source_diamond(parent: Node, start: Point, towards: Point, pen: Pen) -> None:
    """The small open diamond of a conditional flow leaving an activity."""
    ux, uy = unit(start, towards)
    corners = [start, Point(start.x + ux * 8 - uy * 5, start.y + uy * 8 + ux * 5),
               Point(start.x + ux * 16, start.y + uy * 16),
               Point(start.x + ux * 8 + uy * 5, start.y + uy * 8 - ux * 5)]
    add(parent, "path", d=polyline_data(corners, close=True), fill=pen.fill, stroke=pen.stroke,
        stroke_width=pen.width(1.2), class_="bpmn-conditional-marker")


def default_slash(parent: Node, start: Point, towards: Point, pen: Pen) -> None:
    """The short oblique stroke across the start of a gateway's or activity's default flow."""
    ux, uy = unit(start, towards)
    centre = Point(start.x + ux * 10, start.y + uy * 10)
    angle = math.radians(50)
    dx = (ux * math.cos(angle) - uy * math.sin(angle)) * 6
    dy = (ux * math.sin(angle) + uy * math.cos(angle)) * 6
    slash = f"M{fmt(centre.x - dx)},{fmt(centre.y - dy)} L{fmt(centre.x + dx)},{fmt(centre.y + dy)}"
    add(parent, "path", d=slash,
        stroke=pen.stroke, stroke_width=pen.width(FLOW_WIDTH), class_="bpmn-default-marker")


def midpoint(points: list[Point]) -> Point:
    """The point halfway along the polyline."""
    segments = list(zip(points, points[1:], strict=False))
    lengths = [math.hypot(b.x - a.x, b.y - a.y) for a, b in segments]
    remaining = sum(lengths) / 2
    for (a, b), length in zip(segments, lengths, strict=True):
        if remaining <= length and length > 0:
            ratio = remaining / length
            return Point(a.x + (b.x - a.x) * ratio, a.y + (b.y - a.y) * ratio)
        remaining -= length
    return points[0]


def label_anchor(points: list[Point]) -> Point:
    """Where a flow's name goes when the DI gives no label bounds: beside the middle of the line."""
    return midpoint(points)

