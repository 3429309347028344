"""Instance state without its spec: specs live once per deployed version, state per instance.

SpiffWorkflow's default serialization embeds `spec` and `subprocess_specs`, which are more than half
of a small instance's JSON. We drop them on write and hand the version's parsed specs back on read.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.serializer.default.event_definition import (
    MessageEventDefinitionConverter,
    TimerConditionalEventDefinitionConverter,
)
from SpiffWorkflow.bpmn.serializer.default.workflow import BpmnWorkflowConverter, WorkflowConverter
from SpiffWorkflow.bpmn.serializer.migration.version_migration import MIGRATIONS
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG

from ..domain.errors import ValidationFailed
from .events import TIMER_CLASSES, ReceivedMessage


class StatelessWorkflowConverter(BpmnWorkflowConverter):  # type: ignore[misc]
    def to_dict(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        dct: dict[str, Any] = WorkflowConverter.to_dict(self, workflow)
        dct["subprocesses"] = self.mapping_to_dict(workflow.subprocesses)
        dct["bpmn_events"] = self.registry.convert(workflow.bpmn_events)
        return dct

    def from_dict(self, dct: dict[str, Any], spec: Any = None, subprocess_specs: Any = None) -> BpmnWorkflow:
        if spec is None:
            raise ValueError("an instance is restored with its version's spec")
        workflow = self.target_class(spec, subprocess_specs, deserializing=True)
        workflow.tasks = self.mapping_from_dict(dct["tasks"], UUID, workflow=workflow)
        workflow.task_tree = workflow.tasks.get(UUID(dct["root"]))
        self.set_default_attributes(workflow, dct)
        self.subprocesses_from_dict(dct["subprocesses"], workflow)
        workflow.bpmn_events = self.registry.restore(dct.pop("bpmn_events", []))
        return workflow


def _registry() -> Any:
    config = dict(CAMUNDA_CONFIG)
    config[BpmnWorkflow] = StatelessWorkflowConverter
    # Event definitions appear in instance state inside an event-based gateway's seen events.
    config.update({timer: TimerConditionalEventDefinitionConverter for timer in TIMER_CLASSES})
    config[ReceivedMessage] = MessageEventDefinitionConverter
    registry = BpmnWorkflowSerializer.configure(config)
    registry.register(Decimal, lambda v: {"value": str(v)}, lambda v: Decimal(v["value"]), typename="Decimal")
    registry.register(date, lambda v: {"value": v.isoformat()}, lambda v: date.fromisoformat(v["value"]),
                      typename="date")
    return registry


class StateSerializer:
    def __init__(self) -> None:
        self._serializer = BpmnWorkflowSerializer(_registry())

    def dumps(self, workflow: BpmnWorkflow) -> str:
        return str(self._serializer.serialize_json(workflow))

    def loads(self, state: str, spec: Any, subprocess_specs: Any) -> BpmnWorkflow:
        dct = json.loads(state)
        version = dct.pop(BpmnWorkflowSerializer.VERSION_KEY, None)
        if version in MIGRATIONS:
            MIGRATIONS[version](dct)
        return self._serializer.registry.restore(dct, spec=spec, subprocess_specs=subprocess_specs)


def check_data_keys(data: dict[str, Any], where: str = "data") -> None:
    """`typename` marks typed values in SpiffWorkflow's serialization; user data must not use it."""
    for key, value in data.items():
        if key == "typename":
            raise ValidationFailed(f"{where}: the key 'typename' is reserved", field="typename")
        if isinstance(value, dict):
            check_data_keys(value, f"{where}.{key}")
        if isinstance(value, float):
            raise ValidationFailed(f"{where}.{key}: numbers must be decimals, not floats", field=key)
