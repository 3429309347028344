"""What an instance waits for, read from SpiffWorkflow's task tree: user tasks, timers, message receivers
and asynchronous service tasks waiting for a worker."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.task import TaskState

from ..domain.errors import DomainError, ProcessError
from .bundle import ProcessBundle
from .dialects import ElementFacts
from .events import Subscription, TimerDue, message_receivers, timer_due
from .service_calls import process_id_of
from .specs import TopicServiceTask

IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class WaitingTask:
    id: str
    element_id: str
    process_id: str
    name: str
    form_id: str | None
    candidate_groups: tuple[str, ...]
    assignee: str | None
    properties: dict[str, str]
    data: dict[str, Any]


def all_tasks(workflow: BpmnWorkflow) -> list[Any]:
    tasks = list(workflow.tasks.values())
    for sub in workflow.subprocesses.values():
        tasks.extend(sub.tasks.values())
    return tasks


def user_tasks(bundle: ProcessBundle, workflow: BpmnWorkflow) -> list[WaitingTask]:
    """The user tasks open now, with what their elements say (form, groups, properties)."""
    found = []
    for task in all_tasks(workflow):
        if task.state != TaskState.READY or not task.task_spec.manual:
            continue
        pid = process_id_of(task)
        facts = bundle.element(pid, task.task_spec.bpmn_id) or ElementFacts(
            task.task_spec.bpmn_id, "userTask", task.task_spec.bpmn_name or "", pid, 0)
        found.append(WaitingTask(str(task.id), facts.element_id, pid, facts.name or facts.element_id,
                                 facts.form_id, facts.candidate_groups, facts.assignee,
                                 dict(facts.properties), dict(task.data)))
    return found


def pending_async(workflow: BpmnWorkflow) -> list[Any]:
    """Asynchronous service tasks reached and waiting for a worker."""
    return [t for t in all_tasks(workflow) if t.state == TaskState.STARTED
            and isinstance(t.task_spec, TopicServiceTask) and t.task_spec.asynchronous]


def timers(workflow: BpmnWorkflow) -> list[TimerDue]:
    """Waiting timers, soonest first."""
    found = [TimerDue(t.task_spec.bpmn_id, process_id_of(t), due)
             for t in workflow.event_manager.tasks.values() if (due := timer_due(t)) is not None]
    return sorted(found, key=lambda t: t.due_at)


def subscriptions(bundle: ProcessBundle, workflow: BpmnWorkflow) -> list[Subscription]:
    """Waiting message receivers with the value of their correlation key."""
    found = []
    for task in workflow.event_manager.tasks.values():
        for element_id, message in message_receivers(task):
            pid = process_id_of(task)
            key = correlation_value(task, bundle.correlation_key(pid, element_id, message))
            found.append(Subscription(element_id, pid, message, key))
    return found


def correlation_value(task: Any, key: str) -> str | None:
    """A plain name is a variable (absent: no key yet); anything else is an expression."""
    text = key.strip()
    if IDENTIFIER.match(text):
        value = task.data.get(text)
    else:
        try:
            value = task.workflow.script_engine.evaluate(task, text)
        except (DomainError, SpiffWorkflowException) as exc:
            element = task.task_spec.bpmn_id
            raise ProcessError(f"element {element}: the correlation key {text!r} cannot be evaluated: {exc}",
                               details={"element_id": element}) from None
    return None if value is None else str(value)
