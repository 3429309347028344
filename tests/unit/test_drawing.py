"""Server-side SVG drawing (bpmn_requests.drawing): the notation of every element type, geometry taken from
the DI, escaping, highlights, safe reading, and the MIWG test suite's real diagrams."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from lxml import etree
from testenv import ROOT, SHARED

from bpmn_requests.drawing import DrawingError, Highlights, read_diagram, read_diagrams, render_svg
from bpmn_requests.drawing.highlights import HEAT_STEPS
from bpmn_requests.drawing.labels import wrap

FIXTURES = Path(__file__).parent / "drawing_fixtures"
MIWG = Path(os.environ.get("BPMN_TESTS_MIWG", SHARED / "data" / "bpmn-miwg"))
MIWG_FOLDERS = ("Reference", "bpmn.io (Camunda Modeler) 18.6.1", "SAP Signavio Process Manager 19.9.0",
                "Trisotech Workflow Modeler 12.6.3", "Camunda Eclipse Plugin 3.0.0")
S = "{http://www.w3.org/2000/svg}"
BPMNDI = "{http://www.omg.org/spec/BPMN/20100524/DI}"
INK, PAPER = "#22242a", "#ffffff"


def drawing(name: str, highlights: Highlights | None = None, title: str | None = None) -> etree._Element:
    svg = render_svg((FIXTURES / f"{name}.bpmn").read_bytes(), highlights=highlights, title=title)
    return etree.fromstring(svg.encode())


def node(svg: etree._Element, element_id: str) -> etree._Element:
    found = svg.findall(f".//{S}g[@data-element-id='{element_id}']")
    assert len(found) == 1, f"{element_id}: {len(found)} groups"
    return found[0]


def classes(element: etree._Element) -> set[str]:
    return set((element.get("class") or "").split())


def numbers(path_data: str) -> list[float]:
    return [float(value) for value in re.findall(r"-?\d+(?:\.\d+)?", path_data)]


def di_bounds(name: str, element_id: str) -> tuple[float, ...]:
    root = etree.parse(str(FIXTURES / f"{name}.bpmn")).getroot()
    shape = root.find(f".//{BPMNDI}BPMNShape[@bpmnElement='{element_id}']")
    bounds = next(child for child in shape if etree.QName(child).localname == "Bounds")
    return tuple(float(bounds.get(key)) for key in ("x", "y", "width", "height"))


def outline(group: etree._Element) -> etree._Element:
    return group.find(f"{S}*[@class='bpmn-outline']")


# Activities ---------------------------------------------------------------------------------------------

TASK_ICONS = {"Task_User": "user", "Task_Service": "service", "Task_Script": "script",
              "Task_BusinessRule": "business-rule", "Task_Send": "send", "Task_Receive": "receive",
              "Task_Manual": "manual"}


@pytest.mark.parametrize("element_id", ["Task_Plain", *TASK_ICONS])
def test_task_is_a_rounded_rect_at_its_di_bounds_with_its_type_icon(element_id: str) -> None:
    group = node(drawing("activities"), element_id)
    rect = outline(group)
    assert "bpmn-task" in classes(group) and rect.tag == f"{S}rect"
    x, y, width, height = di_bounds("activities", element_id)
    assert [float(rect.get(key)) for key in ("x", "y", "width", "height")] == [x, y, width, height]
    assert float(rect.get("rx")) > 0 and rect.get("stroke-width") == "2"
    icons = [classes(icon) for icon in group.iter(f"{S}g") if "bpmn-icon" in classes(icon)]
    assert icons == ([{"bpmn-icon", f"bpmn-icon-{TASK_ICONS[element_id]}"}] if element_id in TASK_ICONS else [])


def test_send_icon_is_filled_and_receive_icon_outlined() -> None:
    svg = drawing("activities")
    send = node(svg, "Task_Send").find(f".//{S}g[@class='bpmn-icon bpmn-icon-send']/{S}rect")
    receive = node(svg, "Task_Receive").find(f".//{S}g[@class='bpmn-icon bpmn-icon-receive']/{S}rect")
    assert (send.get("fill"), receive.get("fill")) == (INK, PAPER)


def markers(group: etree._Element) -> set[str]:
    return {name.removeprefix("bpmn-marker-") for element in group.iter(f"{S}g")
            for name in classes(element) if name.startswith("bpmn-marker-")}


@pytest.mark.parametrize(("element_id", "expected"), [
    ("Task_Loop", {"loop"}), ("Task_MultiParallel", {"parallel"}), ("Task_MultiSequential", {"sequential"}),
    ("Task_Compensation", {"compensation"}), ("Sub_AdHoc", {"ad-hoc", "collapsed"}),
    ("Sub_Collapsed", {"collapsed"}), ("Call_Process", {"collapsed"}), ("Call_GlobalTask", set()),
    ("Sub_Expanded", set()), ("Task_Plain", set()),
])
def test_activity_markers(element_id: str, expected: set[str]) -> None:
    assert markers(node(drawing("activities"), element_id)) == expected


def test_call_activity_has_the_thick_border_and_a_called_global_task_its_icon() -> None:
    svg = drawing("activities")
    for element_id in ("Call_Process", "Call_GlobalTask"):
        group = node(svg, element_id)
        assert "bpmn-call-activity" in classes(group) and outline(group).get("stroke-width") == "5"
    assert node(svg, "Call_GlobalTask").find(f".//{S}g[@class='bpmn-icon bpmn-icon-user']") is not None


def test_expanded_subprocess_is_open_with_its_name_top_left_and_children_drawn_inside() -> None:
    svg = drawing("activities")
    group = node(svg, "Sub_Expanded")
    assert {"bpmn-subprocess", "bpmn-expanded"} <= classes(group)
    label = group.find(f".//{S}text")
    assert label.get("text-anchor") == "start" and float(label.get("x")) < 120
    x, y, width, height = di_bounds("activities", "Sub_Expanded")
    child = node(svg, "Start_InSub").find(f"{S}circle")
    assert x < float(child.get("cx")) < x + width and y < float(child.get("cy")) < y + height


def test_event_subprocess_is_dotted_and_a_collapsed_one_shows_its_trigger() -> None:
    svg = drawing("activities")
    for element_id in ("Sub_EventExpanded", "Sub_EventCollapsed"):
        group = node(svg, element_id)
        assert "bpmn-event-subprocess" in classes(group) and outline(group).get("stroke-dasharray")
    assert "bpmn-expanded" in classes(node(svg, "Sub_EventExpanded"))  # no isExpanded, but its child is drawn
    corner = node(svg, "Sub_EventCollapsed")
    assert corner.find(f".//{S}g[@class='bpmn-glyph bpmn-glyph-message']") is not None
    assert corner.find(f"{S}circle").get("stroke-dasharray")  # its start event is non-interrupting


def test_transaction_has_a_double_border() -> None:
    group = node(drawing("activities"), "Sub_Transaction")
    outer, inner = outline(group), group.find(f"{S}rect[@class='bpmn-inner-outline']")
    assert float(inner.get("x")) == float(outer.get("x")) + 3
    assert float(inner.get("width")) == float(outer.get("width")) - 6


# Events -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("element_id", "widths"), [
    ("Start_None", ["2"]), ("Catch_Message", ["1.5", "1.5"]), ("Throw_None", ["1.5", "1.5"]),
    ("End_None", ["4"]), ("Boundary_Error", ["1.5", "1.5"]),
])
def test_event_rings_tell_start_intermediate_and_end_apart(element_id: str, widths: list[str]) -> None:
    group = node(drawing("events"), element_id)
    rings = group.findall(f"{S}circle")
    assert [ring.get("stroke-width") for ring in rings] == widths
    x, y, width, height = di_bounds("events", element_id)
    assert (float(rings[0].get("cx")), float(rings[0].get("cy")), float(rings[0].get("r"))) == (
        x + width / 2, y + height / 2, width / 2)


EVENT_TRIGGERS = [
    ("Start_Message", "message", False), ("Start_Timer", "timer", False), ("Start_Conditional", "conditional", False),
    ("Start_Signal", "signal", False), ("Start_Multiple", "multiple", False),
    ("Start_ParallelMultiple", "parallel-multiple", False), ("Catch_Link", "link", False),
    ("Throw_Message", "message", True), ("Throw_Escalation", "escalation", True), ("Throw_Link", "link", True),
    ("Throw_Compensation", "compensation", True), ("Throw_Signal", "signal", True), ("Throw_Multiple", "multiple", True),
    ("End_Message", "message", True), ("End_Error", "error", True), ("End_Cancel", "cancel", True),
    ("End_Terminate", "terminate", True), ("Boundary_Cancel", "cancel", False),
    ("Boundary_Compensation", "compensation", False), ("Boundary_Escalation", "escalation", False),
]


@pytest.mark.parametrize(("element_id", "kind", "throwing"), EVENT_TRIGGERS)
def test_event_glyph_is_filled_when_throwing_and_outlined_when_catching(element_id: str, kind: str,
                                                                      throwing: bool) -> None:
    group = node(drawing("events"), element_id)
    assert {f"bpmn-{kind}-trigger", "bpmn-throwing" if throwing else "bpmn-catching"} <= classes(group)
    glyph = group.find(f"{S}g[@class='bpmn-glyph bpmn-glyph-{kind}']")
    fills = {element.get("fill") for element in glyph if element.tag in (f"{S}path", f"{S}circle")}
    assert (INK in fills) == (throwing or kind == "terminate")


def test_events_without_a_trigger_have_no_glyph() -> None:
    svg = drawing("events")
    for element_id in ("Start_None", "Throw_None", "End_None"):
        assert node(svg, element_id).find(f"{S}g") is None


@pytest.mark.parametrize(("element_id", "dashed"), [
    ("Boundary_TimerNonInterrupting", True), ("Boundary_MessageNonInterrupting", True), ("Boundary_Error", False),
    ("Start_EscalationNonInterrupting", True), ("Start_ErrorInterrupting", False),
])
def test_non_interrupting_events_are_dashed(element_id: str, dashed: bool) -> None:
    group = node(drawing("events"), element_id)
    assert ("bpmn-non-interrupting" in classes(group)) == dashed
    assert all(bool(ring.get("stroke-dasharray")) == dashed for ring in group.findall(f"{S}circle"))


def test_boundary_events_are_drawn_over_their_activity() -> None:
    ids = [group.get("data-element-id") for group in drawing("events").iter(f"{S}g")]
    assert ids.index("Boundary_Error") > ids.index("Task_Guarded")


# Gateways and flows -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("element_id", "marker", "parts"), [
    ("Gateway_Exclusive", "exclusive", ["path"]), ("Gateway_MarkerByDefault", "exclusive", ["path"]),
    ("Gateway_NoMarker", "exclusive", []), ("Gateway_Parallel", "parallel", ["path"]),
    ("Gateway_Inclusive", "inclusive", ["circle"]), ("Gateway_Complex", "complex", ["path"]),
    ("Gateway_EventBased", "event-based", ["circle", "circle", "path"]),
    ("Gateway_EventBasedInstantiate", "event-based", ["circle", "path"]),
    ("Gateway_EventBasedParallel", "event-based", ["circle", "path"]),
])
def test_gateway_is_a_diamond_in_its_bounds_with_its_marker(element_id: str, marker: str, parts: list[str]) -> None:
    group = node(drawing("gateways"), element_id)
    x, y, width, height = di_bounds("gateways", element_id)
    diamond = outline(group)
    assert diamond.tag == f"{S}path"
    assert numbers(diamond.get("d")) == [x + width / 2, y, x + width, y + height / 2, x + width / 2, y + height,
                                         x, y + height / 2]
    found = group.find(f"{S}g[@class='bpmn-marker bpmn-marker-{marker}']")
    assert [etree.QName(part).localname for part in found] == parts


def test_sequence_flow_follows_its_waypoints_to_a_filled_arrowhead() -> None:
    group = node(drawing("gateways"), "Flow_DefaultFromTask")
    assert numbers(group.find(f"{S}path[@class='bpmn-line']").get("d")) == [400, 160, 440, 160, 440, 220, 480, 220]
    arrow = group.find(f"{S}path[@class='bpmn-arrow']")
    assert numbers(arrow.get("d"))[:2] == [480, 220] and arrow.get("fill") == INK


@pytest.mark.parametrize(("element_id", "default", "diamond"), [
    ("Flow_Otherwise", True, False), ("Flow_DefaultFromTask", True, False),
    ("Flow_ConditionalFromTask", False, True), ("Flow_ConditionalFromGateway", False, False),
])
def test_default_slash_and_conditional_diamond_at_the_source(element_id: str, default: bool, diamond: bool) -> None:
    group = node(drawing("gateways"), element_id)
    assert (group.find(f"{S}path[@class='bpmn-default-marker']") is not None) == default
    marker = group.find(f"{S}path[@class='bpmn-conditional-marker']")
    assert (marker is not None) == diamond
    if diamond:
        assert numbers(marker.get("d"))[:2] == [400, 110] and marker.get("fill") == PAPER


def test_message_flow_is_dashed_from_an_open_circle_to_an_open_arrow() -> None:
    svg = drawing("collaboration")
    group = node(svg, "MessageFlow_Order")
    assert group.find(f"{S}path[@class='bpmn-line']").get("stroke-dasharray")
    source = group.find(f"{S}circle[@class='bpmn-source-marker']")
    assert (float(source.get("cx")), float(source.get("cy")), source.get("fill")) == (198, 440, PAPER)
    assert group.find(f"{S}path[@class='bpmn-arrow']").get("fill") == PAPER
    assert node(svg, "MessageFlow_Pay").find(f"{S}rect") is not None  # messageVisibleKind: an envelope


@pytest.mark.parametrize(("element_id", "arrows"), [
    ("Association_None", 0), ("Association_One", 1), ("Association_Both", 2), ("DataIn_Orders", 1),
    ("DataOut_Orders", 1),
])
def test_associations_are_dotted_with_open_arrows_as_directed(element_id: str, arrows: int) -> None:
    group = node(drawing("collaboration"), element_id)
    assert group.find(f"{S}path[@class='bpmn-line']").get("stroke-dasharray")
    found = group.findall(f"{S}path[@class='bpmn-arrow']")
    assert len(found) == arrows and all(arrow.get("fill") == "none" for arrow in found)


# Data, pools, artifacts ---------------------------------------------------------------------------------

def test_data_objects_show_collection_and_input_output_markers() -> None:
    svg = drawing("collaboration")
    orders, order_form, receipt = (node(svg, i) for i in ("DataObjectRef_Orders", "DataInput_Order", "DataOutput_Receipt"))
    assert orders.find(f"{S}path[@class='bpmn-collection']") is not None
    assert order_form.find(f"{S}path[@class='bpmn-data-input']").get("fill") == PAPER
    assert receipt.find(f"{S}path[@class='bpmn-data-output']").get("fill") == INK
    assert receipt.find(f"{S}path[@class='bpmn-collection']") is not None
    x, y, width, height = di_bounds("collaboration", "DataObjectRef_Orders")
    assert numbers(outline(orders).get("d"))[:2] == [x, y]


def test_data_store_is_a_cylinder_across_its_bounds() -> None:
    group = node(drawing("collaboration"), "DataStoreRef_Stock")
    x, y, width, height = di_bounds("collaboration", "DataStoreRef_Stock")
    top = group.find(f"{S}ellipse")
    assert (float(top.get("cx")), float(top.get("rx"))) == (x + width / 2, width / 2)


def test_pools_and_lanes_have_their_names_in_a_band() -> None:
    svg = drawing("collaboration")
    shop = node(svg, "Participant_Shop")
    x, y, width, height = di_bounds("collaboration", "Participant_Shop")
    assert [float(outline(shop).get(k)) for k in ("x", "y", "width", "height")] == [x, y, width, height]
    assert shop.find(f"{S}text").get("transform", "").startswith("rotate(-90")
    assert node(svg, "Lane_Sales").find(f"{S}text").get("transform", "").startswith("rotate(-90")
    assert node(svg, "Participant_Bank").find(f"{S}text").get("transform") is None  # vertical pool
    customer = node(svg, "Participant_Customer")  # black box: no band, name in the middle
    assert customer.find(f"{S}path") is None and customer.find(f"{S}text").get("transform") is None


def test_annotation_is_an_open_bracket_with_its_text_and_group_a_dashed_box_with_its_category() -> None:
    svg = drawing("collaboration")
    annotation = node(svg, "Annotation_Pack")
    assert numbers(outline(annotation).get("d")) == [580, 180, 560, 220, 580]
    assert "".join(annotation.find(f"{S}text").itertext()) == "Pack within 2 days & ship"
    group = node(svg, "Group_Fulfilment")
    assert outline(group).get("stroke-dasharray") and outline(group).get("fill") == "none"
    assert "".join(group.find(f"{S}text").itertext()) == "Fulfilment"


# Labels and escaping ------------------------------------------------------------------------------------

def test_labels_go_where_the_di_puts_them_else_below_the_shape() -> None:
    svg = drawing("events")
    placed = node(svg, "Start_None").find(f"{S}text")
    assert float(placed.get("x")) == 82 + 72 / 2
    below = node(svg, "Start_Message").find(f"{S}text")
    assert float(below.get("x")) == 100 + 120 + 18 and float(below.get("y")) > 80 + 36


def test_names_are_escaped_and_no_markup_gets_through() -> None:
    svg_text = render_svg((FIXTURES / "escaping.bpmn").read_bytes(), title="<b>Title</b> & more")
    assert "<script" not in svg_text and "<svg onload" not in svg_text and "<b>" not in svg_text
    assert "&lt;script&gt;" in svg_text and "&amp; Co" in svg_text
    svg = etree.fromstring(svg_text.encode())
    assert "".join(node(svg, "Task_Script").find(f"{S}text").itertext()) == '<script>alert("x")</script> & Co'
    assert "".join(node(svg, "Annotation_Cdata").find(f"{S}text").itertext()) == ']]> & <svg onload="alert(1)">'
    assert [line.text for line in node(svg, "End_Quotes").iter(f"{S}tspan")] == ['Say "done" &', "<leave>"]
    assert svg.find(f"{S}title").text == "<b>Title</b> & more"


def test_wrapping_keeps_words_whole_and_cuts_only_words_too_long_for_the_box() -> None:
    assert wrap("Review the disputed invoice", 80, 12) == ["Review the", "disputed", "invoice"]
    assert all(len(line) < 12 for line in wrap("Supercalifragilistic", 40, 12))


@pytest.mark.parametrize("name", ["activities", "events", "gateways", "collaboration", "escaping"])
def test_svg_is_standalone_valid_xml_with_a_viewbox_holding_every_shape(name: str) -> None:
    svg = drawing(name)
    assert svg.tag == f"{S}svg" and svg.get("version") == "1.1"
    left, top, width, height = (float(value) for value in svg.get("viewBox").split())
    for shape in read_diagram((FIXTURES / f"{name}.bpmn").read_bytes()).shapes:
        b = shape.bounds
        assert left <= b.x and top <= b.y and b.right <= left + width and b.bottom <= top + height, shape.element_id
    for element in svg.iter():
        assert etree.QName(element).localname not in ("script", "foreignObject", "image", "use", "a")
        assert not any(key.startswith("on") or "href" in key for key in element.attrib)
        assert not any("url(" in value for value in element.attrib.values())


# Highlights ---------------------------------------------------------------------------------------------

def test_completed_elements_turn_green_and_active_ones_blue_with_an_outline() -> None:
    svg = drawing("gateways", Highlights(completed={"Start_Gateways", "Flow_Start"}, active={"Task_A"}))
    start, flow, task = node(svg, "Start_Gateways"), node(svg, "Flow_Start"), node(svg, "Task_A")
    assert "bpmn-completed" in classes(start) and start.find(f"{S}circle").get("stroke") == "#2e7d32"
    assert flow.find(f"{S}path").get("stroke") == "#2e7d32"
    assert "bpmn-active" in classes(task) and outline(task).get("stroke") == "#1565c0"
    assert float(outline(task).get("stroke-width")) > 2
    assert task.find(f"{S}rect[@class='bpmn-active-outline']") is not None
    assert svg.find(f"{S}g[@class='bpmn-legend']") is not None
    assert drawing("gateways").find(f"{S}g[@class='bpmn-legend']") is None


def test_heatmap_fills_darker_where_more_instances_wait_and_shows_badges() -> None:
    heat = Highlights(counts={"Task_A": 1, "Task_B": 10}, durations={"Task_B": 5400.0})
    svg = drawing("gateways", Highlights(counts=heat.counts))
    light, dark = outline(node(svg, "Task_A")).get("fill"), outline(node(svg, "Task_B")).get("fill")
    assert light != dark and sum(int(light[i:i + 2], 16) for i in (1, 3, 5)) > sum(int(dark[i:i + 2], 16) for i in (1, 3, 5))
    assert "bpmn-heat" in classes(node(svg, "Task_B"))
    badged = node(drawing("gateways", heat), "Task_B")
    assert badged.find(f".//{S}g[@class='bpmn-badge bpmn-badge-count']/{S}text").text == "10"
    assert badged.find(f".//{S}g[@class='bpmn-badge bpmn-badge-duration']/{S}text").text == "1.5 h"


def test_heatmap_by_time_spent_spreads_minutes_to_days_over_the_whole_scale() -> None:
    svg = drawing("gateways", Highlights(durations={"Task_A": 60.0, "Task_B": 3600.0, "Task_C": 86400.0}))
    fills = [outline(node(svg, element_id)).get("fill") for element_id in ("Task_A", "Task_B", "Task_C")]
    assert fills[0] == HEAT_STEPS[0] and fills[2] == HEAT_STEPS[-1] and fills[1] in HEAT_STEPS[1:-1]
    legend = "".join(svg.find(f"{S}g[@class='bpmn-legend']").itertext())
    assert "average time spent: 1 min" in legend and legend.endswith("1 d")


# Reading ------------------------------------------------------------------------------------------------

def test_the_package_is_pure_and_importing_it_builds_nothing() -> None:
    code = ("import sys, bpmn_requests.drawing; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('flask', 'sqlalchemy', 'SpiffWorkflow', 'marshmallow') or m.startswith('bpmn_requests.engine')))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_elements_without_di_are_reported_missing_and_di_without_elements_unresolved() -> None:
    diagram = read_diagram((FIXTURES / "collaboration.bpmn").read_bytes())
    assert diagram.missing == ("Task_NoDI",) and diagram.unresolved == ("Flow_Ghost",)


def test_a_file_with_several_diagrams_draws_the_first_or_the_one_asked_for() -> None:
    content = (FIXTURES / "multiple_diagrams.bpmn").read_bytes()
    assert [diagram.plane_element for diagram in read_diagrams(content)] == ["Collab_Main", "Sub_Review"]
    assert read_diagram(content).diagram_id == "Diagram_Main"
    assert read_diagram(content, element_id="Process_Main").diagram_id == "Diagram_Main"
    review = read_diagram(content, element_id="Sub_Review")
    assert review.diagram_id == "Diagram_Review" and review.missing == ()
    svg = etree.fromstring(render_svg(review).encode())
    assert {group.get("data-element-id") for group in svg.iter(f"{S}g") if group.get("data-element-id")} == {
        "Start_Review", "Task_Review", "Flow_Review"}
    with pytest.raises(DrawingError, match="no diagram shows"):
        read_diagram(content, element_id="Nowhere")


@pytest.mark.parametrize(("content", "message"), [
    (b'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY e "x">]><d>&e;</d>', "DOCTYPE"),
    (b"<definitions", "not well-formed"),
    (b'<definitions xmlns="urn:other"/>', "not a BPMN 2.0 file"),
    (b'<definitions xmlns="http://www.omg.org/spec/BPMN/20100524/MODEL"/>', "no diagram interchange"),
])
def test_unsafe_malformed_or_empty_files_are_refused(content: bytes, message: str) -> None:
    with pytest.raises(DrawingError, match=message):
        render_svg(content)


def test_shapes_with_invalid_bounds_are_not_drawn_but_reported() -> None:
    content = (FIXTURES / "gateways.bpmn").read_bytes().replace(b'x="480" y="60"', b'x="NaN" y="60"')
    diagram = read_diagram(content)
    assert "Task_C" in diagram.missing and "Task_C" not in {shape.element_id for shape in diagram.shapes}


# Real diagrams ------------------------------------------------------------------------------------------

def drawn_ids(svg_text: str, kind: str) -> Counter[str]:
    svg = etree.fromstring(svg_text.encode())
    return Counter(group.get("data-element-id") for group in svg.iter(f"{S}g") if f"bpmn-{kind}" in classes(group))


def di_ids(content: bytes, diagram_index: int, tag: str) -> Counter[str]:
    """Ids of the DI shapes (or edges) of one plane whose element exists, read without the drawing package."""
    root = etree.fromstring(content)
    known = {element.get("id") for element in root.iter() if element.get("id")}
    plane = root.findall(f"{BPMNDI}BPMNDiagram")[diagram_index]
    return Counter(item.get("bpmnElement") for item in plane.iter(f"{BPMNDI}{tag}") if item.get("bpmnElement") in known)


def assert_fully_drawn(content: bytes) -> float:
    """Render every diagram of a file, check every DI shape and edge is drawn; the time it took."""
    started = time.perf_counter()
    diagrams = read_diagrams(content)
    rendered = [render_svg(diagram) for diagram in diagrams]
    elapsed = time.perf_counter() - started
    assert diagrams, "no BPMNDI"
    for index, svg_text in enumerate(rendered):
        assert drawn_ids(svg_text, "shape") == di_ids(content, index, "BPMNShape")
        assert drawn_ids(svg_text, "edge") == di_ids(content, index, "BPMNEdge")
    return elapsed


MIWG_FILES = sorted(MIWG.rglob("*.bpmn")) if MIWG.is_dir() else []


@pytest.mark.parametrize("path", MIWG_FILES or [None], ids=lambda path: str(path.relative_to(MIWG)) if path else "absent")
def test_miwg_diagram_is_drawn_completely(path: Path | None) -> None:
    if path is None:
        pytest.skip(f"the MIWG test suite is not at {MIWG} (set BPMN_TESTS_MIWG to its folder to run these)")
    assert_fully_drawn(path.read_bytes())


def test_miwg_covers_every_modeler_and_reports_the_slowest(capsys: pytest.CaptureFixture[str]) -> None:
    if not MIWG_FILES:
        pytest.skip(f"the MIWG test suite is not at {MIWG} (set BPMN_TESTS_MIWG to its folder to run these)")
    assert {path.relative_to(MIWG).parts[0] for path in MIWG_FILES} >= set(MIWG_FOLDERS)
    timings = sorted((assert_fully_drawn(path.read_bytes()), path) for path in MIWG_FILES)
    with capsys.disabled():  # a figure to watch, not a limit: timing is never asserted
        slowest = ", ".join(f"{path.relative_to(MIWG)} {seconds * 1000:.0f} ms" for seconds, path in timings[-3:])
        print(f"\nMIWG: {len(timings)} files drawn; slowest: {slowest}")


@pytest.mark.parametrize("path", sorted((ROOT / "processes").glob("*.bpmn")), ids=lambda path: path.name)
def test_shipped_processes_are_drawn_completely(path: Path) -> None:
    assert_fully_drawn(path.read_bytes())
    assert read_diagram(path.read_bytes()).missing == ()
