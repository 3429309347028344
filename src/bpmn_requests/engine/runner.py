"""Run instances to their next wait state and describe them as plain dataclasses.

The use case binds a service bridge for the duration of one run; the engine never sees ports,
sessions or users. Every run ends in a `Snapshot`: the state to store and what the use case needs to
write (waiting tasks, statuses reached, the elements completed, the end event).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.specs.mixins.events.end_event import EndEvent
from SpiffWorkflow.bpmn.util import BpmnEvent
from SpiffWorkflow.bpmn.workflow import BpmnWorkflow
from SpiffWorkflow.exceptions import SpiffWorkflowException, WorkflowException
from SpiffWorkflow.task import TaskState

from ..domain.errors import Conflict, DomainError, NotFound, ProcessError, ServiceTaskError
from .bundle import BundleCache, ProcessBundle
from .dialects import ElementFacts
from .events import Subscription, TimerDue, message_receivers, timer_due
from .expressions import evaluate as evaluate_expression
from .expressions import is_camunda_expression
from .scripting import SandboxedScriptEngine
from .serialization import StateSerializer, check_data_keys
from .specs import RUN_NOW, TopicServiceTask

# SpiffWorkflow's task iterator stops at depth 1000; a task deeper than this is invisible to it.
SAFE_DEPTH = 900
# Rounds of "run what is ready, fire what fell due meanwhile" one run may take before it is a loop.
MAX_ROUNDS = 100
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


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
    timers: list[TimerDue] = field(default_factory=list)
    subscriptions: list[Subscription] = field(default_factory=list)
    pending_async: list[str] = field(default_factory=list)  # asynchronous service tasks waiting for a worker
    due_at: datetime | None = None  # when a worker must look at the instance next (None: nothing due)


@dataclass(frozen=True)
class RunContext:
    """What one run may see besides the diagram: services, the time, read-only values for expressions."""

    bridge: ServiceBridge
    instance_key: str
    now: datetime | None = None  # None: the system clock
    values: Mapping[str, Any] = field(default_factory=dict)  # e.g. sla_due_at, never stored in the state
    run_async: bool = False  # run the asynchronous service tasks that wait for a worker (workers do)
    overrides: Mapping[str, dict[str, Any]] = field(default_factory=dict)  # element id -> result to use

    def time(self) -> datetime:
        return self.now or datetime.now(UTC)


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
              bridge: ServiceBridge, instance_key: str, *, ctx: RunContext | None = None) -> Snapshot:
        spec, subs = bundle.specs(process_id)
        workflow = BpmnWorkflow(spec, subs, script_engine=SandboxedScriptEngine())
        start = workflow.get_tasks(state=TaskState.READY)
        for task in start:
            task.data.update(data)
        return self._run(bundle, workflow, ctx or RunContext(bridge, instance_key))

    def complete(self, bundle: ProcessBundle, process_id: str, state: str, task_id: str,
                 prepare: Callable[[dict[str, Any]], dict[str, Any]], bridge: ServiceBridge,
                 instance_key: str, *, ctx: RunContext | None = None) -> Snapshot:
        """Complete a user task with the data `prepare` returns, given the task's current data.

        `prepare` validates the submission against the task's own variables (form options, approval
        level, proposer); it raises to refuse, and nothing has changed then.
        """
        workflow = self._restore(bundle, process_id, state)
        task = self._waiting_task(workflow, task_id)
        data = prepare(dict(task.data))
        check_data_keys(data)
        task.data.update(data)
        return self._run(bundle, workflow, ctx or RunContext(bridge, instance_key), first=task)

    def advance(self, bundle: ProcessBundle, process_id: str, state: str, bridge: ServiceBridge,
                instance_key: str, *, ctx: RunContext | None = None) -> Snapshot:
        """Run whatever is due: timers whose time has come, asynchronous service tasks (with
        `ctx.run_async`), and what is ready after them (also after a crash or a migration)."""
        workflow = self._restore(bundle, process_id, state)
        return self._run(bundle, workflow, ctx or RunContext(bridge, instance_key))

    def deliver(self, bundle: ProcessBundle, process_id: str, state: str, element_id: str, message: str,
                variables: dict[str, Any], ctx: RunContext) -> Snapshot:
        """Hand a message to the element waiting for it; its variables become process variables."""
        check_data_keys(variables, "variables")
        workflow = self._restore(bundle, process_id, state)
        for task in list(workflow.event_manager.tasks.values()):
            spec = task.task_spec
            if (element_id, message) not in message_receivers(task):
                continue
            definitions = getattr(spec.event_definition, "event_definitions", [spec.event_definition])
            definition = next(d for d in definitions if getattr(d, "name", None) == message)
            self._bind(workflow, bundle, ctx)  # the catch may evaluate timers of the element it completes
            spec.catch(task, BpmnEvent(definition, payload=dict(variables)))
            spec._update(task)
            return self._run(bundle, workflow, ctx)
        raise NotFound(f"the instance does not wait for message {message!r} at {element_id}")

    def cancel(self, bundle: ProcessBundle, process_id: str, state: str) -> Snapshot:
        """Stop the instance where it is: every waiting task, timer and receiver is cancelled."""
        workflow = self._restore(bundle, process_id, state)
        workflow.cancel()
        return Snapshot(state=self.serializer.dumps(workflow), completed=True, waiting=[],
                        data=self._last_data(workflow))

    def describe(self, bundle: ProcessBundle, process_id: str, state: str) -> Snapshot:
        """What the instance waits for now (tasks, timers, messages, workers), without running anything."""
        workflow = self._restore(bundle, process_id, state)
        return self._snapshot(bundle, workflow, RunContext(lambda call: {}, ""), [], [], [])

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

    def _bind(self, workflow: BpmnWorkflow, bundle: ProcessBundle, ctx: RunContext) -> None:
        engine: SandboxedScriptEngine = workflow.script_engine
        engine.service_runner = self._service_runner(bundle, ctx)
        engine.clock = ctx.time
        engine.values = ctx.values  # read when an expression asks (SLA values are computed lazily)

    def _run(self, bundle: ProcessBundle, workflow: BpmnWorkflow, ctx: RunContext, first: Any = None) -> Snapshot:
        trail: list[StepDone] = []
        statuses: list[str] = []
        end_events: list[str] = []
        engine: SandboxedScriptEngine = workflow.script_engine
        self._bind(workflow, bundle, ctx)

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
            workflow.refresh_timers()
            if ctx.run_async:
                for task in self._pending_async(workflow):
                    task.internal_data[RUN_NOW] = True
                    task.run()
                    if task.state == TaskState.COMPLETED:
                        did_complete(task)
            self._run_ready(workflow, did_complete)
        except DomainError:
            raise
        except (WorkflowTaskException, SpiffWorkflowException) as exc:
            raise self._process_error(exc) from None
        finally:
            engine.service_runner = None
        self._check_nothing_hidden(workflow)
        return self._snapshot(bundle, workflow, ctx, statuses, trail, end_events)

    def _run_ready(self, workflow: BpmnWorkflow, did_complete: Callable[[Any], None]) -> None:
        # do_engine_steps refreshes timers only at its end; one that fell due meanwhile (or a zero
        # duration) is READY then, so run again until nothing automatic is ready.
        for _ in range(MAX_ROUNDS):
            workflow.do_engine_steps(did_complete_task=did_complete)
            if not any(t.state == TaskState.READY and not t.task_spec.manual for t in self._all_tasks(workflow)):
                return
        raise ProcessError(f"the instance kept firing timers for {MAX_ROUNDS} rounds in one step: a timer cycle "
                           f"or a loop through timers that are already due never waits")

    def _pending_async(self, workflow: BpmnWorkflow) -> list[Any]:
        return [t for t in self._all_tasks(workflow) if t.state == TaskState.STARTED
                and isinstance(t.task_spec, TopicServiceTask) and t.task_spec.asynchronous]

    def _snapshot(self, bundle: ProcessBundle, workflow: BpmnWorkflow, ctx: RunContext, statuses: list[str],
                  trail: list[StepDone], end_events: list[str]) -> Snapshot:
        waiting = self._waiting(bundle, workflow)
        subscriptions = self._subscriptions(bundle, workflow)
        for item in waiting:
            if item.properties.get("status"):
                statuses.append(str(item.properties["status"]))
        for sub in subscriptions:
            facts = bundle.element(sub.process_id, sub.element_id)
            if facts is not None and facts.prop("status"):
                statuses.append(str(facts.prop("status")))
        timers = [TimerDue(t.task_spec.bpmn_id, _process_id(t), due)
                  for t in workflow.event_manager.tasks.values() if (due := timer_due(t)) is not None]
        pending = [t.task_spec.bpmn_id for t in self._pending_async(workflow)]
        dues = [t.due_at for t in timers] + ([ctx.time()] if pending else [])
        return Snapshot(state=self.serializer.dumps(workflow), completed=workflow.is_completed(), waiting=waiting,
                        statuses=statuses, trail=trail, end_event=end_events[-1] if end_events else None,
                        data=self._last_data(workflow), timers=sorted(timers, key=lambda t: t.due_at),
                        subscriptions=subscriptions, pending_async=pending, due_at=min(dues) if dues else None)

    def _subscriptions(self, bundle: ProcessBundle, workflow: BpmnWorkflow) -> list[Subscription]:
        found = []
        for task in workflow.event_manager.tasks.values():
            for element_id, message in message_receivers(task):
                pid = _process_id(task)
                key = self._correlation_value(task, bundle.correlation_key(pid, element_id, message))
                found.append(Subscription(element_id, pid, message, key))
        return found

    def _correlation_value(self, task: Any, key: str) -> str | None:
        # A plain name is a variable (absent: no key yet); anything else is an expression.
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

    def _service_runner(self, bundle: ProcessBundle, ctx: RunContext) -> Callable[[Any, str], dict[str, Any]]:
        overrides = dict(ctx.overrides)

        def run(task: Any, topic: str) -> dict[str, Any]:
            pid = _process_id(task)
            element_id = task.task_spec.bpmn_id
            facts = bundle.element(pid, element_id)
            if not topic:
                raise ProcessError(f"service task {element_id} names no topic", details={"element_id": element_id})
            if element_id in overrides:  # an admin skipped this step with the result it should have given
                result = overrides.pop(element_id)
                check_data_keys(result, "result")
                return result
            # An empty input parameter (an optional element-template field left blank) maps nothing: the
            # service task then receives the process variable of the same name, as without a mapping.
            dialect = facts.dialect if facts else "bpmn"
            inputs = {name: self._input_value(task, raw, dialect) for name, raw in (facts.inputs if facts else ())
                      if raw.strip()}
            call = ServiceCall(topic, element_id, pid, f"{ctx.instance_key}:{task.id}", inputs, dict(task.data))
            try:
                result = ctx.bridge(call)
            except ServiceTaskError as exc:
                exc.details.update(element_id=element_id, process_id=pid, data=dict(task.data))
                raise
            except OSError as exc:  # a network or file problem of the service: worth trying again
                error = ServiceTaskError(f"{topic}: {type(exc).__name__}: {exc}", error_code="unavailable",
                                         transient=True)
                error.details.update(element_id=element_id, process_id=pid, data=dict(task.data))
                raise error from exc
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


__all__ = ["Engine", "RunContext", "ServiceBridge", "ServiceCall", "Snapshot", "Subscription", "TimerDue",
           "TopicServiceTask", "WaitingTask"]
