"""Service tasks as the engine calls them: inputs mapped in each dialect's terms, outputs mapped back.

The use case hands the engine a `ServiceBridge` for one run; this module turns a service task reached by
SpiffWorkflow into a `ServiceCall` for it, and names the element (and its variables) in any error, so that
a retry or an incident can say where the instance stopped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..domain.errors import ProcessError, ServiceTaskError
from .bundle import ProcessBundle
from .expressions import evaluate as evaluate_expression
from .expressions import is_camunda_expression
from .serialization import check_data_keys


@dataclass(frozen=True)
class ServiceCall:
    topic: str
    element_id: str
    process_id: str
    step_key: str
    inputs: dict[str, Any]  # explicit input mappings, already evaluated
    data: dict[str, Any]  # the task's process variables


ServiceBridge = Callable[[ServiceCall], dict[str, Any]]


def process_id_of(task: Any) -> str:
    return str(task.workflow.spec.name)


def service_runner(bundle: ProcessBundle, instance_key: str, bridge: ServiceBridge,
                   overrides: Mapping[str, dict[str, Any]]) -> Callable[[Any, str], dict[str, Any]]:
    """What the script engine calls for a service task: `overrides` answer an element once instead of its
    service (an admin skipping a failed step with the result it should have given)."""
    pending = dict(overrides)

    def run(task: Any, topic: str) -> dict[str, Any]:
        pid = process_id_of(task)
        element_id = task.task_spec.bpmn_id
        facts = bundle.element(pid, element_id)
        if not topic:
            raise ProcessError(f"service task {element_id} names no topic", details={"element_id": element_id})
        if element_id in pending:
            result = pending.pop(element_id)
            check_data_keys(result, "result")
            return result
        # An empty input parameter (an optional element-template field left blank) maps nothing: the
        # service task then receives the process variable of the same name, as without a mapping.
        dialect = facts.dialect if facts else "bpmn"
        inputs = {name: _input_value(task, raw, dialect) for name, raw in (facts.inputs if facts else ())
                  if raw.strip()}
        call = ServiceCall(topic, element_id, pid, f"{instance_key}:{task.id}", inputs, dict(task.data))
        try:
            result = bridge(call)
        except ServiceTaskError as exc:
            exc.details.update(element_id=element_id, process_id=pid, data=dict(task.data))
            raise
        except OSError as exc:  # a network or file problem of the service: worth trying again
            error = ServiceTaskError(f"{topic}: {type(exc).__name__}: {exc}", error_code="unavailable",
                                     transient=True)
            error.details.update(element_id=element_id, process_id=pid, data=dict(task.data))
            raise error from exc
        if facts and facts.outputs:
            return {name: _output_value(task, result, raw) for name, raw in facts.outputs}
        if facts and facts.result_variable:  # SpiffArena: the whole result in one variable
            return {facts.result_variable: result}
        return result

    return run


def _input_value(task: Any, raw: str, dialect: str) -> Any:
    # `${...}` is JUEL and `=...` FEEL (Camunda); SpiffArena's parameters are Python; else a literal.
    text = raw.strip()
    if is_camunda_expression(text) or dialect == "spiffworkflow":
        return task.workflow.script_engine.evaluate(task, text)
    return text


def _output_value(task: Any, result: dict[str, Any], raw: str) -> Any:
    # An output mapping sees the task's variables and, over them, what the service returned.
    text = raw.strip()
    return evaluate_expression(text, {**task.data, **result}) if is_camunda_expression(text) else text
