"""Text of the drawing: estimated widths, wrapping to a box, and where a label goes when the DI says nothing.

There is no font engine on the server: widths come from Arial's metrics for ASCII and an average for
the rest.
"""

from __future__ import annotations

from .canvas import Node, add
from .elements import Bounds, Point

LINE_HEIGHT = 1.2
EXTERNAL_WIDTH = 90.0
EXTERNAL_SIZE = 11.0
# Advance widths of Arial/Helvetica for printable ASCII, in thousandths of an em, from "space" to "~".
ASCII_WIDTHS = (
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278,
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556,
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778,
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556,
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556,
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584,
)
OTHER_WIDTH = 580
WIDE_FROM = 0x1100  # CJK and other full-width scripts take about a full em


def text_width(text: str, size: float) -> float:
    """Estimated width of one line of text in Arial (or a metric twin) of `size` pixels."""
    total = 0
    for char in text:
        code = ord(char)
        if 32 <= code <= 126:
            total += ASCII_WIDTHS[code - 32]
        else:
            total += 1000 if code >= WIDE_FROM else OTHER_WIDTH
    return total * size / 1000


def wrap(text: str, width: float, size: float) -> list[str]:
    """Greedy word wrap to `width`; explicit line breaks are kept and over-long words are cut."""
    lines: list[str] = []
    for paragraph in text.splitlines() or [""]:
        current = ""
        for word in paragraph.split():
            candidate = f"{current} {word}" if current else word
            if current and text_width(candidate, size) > width:
                lines.append(current)
                candidate = word
            while text_width(candidate, size) > width and len(candidate) > 1:
                cut = fitting_prefix(candidate, width, size)
                lines.append(candidate[:cut])
                candidate = candidate[cut:]
            current = candidate
        lines.append(current)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def fitting_prefix(word: str, width: float, size: float) -> int:
    for cut in range(len(word) - 1, 0, -1):
        if text_width(word[:cut], size) <= width:
            return cut
    return 1


def wrap_into(text: str, box: Bounds, size: float) -> list[str]:
    """Wrap to a DI label box without splitting words; widen a little when estimated widths would need more
    lines than the box holds."""
    allowed = max(1, round(box.height / (size * LINE_HEIGHT)))
    widest_word = max((text_width(word, size) for word in text.split()), default=0.0)
    width = max(box.width, widest_word, size * 2)
    lines = wrap(text, width, size)
    while len(lines) > allowed and width < box.width * 1.6:
        width *= 1.1
        lines = wrap(text, width, size)
    return lines


def write_lines(parent: Node, lines: list[str], x: float, top: float, size: float, color: str,
                anchor: str = "middle", transform: str | None = None) -> Node:
    """A <text> with one <tspan> per line, the first line's top at `top`."""
    text = add(parent, "text", x=x, y=top, font_size=size, fill=color, text_anchor=anchor,
               transform=transform, class_="bpmn-label")
    for index, line in enumerate(lines):
        span = add(text, "tspan", x=x, y=top + size * (0.9 + LINE_HEIGHT * index))
        span.text = line
    return text


def block_height(lines: list[str], size: float) -> float:
    return len(lines) * size * LINE_HEIGHT


def centred_label(parent: Node, text: str, box: Bounds, size: float, color: str, padding: float = 5) -> None:
    """A label wrapped to the inside of a shape, centred both ways."""
    if not text:
        return
    lines = wrap(text, max(box.width - 2 * padding, size), size)
    top = box.y + (box.height - block_height(lines, size)) / 2
    write_lines(parent, lines, box.x + box.width / 2, top, size, color)


def external_box(text: str, anchor: Bounds, label: Bounds | None, size: float = EXTERNAL_SIZE) -> Bounds:
    """Where an outside label is drawn: in the DI label box, else centred below the anchor."""
    if label is not None:
        lines = wrap_into(text, label, size)
        height = block_height(lines, size)
        width = max([text_width(line, size) for line in lines] + [label.width])
        centre = label.center
        top = min(label.y, centre.y - height / 2)
        return Bounds(centre.x - width / 2, top, width, max(height, label.height))
    lines = wrap(text, EXTERNAL_WIDTH, size)
    width = max([text_width(line, size) for line in lines] + [0.0])
    return Bounds(anchor.center.x - width / 2, anchor.bottom + 5, width, block_height(lines, size))


def external_label(parent: Node, text: str, anchor: Bounds, label: Bounds | None, color: str,
                   size: float = EXTERNAL_SIZE) -> None:
    """A label outside its shape (events, gateways, data, flows): where the DI puts it, else below."""
    if not text:
        return
    if label is not None:
        lines = wrap_into(text, label, size)
        top = label.center.y - block_height(lines, size) / 2
        write_lines(parent, lines, label.center.x, top, size, color)
        return
    lines = wrap(text, EXTERNAL_WIDTH, size)
    write_lines(parent, lines, anchor.center.x, anchor.bottom + 5, size, color)


def point_box(point: Point) -> Bounds:
    """A zero-size anchor placing a below-label just above a point (flow labels without DI)."""
    return Bounds(point.x, point.y - 22, 0, 0)
