"""Data, containers and artifacts: data objects and stores, pools and lanes, annotations, groups."""

from __future__ import annotations

from .canvas import INK, Glyph, Node, Pen, add, fmt
from .elements import Bounds, Shape
from .labels import EXTERNAL_SIZE, centred_label, external_label, wrap, write_lines

POOL_BAND = 30.0
NAME_SIZE = 12.0
GROUP_DASH = "8,3,1,3"


def draw_data_object(parent: Node, shape: Shape, pen: Pen) -> None:
    """A page with a folded corner; bars for a collection, an arrow for a process input or output."""
    b = shape.bounds
    fold = min(b.width, b.height) * 0.3
    page = (f"M{fmt(b.x)},{fmt(b.y)} H{fmt(b.right - fold)} L{fmt(b.right)},{fmt(b.y + fold)} "
            f"V{fmt(b.bottom)} H{fmt(b.x)} Z")
    add(parent, "path", d=page, fill=pen.fill, stroke=pen.stroke, stroke_width=pen.width(1.5),
        stroke_linejoin="round", class_="bpmn-outline")
    add(parent, "path", d=f"M{fmt(b.right - fold)},{fmt(b.y)} V{fmt(b.y + fold)} H{fmt(b.right)}", fill="none",
        stroke=pen.stroke, stroke_width=pen.width(1.5), stroke_linejoin="round")
    if shape.collection:
        bars = " ".join(f"M{fmt(b.center.x + dx)},{fmt(b.bottom - 12)} V{fmt(b.bottom - 3)}"
                        for dx in (-4, 0, 4))
        add(parent, "path", d=bars, stroke=pen.stroke, stroke_width=pen.width(1.5), class_="bpmn-collection")
    if shape.data_direction is not None:
        corners = [(-6, -2), (0, -2), (0, -5), (6, 0), (0, 5), (0, 2), (-6, 2)]
        arrow = Glyph(b.x + 9, b.y + 8, 1.0).polygon(corners)
        fill = pen.stroke if shape.data_direction == "output" else pen.fill
        add(parent, "path", d=arrow, fill=fill, stroke=pen.stroke, stroke_width=1,
            class_=f"bpmn-data-{shape.data_direction}")
    external_label(parent, shape.name, b, shape.label, INK)


def draw_data_store(parent: Node, shape: Shape, pen: Pen) -> None:
    """A cylinder filling the bounds."""
    b = shape.bounds
    rx, ry = b.width / 2, min(b.height * 0.12, 8.0)
    top, bottom = b.y + ry, b.bottom - ry
    arc = f"A{fmt(rx)},{fmt(ry)} 0 0 0"
    body = (f"M{fmt(b.x)},{fmt(top)} V{fmt(bottom)} {arc} {fmt(b.right)},{fmt(bottom)} V{fmt(top)} "
            f"A{fmt(rx)},{fmt(ry)} 0 0 0 {fmt(b.x)},{fmt(top)} Z")
    add(parent, "path", d=body, fill=pen.fill, stroke=pen.stroke, stroke_width=pen.width(1.5),
        class_="bpmn-outline")
    add(parent, "ellipse", cx=b.center.x, cy=top, rx=rx, ry=ry, fill=pen.fill, stroke=pen.stroke,
        stroke_width=pen.width(1.5))
    rims = " ".join(f"M{fmt(b.x)},{fmt(top + step)} {arc} {fmt(b.right)},{fmt(top + step)}"
                    for step in (ry * 0.7, ry * 1.4) if top + step < bottom)
    if rims:
        add(parent, "path", d=rims, fill="none", stroke=pen.stroke, stroke_width=pen.width(1.5))
    external_label(parent, shape.name, b, shape.label, INK)


def draw_pool(parent: Node, shape: Shape, pen: Pen) -> None:
    """A pool (participant) or lane: the box, and the name in a band across its start."""
    b = shape.bounds
    add(parent, "rect", x=b.x, y=b.y, width=b.width, height=b.height, fill=pen.fill if shape.kind == "pool"
        else "none", stroke=pen.stroke, stroke_width=pen.width(1.5 if shape.kind == "pool" else 1),
        class_="bpmn-outline")
    black_box = shape.kind == "pool" and not shape.is_expanded
    if black_box:
        centred_label(parent, shape.name, b, NAME_SIZE, pen.text)
        return
    if shape.is_horizontal:
        band = Bounds(b.x, b.y, min(POOL_BAND, b.width), b.height)
        add(parent, "path", d=f"M{fmt(band.right)},{fmt(b.y)} V{fmt(b.bottom)}", stroke=pen.stroke,
            stroke_width=pen.width(1))
        vertical_name(parent, shape.name, band, pen)
    else:
        band = Bounds(b.x, b.y, b.width, min(POOL_BAND, b.height))
        add(parent, "path", d=f"M{fmt(b.x)},{fmt(band.bottom)} H{fmt(b.right)}", stroke=pen.stroke,
            stroke_width=pen.width(1))
        centred_label(parent, shape.name, band, NAME_SIZE, pen.text, padding=4)


def vertical_name(parent: Node, name: str, band: Bounds, pen: Pen) -> None:
    """A name read bottom to top, centred in a narrow band."""
    if not name:
        return
    lines = wrap(name, max(band.height - 10, NAME_SIZE), NAME_SIZE)[:2]
    centre = band.center
    height = len(lines) * NAME_SIZE * 1.2
    write_lines(parent, lines, centre.x, centre.y - height / 2, NAME_SIZE, pen.text,
                transform=f"rotate(-90 {fmt(centre.x)} {fmt(centre.y)})")


def draw_annotation(parent: Node, shape: Shape, pen: Pen) -> None:
    """An open bracket on the left with the text beside it."""
    b = shape.bounds
    arm = min(20.0, b.width)
    add(parent, "rect", x=b.x, y=b.y, width=b.width, height=b.height, fill="none", stroke="none")
    add(parent, "path", d=f"M{fmt(b.x + arm)},{fmt(b.y)} H{fmt(b.x)} V{fmt(b.bottom)} H{fmt(b.x + arm)}",
        fill="none", stroke=pen.stroke, stroke_width=pen.width(1.5), class_="bpmn-outline")
    text = shape.text or shape.name
    if text:
        lines = wrap(text, max(b.width - 10, EXTERNAL_SIZE), EXTERNAL_SIZE)
        write_lines(parent, lines, b.x + 5, b.y + 5, EXTERNAL_SIZE, pen.text, anchor="start")


def draw_group(parent: Node, shape: Shape, pen: Pen) -> None:
    """A dashed rounded box around related elements, its category value on top."""
    b = shape.bounds
    add(parent, "rect", x=b.x, y=b.y, width=b.width, height=b.height, rx=10, ry=10, fill="none",
        stroke=pen.stroke, stroke_width=pen.width(1.5), stroke_dasharray=GROUP_DASH, class_="bpmn-outline")
    if shape.label is not None:
        external_label(parent, shape.name, b, shape.label, INK)
    elif shape.name:
        lines = wrap(shape.name, max(b.width - 20, EXTERNAL_SIZE), EXTERNAL_SIZE)
        write_lines(parent, lines, b.center.x, b.y + 6, EXTERNAL_SIZE, pen.text)


def draw_other(parent: Node, shape: Shape, pen: Pen) -> None:
    """An element this drawing has no notation for: a dashed box with its name, so it is not lost."""
    b = shape.bounds
    add(parent, "rect", x=b.x, y=b.y, width=b.width, height=b.height, fill="none", stroke="#8a8d93",
        stroke_width=1, stroke_dasharray="4,3", class_="bpmn-outline")
    centred_label(parent, shape.name or shape.tag, b, EXTERNAL_SIZE, pen.text)
