"""Run instances to their next wait state and describe them as plain dataclasses.

The use case binds a service bridge for the duration of one run; the engine never sees ports,
sessions or users. Every run ends in a `Snapshot`: the state to store and what the use case needs to
write (waiting tasks, statuses reached, the elements completed, the end event).
"""

from __future__ import annotations

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

from ..domain.errors import Conflict, DomainError, NotFound, ProcessError
from .bundle import BundleCache, ProcessBundle
from .events import Subscription, TimerDue, message_receivers
from .scripting import SandboxedScriptEngine
from .serialization import StateSerializer, check_data_keys
from .service_calls import ServiceBridge, ServiceCall, process_id_of, service_runner
from .specs import RUN_NOW, TopicServiceTask
from .waits import WaitingTask, all_tasks, pending_async, subscriptions, timers, user_tasks

# SpiffWorkflow's task iterator stops at depth 1000; a task deeper than this is invisible to it.
SAFE_DEPTH = 900
# Rounds of "run what is ready, fire what fell due meanwhile" one run may take before it is a loop.
MAX_ROUNDS = 100


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
        return self._snapshot(bundle, workflow, RunContext(lambda call: {}, ""), [], [], [], state=state)

    def waiting(self, bundle: ProcessBundle, process_id: str, state: str) -> list[WaitingTask]:
        workflow = self._restore(bundle, process_id, state)
        return user_tasks(bundle, workflow)

    def progress(self, bundle: ProcessBundle, process_id: str, state: str) -> Progress:
        workflow = self._restore(bundle, process_id, state)
        completed: dict[str, set[str]] = {}
        active: dict[str, set[str]] = {}
        for task in all_tasks(workflow):
            element = getattr(task.task_spec, "bpmn_id", None)
            if not element:
                continue
            pid = process_id_of(task)
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

    def _bind(self, workflow: BpmnWorkflow, bundle: ProcessBundle, ctx: RunContext) -> None:
        engine: SandboxedScriptEngine = workflow.script_engine
        engine.service_runner = service_runner(bundle, ctx.instance_key, ctx.bridge, ctx.overrides)
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
            pid = process_id_of(task)
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
                for task in pending_async(workflow):
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
            if not any(t.state == TaskState.READY and not t.task_spec.manual for t in all_tasks(workflow)):
                return
        raise ProcessError(f"the instance kept firing timers for {MAX_ROUNDS} rounds in one step: a timer cycle "
                           f"or a loop through timers that are already due never waits")

    def _snapshot(self, bundle: ProcessBundle, workflow: BpmnWorkflow, ctx: RunContext, statuses: list[str],
                  trail: list[StepDone], end_events: list[str], state: str | None = None) -> Snapshot:
        """What the run left; `state`: the stored state when nothing ran (no need to serialize it again)."""
        waiting = user_tasks(bundle, workflow)
        receivers = subscriptions(bundle, workflow)
        for item in waiting:
            if item.properties.get("status"):
                statuses.append(str(item.properties["status"]))
        for sub in receivers:
            facts = bundle.element(sub.process_id, sub.element_id)
            if facts is not None and facts.prop("status"):
                statuses.append(str(facts.prop("status")))
        waiting_timers = timers(workflow)
        pending = [t.task_spec.bpmn_id for t in pending_async(workflow)]
        dues = [t.due_at for t in waiting_timers] + ([ctx.time()] if pending else [])
        return Snapshot(state=state or self.serializer.dumps(workflow), completed=workflow.is_completed(),
                        waiting=waiting,
                        statuses=statuses, trail=trail, end_event=end_events[-1] if end_events else None,
                        data=self._last_data(workflow), timers=waiting_timers,
                        subscriptions=receivers, pending_async=pending, due_at=min(dues) if dues else None)

    def _process_error(self, exc: SpiffWorkflowException) -> DomainError:
        cause = getattr(exc, "exception", None) or exc.__cause__ or exc.__context__
        if isinstance(cause, DomainError):
            return cause
        task = getattr(exc, "task", None)
        element = task.task_spec.bpmn_id if task is not None else "?"
        detail = str(exc)
        return ProcessError(f"element {element}: {detail}", details={"element_id": element})

    def _check_nothing_hidden(self, workflow: BpmnWorkflow) -> None:
        for task in all_tasks(workflow):
            if task.state == TaskState.READY and not task.task_spec.manual:
                raise ProcessError(
                    f"element {task.task_spec.bpmn_id} is ready but the engine stopped before it "
                    f"(task depth {task.depth}): a loop in the diagram has run too often")

    def _last_data(self, workflow: BpmnWorkflow) -> dict[str, Any]:
        if workflow.last_task is not None:
            return dict(workflow.last_task.data)
        return dict(workflow.data)


__all__ = ["Engine", "RunContext", "ServiceBridge", "ServiceCall", "Snapshot", "Subscription", "TimerDue",
           "TopicServiceTask", "WaitingTask"]
