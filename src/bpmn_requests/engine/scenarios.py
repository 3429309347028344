"""Run a diagram's scenarios on the real engine, in memory, with faked service tasks; report coverage.

Each scenario starts the process with its start data, answers every service task with the result the
scenario gives, completes every user task and receive task with the data it gives, sends the messages it
gives, fires the timers it names and runs asynchronous service tasks as a worker would (`scenario_run`),
and compares the end (end event, variables, elements visited, or an expected error). The first difference
is the scenario's verdict. Coverage is per diagram: the flow nodes and sequence flows of its processes
that no scenario reached at any step.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..domain.errors import DomainError
from .bundle import ProcessBundle
from .runner import Engine
from .scenario_compare import ScenarioDifference, differences
from .scenario_files import Scenario, ScenarioFile, find_diagrams, load_scenarios, scenario_path
from .scenario_model import diagram_elements, element_index, event_gateways
from .scenario_run import ScenarioRun, TaskPreparer


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


def run_scenario(engine: Engine, bundle: ProcessBundle, process_id: str, scenario: Scenario, diagram: str,
                 prepare: TaskPreparer | None = None,
                 gateway_of: dict[str, str] | None = None) -> tuple[ScenarioResult, set[tuple[str, str]]]:
    """The verdict of one scenario, and what it reached."""
    run = ScenarioRun(engine, bundle, process_id, scenario, prepare, gateway_of or {})
    error: DomainError | None = None
    try:
        run.go()
    except ScenarioDifference as exc:
        return _verdict(run, diagram, exc.message), run.reached
    except DomainError as exc:
        error = exc
    end = run.snapshot.end_event if run.snapshot is not None and error is None else None
    data = run.snapshot.data if run.snapshot is not None else {}
    found = differences(scenario, end, data, run.visited, error, run.services, run.tasks, run.messages, run.timers)
    return _verdict(run, diagram, found), run.reached


def _verdict(run: ScenarioRun, diagram: str, difference: str | None) -> ScenarioResult:
    end = run.snapshot.end_event if run.snapshot is not None else None
    return ScenarioResult(diagram, run.scenario.name, difference is None, difference, tuple(run.visited), end)


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
        result, found = run_scenario(engine, bundle, process_id, scenario, diagram.name, prepare,
                                     event_gateways(diagram))
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
