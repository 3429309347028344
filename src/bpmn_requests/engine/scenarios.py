"""Run a diagram's scenarios on the real engine, in memory, with faked service tasks; report coverage.

Each scenario starts the process with its start data, answers every service task with the result the
scenario gives, completes every user task with the data it gives, and compares the end (end event,
variables, elements visited, or an expected error). The first difference is the scenario's verdict.
Coverage is per diagram: the flow nodes and sequence flows of its processes that no scenario reached.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from SpiffWorkflow.util.task import TaskState

from ..domain.errors import DomainError
from .bundle import ProcessBundle
from .runner import Engine, Snapshot, WaitingTask
from .scenario_compare import ScenarioDifference, ServiceFake, Submissions, differences
from .scenario_files import Scenario, ScenarioFile, find_diagrams, load_scenarios, scenario_path
from .scenario_model import diagram_elements, element_index

# (form id, data submitted, the task's variables) -> the data the task completes with
TaskPreparer = Callable[[str | None, dict[str, Any], dict[str, Any]], dict[str, Any]]
MAX_STEPS = 500
REACHED = TaskState.COMPLETED | TaskState.READY | TaskState.STARTED | TaskState.WAITING | TaskState.ERROR


@dataclass(frozen=True)
class ScenarioResult:
    diagram: str
    name: str
    passed: bool
    difference: str | None
    visited: tuple[str, ...]
    end_event: str | None


@dataclass(frozen=True)
class Coverage:
    diagram: str
    elements: dict[str, tuple[str, str]]  # element id -> (tag, name)
    reached: frozenset[str]
    note: str = ""

    @property
    def missing(self) -> list[str]:
        return [element for element in self.elements if element not in self.reached]

    @property
    def percent(self) -> float:
        return 100.0 * (len(self.elements) - len(self.missing)) / len(self.elements) if self.elements else 100.0


@dataclass
class ScenarioReport:
    results: list[ScenarioResult] = field(default_factory=list)
    coverage: list[Coverage] = field(default_factory=list)

    @property
    def failed(self) -> list[ScenarioResult]:
        return [r for r in self.results if not r.passed]

    @property
    def fully_covered(self) -> bool:
        return all(not c.missing for c in self.coverage)


def _bundle(engine: Engine, diagram: Path) -> ProcessBundle:
    files = {p.name: p.read_bytes() for p in sorted(diagram.parent.iterdir()) if p.suffix in (".bpmn", ".dmn")}
    return engine.bundle(files)


def _process_id(bundle: ProcessBundle, diagram: Path, chosen: str | None) -> str:
    if chosen:
        return chosen
    own = [pid for pid, source in bundle.sources.items() if source == diagram.name]
    if len(own) != 1:
        raise ScenarioDifference(f"{diagram.name} has {len(own)} executable processes: name the one to start "
                                 f"with \"process\" in the scenario file")
    return own[0]


class _Run:
    """One scenario's run: its fakes, what it visited, the last state the engine reported."""

    def __init__(self, engine: Engine, bundle: ProcessBundle, process_id: str, scenario: Scenario,
                 prepare: TaskPreparer | None):
        self.engine, self.bundle, self.process_id = engine, bundle, process_id
        self.scenario, self.prepare = scenario, prepare
        self.services = ServiceFake(scenario.services)
        self.tasks = Submissions(scenario.tasks)
        self.visited: list[str] = []
        self.snapshot: Snapshot | None = None

    def _record(self, snapshot: Snapshot) -> Snapshot:
        self.snapshot = snapshot
        self.visited += [step.element_id for step in snapshot.trail]
        return snapshot

    def go(self) -> Snapshot:
        key = f"scenario:{self.scenario.name}"
        snap = self._record(self.engine.start(self.bundle, self.process_id, dict(self.scenario.start),
                                              self.services, key))
        for _ in range(MAX_STEPS):
            if snap.completed:
                return snap
            task = self._next_task(snap.waiting)
            data = self.tasks.take(task.element_id)
            self.visited.append(task.element_id)
            snap = self._record(self.engine.complete(self.bundle, self.process_id, snap.state, task.id,
                                                     self._preparer(task, data), self.services, key))
        raise ScenarioDifference(f"still running after {MAX_STEPS} user tasks: a loop never ends")

    def _next_task(self, waiting: list[WaitingTask]) -> WaitingTask:
        if not waiting:
            raise ScenarioDifference("the process stopped without a user task to complete and did not end: it "
                                     "waits for an event (a timer or a message) that scenarios cannot send")
        for task in waiting:
            if self.tasks.has(task.element_id):
                return task
        names = ", ".join(t.element_id for t in waiting)
        raise ScenarioDifference(f"stopped at user task {names}: the scenario gives no (more) data for it; add it "
                                 f"under \"tasks\"")

    def _preparer(self, task: WaitingTask, data: dict[str, Any]) -> Callable[[dict[str, Any]], dict[str, Any]]:
        def prepare(task_data: dict[str, Any]) -> dict[str, Any]:
            if self.prepare is None:
                return dict(data)
            try:
                return self.prepare(task.form_id, dict(data), task_data)
            except DomainError as exc:
                raise ScenarioDifference(f"user task {task.element_id}: form {task.form_id!r} refuses the data: "
                                         f"{exc.message}") from None
        return prepare


def _reached(engine: Engine, bundle: ProcessBundle, process_id: str, state: str) -> set[tuple[str, str]]:
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


def run_scenario(engine: Engine, bundle: ProcessBundle, process_id: str, scenario: Scenario, diagram: str,
                 prepare: TaskPreparer | None = None) -> tuple[ScenarioResult, set[tuple[str, str]]]:
    """The verdict of one scenario, and what it reached."""
    run = _Run(engine, bundle, process_id, scenario, prepare)
    error: DomainError | None = None
    try:
        run.go()
    except ScenarioDifference as exc:
        return _verdict(run, diagram, exc.message), _reach(run)
    except DomainError as exc:
        error = exc
    end = run.snapshot.end_event if run.snapshot is not None and error is None else None
    data = run.snapshot.data if run.snapshot is not None else {}
    found = differences(scenario, end, data, run.visited, error, run.services, run.tasks)
    return _verdict(run, diagram, found), _reach(run)


def _verdict(run: _Run, diagram: str, difference: str | None) -> ScenarioResult:
    end = run.snapshot.end_event if run.snapshot is not None else None
    return ScenarioResult(diagram, run.scenario.name, difference is None, difference, tuple(run.visited), end)


def _reach(run: _Run) -> set[tuple[str, str]]:
    if run.snapshot is None:
        return set()
    return _reached(run.engine, run.bundle, run.process_id, run.snapshot.state)


def run_file(engine: Engine, scenarios: ScenarioFile, prepare: TaskPreparer | None = None) -> tuple[
        list[ScenarioResult], Coverage]:
    diagram = scenarios.diagram
    bundle = _bundle(engine, diagram)
    elements = diagram_elements(diagram)
    index = element_index(diagram)
    reached: set[str] = set()
    results = []
    for scenario in scenarios.scenarios:
        try:
            process_id = _process_id(bundle, diagram, scenarios.process_id)
        except ScenarioDifference as exc:
            results.append(ScenarioResult(diagram.name, scenario.name, False, exc.message, (), None))
            continue
        result, found = run_scenario(engine, bundle, process_id, scenario, diagram.name, prepare)
        results.append(result)
        for key in found:
            reached.update(index.get(key, ()))
    return results, Coverage(diagram.name, elements, frozenset(reached))


def run_diagrams(paths: list[Path], prepare: TaskPreparer | None = None,
                 engine: Engine | None = None) -> ScenarioReport:
    """Run the scenarios of every diagram named by `paths` (folders, diagrams or scenario files)."""
    engine = engine or Engine()
    report = ScenarioReport()
    for diagram in find_diagrams(paths):
        source = scenario_path(diagram)
        if not source.is_file():
            report.coverage.append(Coverage(diagram.name, diagram_elements(diagram), frozenset(),
                                            f"no {source.name}"))
            continue
        results, coverage = run_file(engine, load_scenarios(source), prepare)
        report.results += results
        report.coverage.append(coverage)
    return report
