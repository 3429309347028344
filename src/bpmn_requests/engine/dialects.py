"""One reader of BPMN extension attributes for every dialect we run.

Camunda 7 (`camunda:`), Camunda 8 (`zeebe:`) and SpiffArena (`spiffworkflow:`) say the same things in
different words: which service task to call with which inputs, which form a user task shows, who may do
it, when it is due, and free-form properties. This module reads them into one `ElementFacts` per element.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from lxml import etree

from ..domain.errors import ValidationFailed

BPMN_NS = "http://www.omg.org/spec/BPMN/20100524/MODEL"
CAMUNDA_NS = "http://camunda.org/schema/1.0/bpmn"
ZEEBE_NS = "http://camunda.org/schema/zeebe/1.0"
SPIFF_NS = "http://spiffworkflow.org/bpmn/schema/1.0/core"
NS = {"bpmn": BPMN_NS, "camunda": CAMUNDA_NS, "zeebe": ZEEBE_NS, "spiffworkflow": SPIFF_NS}

FLOW_NODE_TAGS = frozenset({
    "task", "userTask", "serviceTask", "scriptTask", "businessRuleTask", "manualTask", "sendTask",
    "receiveTask", "callActivity", "subProcess", "transaction", "startEvent", "endEvent",
    "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent", "exclusiveGateway",
    "parallelGateway", "inclusiveGateway", "eventBasedGateway", "complexGateway",
})


@dataclass(frozen=True)
class ElementFacts:
    element_id: str
    tag: str
    name: str
    process_id: str
    line: int
    topic: str | None = None
    inputs: tuple[tuple[str, str], ...] = ()  # (name, raw value): literal or expression
    outputs: tuple[tuple[str, str], ...] = ()
    form_id: str | None = None
    candidate_groups: tuple[str, ...] = ()
    assignee: str | None = None
    due_date: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    async_before: bool = False  # runs in a worker, not in the transaction that reaches it
    retry: str | None = None  # retries of a failing service task: "5", "R5/PT1M" or "PT1M,PT10M"
    dialect: str = "bpmn"
    decision_id: str | None = None  # business rule task: the DMN decision it calls
    result_variable: str | None = None  # zeebe script / decision, spiff service task: where the result goes
    called_element: str | None = None  # call activity: the process it calls
    script: str | None = None  # Camunda 8 script task: its FEEL expression

    def prop(self, name: str) -> str | None:
        return self.properties.get(name)

    @property
    def message_form(self) -> str | None:
        """The Camunda Form a message this element receives is checked by (its `form` property)."""
        return self.properties.get("form") or self.form_id

    def check_message_variables(self, message: str, variables: Iterable[str]) -> None:
        """A message checked by no form may set only the variables this element's `variables` property names."""
        allowed = {v.strip() for v in self.properties.get("variables", "").split(",") if v.strip()}
        unknown = sorted(set(variables) - allowed)
        if unknown:
            takes = ", ".join(sorted(allowed)) if allowed else "no variables"
            raise ValidationFailed(f"variables.{unknown[0]}: message {message!r} may not set it at "
                                   f"{self.element_id}, which takes {takes}", field=unknown[0])

    @property
    def correlation_key(self) -> str:
        """What a message this element receives is correlated by: a variable name or an expression."""
        return self.properties.get("correlationKey") or "reference"

    @property
    def is_proposal(self) -> bool:
        return self.properties.get("proposal", "").lower() == "true"

    @property
    def is_approval(self) -> bool:
        return self.properties.get("approval", "").lower() == "true"


def _local(tag: object) -> str:
    return etree.QName(tag).localname if isinstance(tag, str) else ""


def _split(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


def _camunda(node: etree._Element) -> dict[str, object]:
    c = f"{{{CAMUNDA_NS}}}"
    facts: dict[str, object] = {}
    if node.get(c + "topic"):
        facts["topic"] = node.get(c + "topic")
    form_key = node.get(c + "formKey") or ""
    if node.get(c + "formRef"):
        facts["form_id"] = node.get(c + "formRef")
    elif form_key.startswith("camunda-forms:"):
        facts["form_id"] = form_key.rsplit("/", 1)[-1].removesuffix(".form").split(":")[-1]
    if node.get(c + "candidateGroups"):
        facts["candidate_groups"] = _split(node.get(c + "candidateGroups"))
    if node.get(c + "assignee"):
        facts["assignee"] = node.get(c + "assignee")
    if node.get(c + "dueDate"):
        facts["due_date"] = node.get(c + "dueDate")
    if node.get(c + "asyncBefore") == "true":
        facts["async_before"] = True
    for cycle in node.xpath("./bpmn:extensionElements/camunda:failedJobRetryTimeCycle", namespaces=NS):
        facts["retry"] = (cycle.text or "").strip() or None
    if node.get(c + "decisionRef"):
        facts["decision_id"] = node.get(c + "decisionRef")
    inputs = [(p.get("name", ""), (p.text or "").strip())
              for p in node.xpath("./bpmn:extensionElements/camunda:inputOutput/camunda:inputParameter",
                                  namespaces=NS)]
    outputs = [(p.get("name", ""), (p.text or "").strip())
               for p in node.xpath("./bpmn:extensionElements/camunda:inputOutput/camunda:outputParameter",
                                   namespaces=NS)]
    if inputs:
        facts["inputs"] = tuple(inputs)
    if outputs:
        facts["outputs"] = tuple(outputs)
    props = {p.get("name", ""): p.get("value", "")
             for p in node.xpath("./bpmn:extensionElements/camunda:properties/camunda:property", namespaces=NS)}
    if props:
        facts["properties"] = props
    return facts


def _zeebe(node: etree._Element) -> dict[str, object]:
    facts: dict[str, object] = {}
    ext = "./bpmn:extensionElements/zeebe:"
    for td in node.xpath(ext + "taskDefinition", namespaces=NS):
        facts["topic"] = td.get("type")
        facts["async_before"] = True  # every Camunda 8 service task is a job a worker picks up
        if td.get("retries"):
            facts["retry"] = td.get("retries")
    for fd in node.xpath(ext + "formDefinition", namespaces=NS):
        facts["form_id"] = fd.get("formId") or fd.get("formKey")
    for ad in node.xpath(ext + "assignmentDefinition", namespaces=NS):
        if ad.get("candidateGroups"):
            facts["candidate_groups"] = _split(ad.get("candidateGroups"))
        if ad.get("assignee"):
            facts["assignee"] = ad.get("assignee")
    for ts in node.xpath(ext + "taskSchedule", namespaces=NS):
        if ts.get("dueDate"):
            facts["due_date"] = ts.get("dueDate")
    for cd in node.xpath(ext + "calledDecision", namespaces=NS):
        facts["decision_id"], facts["result_variable"] = cd.get("decisionId"), cd.get("resultVariable")
    for sc in node.xpath(ext + "script", namespaces=NS):
        facts["script"], facts["result_variable"] = sc.get("expression"), sc.get("resultVariable")
    for ce in node.xpath(ext + "calledElement", namespaces=NS):
        facts["called_element"] = ce.get("processId")
    inputs = [(m.get("target", ""), m.get("source", "")) for m in node.xpath(ext + "ioMapping/zeebe:input", namespaces=NS)]
    outputs = [(m.get("target", ""), m.get("source", "")) for m in node.xpath(ext + "ioMapping/zeebe:output", namespaces=NS)]
    if inputs:
        facts["inputs"] = tuple(inputs)
    if outputs:
        facts["outputs"] = tuple(outputs)
    props = {p.get("name", ""): p.get("value", "") for p in node.xpath(ext + "properties/zeebe:property", namespaces=NS)}
    if props:
        facts["properties"] = props
    return facts


def _spiff(node: etree._Element) -> dict[str, object]:
    facts: dict[str, object] = {}
    ext = "./bpmn:extensionElements/spiffworkflow:"
    for op in node.xpath(ext + "serviceTaskOperator", namespaces=NS):
        facts["topic"] = op.get("id")
        params = [(p.get("id", ""), p.get("value", ""))
                  for p in op.xpath("./spiffworkflow:parameters/spiffworkflow:parameter", namespaces=NS)]
        if params:
            facts["inputs"] = tuple(params)
        if op.get("resultVariable"):
            facts["result_variable"] = op.get("resultVariable")
    for decision in node.xpath(ext + "calledDecisionId", namespaces=NS):
        facts["decision_id"] = (decision.text or "").strip() or None
    props = {p.get("name", ""): p.get("value", "") for p in node.xpath(ext + "properties/spiffworkflow:property", namespaces=NS)}
    if props.get("asyncBefore", "").lower() == "true":
        facts["async_before"] = True
    if props.get("retries"):
        facts["retry"] = props["retries"]
    if "formJsonSchemaFilename" in props or "formId" in props:
        facts["form_id"] = props.get("formId") or props["formJsonSchemaFilename"].removesuffix(".form")
    if props:
        facts["properties"] = props
    return facts


def _facts_of(node: etree._Element, process_id: str, lane: str | None = None) -> ElementFacts:
    merged: dict[str, object] = {"called_element": node.get("calledElement")} if node.get("calledElement") else {}
    if lane and _local(node.tag) == "userTask":  # who may do it: the lane, unless the task names groups
        merged["candidate_groups"] = _split(lane)
    dialect = "bpmn"
    for name, reader in (("spiffworkflow", _spiff), ("zeebe", _zeebe), ("camunda", _camunda)):
        found = reader(node)
        if found:
            dialect = name
            merged.update(found)
    return ElementFacts(element_id=node.get("id", ""), tag=_local(node.tag), name=node.get("name", "") or "",
                        process_id=process_id, line=node.sourceline or 0, dialect=dialect,
                        **merged)  # type: ignore[arg-type]


def read_facts(root: etree._Element) -> dict[str, ElementFacts]:
    """Facts of every flow node in every process of one definitions document, by element id."""
    facts: dict[str, ElementFacts] = {}
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        process_id = process.get("id", "")
        lanes = {(ref.text or "").strip(): lane.get("name", "") for lane in process.iter(f"{{{BPMN_NS}}}lane")
                 for ref in lane.iterchildren(f"{{{BPMN_NS}}}flowNodeRef")}
        for node in process.iter():
            if _local(node.tag) in FLOW_NODE_TAGS and node.get("id"):
                facts[node.get("id", "")] = _facts_of(node, _owner(node, process_id), lanes.get(node.get("id", "")))
    return facts


def _owner(node: etree._Element, process_id: str) -> str:
    """The id SpiffWorkflow runs the element under: its embedded subprocess, else the process."""
    parent = node.getparent()
    while parent is not None and _local(parent.tag) != "process":
        if _local(parent.tag) in ("subProcess", "transaction", "adHocSubProcess"):
            return parent.get("id", process_id)
        parent = parent.getparent()
    return process_id


def element_facts(node: etree._Element) -> ElementFacts:
    """The facts of one element, for the parser, which meets elements one at a time."""
    process = next(node.iterancestors(f"{{{BPMN_NS}}}process"), None)
    return _facts_of(node, process.get("id", "") if process is not None else "")


def process_version_tag(root: etree._Element, process_id: str) -> str | None:
    for process in root.iter(f"{{{BPMN_NS}}}process"):
        if process.get("id") == process_id:
            return process.get(f"{{{CAMUNDA_NS}}}versionTag") or None
    return None
