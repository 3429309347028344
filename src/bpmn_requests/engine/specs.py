"""Our task spec for service tasks: an external-task topic dispatched to the service-task registry.

An asynchronous service task (`camunda:asyncBefore`, every Camunda 8 job, SpiffArena's `asyncBefore`
property) does not run in the transaction that reaches it: it waits, STARTED, until a worker runs it.
A business error a service task raises on purpose (`ServiceTaskError`, not transient) is thrown as a BPMN
error when an error boundary event of the task, or of a call activity around it, catches its code.
"""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.specs.control import BoundaryEventSplit
from SpiffWorkflow.bpmn.specs.event_definitions.item_aware_event import ErrorEventDefinition
from SpiffWorkflow.bpmn.specs.mixins.bpmn_spec_mixin import BpmnSpecMixin
from SpiffWorkflow.bpmn.specs.mixins.events.intermediate_event import BoundaryEvent
from SpiffWorkflow.bpmn.specs.mixins.service_task import ServiceTask as ServiceTaskMixin
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.util.task import TaskState

from ..domain.errors import ServiceTaskError
from .dialects import CAMUNDA_NS, NS, element_facts

RUN_NOW = "run_now"  # internal data: a worker runs this asynchronous task now


class TopicServiceTask(ServiceTaskMixin, BpmnSpecMixin):  # type: ignore[misc]
    """A service task whose outputs become process variables (Camunda external-task semantics)."""

    def __init__(self, wf_spec: Any, bpmn_id: str, topic: str | None, asynchronous: bool = False, **kwargs: Any):
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.topic = topic
        self.asynchronous = asynchronous

    def _execute(self, task: Any) -> bool | None:
        if self.asynchronous and not task.internal_data.pop(RUN_NOW, False):
            return None  # STARTED: the instance waits here for a worker
        try:
            result = task.workflow.script_engine.call_service(task, topic=self.topic)
        except ServiceTaskError as exc:
            if exc.transient or not throw_error(task, exc):
                raise
            return None  # the boundary event cancels this task and takes over
        task.data.update(result)
        return True


def _error_boundaries(task: Any, code: str) -> list[Any]:
    """Waiting error boundary events that catch `code`: on the task, then on each call activity around it."""
    current = task
    while current is not None:
        parent = current.parent
        if parent is not None and isinstance(parent.task_spec, BoundaryEventSplit):
            found = [t for t in parent.children if isinstance(t.task_spec, BoundaryEvent)
                     and t.state == TaskState.WAITING
                     and isinstance(t.task_spec.event_definition, ErrorEventDefinition)
                     and t.task_spec.event_definition.code in (None, code)]
            if found:
                # A boundary naming this very code wins over a catch-all one.
                exact = [t for t in found if t.task_spec.event_definition.code == code]
                return exact[:1] or found[:1]
        owner = current.workflow.parent_task_id
        current = current.workflow.top_workflow.get_task_from_id(owner) if owner is not None else None
    return []


def throw_error(task: Any, exc: ServiceTaskError) -> bool:
    """Throw `exc` as a BPMN error to the boundary event that catches it; False when none does."""
    boundaries = _error_boundaries(task, exc.error_code)
    for boundary in boundaries:
        definition = boundary.task_spec.event_definition
        event = BpmnEvent(ErrorEventDefinition(definition.name, exc.error_code),
                          payload={"error_code": exc.error_code, "error_message": exc.message})
        boundary.task_spec.catch(boundary, event)
        boundary.task_spec._update(boundary)
    return bool(boundaries)


class TopicServiceTaskParser(TaskParser):  # type: ignore[misc]
    """Reads the topic from whichever dialect the diagram uses (the validator refuses a missing one)."""

    def create_task(self) -> TopicServiceTask:
        topic = self.node.get(f"{{{CAMUNDA_NS}}}topic")
        if topic is None:
            found = self.node.xpath(
                "./bpmn:extensionElements/zeebe:taskDefinition/@type"
                " | ./bpmn:extensionElements/spiffworkflow:serviceTaskOperator/@id", namespaces=NS)
            topic = str(found[0]) if found else None
        asynchronous = element_facts(self.node).async_before
        return TopicServiceTask(self.spec, self.bpmn_id, topic=topic, asynchronous=asynchronous,
                                **self.bpmn_attributes)
