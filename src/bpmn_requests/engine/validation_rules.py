"""Structural rules: ids, what the engine can run at all, and how flows leave elements and gateways.

SpiffWorkflow 3.2.0 silently drops what it does not understand (a link or compensation event becomes a
plain event, a condition on a flow out of a task is ignored, an element with id `End` ends the process
early), so these rules refuse such diagrams before they run.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator

from lxml import etree

from .validation_base import ERROR, WARNING, DiagramSet, Document, Problem, bpmn, local

ACTIVITIES = frozenset({"task", "userTask", "serviceTask", "scriptTask", "businessRuleTask", "manualTask",
                        "sendTask", "receiveTask", "callActivity", "subProcess", "transaction", "adHocSubProcess"})
EVENTS = frozenset({"startEvent", "endEvent", "intermediateCatchEvent", "intermediateThrowEvent", "boundaryEvent"})
GATEWAYS = frozenset({"exclusiveGateway", "parallelGateway", "inclusiveGateway", "eventBasedGateway",
                      "complexGateway"})
FLOW_NODES = ACTIVITIES | EVENTS | GATEWAYS
SCOPES = frozenset({"process", "subProcess", "transaction", "adHocSubProcess"})

# What SpiffWorkflow's parsers read for each kind of event; anything else is silently dropped.
SUPPORTED_EVENTS = {
    "startEvent": {"message", "signal", "timer", "conditional"},
    "endEvent": {"message", "cancel", "error", "escalation", "terminate"},
    "intermediateCatchEvent": {"message", "signal", "timer", "conditional"},
    "intermediateThrowEvent": {"message", "signal", "escalation"},
    "boundaryEvent": {"message", "signal", "timer", "conditional", "error", "escalation", "cancel"},
}
EVENT_ADVICE = {
    "link": "connect the two ends with a sequence flow instead",
    "compensate": "model the undo step explicitly after an error boundary event",
    "error": "catch errors with an error boundary event on the task",
    "escalation": "catch escalations with an escalation boundary event",
    "signal": "throw the signal from an intermediate throw event before a plain end event",
    "timer": "a timer can start a process or wait in the flow, not be thrown",
    "conditional": "use an exclusive gateway with conditions",
    "terminate": "use a terminate end event",
}
# Task spec names SpiffWorkflow creates itself; an element with one of these ids replaces or joins them.
RESERVED_IDS = {"Start": "its internal start task", "End": "its internal end task",
                "StartEventSplit": "the split it adds for several start events",
                "StartEventJoin": "the join it adds for several start events"}
RESERVED_SUFFIXES = (".EndJoin", ".BoundaryEventSplit", ".BoundaryEventJoin")


MODEL_NAMESPACES = ("http://www.omg.org/spec/BPMN/", "http://www.omg.org/spec/DD/",
                    "https://www.omg.org/spec/DMN/", "http://www.omg.org/spec/DMN/")


def _model_element(node: etree._Element) -> bool:
    """BPMN, DI and DMN elements have ids; an extension's `id` (a SpiffArena operator) is not one."""
    return etree.QName(node).namespace is None or etree.QName(node).namespace.startswith(MODEL_NAMESPACES)


def id_problems(doc: Document) -> tuple[list[Problem], set[str]]:
    """Duplicate ids (with both lines) and ids the engine reserves; returns the duplicated ids too."""
    seen: dict[str, etree._Element] = {}
    problems: list[Problem] = []
    duplicates: set[str] = set()
    for node in doc.root.iter():
        if not isinstance(node.tag, str) or not node.get("id") or not _model_element(node):
            continue
        element_id = node.get("id", "")
        if element_id in seen:
            duplicates.add(element_id)
            first = seen[element_id]
            problems.append(doc.at(node, f"id {element_id!r} is used twice (lines {first.sourceline} and "
                                         f"{node.sourceline}): every element needs its own id; rename one",
                                   "duplicate-id"))
        else:
            seen[element_id] = node
    if doc.kind == "bpmn":
        problems += _reserved(doc)
    return problems, duplicates


def _reserved(doc: Document) -> list[Problem]:
    problems = []
    for node in doc.root.iter(*(bpmn(tag) for tag in FLOW_NODES)):
        element_id = node.get("id", "")
        why = RESERVED_IDS.get(element_id)
        if why is None and element_id.endswith(RESERVED_SUFFIXES):
            why = "a task it creates itself"
        if why:
            problems.append(doc.at(node, f"id {element_id!r} is reserved by the engine ({why} has that name) "
                                         f"and breaks the process: rename the element, e.g. "
                                         f"'{_prefix(local(node))}{element_id.replace('.', '_')}'", "reserved-id"))
    return problems


def _prefix(tag: str) -> str:
    return "Event_" if tag.endswith("Event") else "Gateway_" if tag.endswith("Gateway") else "Task_"


def process_problems(doc: Document, diagrams: DiagramSet) -> list[Problem]:
    """A file must hold an executable process with a start event; ids must be unique across the set."""
    processes = doc.processes()
    if not processes:
        return [doc.at(doc.root, "the file holds no process (only a collaboration or choreography?): draw the "
                                 "process in a pool and save it from the modeler", "no-process")]
    problems = []
    executable = doc.executable_processes()
    for process in processes:
        if process not in executable:
            severity = ERROR if not executable else WARNING
            problems.append(doc.at(process, "the process is not executable (isExecutable='false'), so the engine "
                                            "never runs it: tick 'Executable' in the modeler's process "
                                            "properties" + ("" if not executable else " or remove the pool"),
                                   "not-executable", severity))
    for process in executable:
        if not doc.xpath("./bpmn:startEvent", process):
            problems.append(doc.at(process, "the process has no start event: draw one where it begins",
                                   "no-start-event"))
        for sub in process.iter(bpmn("subProcess"), bpmn("transaction")):
            starts = len(doc.xpath("./bpmn:startEvent", sub))
            if sub.get("triggeredByEvent") != "true" and starts != 1:
                problems.append(doc.at(sub, f"an embedded subprocess needs exactly one start event (it has "
                                            f"{starts})", "subprocess-start"))
            if not doc.xpath("./bpmn:endEvent", sub):
                problems.append(doc.at(sub, "an embedded subprocess needs an end event", "subprocess-end"))
    return problems


def unsupported_problems(doc: Document) -> Iterator[Problem]:
    """Elements and event types the engine cannot run, each named with what to use instead."""
    for node in doc.in_executable({"complexGateway"}):
        yield doc.at(node, "a complex gateway cannot run here: use an inclusive gateway with conditions",
                     "unsupported-element")
    for node in doc.xpath("//bpmn:dataStore | //bpmn:dataStoreReference"):
        yield doc.at(node, "data stores cannot run here: keep the data in process variables and reach "
                           "systems through service tasks", "unsupported-element")
    for node in doc.in_executable(SUPPORTED_EVENTS):
        tag = local(node)
        kinds = [local(d).removesuffix("EventDefinition") for d in node if local(d).endswith("EventDefinition")]
        if doc.xpath("./bpmn:eventDefinitionRef", node):
            yield doc.at(node, "event definitions referenced by id (eventDefinitionRef) are not read by the "
                               "engine: define the event on the element itself", "unsupported-event")
        for kind in kinds:
            if kind not in SUPPORTED_EVENTS[tag]:
                advice = EVENT_ADVICE.get(kind, "use a supported event type")
                article = "an" if kind[0] in "aeiou" else "a"
                yield doc.at(node, f"{article} {kind} {_event_label(tag)} cannot run here (the engine would treat it "
                                   f"as a plain event): {advice}", "unsupported-event")
        if tag == "boundaryEvent" and not kinds:
            yield doc.at(node, "a boundary event needs an event type (timer, message, error, ...)",
                         "unsupported-event")


def _event_label(tag: str) -> str:
    return {"startEvent": "start event", "endEvent": "end event", "intermediateCatchEvent":
            "intermediate catch event", "intermediateThrowEvent": "intermediate throw event",
            "boundaryEvent": "boundary event"}[tag]


def _flows_by_scope(doc: Document) -> dict[etree._Element, list[etree._Element]]:
    """Each process and embedded subprocess with the sequence flows drawn directly in it."""
    found: dict[etree._Element, list[etree._Element]] = {}
    for process in doc.executable_processes():
        for scope in [process, *process.iter(*(bpmn(tag) for tag in SCOPES - {"process"}))]:
            found[scope] = [flow for flow in scope if local(flow) == "sequenceFlow"]
    return found


def flow_problems(doc: Document) -> Iterator[Problem]:
    """Splits after activities, ignored conditions, gateways without a way out, dead ends."""
    for scope, flows in _flows_by_scope(doc).items():
        outgoing: dict[str, list[etree._Element]] = defaultdict(list)
        incoming: dict[str, list[etree._Element]] = defaultdict(list)
        for flow in flows:
            outgoing[flow.get("sourceRef", "")].append(flow)
            incoming[flow.get("targetRef", "")].append(flow)
        for node in scope:
            tag = local(node)
            if tag not in FLOW_NODES:
                continue
            yield from _outgoing(doc, node, tag, outgoing.get(node.get("id", ""), []))
            yield from _ends(doc, node, tag, outgoing, incoming)


def _outgoing(doc: Document, node: etree._Element, tag: str, flows: list[etree._Element]) -> Iterator[Problem]:
    ids = {f.get("id", "") for f in flows}
    default = node.get("default")
    if default and default not in ids:
        yield doc.at(node, f"the default flow {default!r} does not leave this element: pick one of its outgoing "
                           f"flows as default", "default-flow")
    conditioned = [f for f in flows if doc.xpath("./bpmn:conditionExpression", f)]
    if len(flows) > 1 and tag not in GATEWAYS and tag != "startEvent":
        yield doc.at(node, f"{len(flows)} flows leave this element, but the engine cannot split after an "
                           f"{'activity' if tag in ACTIVITIES else 'event'}: add a parallel gateway (all paths) or "
                           f"an exclusive gateway (one path) after it", "implicit-split")
    elif conditioned and tag not in {"exclusiveGateway", "inclusiveGateway"}:
        flow_ids = ", ".join(f.get("id", "") for f in conditioned)
        yield doc.at(node, f"the conditions on {flow_ids} are ignored: the engine evaluates conditions only on "
                           f"flows that leave exclusive or inclusive gateways", "ignored-condition", WARNING)
    if tag in {"exclusiveGateway", "inclusiveGateway"} and len(flows) > 1 and not default:
        bare = [f.get("id", "") for f in flows if f not in conditioned]
        if bare:
            yield doc.at(node, f"flows {', '.join(bare)} have no condition and the gateway has no default flow: "
                               f"give each a condition or mark one as the default", "gateway-default")
    if default and default in ids:
        flow = next(f for f in flows if f.get("id") == default)
        if flow in conditioned:
            yield doc.at(flow, "the default flow has a condition, which the engine ignores: remove it",
                         "ignored-condition", WARNING)


def _ends(doc: Document, node: etree._Element, tag: str, outgoing: dict[str, list[etree._Element]],
          incoming: dict[str, list[etree._Element]]) -> Iterator[Problem]:
    element_id = node.get("id", "")
    parent = node.getparent()
    if parent.get("triggeredByEvent") == "true" or local(parent) == "adHocSubProcess":
        return  # event subprocesses start by their event; ad hoc subprocesses run without flows
    no_in = tag not in {"startEvent", "boundaryEvent"} and not incoming.get(element_id)
    if no_in and node.get("isForCompensation") != "true" and tag in ACTIVITIES | GATEWAYS:
        yield doc.at(node, "no flow leads here, so the engine never reaches this element: connect it or "
                           "remove it", "unreachable", WARNING)
    if not outgoing.get(element_id) and tag in ACTIVITIES | GATEWAYS and node.get("isForCompensation") != "true":
        yield doc.at(node, "no flow leaves this element: the path stops here without an end event; connect it "
                           "to an end event", "dead-end", WARNING)


REFERENCES = {"messageRef": "message", "signalRef": "signal", "errorRef": "error", "escalationRef": "escalation"}


def reference_problems(doc: Document) -> Iterator[Problem]:
    """Events and tasks must name messages, signals and errors defined in the same file."""
    tags = {"messageEventDefinition", "signalEventDefinition", "errorEventDefinition",
            "escalationEventDefinition", "sendTask", "receiveTask"}
    for node in doc.in_executable(tags):
        for attribute, kind in REFERENCES.items():
            ref = node.get(attribute)
            if not ref or (ref in doc.by_id and local(doc.by_id[ref]) == kind):
                continue
            if ref.partition(":")[2] in doc.by_id:
                yield doc.at(node, f"{kind} {ref!r} is written with a namespace prefix, which the engine does not "
                                   f"resolve: refer to it as {ref.partition(':')[2]!r}", "reference")
            else:
                yield doc.at(node, f"{kind} {ref!r} is not defined in this file: pick a {kind} in the element's "
                                   f"properties (or define one)", "reference")
    for node in doc.in_executable({"boundaryEvent"}):
        attached = node.get("attachedToRef", "")
        if attached not in doc.by_id:
            yield doc.at(node, f"the boundary event is attached to {attached!r}, which does not exist: attach it "
                               f"to a task", "reference")
