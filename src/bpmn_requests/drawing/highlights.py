"""State drawn over a diagram: completed and active elements, and a version heatmap (waiting counts and
average time spent per element) with its badges, colour scale and legend."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .canvas import INK, Node, Pen, add
from .elements import Bounds, Shape
from .labels import text_width

COMPLETED = "#2e7d32"
ACTIVE = "#1565c0"
BADGE = "#263238"
HEAT_STEPS = ("#fff3e0", "#ffd8a8", "#ffb366", "#f7862f", "#d9480f", "#8c2c0b")
DARK_FROM_STEP = 4
HEATED_KINDS = frozenset({"activity", "event", "gateway", "data_object", "data_store"})
LEGEND_SIZE = 11.0


@dataclass
class Highlights:
    """What to mark on a drawing: element ids completed and active, and per-element heat figures."""

    completed: set[str] = field(default_factory=set)
    active: set[str] = field(default_factory=set)
    counts: dict[str, int] = field(default_factory=dict)
    durations: dict[str, float] = field(default_factory=dict)


class Heat:
    """Maps one drawing's figures onto the colour steps, light to dark: average durations when given,
    else counts."""

    def __init__(self, highlights: Highlights) -> None:
        self.by_duration = bool(highlights.durations)
        source = highlights.durations if self.by_duration else highlights.counts
        self.values = {key: float(value) for key, value in source.items() if math.isfinite(value) and value > 0}
        self.low = min(self.values.values(), default=0.0)
        self.high = max(self.values.values(), default=0.0)

    def step(self, element_id: str) -> int | None:
        """The colour step: counts on a linear scale, durations (minutes to days) on a logarithmic one."""
        value = self.values.get(element_id)
        if value is None:
            return None
        last = len(HEAT_STEPS) - 1
        if not self.by_duration:
            return max(0, min(last, math.ceil(value / self.high * len(HEAT_STEPS)) - 1))
        if self.high <= self.low:
            return last
        return round(math.log(value / self.low) / math.log(self.high / self.low) * last)

    def describe(self, value: float) -> str:
        return format_duration(value) if self.by_duration else str(round(value))


def pen_for(element_id: str, kind: str, highlights: Highlights | None, heat: Heat | None) -> Pen:
    """Green for completed, a heavier blue for active, and the heat colour as fill."""
    if highlights is None:
        return Pen()
    pen = Pen()
    step = heat.step(element_id) if heat is not None and kind in HEATED_KINDS else None
    if step is not None:
        pen = Pen(fill=HEAT_STEPS[step], text=Pen().fill if step >= DARK_FROM_STEP else INK)
    if element_id in highlights.active:
        return Pen(stroke=ACTIVE, fill=pen.fill, text=pen.text, weight=1.6)
    if element_id in highlights.completed:
        return Pen(stroke=COMPLETED, fill=pen.fill, text=pen.text, weight=1.3)
    return pen


def state_classes(element_id: str, highlights: Highlights | None, heat: Heat | None) -> list[str]:
    if highlights is None:
        return []
    classes = []
    if element_id in highlights.active:
        classes.append("bpmn-active")
    elif element_id in highlights.completed:
        classes.append("bpmn-completed")
    if heat is not None and heat.step(element_id) is not None:
        classes.append("bpmn-heat")
    return classes


def active_outline(parent: Node, shape: Shape) -> None:
    """A dashed blue ring around an active element, so it stands out even where colours do not."""
    b, gap = shape.bounds, 5.0
    if shape.kind == "event":
        add(parent, "circle", cx=b.center.x, cy=b.center.y, r=min(b.width, b.height) / 2 + gap, fill="none",
            stroke=ACTIVE, stroke_width=2, stroke_dasharray="5,3", class_="bpmn-active-outline")
        return
    add(parent, "rect", x=b.x - gap, y=b.y - gap, width=b.width + 2 * gap, height=b.height + 2 * gap, rx=8,
        ry=8, fill="none", stroke=ACTIVE, stroke_width=2, stroke_dasharray="5,3", class_="bpmn-active-outline")


def badges(parent: Node, bounds: Bounds, highlights: Highlights, element_id: str) -> None:
    """The waiting count at the top right corner, the average time at the bottom right."""
    count = highlights.counts.get(element_id)
    duration = highlights.durations.get(element_id)
    if count:
        pill(parent, bounds.right + 6, bounds.y - 9, str(count), BADGE, Pen().fill, "bpmn-badge-count",
             f"{count} waiting")
    if duration is not None and math.isfinite(duration) and duration > 0:
        pill(parent, bounds.right + 6, bounds.bottom - 9, format_duration(duration), Pen().fill, BADGE,
             "bpmn-badge-duration", f"average time spent: {format_duration(duration)}")


def pill(parent: Node, right: float, top: float, text: str, fill: str, ink: str, css: str,
         title: str) -> Bounds:
    width = max(18.0, text_width(text, LEGEND_SIZE) + 10)
    node = add(parent, "g", class_=f"bpmn-badge {css}")
    add(node, "title").text = title
    add(node, "rect", x=right - width, y=top, width=width, height=18, rx=9, ry=9, fill=fill, stroke=BADGE,
        stroke_width=1)
    label = add(node, "text", x=right - width / 2, y=top + 12.8, font_size=LEGEND_SIZE, fill=ink,
                text_anchor="middle")
    label.text = text
    return Bounds(right - width, top, width, 18)


def format_duration(seconds: float) -> str:
    """A short human duration: 40 s, 12 min, 3.5 h, 2.1 d."""
    for unit_seconds, suffix in ((86400.0, "d"), (3600.0, "h"), (60.0, "min")):
        if seconds >= unit_seconds:
            value = seconds / unit_seconds
            return f"{value:.1f} {suffix}".replace(".0 ", " ") if value < 10 else f"{round(value)} {suffix}"
    return f"{round(seconds)} s"


def draw_legend(parent: Node, x: float, y: float, highlights: Highlights, heat: Heat | None) -> Bounds:
    """A one-row key below the diagram; returns the area it takes."""
    legend = add(parent, "g", class_="bpmn-legend")
    cursor = x
    for label, stroke, weight in (("completed", COMPLETED, 1.3), ("active", ACTIVE, 1.6)):
        add(legend, "rect", x=cursor, y=y, width=28, height=18, rx=4, ry=4, fill=Pen().fill, stroke=stroke,
            stroke_width=2 * weight)
        cursor = legend_text(legend, cursor + 34, y, label) + 16
    if heat is not None and heat.values:
        if highlights.counts:
            cursor = pill(legend, cursor + 18, y, "n", BADGE, Pen().fill, "bpmn-badge-count", "waiting").right
            cursor = legend_text(legend, cursor + 6, y, "instances waiting") + 16
        metric = "colour: average time spent" if heat.by_duration else "colour: instances waiting"
        cursor = legend_text(legend, cursor, y, f"{metric}: {heat.describe(heat.low)}") + 6
        for colour in HEAT_STEPS:
            add(legend, "rect", x=cursor, y=y, width=16, height=18, fill=colour, stroke="#b0b3b8",
                stroke_width=0.5)
            cursor += 16
        cursor = legend_text(legend, cursor + 6, y, heat.describe(heat.high))
    return Bounds(x, y, cursor - x, 18)


def legend_text(parent: Node, x: float, y: float, text: str) -> float:
    label = add(parent, "text", x=x, y=y + 13, font_size=LEGEND_SIZE, fill=INK)
    label.text = text
    return x + text_width(text, LEGEND_SIZE)
