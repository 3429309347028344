"""SVG building blocks: element creation with presentation attributes, numbers, paths and the pen of a shape.

Styles are presentation attributes rather than a <style> sheet, so a drawing inlined in a page neither
leaks CSS into it nor picks any up.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from lxml import etree

from .elements import Point

SVG_NS = "http://www.w3.org/2000/svg"
INK = "#22242a"
PAPER = "#ffffff"
FONT = "Arial, Helvetica, sans-serif"

Node = Any


@dataclass(frozen=True, slots=True)
class Pen:
    """The colours and line weight one element is drawn with."""

    stroke: str = INK
    fill: str = PAPER
    text: str = INK
    weight: float = 1.0

    def width(self, base: float) -> str:
        return fmt(base * self.weight)

    def with_fill(self, fill: str) -> Pen:
        return replace(self, fill=fill)


def fmt(value: float) -> str:
    """A compact decimal for SVG: at most two decimals, no trailing zeros, no negative zero."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def add(parent: Node, tag: str, **attributes: str | float | None) -> Node:
    """Append an SVG element. Attribute names use `_` for `-` and a trailing `_` for reserved words;
    None values are left out."""
    element = etree.SubElement(parent, f"{{{SVG_NS}}}{tag}")
    for key, value in attributes.items():
        if value is None:
            continue
        name = key.rstrip("_").replace("_", "-")
        element.set(name, fmt(value) if isinstance(value, float | int) else value)
    return element


def svg_root(**attributes: str | float | None) -> Node:
    root = etree.Element(f"{{{SVG_NS}}}svg", nsmap={None: SVG_NS})
    for key, value in attributes.items():
        if value is not None:
            root.set(key.rstrip("_").replace("_", "-"), fmt(value) if isinstance(value, float | int) else value)
    return root


def group(parent: Node, element_id: str, classes: Iterable[str]) -> Node:
    """The <g> of one drawn element, findable by `data-element-id` and its classes."""
    node = add(parent, "g", class_=" ".join(classes))
    node.set("data-element-id", element_id)
    return node


def polyline_data(points: Iterable[Point], close: bool = False) -> str:
    parts = [f"{fmt(point.x)},{fmt(point.y)}" for point in points]
    data = "M" + " L".join(parts)
    return data + " Z" if close else data


def offset(point: Point, dx: float, dy: float) -> Point:
    return Point(point.x + dx, point.y + dy)


def unit(start: Point, end: Point) -> tuple[float, float]:
    """The unit vector from start to end, (1, 0) when they coincide."""
    length = math.hypot(end.x - start.x, end.y - start.y)
    if length == 0:
        return 1.0, 0.0
    return (end.x - start.x) / length, (end.y - start.y) / length


class Glyph:
    """Maps a glyph drawn in a unit frame (centre 0,0) onto the page at a centre and scale."""

    def __init__(self, cx: float, cy: float, scale: float) -> None:
        self.cx, self.cy, self.scale = cx, cy, scale

    def point(self, u: float, v: float) -> Point:
        return Point(self.cx + u * self.scale, self.cy + v * self.scale)

    def polygon(self, coordinates: Iterable[tuple[float, float]]) -> str:
        return polyline_data((self.point(u, v) for u, v in coordinates), close=True)

    def lines(self, segments: Iterable[tuple[float, float, float, float]]) -> str:
        return " ".join(f"M{fmt(a.x)},{fmt(a.y)} L{fmt(b.x)},{fmt(b.y)}"
                        for a, b in ((self.point(u1, v1), self.point(u2, v2)) for u1, v1, u2, v2 in segments))

    def size(self, value: float) -> float:
        return value * self.scale


def regular_polygon(sides: int, radius: float, rotation: float = -90.0) -> list[tuple[float, float]]:
    """Corners of a regular polygon around 0,0, the first one at `rotation` degrees (default: straight up)."""
    return [(radius * math.cos(math.radians(rotation + 360.0 * i / sides)),
             radius * math.sin(math.radians(rotation + 360.0 * i / sides))) for i in range(sides)]


def cross(arm: float, half_width: float, angle: float = 0.0) -> list[tuple[float, float]]:
    """The outline of a plus sign (a 45 degree `angle` makes an X), arms `arm` long from the centre."""
    a, w = arm, half_width
    corners = [(-w, -a), (w, -a), (w, -w), (a, -w), (a, w), (w, w), (w, a), (-w, a), (-w, w), (-a, w),
               (-a, -w), (-w, -w)]
    cos, sin = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    return [(u * cos - v * sin, u * sin + v * cos) for u, v in corners]
