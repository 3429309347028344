"""Validation and deploy time for a 500-element diagram (run on demand: `python bench/validation.py [N]`).

The diagram is generated: a start event, then groups of a script task, an exclusive gateway with a
default flow and a conditional flow to a second script task, and a merging gateway, then an end event;
every element has its BPMNDI shape and every flow its edge, as a modeler would write them. It times
`check_diagrams` (XML, schema, sandbox compilation of conditions and scripts, gateway rules, parsing by
the engine) and a full deploy into an in-memory store (validation plus recording the version), and
prints medians over several runs.
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from bpmn_requests.engine.validation import check_diagrams  # noqa: E402

HEADER = ('<?xml version="1.0" encoding="UTF-8"?>\n<bpmn:definitions '
          'xmlns:bpmn="http://www.omg.org/spec/BPMN/20100524/MODEL" '
          'xmlns:bpmndi="http://www.omg.org/spec/BPMN/20100524/DI" xmlns:dc="http://www.omg.org/spec/DD/20100524/DC" '
          'xmlns:di="http://www.omg.org/spec/DD/20100524/DI" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
          'id="Defs_Big" targetNamespace="http://bpmn.io/schema/bpmn">\n')


def big_diagram(groups: int) -> tuple[bytes, int]:
    """A diagram of 4 elements per group plus start and end; returns the XML and the element count."""
    nodes: list[tuple[str, str, str]] = [("startEvent", "Event_Start", "")]
    flows: list[tuple[str, str, str, str]] = []
    previous = "Event_Start"
    for g in range(groups):
        task, gate, extra, merge = f"Task_{g}", f"Gateway_{g}", f"Task_Extra_{g}", f"Gateway_Merge_{g}"
        nodes += [("scriptTask", task, "count = count + 1"), ("exclusiveGateway", gate, f"Flow_Default_{g}"),
                  ("scriptTask", extra, "extra = count"), ("exclusiveGateway", merge, "")]
        flows += [(f"Flow_In_{g}", previous, task, ""), (f"Flow_Gate_{g}", task, gate, ""),
                  (f"Flow_Extra_{g}", gate, extra, f"count % 7 == {g % 7}"),
                  (f"Flow_Default_{g}", gate, merge, ""), (f"Flow_Back_{g}", extra, merge, "")]
        previous = merge
    nodes.append(("endEvent", "Event_End", ""))
    flows.append(("Flow_End", previous, "Event_End", ""))
    process = ['<bpmn:process id="big" name="Big" isExecutable="true">']
    for tag, element_id, extra in nodes:
        if tag == "scriptTask":
            process.append(f'<bpmn:scriptTask id="{element_id}" name="{element_id}" scriptFormat="python">'
                           f'<bpmn:script>{extra}</bpmn:script></bpmn:scriptTask>')
        elif tag == "exclusiveGateway" and extra:
            process.append(f'<bpmn:exclusiveGateway id="{element_id}" name="{element_id}" default="{extra}"/>')
        else:
            process.append(f'<bpmn:{tag} id="{element_id}" name="{element_id}"/>')
    for flow_id, source, target, condition in flows:
        body = (f'<bpmn:conditionExpression xsi:type="bpmn:tFormalExpression">{condition}'
                f'</bpmn:conditionExpression>') if condition else ""
        process.append(f'<bpmn:sequenceFlow id="{flow_id}" sourceRef="{source}" targetRef="{target}">{body}'
                       f'</bpmn:sequenceFlow>')
    process.append("</bpmn:process>")
    positions = {element_id: (100 + 120 * i, 100 + (60 if "Extra" in element_id else 0))
                 for i, (_, element_id, _) in enumerate(nodes)}
    di = ['<bpmndi:BPMNDiagram id="Diagram_Big"><bpmndi:BPMNPlane id="Plane_Big" bpmnElement="big">']
    for element_id, (x, y) in positions.items():
        di.append(f'<bpmndi:BPMNShape id="{element_id}_di" bpmnElement="{element_id}">'
                  f'<dc:Bounds x="{x}" y="{y}" width="100" height="80"/></bpmndi:BPMNShape>')
    for flow_id, source, target, _ in flows:
        (x1, y1), (x2, y2) = positions[source], positions[target]
        di.append(f'<bpmndi:BPMNEdge id="{flow_id}_di" bpmnElement="{flow_id}">'
                  f'<di:waypoint x="{x1 + 100}" y="{y1 + 40}"/><di:waypoint x="{x2}" y="{y2 + 40}"/>'
                  f'</bpmndi:BPMNEdge>')
    di.append("</bpmndi:BPMNPlane></bpmndi:BPMNDiagram>")
    xml = HEADER + "\n".join(process + di) + "\n</bpmn:definitions>\n"
    return xml.encode(), len(nodes) + len(flows)


def median_ms(run, times: int) -> float:  # type: ignore[no-untyped-def]
    samples = []
    for _ in range(times):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return statistics.median(samples)


def main() -> None:
    target = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    groups = max(1, (target - 3) // 9)
    content, elements = big_diagram(groups)
    files = {"processes/big.bpmn": content}
    problems = check_diagrams(files, lambda topic: True, lambda form: True)
    errors = [p for p in problems if p.severity == "error"]
    print(f"diagram: {elements} elements (flow nodes and sequence flows), {len(content) / 1024:.0f} KiB, "
          f"{len(errors)} error(s), {len(problems) - len(errors)} warning(s)")
    for problem in errors[:5]:
        print("  ", problem)
    validate = median_ms(lambda: check_diagrams(files, lambda topic: True, lambda form: True), 5)
    print(f"validate (check_diagrams):            median {validate:8.1f} ms")
    sys.path.insert(0, str(ROOT / "tests"))
    from support import memory_services  # the real use cases on the in-memory store

    from bpmn_requests.usecases.deploy import deploy
    forms = {f"forms/{p.name}": p.read_bytes() for p in (ROOT / "forms").glob("*.form")}
    samples = []
    for _ in range(3):
        services = memory_services()  # a store whose active version is processes/: the big one is new
        started = time.perf_counter()
        result = deploy({**files, **forms}, "admin", services)
        samples.append((time.perf_counter() - started) * 1000)
        assert result.changed
    print(f"deploy (validate and record a version): median {statistics.median(samples):8.1f} ms")


if __name__ == "__main__":
    main()
