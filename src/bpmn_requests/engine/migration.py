"""Versions side by side: what a process is made of and depends on, and moving a running instance between
two deployed versions with SpiffWorkflow's spec diff (`SpecDiff`, `WorkflowDiff`, `migrate_workflow`).

An instance moves only when every task it has open (ready, waiting, started) has a counterpart in the new
version that the diff does not report changed beyond its wiring and labels, and when every task it has
completed still has one (its history must be restorable). The move is tried on a copy first, so a refused
instance is never touched.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree
from SpiffWorkflow.bpmn.serializer.helpers.registry import DefaultRegistry
from SpiffWorkflow.bpmn.serializer.helpers.spec import TaskSpecConverter
from SpiffWorkflow.bpmn.serializer.workflow import BpmnWorkflowSerializer
from SpiffWorkflow.bpmn.util.diff import SpecDiff, WorkflowDiff, migrate_workflow
from SpiffWorkflow.camunda.serializer.config import CAMUNDA_CONFIG
from SpiffWorkflow.exceptions import SpiffWorkflowException
from SpiffWorkflow.specs.base import TaskSpec
from SpiffWorkflow.specs.Join import Join
from SpiffWorkflow.task import TaskState

from ..domain.errors import DomainError
from .bundle import ProcessBundle
from .dialects import BPMN_NS, read_facts
from .runner import Engine
from .scripting import SandboxedScriptEngine
from .specs import TopicServiceTask
from .xml import parse_xml

DMN_TAG = "decision"
OPEN = TaskState.READY | TaskState.WAITING | TaskState.STARTED
PLAIN = (str, int, float, bool, tuple, type(None))
# What the diff may report about an open task without making the move unsafe: its wiring, which
# `migrate_workflow` predicts again from the new version, and its labels, which the task rows take over.
HARMLESS = frozenset({"outputs", "inputs", "bpmn_name", "documentation", "description"})
# A user task still to be done may also have a new id where the diff aligned it by its place in the flow:
# its task row takes the new id.
RENAMED = frozenset({"bpmn_id", "name"})


# --- what a process is made of -------------------------------------------------------------------------

@dataclass(frozen=True)
class ElementInfo:
    """One element as a version comparison sees it (flows carry their condition and ends)."""

    element_id: str
    kind: str
    name: str
    topic: str | None = None
    form_id: str | None = None
    groups: tuple[str, ...] = ()
    condition: str | None = None
    called: str | None = None
    decision: str | None = None
    source: str | None = None
    target: str | None = None


@dataclass(frozen=True)
class ProcessOutline:
    process_id: str
    file: str
    elements: dict[str, ElementInfo] = field(default_factory=dict)

    @property
    def called(self) -> set[str]:
        return {e.called for e in self.elements.values() if e.called}

    @property
    def decisions(self) -> set[str]:
        return {e.decision for e in self.elements.values() if e.decision}

    @property
    def forms(self) -> set[str]:
        return {e.form_id for e in self.elements.values() if e.form_id}


def _flows(process: etree._Element) -> Iterator[ElementInfo]:
    for flow in process.iter(f"{{{BPMN_NS}}}sequenceFlow"):
        condition = flow.find(f"{{{BPMN_NS}}}conditionExpression")
        yield ElementInfo(flow.get("id", ""), "sequenceFlow", flow.get("name", "") or "",
                          condition=(condition.text or "").strip() if condition is not None else None,
                          source=flow.get("sourceRef"), target=flow.get("targetRef"))


def outline_processes(files: Mapping[str, bytes]) -> dict[str, ProcessOutline]:
    """Every process of a set of files: its file and its elements, flows included."""
    outlines: dict[str, ProcessOutline] = {}
    for name in sorted(files):
        if not name.endswith(".bpmn"):
            continue
        root = parse_xml(files[name], name)
        facts = read_facts(root)
        for process in root.iter(f"{{{BPMN_NS}}}process"):
            pid = process.get("id", "")
            # A receive task names the form that checks its message in the `form` property.
            elements = {f.element_id: ElementInfo(
                f.element_id, f.tag, f.name, f.topic, f.message_form,
                f.candidate_groups + ((f.assignee,) if f.assignee else ()), None, f.called_element,
                f.decision_id) for f in facts.values() if f.process_id == pid}
            elements.update({flow.element_id: flow for flow in _flows(process)})
            outlines[pid] = ProcessOutline(pid, name, elements)
    return outlines


def decision_files(files: Mapping[str, bytes]) -> dict[str, str]:
    """{decision id: .dmn file} of a set of files."""
    found: dict[str, str] = {}
    for name in sorted(files):
        if name.endswith(".dmn"):
            for node in parse_xml(files[name], name).iter():
                if isinstance(node.tag, str) and etree.QName(node).localname == DMN_TAG and node.get("id"):
                    found[node.get("id", "")] = name
    return found


def dependencies(files: Mapping[str, bytes]) -> dict[str, set[str]]:
    """{process id: the files it runs with}: its own, those of the processes it calls (all the way down),
    the decision tables and the forms (`forms/<id>.form`) they use."""
    outlines, decisions = outline_processes(files), decision_files(files)
    found: dict[str, set[str]] = {}
    for process_id in outlines:
        needed: set[str] = set()
        seen: set[str] = set()
        todo = [process_id]
        while todo:
            pid = todo.pop()
            if pid in seen or pid not in outlines:
                continue
            seen.add(pid)
            outline = outlines[pid]
            needed.add(outline.file)
            needed.update(decisions[d] for d in outline.decisions if d in decisions)
            needed.update(f"forms/{f}.form" for f in outline.forms if f"forms/{f}.form" in files)
            todo.extend(outline.called)
        found[process_id] = needed
    return found


def processes_entered(state: str, process_id: str) -> set[str]:
    """The processes an instance has run: its own and every subprocess it entered, read from its state
    without restoring it (cheap enough to count many instances)."""
    subprocesses = json.loads(state).get("subprocesses") or {}
    return {process_id} | {str(sp["spec"]) for sp in subprocesses.values() if sp.get("spec")}


# --- moving an instance --------------------------------------------------------------------------------

class TopicServiceTaskConverter(TaskSpecConverter):  # type: ignore[misc]
    """Our service task for the diff: its topic is part of what can change."""

    def to_dict(self, spec: TopicServiceTask) -> dict[str, Any]:
        dct: dict[str, Any] = self.get_default_attributes(spec)
        dct["topic"] = spec.topic
        return dct

    def from_dict(self, dct: dict[str, Any]) -> TopicServiceTask:
        return self.task_spec_from_dict(dct)  # type: ignore[no-any-return]


class DiffRegistry(DefaultRegistry):  # type: ignore[misc]
    """Converts task specs for the diff only. A spec class the library has no converter for (a dialect's
    subclass) is converted as its nearest known base, plus its own plain attributes."""

    def convert(self, obj: Any, **kwargs: Any) -> Any:
        if isinstance(obj, TaskSpec) and type(obj) not in self.typenames:
            base = next((c for c in type(obj).__mro__[1:] if c in self.typenames), None)
            if base is not None:
                dct: dict[str, Any] = self.convert_to_dict[self.typenames[base]](obj, **kwargs)
                dct.update({key: value for key, value in vars(obj).items() if key not in dct
                            and not key.startswith("_") and isinstance(value, PLAIN)})
                dct["typename"] = type(obj).__name__
                return dct
        return super().convert(obj, **kwargs)


def _spec_registry() -> Any:
    config = dict(CAMUNDA_CONFIG)
    config[TopicServiceTask] = TopicServiceTaskConverter
    return BpmnWorkflowSerializer.configure(config, DiffRegistry())


@dataclass(frozen=True)
class OpenElement:
    process_id: str
    element_id: str
    state: str  # READY | WAITING | STARTED


@dataclass(frozen=True)
class MigrationCheck:
    open_elements: tuple[OpenElement, ...]
    problems: tuple[str, ...] = ()  # why the instance cannot move; none: it can
    notes: tuple[str, ...] = ()  # what the diff reports that the move takes care of

    @property
    def safe(self) -> bool:
        return not self.problems


def _pid(workflow: Any) -> str:
    return str(workflow.spec.name)


# While a move re-reads what the instance waits for, timers are evaluated again; the request's SLA times
# are not known here, so a far date stands in, and every timer then gets back the due time it had.
_STAND_IN = {"sla_due_at": "9999-12-31T00:00:00+00:00", "sla_reminder_at": "9999-12-31T00:00:00+00:00"}


def _bind_for_move(workflow: Any) -> None:
    engine = SandboxedScriptEngine()
    engine.values = _STAND_IN
    workflow.script_engine = engine  # subprocesses use their top workflow's


def _timer_values(workflow: Any) -> dict[Any, dict[str, Any]]:
    """{task id: its timer's internal data} of every task waiting with a timer."""
    saved = {}
    for part in [workflow, *workflow.subprocesses.values()]:
        for task in part.tasks.values():
            kept = {k: v for k, v in task.internal_data.items() if k in ("event_value", "event_fired")}
            if kept and task.has_state(OPEN):
                saved[task.id] = kept
    return saved


def _restore_timers(workflow: Any, saved: dict[Any, dict[str, Any]]) -> None:
    """A timer that waited before the move keeps its due time (a duration is not started again)."""
    for part in [workflow, *workflow.subprocesses.values()]:
        for task in part.tasks.values():
            if task.id in saved:
                task.internal_data.update(saved[task.id])


UNRUN = TaskState.PREDICTED_MASK | TaskState.FUTURE


def _predict_after_started(part: Any) -> None:
    """`migrate_workflow` predicts again after ready and waiting tasks only. A started task (a call activity
    running its process) keeps its state; what is predicted after it is predicted again from the new version,
    as `reset_branch` does, so no prediction is left pointing at a removed element."""
    for task in part.get_tasks(state=TaskState.STARTED, skip_subprocesses=True):
        if task.children and all(child.has_state(UNRUN) for child in task.children):
            task._drop_children(force=True)
            task.task_spec._predict_hook(task)  # children from the new outputs, FUTURE
            for child in task.children:
                child.task_spec._predict(child, mask=UNRUN)


class VersionMigration:
    """Instances of one process, from one deployed bundle to another; the spec diffs are computed once."""

    def __init__(self, engine: Engine, old: ProcessBundle, new: ProcessBundle, process_id: str):
        self.engine, self.old, self.new, self.process_id = engine, old, new, process_id
        self._registry = _spec_registry()
        self._diffs: dict[str, SpecDiff | None] = {}

    def check(self, state: str) -> MigrationCheck:
        """Whether the instance with this state can move."""
        return self.attempt(state)[0]

    def attempt(self, state: str) -> tuple[MigrationCheck, str | None]:
        """The check, and the instance's state on the new version when it can move (None otherwise).

        Works on a copy restored from `state`: the stored instance is never changed here."""
        if self.process_id not in self.new.process_ids:
            return MigrationCheck((), (f"the new version has no process {self.process_id}",)), None
        old_spec, old_subs = self.old.specs(self.process_id)
        workflow = self.engine.serializer.loads(state, old_spec, old_subs)
        parts = [workflow, *workflow.subprocesses.values()]
        opened = tuple(OpenElement(_pid(t.workflow), t.task_spec.bpmn_id or t.task_spec.name,
                                   TaskState.get_name(t.state))
                       for part in parts for t in part.get_tasks(state=OPEN, skip_subprocesses=True))
        problems: list[str] = []
        notes: list[str] = []
        diffs: list[tuple[Any, WorkflowDiff]] = []
        for part in parts:
            spec_diff = self._spec_diff(_pid(part), part.spec)
            if spec_diff is None:
                problems.append(f"it runs process {_pid(part)}, which the new version does not have")
                continue
            try:
                diff = WorkflowDiff(part, spec_diff)
            except KeyError as missing:  # a task whose spec the diff could not reach from the start
                problems.append(f"process {_pid(part)}: element {missing} cannot be compared")
                continue
            self._judge(part, spec_diff, diff, problems, notes)
            diffs.append((part, diff))
        migrated = None if problems else self._move(workflow, diffs, problems)
        return MigrationCheck(opened, tuple(problems), tuple(notes)), migrated

    # --- internals ---------------------------------------------------------------------------------

    def _spec_diff(self, name: str, original: Any) -> SpecDiff | None:
        if name not in self._diffs:
            new = self._new_specs().get(name)
            self._diffs[name] = SpecDiff(self._registry, original, new) if new is not None else None
        return self._diffs[name]

    def _new_specs(self) -> dict[str, Any]:
        spec, subs = self.new.specs(self.process_id)
        return {self.process_id: spec, **subs}

    def _judge(self, part: Any, spec_diff: SpecDiff, diff: WorkflowDiff, problems: list[str],
               notes: list[str]) -> None:
        pid = _pid(part)
        for task in diff.removed:
            if not task.task_spec.bpmn_id:
                continue  # the engine's own step around an element (a boundary event split): its element says it
            element = task.task_spec.bpmn_id
            if task.has_state(OPEN):
                problems.append(f"it waits at {pid}/{element}, which the new version removes")
            elif task.has_state(TaskState.COMPLETED):
                problems.append(f"it passed {pid}/{element}, which the new version removes, so its history "
                                f"could not be kept")
        for task in diff.changed:
            if not task.has_state(OPEN):
                continue
            element = task.task_spec.bpmn_id or task.task_spec.name
            new_spec = spec_diff.alignment.get(task.task_spec)
            kinds = self._kind(self.old, pid, task.task_spec), self._kind(self.new, pid, new_spec)
            if None not in kinds and kinds[0] != kinds[1]:
                problems.append(f"it waits at {pid}/{element}, a {kinds[0]} here, which the new version makes a "
                                f"{kinds[1]}: what an instance waits at cannot change its kind")
                continue
            changed = set(spec_diff.changed.get(task.task_spec, []))
            allowed = HARMLESS - {"inputs"} if isinstance(task.task_spec, Join) else HARMLESS
            if task.state == TaskState.READY and task.task_spec.manual:
                allowed = allowed | RENAMED
            if changed - allowed:
                problems.append(f"it waits at {pid}/{element}, which the new version changes "
                                f"({', '.join(sorted(changed - allowed))})")
            elif "bpmn_id" in changed:
                notes.append(f"{pid}/{element} is {spec_diff.alignment[task.task_spec].bpmn_id} in the new version")
            else:
                notes.append(f"{pid}/{element}: {', '.join(sorted(changed))} changed")

    @staticmethod
    def _kind(bundle: ProcessBundle, process_id: str, spec: Any) -> str | None:
        """The BPMN element a task spec stands for (userTask, receiveTask, ...), None for internal specs."""
        facts = bundle.element(process_id, getattr(spec, "bpmn_id", None) or "") if spec is not None else None
        return facts.tag if facts is not None else None

    def _move(self, workflow: Any, diffs: list[tuple[Any, WorkflowDiff]], problems: list[str]) -> str | None:
        specs = self._new_specs()
        timers = _timer_values(workflow)
        _bind_for_move(workflow)
        try:
            for part, diff in diffs:
                if part is workflow or part in workflow.subprocesses.values():
                    migrate_workflow(diff, part, specs[_pid(part)])
                    _predict_after_started(part)
        except (DomainError, SpiffWorkflowException) as exc:
            problems.append(f"the new version cannot take the instance over: {exc}")
            return None
        _restore_timers(workflow, timers)
        workflow.subprocess_specs = {name: spec for name, spec in specs.items() if name != self.process_id}
        for part in [workflow, *workflow.subprocesses.values()]:
            for task in part.tasks.values():
                name = task.task_spec.name
                if part.spec.task_specs.get(name) is not task.task_spec:
                    problems.append(f"{_pid(part)}/{task.task_spec.bpmn_id or name} "
                                    f"({TaskState.get_name(task.state)}) has no counterpart in the new version")
        if problems:
            return None
        state = self.engine.serializer.dumps(workflow)
        spec, subs = self.new.specs(self.process_id)
        self.engine.serializer.loads(state, spec, subs)  # the moved state must load on the new version
        return state
