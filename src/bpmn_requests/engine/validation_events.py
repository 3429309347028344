"""Rules for what waits in a diagram: messages, the forms that check them, business errors, SLA steps.

A message is delivered by its name, so every receiver must wait for a named message; the variables a
message sets are checked by the Camunda Form its receiver's `form` property names, which must be deployed.
An error boundary event catches the code a service task raises, so its error needs a code. The SLA steps
`task/remind` and `task/escalate` act on the user task their `task` input names, which must exist in the
same process (a typo would remind nobody, silently).
"""

from __future__ import annotations

import ast
from collections.abc import Iterator

from lxml import etree

from .dialects import ElementFacts, read_facts
from .validation_base import WARNING, DiagramSet, Document, Problem, listing, local, suggest

RECEIVERS = ("receiveTask", "intermediateCatchEvent", "boundaryEvent", "startEvent")
TASK_TOPICS = ("task/remind", "task/escalate")


def event_problems(doc: Document, diagrams: DiagramSet) -> list[Problem]:
    facts = read_facts(doc.root)
    problems = list(_message_problems(doc))
    problems += _form_problems(doc, diagrams, facts)
    problems += _error_problems(doc)
    problems += _sla_task_problems(doc, facts)
    return problems


def _message_of(doc: Document, node: etree._Element) -> tuple[etree._Element, str] | None:
    """The node that names the message (the element or its message event definition) and the reference."""
    if local(node) == "receiveTask":
        return node, node.get("messageRef", "")
    found = doc.xpath("./bpmn:messageEventDefinition", node)
    return (found[0], found[0].get("messageRef", "")) if found else None


def _message_problems(doc: Document) -> Iterator[Problem]:
    """Every receiver waits for a message with a name (messages are delivered by name)."""
    for node in doc.in_executable(RECEIVERS):
        found = _message_of(doc, node)
        if found is None:
            continue
        where, ref = found
        if not ref:
            yield doc.at(where, "the element receives a message but names none: pick a message (or create one) in "
                                "its properties; messages are delivered by name", "message-name")
            continue
        message = doc.by_id.get(ref)
        if message is not None and local(message) == "message" and not (message.get("name") or "").strip():
            yield doc.at(where, f"message {ref!r} has no name, so no message can reach this element: give the "
                                f"message a name, e.g. customer_answer", "message-name")


def _form_problems(doc: Document, diagrams: DiagramSet, facts: dict[str, ElementFacts]) -> Iterator[Problem]:
    """A receiver's `form` property names a deployed form: the message's variables are checked by it."""
    for node in doc.in_executable(RECEIVERS):
        fact = facts.get(node.get("id", ""))
        form_id = fact.properties.get("form") if fact is not None else None
        if form_id is None:
            continue
        if not form_id.strip():
            yield doc.at(node, "the form property is empty: name the Camunda Form that checks the message's "
                               "variables, or remove the property", "message-form")
        elif form_id in diagrams.form_problems:
            yield doc.at(node, f"form {form_id!r} cannot be used: {diagrams.form_problems[form_id]}; fix "
                               f"forms/{form_id}.form", "message-form")
        elif not diagrams.form_known(form_id):
            yield doc.at(node, f"form {form_id!r} (the form property) is not in forms/{suggest(form_id, diagrams.forms)}"
                               f": add forms/{form_id}.form or name one of: {listing(diagrams.forms)}",
                         "message-form")


def _error_problems(doc: Document) -> Iterator[Problem]:
    """An error boundary event catches a code: its error must have one."""
    for node in doc.in_executable({"boundaryEvent"}):
        for definition in doc.xpath("./bpmn:errorEventDefinition", node):
            ref = definition.get("errorRef")
            if not ref:
                yield doc.at(definition, "the error boundary event names no error, so it catches every business "
                                         "error of the task: pick an error with the code it is for",
                             "error-code", WARNING)
                continue
            error = doc.by_id.get(ref)
            if error is not None and local(error) == "error" and not (error.get("errorCode") or "").strip():
                yield doc.at(definition, f"error {ref!r} has no error code, so the event catches nothing a service "
                                         f"task raises: set the code the service task raises, e.g. "
                                         f"payment_not_found", "error-code")


def _literal(raw: str) -> str | None:
    """The text a literal input stands for (Camunda 7 text, FEEL or Python string); None for an expression."""
    text = raw.strip()
    if text.startswith("${") or text.startswith("#{"):
        return None
    if text.startswith("="):
        text = text[1:].strip()
        return text[1:-1] if len(text) >= 2 and text[0] == text[-1] == '"' else None
    if text[:1] in ("'", '"'):
        try:
            value = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            return None
        return value if isinstance(value, str) else None
    return text


def _sla_task_problems(doc: Document, facts: dict[str, ElementFacts]) -> Iterator[Problem]:
    """`task/remind` and `task/escalate` name a user task of their own process in their `task` input."""
    for fact in facts.values():
        if fact.tag != "serviceTask" or fact.topic not in TASK_TOPICS:
            continue
        node = doc.by_id.get(fact.element_id)
        if node is None:
            continue
        inputs = dict(fact.inputs)
        raw = inputs.get("task")
        user_tasks = sorted(f.element_id for f in facts.values()
                            if f.tag == "userTask" and f.process_id == fact.process_id)
        if raw is None or not raw.strip():
            yield doc.at(node, f"{fact.topic} needs the input 'task': the id of the user task it acts on "
                               f"({listing(user_tasks)})", "sla-task")
            continue
        element = _literal(raw)
        if element is not None and element not in user_tasks:
            yield doc.at(node, f"input 'task' names {element!r}, which is not a user task of this process"
                               f"{suggest(element, user_tasks)}: name one of {listing(user_tasks)}", "sla-task")
