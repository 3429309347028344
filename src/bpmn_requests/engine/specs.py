"""Our task spec for service tasks: an external-task topic dispatched to the service-task registry."""

from __future__ import annotations

from typing import Any

from SpiffWorkflow.bpmn.parser.TaskParser import TaskParser
from SpiffWorkflow.bpmn.specs.mixins.bpmn_spec_mixin import BpmnSpecMixin
from SpiffWorkflow.bpmn.specs.mixins.service_task import ServiceTask as ServiceTaskMixin

from .dialects import CAMUNDA_NS, NS


class TopicServiceTask(ServiceTaskMixin, BpmnSpecMixin):  # type: ignore[misc]
    """A service task whose outputs become process variables (Camunda external-task semantics)."""

    def __init__(self, wf_spec: Any, bpmn_id: str, topic: str | None, **kwargs: Any):
        super().__init__(wf_spec, bpmn_id, **kwargs)
        self.topic = topic

    def _execute(self, task: Any) -> bool:
        result = task.workflow.script_engine.call_service(task, topic=self.topic)
        task.data.update(result)
        return True


class TopicServiceTaskParser(TaskParser):  # type: ignore[misc]
    """Reads the topic from whichever dialect the diagram uses (the validator refuses a missing one)."""

    def create_task(self) -> TopicServiceTask:
        topic = self.node.get(f"{{{CAMUNDA_NS}}}topic")
        if topic is None:
            found = self.node.xpath(
                "./bpmn:extensionElements/zeebe:taskDefinition/@type"
                " | ./bpmn:extensionElements/spiffworkflow:serviceTaskOperator/@id", namespaces=NS)
            topic = str(found[0]) if found else None
        return TopicServiceTask(self.spec, self.bpmn_id, topic=topic, **self.bpmn_attributes)
