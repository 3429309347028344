"""Checks a set of diagrams before anyone runs them: parse, topics, forms, conditions, scripts, gateways.

Every problem names the file, the line, the element id and name, and what to do.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from lxml import etree

from ..domain.errors import DomainError
from .bundle import load_bundle
from .dialects import BPMN_NS, NS, read_facts
from .scripting import compile_expression, compile_script
from .xml import parse_xml


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    element_id: str
    element_name: str
    message: str
    severity: str = "error"  # error | warning

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}"
        element = f" {self.element_id}" + (f" ({self.element_name})" if self.element_name else "")
        return f"{where}{element}: {self.severity}: {self.message}"


def _code_problems(name: str, root: etree._Element) -> list[Problem]:
    problems = []
    for node in root.iter(f"{{{BPMN_NS}}}conditionExpression"):
        flow = node.getparent()
        try:
            compile_expression((node.text or "").strip() or "True")
        except DomainError as exc:
            problems.append(Problem(name, node.sourceline or 0, flow.get("id", ""), flow.get("name", ""),
                                    f"condition does not compile in the sandbox: {exc}; write a Python expression"))
    for node in root.iter(f"{{{BPMN_NS}}}script"):
        task = node.getparent()
        try:
            compile_script(node.text or "")
        except DomainError as exc:
            problems.append(Problem(name, node.sourceline or 0, task.get("id", ""), task.get("name", ""),
                                    f"script does not compile in the sandbox: {exc}"))
    return problems


def _gateway_problems(name: str, root: etree._Element) -> list[Problem]:
    problems = []
    for gateway in root.iter(f"{{{BPMN_NS}}}exclusiveGateway", f"{{{BPMN_NS}}}inclusiveGateway"):
        gid = gateway.get("id", "")
        outgoing = root.xpath(f".//bpmn:sequenceFlow[@sourceRef='{gid}']", namespaces=NS)
        if len(outgoing) < 2 or gateway.get("default"):
            continue
        unconditioned = [f.get("id") for f in outgoing if not f.xpath("./bpmn:conditionExpression", namespaces=NS)]
        if unconditioned:
            problems.append(Problem(name, gateway.sourceline or 0, gid, gateway.get("name", ""),
                                    f"flows {', '.join(map(str, unconditioned))} have no condition and the gateway "
                                    f"has no default flow: give one a condition or mark one as default"))
    return problems


def _facts_problems(name: str, root: etree._Element, topic_known: Callable[[str], bool],
                    form_known: Callable[[str], bool]) -> list[Problem]:
    problems = []
    for facts in read_facts(root).values():
        where = (name, facts.line, facts.element_id, facts.name)
        if facts.tag == "serviceTask":
            if not facts.topic:
                problems.append(Problem(*where, "service task names no topic: set Implementation External "
                                                "and a topic from `bpmn-requests element-templates`"))
            elif not topic_known(facts.topic):
                problems.append(Problem(*where, f"topic {facts.topic!r} is not a registered service task"))
        if facts.tag == "userTask":
            if not facts.form_id:
                problems.append(Problem(*where, "user task names no form: set a Camunda Forms form id"))
            elif not form_known(facts.form_id):
                problems.append(Problem(*where, f"form {facts.form_id!r} is not in forms/"))
            if not facts.candidate_groups and not facts.assignee:
                problems.append(Problem(*where, "user task names no candidate groups or assignee", "warning"))
    return problems


def check_diagrams(files: Mapping[str, bytes], topic_known: Callable[[str], bool],
                   form_known: Callable[[str], bool]) -> list[Problem]:
    """Every problem of every .bpmn and .dmn file; an empty list means the set can be deployed."""
    problems: list[Problem] = []
    for name in sorted(files):
        if not name.endswith((".bpmn", ".dmn")):
            continue
        try:
            root = parse_xml(files[name], name)
        except DomainError as exc:
            problems.append(Problem(name, 0, "", "", exc.message))
            continue
        problems += _code_problems(name, root)
        if name.endswith(".bpmn"):
            problems += _gateway_problems(name, root)
            problems += _facts_problems(name, root, topic_known, form_known)
    if not any(p.severity == "error" for p in problems):
        try:
            load_bundle(files)
        except DomainError as exc:
            problems.append(Problem(exc.field or "", 0, "", "", exc.message))
    return problems
