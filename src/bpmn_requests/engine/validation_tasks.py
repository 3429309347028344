"""Rules per kind of task: what each needs to run here, in whichever dialect it was drawn.

Service tasks need a registered topic (Camunda 7 external task, Camunda 8 job type or SpiffArena
operator); user tasks a Camunda Form from `forms/`; business rule tasks a decision of a `.dmn` file of
the set (Camunda 8: with its result variable); call activities a process of the set. Java classes,
connectors, embedded or generated forms cannot run here and are refused with what to use instead.
"""

from __future__ import annotations

from collections.abc import Iterator

from lxml import etree

from .dialects import ElementFacts, read_facts
from .validation_base import (
    WARNING,
    DiagramSet,
    Document,
    Problem,
    camunda,
    extension,
    listing,
    local,
    suggest,
)

JAVA = {"class": "a Java class", "delegateExpression": "a delegate expression", "expression": "an expression"}
TEMPLATES_HINT = "`bpmn-requests element-templates` lists them"


def task_problems(doc: Document, diagrams: DiagramSet) -> Iterator[Problem]:
    facts = read_facts(doc.root)
    lanes = {text_id for lane in doc.xpath("//bpmn:lane[@name != '']")
             for text_id in (ref.text for ref in doc.xpath("./bpmn:flowNodeRef", lane)) if text_id}
    checks = {"serviceTask": _service, "userTask": _user, "manualTask": _manual, "task": _plain,
              "businessRuleTask": _business_rule, "callActivity": _call}
    for node in doc.in_executable(checks):
        fact = facts.get(node.get("id", ""))
        if fact is not None:
            yield from checks[local(node)](doc, node, fact, diagrams, node.get("id", "") in lanes)


def _service(doc: Document, node: etree._Element, facts: ElementFacts, diagrams: DiagramSet,
             in_lane: bool) -> Iterator[Problem]:
    for attribute, what in JAVA.items():
        if node.get(camunda(attribute)):
            yield doc.at(node, f"the implementation is {what} (camunda:{attribute}), which cannot run here: set "
                               f"Implementation to External with a registered topic ({TEMPLATES_HINT})", "service-task")
            return
    if extension(node, "camunda:connector"):
        yield doc.at(node, "Camunda Connect connectors cannot run here: set Implementation to External with a "
                           f"registered topic ({TEMPLATES_HINT})", "service-task")
        return
    kind = node.get(camunda("type"))
    if kind and kind != "external":
        yield doc.at(node, f"camunda:type {kind!r} cannot run here: set Implementation to External",
                     "service-task")
    if not facts.topic:
        yield doc.at(node, "the service task names no topic: set Implementation to External and a topic "
                           f"({TEMPLATES_HINT})", "service-topic")
    elif not diagrams.topic_known(facts.topic):
        yield doc.at(node, f"topic {facts.topic!r} is not a registered service task"
                           f"{suggest(facts.topic, diagrams.topics)}: use a registered topic ({TEMPLATES_HINT})",
                     "service-topic")


def _groups(doc: Document, node: etree._Element, facts: ElementFacts, in_lane: bool) -> Iterator[Problem]:
    if not facts.candidate_groups and not facts.assignee and not in_lane:
        yield doc.at(node, "the task names no candidate groups, assignee or lane, so only admins see it: set "
                           "Candidate groups", "task-assignment", WARNING)


def _user(doc: Document, node: etree._Element, facts: ElementFacts, diagrams: DiagramSet,
          in_lane: bool) -> Iterator[Problem]:
    yield from _groups(doc, node, facts, in_lane)
    form_key = node.get(camunda("formKey")) or ""
    zeebe_key = next((f.get("formKey") or "" for f in extension(node, "zeebe:formDefinition")), "")
    if extension(node, "camunda:formData"):
        yield doc.at(node, "generated task forms (camunda:formData) are not supported: design a Camunda Form "
                           "in forms/ and link it by form id", "user-form")
    elif form_key and not form_key.startswith("camunda-forms:"):
        yield doc.at(node, f"form key {form_key!r} is an embedded or external form: set Form type 'Camunda Forms "
                           f"(linked)' and a form id from forms/", "user-form")
    elif zeebe_key.startswith("camunda-forms:bpmn:") or extension(node, "zeebe:userTaskForm"):
        yield doc.at(node, "the form is embedded in the diagram: save it as forms/<id>.form and link it by form "
                           "id (Camunda Form, linked)", "user-form")
    elif not facts.form_id:
        yield doc.at(node, "the user task names no form: set Form type 'Camunda Forms (linked)' and a form id "
                           "from forms/", "user-form")
    elif facts.form_id in diagrams.form_problems:
        yield doc.at(node, f"form {facts.form_id!r} cannot be used: {diagrams.form_problems[facts.form_id]}; fix "
                           f"forms/{facts.form_id}.form", "user-form")
    elif not diagrams.form_known(facts.form_id):
        yield doc.at(node, f"form {facts.form_id!r} is not in forms/{suggest(facts.form_id, diagrams.forms)}: add "
                           f"forms/{facts.form_id}.form or link one of: {listing(diagrams.forms)}", "user-form")


def _manual(doc: Document, node: etree._Element, facts: ElementFacts, diagrams: DiagramSet,
            in_lane: bool) -> Iterator[Problem]:
    yield from _groups(doc, node, facts, in_lane)


def _plain(doc: Document, node: etree._Element, facts: ElementFacts, diagrams: DiagramSet,
           in_lane: bool) -> Iterator[Problem]:
    yield doc.at(node, "a task without a type does nothing when it runs: make it a user, service or script "
                       "task if work happens here", "plain-task", WARNING)


def _business_rule(doc: Document, node: etree._Element, facts: ElementFacts, diagrams: DiagramSet,
                   in_lane: bool) -> Iterator[Problem]:
    decision = facts.decision_id or ""
    if not decision:
        kind = node.get(camunda("type")) or any(node.get(camunda(a)) for a in JAVA)
        why = "business rule tasks run DMN decisions only" if kind else "the business rule task names no decision"
        yield doc.at(node, f"{why}: set Implementation 'DMN' and the Decision reference (camunda:decisionRef, "
                           f"zeebe:calledDecision) to a decision id of a .dmn file", "decision")
    elif decision not in diagrams.decision_ids:
        yield doc.at(node, f"decision {decision!r} is in no .dmn file of this set"
                           f"{suggest(decision, diagrams.decision_ids)}: add its .dmn file or use one of: "
                           f"{listing(diagrams.decision_ids)}", "decision")
    if facts.dialect == "zeebe" and decision and not facts.result_variable:
        yield doc.at(node, "a Camunda 8 decision needs a result variable: set it in the task's properties",
                     "decision")
    if facts.dialect == "camunda" and (node.get(camunda("resultVariable")) or node.get(camunda("mapDecisionResult"))):
        yield doc.at(node, "the result variable and result mapping are ignored: the decision's outputs become "
                           "process variables of their own names", "decision", WARNING)


def _call(doc: Document, node: etree._Element, facts: ElementFacts, diagrams: DiagramSet,
          in_lane: bool) -> Iterator[Problem]:
    called = facts.called_element or ""
    known = [pid for pid, executable in diagrams.process_ids.items() if executable]
    if not called:
        yield doc.at(node, f"the call activity names no process: set Called element to a process id of this set "
                           f"({listing(known)})", "call-activity")
    elif "${" in called or "#{" in called or called.startswith("="):
        yield doc.at(node, f"called element {called!r} is an expression: name the process id itself",
                     "call-activity")
    elif called not in diagrams.process_ids:
        yield doc.at(node, f"calls process {called!r}, which is in no .bpmn file of this set"
                           f"{suggest(called, known)}: add its diagram or call one of: {listing(known)}",
                     "call-activity")
    elif not diagrams.process_ids[called]:
        yield doc.at(node, f"calls process {called!r}, which is not executable: tick 'Executable' in its diagram",
                     "call-activity")
    mapped = [m for m in extension(node, "camunda:in") + extension(node, "camunda:out")
              if m.get("variables") != "all"]
    if mapped:
        yield doc.at(node, "camunda:in/out mappings are ignored: a call activity hands all variables in and takes "
                           "all back; use variables='all'", "call-activity", WARNING)
