"""Server-side SVG drawing of BPMN diagrams from their diagram interchange (BPMNDI).

Pure: lxml and the standard library only, nothing built at import time.
"""

from .elements import Bounds, Diagram, Edge, EventTrigger, Point, Shape
from .highlights import Highlights
from .model import DrawingError, read_diagram, read_diagrams
from .svg import render_svg

__all__ = ["Bounds", "Diagram", "DrawingError", "Edge", "EventTrigger", "Highlights", "Point", "Shape",
           "read_diagram", "read_diagrams", "render_svg"]
