"""Run instances to their next wait state and describe them as plain dataclasses.

The use case binds a service bridge for the duration of one run; the engine never sees ports,
sessions or users. Every run ends in a `Snapshot`: the state to store and what the use case needs to
write (waiting tasks, statuses reached, the elements completed, the end event).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.task import TaskState

from ..domain.errors import Conflict, DomainError, NotFound, ProcessError
from .bundle import BundleCache, ProcessBundle
from .dialects import ElementFacts
from .expressions import evaluate as evaluate_expression
from .expressions import is_camunda_expression
from .scripting import SandboxedScriptEngine
from .serialization import StateSerializer, check_data_keys
from .specs import TopicServiceTask

# SpiffWorkflow's task iterator stops at depth 1000; a task deeper than this is invisible to it.
SAFE_DEPTH = 900


@dataclass(frozen=True)
class ServiceCall:
    topic: str
    element_id: str
    process_id: str
    step_key: str
    inputs: dict[str, Any]  # explicit input mappings, already evaluated
    data: dict[str, Any]  # the task's process variables


ServiceBridge = Callable[[ServiceCall], dict[str, Any]]


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


@dataclass(frozen=True)
class StepDone:
    element_id: str
    process_id: str
    name: str
    tag: str


@dataclass(frozen=True)
class Progress:
    """Per process id: the elements completed and those active now (for drawing where a request stands)."""

    completed: dict[str, set[str]]
    active: dict[str, set[str]]


@dataclass
class Snapshot:
    state: str
    completed: bool
    waiting: list[WaitingTask]
    statuses: list[str] = field(default_factory=list)
    trail: list[StepDone] = field(default_factory=list)
    end_event: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


def _process_id(task: Any) -> str:
    return str(task.workflow.spec.name)


class Engine:
    def __init__(self, cache: BundleCache | None = None):
        self.cache = cache or BundleCache()
        self.serializer = StateSerializer()

    def bundle(self, files: Mapping[str, bytes]) -> ProcessBundle:
        return self.cache.get(files)

    # --- public operations -------------------------------------------------------------------

    def start(self, bundle: ProcessBundle, process_id: str, data: dict[str, Any],
              bridge: ServiceBridge, instance_key: str) -> Snapshot:
        spec, subs = bundle.specs(process_id)
        workflow = BpmnWorkflow(spec, subs, script_engine=SandboxedScriptEngine())
        start = workflow.get_tasks(state=TaskState.READY)
        for task in start:
            task.data.update(data)
        return self._run(bundle, workflow, bridge, instance_key)

    def complete(self, bundle: ProcessBundle, process_id: str, state: str, task_id: str,
                 prepare: Callable[[dict[str, Any]], dict[str, Any]], bridge: ServiceBridge,
                 instance_key: str) -> Snapshot:
        """Complete a user task with the data `prepare` returns, given the task's current data.

        `prepare` validates the submission against the task's own variables (form options, approval
        level, proposer); it raises to refuse, and nothing has changed then.
        """
        workflow = self._restore(bundle, process_id, state)
        task = self._waiting_task(workflow, task_id)
        data = prepare(dict(task.data))
        check_data_keys(data)
        task.data.update(data)
        return self._run(bundle, workflow, bridge, instance_key, first=task)

    def advance(self, bundle: ProcessBundle, process_id: str, state: str, bridge: ServiceBridge,
                instance_key: str) -> Snapshot:
        """Run whatever is ready (after a crash, a timer, a message)."""
        workflow = self._restore(bundle, process_id, state)
        return self._run(bundle, workflow, bridge, instance_key)

    def waiting(self, bundle: ProcessBundle, process_id: str, state: str) -> list[WaitingTask]:
        workflow = self._restore(bundle, process_id, state)
        return self._waiting(bundle, workflow)

    def progress(self, bundle: ProcessBundle, process_id: str, state: str) -> Progress:
        workflow = self._restore(bundle, process_id, state)
        completed: dict[str, set[str]] = {}
        active: dict[str, set[str]] = {}
        for task in self._all_tasks(workflow):
            element = getattr(task.task_spec, "bpmn_id", None)
            if not element:
                continue
            pid = _process_id(task)
            if task.state == TaskState.COMPLETED:
                completed.setdefault(pid, set()).add(element)
            elif task.state in (TaskState.READY, TaskState.WAITING, TaskState.STARTED):
                active.setdefault(pid, set()).add(element)
        return Progress(completed, active)

    def data(self, bundle: ProcessBundle, process_id: str, state: str) -> dict[str, Any]:
        workflow = self._restore(bundle, process_id, state)
        return self._last_data(workflow)

    # --- internals -----------------------------------------------------------------------------

    def _restore(self, bundle: ProcessBundle, process_id: str, state: str) -> BpmnWorkflow:
        spec, subs = bundle.specs(process_id)
        workflow = self.serializer.loads(state, spec, subs)
        workflow.script_engine = SandboxedScriptEngine()
        return workflow

    def _waiting_task(self, workflow: BpmnWorkflow, task_id: str) -> Any:
        try:
            task = workflow.get_task_from_id(UUID(task_id))
        except (ValueError, WorkflowException, KeyError):
            raise NotFound(f"task {task_id} is not part of this instance") from None
        if task is None or not task.task_spec.manual:
            raise NotFound(f"task {task_id} is not a user task of this instance")
        if task.state != TaskState.READY:
            raise Conflict(f"task {task_id} is no longer open ({TaskState.get_name(task.state)})")
        return task

    def _all_tasks(self, workflow: BpmnWorkflow) -> list[Any]:
        tasks = list(workflow.tasks.values())
        for sub in workflow.subprocesses.values():
            tasks.extend(sub.tasks.values())
        return tasks

    def _run(self, bundle: ProcessBundle, workflow: BpmnWorkflow, bridge: ServiceBridge,
             instance_key: str, first: Any = None) -> Snapshot:
        trail: list[StepDone] = []
        statuses: list[str] = []
        end_events: list[str] = []
        engine: SandboxedScriptEngine = workflow.script_engine
        engine.service_runner = self._service_runner(bundle, bridge, instance_key)

        def did_complete(task: Any) -> None:
            if task.depth >= SAFE_DEPTH:
                raise ProcessError(
                    f"element {task.task_spec.bpmn_id} ran at depth {task.depth}: a loop in the diagram has "
                    f"repeated too often for the engine (limit {SAFE_DEPTH}); the instance was not advanced")
            pid = _process_id(task)
            facts = bundle.element(pid, task.task_spec.bpmn_id or "")
            if facts is None:
                return
            trail.append(StepDone(facts.element_id, pid, facts.name, facts.tag))
            if facts.prop("status"):
                statuses.append(str(facts.prop("status")))
            if isinstance(task.task_spec, EndEvent) and task.workflow is workflow:
                end_events.append(facts.element_id)

        try:
            if first is not None:
                first.run()
                did_complete(first)
            workflow.do_engine_steps(did_complete_task=did_complete)
        except DomainError:
            raise
        except (WorkflowTaskException, SpiffWorkflowException) as exc:
            raise self._process_error(exc) from None
        finally:
            engine.service_runner = None
        self._check_nothing_hidden(workflow)
        waiting = self._waiting(bundle, workflow)
        statuses.extend(str(w.properties["status"]) for w in waiting if w.properties.get("status"))
        completed = workflow.is_completed()
        return Snapshot(state=self.serializer.dumps(workflow), completed=completed, waiting=waiting,
                        statuses=statuses, trail=trail, end_event=end_events[-1] if end_events else None,
                        data=self._last_data(workflow))

    def _process_error(self, exc: SpiffWorkflowException) -> DomainError:
        cause = getattr(exc, "exception", None) or exc.__cause__ or exc.__context__
        if isinstance(cause, DomainError):
            return cause
        task = getattr(exc, "task", None)
        element = task.task_spec.bpmn_id if task is not None else "?"
        detail = str(exc)
        return ProcessError(f"element {element}: {detail}", details={"element_id": element})

    def _check_nothing_hidden(self, workflow: BpmnWorkflow) -> None:
        for task in self._all_tasks(workflow):
            if task.state == TaskState.READY and not task.task_spec.manual:
                raise ProcessError(
                    f"element {task.task_spec.bpmn_id} is ready but the engine stopped before it "
                    f"(task depth {task.depth}): a loop in the diagram has run too often")

    def _waiting(self, bundle: ProcessBundle, workflow: BpmnWorkflow) -> list[WaitingTask]:
        found = []
        for task in self._all_tasks(workflow):
            if task.state != TaskState.READY or not task.task_spec.manual:
                continue
            pid = _process_id(task)
            facts = bundle.element(pid, task.task_spec.bpmn_id) or ElementFacts(
                task.task_spec.bpmn_id, "userTask", task.task_spec.bpmn_name or "", pid, 0)
            found.append(WaitingTask(str(task.id), facts.element_id, pid, facts.name or facts.element_id,
                                     facts.form_id, facts.candidate_groups, facts.assignee,
                                     dict(facts.properties), dict(task.data)))
        return found

    def _last_data(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        if workflow.last_task is not None:
            return dict(workflow.last_task.data)
        return dict(workflow.data)

    def _service_runner(self, bundle: ProcessBundle, bridge: ServiceBridge,
                        instance_key: str) -> Callable[[Any, str], dict[str, Any]]:
        def run(task: Any, topic: str) -> dict[str, Any]:
            pid = _process_id(task)
            element_id = task.task_spec.bpmn_id
            facts = bundle.element(pid, element_id)
            if not topic:
                raise ProcessError(f"service task {element_id} names no topic", details={"element_id": element_id})
            # An empty input parameter (an optional element-template field left blank) maps nothing: the
            # service task then receives the process variable of the same name, as without a mapping.
            dialect = facts.dialect if facts else "bpmn"
            inputs = {name: self._input_value(task, raw, dialect) for name, raw in (facts.inputs if facts else ())
                      if raw.strip()}
            call = ServiceCall(topic, element_id, pid, f"{instance_key}:{task.id}", inputs, dict(task.data))
            result = bridge(call)
            if facts and facts.outputs:
                return {name: self._output_value(task, result, raw) for name, raw in facts.outputs}
            if facts and facts.result_variable:  # SpiffArena: the whole result in one variable
                return {facts.result_variable: result}
            return result

        return run

    def _input_value(self, task: Any, raw: str, dialect: str) -> Any:
        # `${...}` is JUEL and `=...` FEEL (Camunda); SpiffArena's parameters are Python; else a literal.
        text = raw.strip()
        if is_camunda_expression(text) or dialect == "spiffworkflow":
            return task.workflow.script_engine.evaluate(task, text)
        return text

    def _output_value(self, task: Any, result: dict[str, Any], raw: str) -> Any:
        # An output mapping sees the task's variables and, over them, what the service returned.
        text = raw.strip()
        return evaluate_expression(text, {**task.data, **result}) if is_camunda_expression(text) else text


__all__ = ["Engine", "ServiceBridge", "ServiceCall", "Snapshot", "TopicServiceTask", "WaitingTask"]
