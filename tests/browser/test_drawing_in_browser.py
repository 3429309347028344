"""Drawings checked in a real browser: Chromium lays out our SVG, and every shape's outline sits exactly
where the diagram's BPMNDI says (position and size), for a sample of MIWG files from every modeler."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from browser_helpers import screenshot
from testenv import ROOT, SHARED

from bpmn_requests.drawing import read_diagram, render_svg

MIWG = SHARED / "data" / "bpmn-miwg"
SAMPLE = [
    "Reference/A.2.0.bpmn", "Reference/B.2.0.bpmn", "Reference/C.1.0.bpmn",
    "bpmn.io (Camunda Modeler) 18.6.1/A.4.0-export.bpmn", "bpmn.io (Camunda Modeler) 18.6.1/C.2.0-export.bpmn",
    "SAP Signavio Process Manager 19.9.0/B.1.0-export.bpmn", "Trisotech Workflow Modeler 12.6.3/C.3.0-export.bpmn",
    "Camunda Eclipse Plugin 3.0.0/A.3.0-export.bpmn",
]

OUTLINES = """
() => Array.from(document.querySelectorAll('g.bpmn-shape[data-element-id]')).map(g => {
  const outline = g.querySelector(':scope > .bpmn-outline')
      || g.querySelector(':scope > circle, :scope > rect, :scope > path, :scope > polygon, :scope > ellipse');
  if (!outline) return null;
  const box = outline.getBBox();
  return {id: g.dataset.elementId, x: box.x, y: box.y, width: box.width, height: box.height};
}).filter(Boolean)
"""


def _files() -> list[Path]:
    shipped = sorted((ROOT / "processes").glob("*.bpmn"))
    if not MIWG.is_dir():
        return shipped
    return shipped + [MIWG / name for name in SAMPLE if (MIWG / name).exists()]


@pytest.mark.parametrize("path", _files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_every_shape_outline_is_drawn_where_the_diagram_puts_it(page: Any, path: Path) -> None:
    content = path.read_bytes()
    diagram = read_diagram(content)
    page.set_content(f"<!doctype html><html><body style='margin:0'>{render_svg(diagram)}</body></html>")
    drawn = {box["id"]: box for box in page.evaluate(OUTLINES)}
    expected = {shape.element_id: shape.bounds for shape in diagram.shapes}
    # A text annotation is drawn as an open bracket on its left edge, not a box: its width is the text's.
    annotations = {shape.element_id for shape in diagram.shapes if shape.tag == "textAnnotation"}
    assert drawn, f"no shape outlines in the drawing of {path.name}"
    missing = set(expected) - set(drawn)
    assert not missing, f"{path.name}: shapes without an outline: {sorted(missing)[:5]}"
    for element_id, box in drawn.items():
        bounds = expected[element_id]
        checks = [(box["x"], bounds.x), (box["y"], bounds.y), (box["height"], bounds.height)]
        if element_id not in annotations:
            checks.append((box["width"], bounds.width))
        for got, want in checks:
            assert abs(got - want) <= 1.5, f"{path.name} {element_id}: drawn {box}, DI says {bounds}"
    if path.parent.name == "processes":
        screenshot(page, f"diagram-{path.stem}")
