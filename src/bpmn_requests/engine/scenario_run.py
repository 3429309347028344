"""One scenario's run, step by step, on a clock of its own.

Each step does what a person, another system or a worker would do next: a worker runs the asynchronous
service tasks that wait; the next timer the scenario names fires (the clock moves to its due time) as soon
as it waits; a message goes to a receive task or message catch event the scenario gives data for; a user
task is completed with its data. A run that waits for something the scenario does not give stops with a
difference naming what it waits for.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from SpiffWorkflow.util.task import TaskState

from ..domain.errors import DomainError
from .bundle import ProcessBundle
from .runner import Engine, RunContext, Snapshot, Subscription, WaitingTask
from .scenario_compare import ScenarioDifference, ServiceFake, Submissions
from .scenario_files import Scenario

# (form id, data submitted, the task's variables) -> the data the task completes with
TaskPreparer = Callable[[str | None, dict[str, Any], dict[str, Any]], dict[str, Any]]
MAX_STEPS = 500
REACHED = TaskState.COMPLETED | TaskState.READY | TaskState.STARTED | TaskState.WAITING | TaskState.ERROR
# Where every scenario's clock starts, and the request's SLA times as timers read them (read-only system
# values the application offers to expressions; a scenario fires SLA timers by naming them in "timers").
START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
SLA_VALUES = {"sla_reminder_at": (START + timedelta(hours=32)).isoformat(),
              "sla_due_at": (START + timedelta(hours=64)).isoformat()}


class ScenarioRun:
    """The fakes of one scenario, what it visited and reached, and the last state the engine reported."""

    def __init__(self, engine: Engine, bundle: ProcessBundle, process_id: str, scenario: Scenario,
                 prepare: TaskPreparer | None, gateway_of: dict[str, str]):
        self.engine, self.bundle, self.process_id = engine, bundle, process_id
        self.scenario, self.prepare = scenario, prepare
        self.gateway_of = gateway_of  # catch event after an event-based gateway -> the gateway
        self.services = ServiceFake(scenario.services)
        self.tasks = Submissions(scenario.tasks)
        self.messages = Submissions(scenario.messages)
        self.timers = list(scenario.timers)
        self.visited: list[str] = []
        self.reached: set[tuple[str, str]] = set()
        self.snapshot: Snapshot | None = None
        self.now = START
        self.key = f"scenario:{scenario.name}"

    def _ctx(self, run_async: bool = False) -> RunContext:
        return RunContext(self.services, self.key, now=self.now, values=SLA_VALUES, run_async=run_async)

    def _record(self, snapshot: Snapshot) -> Snapshot:
        self.snapshot = snapshot
        self.visited += [step.element_id for step in snapshot.trail]
        self.reached |= reached(self.engine, self.bundle, self.process_id, snapshot.state)
        return snapshot

    def go(self) -> Snapshot:
        snap = self._record(self.engine.start(self.bundle, self.process_id, dict(self.scenario.start),
                                              self.services, self.key, ctx=self._ctx()))
        for _ in range(MAX_STEPS):
            if snap.completed:
                return snap
            snap = self._record(self._step(snap))
        raise ScenarioDifference(f"still running after {MAX_STEPS} steps: a loop never ends")

    def _step(self, snap: Snapshot) -> Snapshot:
        if snap.pending_async:  # a worker runs them
            return self.engine.advance(self.bundle, self.process_id, snap.state, self.services, self.key,
                                       ctx=self._ctx(run_async=True))
        if self.timers and (due := self._due(snap, self.timers[0])) is not None:
            self.timers.pop(0)
            self.now = max(self.now, due)
            return self.engine.advance(self.bundle, self.process_id, snap.state, self.services, self.key,
                                       ctx=self._ctx())
        for sub in snap.subscriptions:
            source = self.tasks if self.tasks.has(sub.element_id) else self.messages
            if source.has(sub.element_id):
                return self._deliver(snap, sub, source.take(sub.element_id))
        for task in snap.waiting:
            if self.tasks.has(task.element_id):
                data = self.tasks.take(task.element_id)
                self.visited.append(task.element_id)
                return self.engine.complete(self.bundle, self.process_id, snap.state, task.id,
                                            self._preparer(task, data), self.services, self.key, ctx=self._ctx())
        raise ScenarioDifference(self._stuck(snap))

    def _due(self, snap: Snapshot, element_id: str) -> datetime | None:
        """When the named timer fires, if it waits now (a timer after an event-based gateway waits there)."""
        waiting_at = {element_id, self.gateway_of.get(element_id, "")}
        return next((t.due_at for t in snap.timers if t.element_id in waiting_at), None)

    def _deliver(self, snap: Snapshot, sub: Subscription, data: dict[str, Any]) -> Snapshot:
        facts = self.bundle.element(sub.process_id, sub.element_id)
        if facts is not None and facts.message_form:
            variables = self._checked(sub.element_id, facts.message_form, data,
                                      self.engine.data(self.bundle, self.process_id, snap.state))
        else:
            try:
                if facts is not None:
                    facts.check_message_variables(sub.message, data)
            except DomainError as exc:
                raise ScenarioDifference(exc.message) from None
            variables = dict(data)
        return self.engine.deliver(self.bundle, self.process_id, snap.state, sub.element_id, sub.message,
                                   variables, self._ctx())

    def _checked(self, element_id: str, form_id: str | None, data: dict[str, Any],
                 task_data: dict[str, Any]) -> dict[str, Any]:
        if self.prepare is None:
            return dict(data)
        try:
            return self.prepare(form_id, dict(data), task_data)
        except DomainError as exc:
            raise ScenarioDifference(f"{element_id}: form {form_id!r} refuses the data: {exc.message}") from None

    def _preparer(self, task: WaitingTask, data: dict[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
        def prepare(task_data: dict[str, Any]) -> dict[str, Any]:
            return self._checked(f"user task {task.element_id}", task.form_id, data, task_data)
        return prepare

    def _stuck(self, snap: Snapshot) -> str:
        """Why the run cannot go on: what it waits for, and where in the scenario its data would go."""
        waits = [(f"user task {t.element_id}", "under \"tasks\"") for t in snap.waiting]
        for sub in snap.subscriptions:
            facts = self.bundle.element(sub.process_id, sub.element_id)
            key = "tasks" if facts is not None and facts.tag == "receiveTask" else "messages"
            waits.append((f"message {sub.message!r} at {sub.element_id}", f"under \"{key}\""))
        timers = []
        for timer in snap.timers:
            events = [e for e, gateway in self.gateway_of.items() if gateway == timer.element_id]
            timers.append(f"timer {' or '.join(events or [timer.element_id])}")
        if not waits and not timers:
            return "the process stopped without anything to wait for and did not end"
        also = f" (or name {', '.join(timers)} in \"timers\")" if timers else ""
        if not waits:
            return f"stopped waiting for {', '.join(timers)}: name it in \"timers\" to fire it"
        what = ", ".join(w for w, _ in waits)
        where = " or ".join(dict.fromkeys(k for _, k in waits))
        return f"stopped at {what}: the scenario gives no (more) data for it; add it {where}{also}"


def reached(engine: Engine, bundle: ProcessBundle, process_id: str, state: str) -> set[tuple[str, str]]:
    """(process or subprocess id, element id) of every element reached, and (scope, 'source->target') edges."""
    spec, subs = bundle.specs(process_id)
    workflow = engine.serializer.loads(state, spec, subs)
    tasks = list(workflow.tasks.values())
    for sub in workflow.subprocesses.values():
        tasks += list(sub.tasks.values())
    found: set[tuple[str, str]] = set()
    for task in tasks:
        element = task.task_spec.bpmn_id
        if not element or not task.state & REACHED:
            continue
        scope = str(task.workflow.spec.name)
        found.add((scope, element))
        parent = task.parent
        while parent is not None and not parent.task_spec.bpmn_id:
            parent = parent.parent
        if parent is not None:
            found.add((scope, f"{parent.task_spec.bpmn_id}->{element}"))
    return found
