"""Numbered versions of each process: recorded at deploy, listed, shown with a heatmap, compared; rollback.

A deployment is the whole set of diagrams and forms; a process gets a new number (1, 2, ...) only in a
deployment where its own file or a file it runs with (the processes it calls, their decision tables and
forms) changed. The version of a process in deployment D is therefore its newest version recorded at or
before D. Running instances keep their deployment; new requests start on the active one.

The heatmap is an approximation built from what is stored: instances waiting at an element are counted
from each running instance's state; the average time spent at an element comes from the user-task rows
(opened to completed), so only user tasks have a time. Service and script tasks run inside one
transaction and take no measurable time; waiting at a timer or message has no row and no time.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any

from ..domain.errors import NotFound, ValidationFailed
from ..drawing import DrawingError, Highlights, read_diagram, render_svg
from ..engine.migration import ElementInfo, dependencies, outline_processes, processes_entered
from .context import Services
from .ports import Deployment, InstanceRow, ProcessVersionRow, UnitOfWork

COMPARED = tuple(f.name for f in fields(ElementInfo) if f.name not in ("element_id",))


@dataclass(frozen=True)
class VersionSummary:
    process_id: str
    version: int
    deployment_id: int
    deployed_by: str
    created_at: datetime
    version_tag: str | None
    file_name: str
    sha256: str
    active: bool  # the version new requests of this process run
    running: int = 0
    completed: int = 0


def _summary(row: ProcessVersionRow, active: bool, counts: dict[str, int] | None = None) -> VersionSummary:
    counts = counts or {}
    return VersionSummary(row.process_id, row.version, row.deployment_id, row.deployed_by, row.created_at,
                          row.version_tag, row.file_name, row.sha256, active, counts.get("running", 0),
                          counts.get("completed", 0))


# --- recording -----------------------------------------------------------------------------------------

def record_versions(uow: UnitOfWork, deployment: Deployment, services: Services) -> dict[str, int]:
    """Inside the deploying transaction: a new number for each process whose files changed."""
    latest = {row.process_id: row for row in uow.deployments.versions()}
    if not latest:  # deployed before versions were recorded: number the earlier deployments first
        for earlier in uow.deployments.list():
            if earlier.id < deployment.id:
                _record(uow, earlier, services, latest)
    return _record(uow, deployment, services, latest)


def _record(uow: UnitOfWork, deployment: Deployment, services: Services,
            latest: dict[str, ProcessVersionRow]) -> dict[str, int]:
    bundle = services.bundle(deployment)
    needs = dependencies(deployment.files)
    numbered: dict[str, int] = {}
    for pid in bundle.process_ids:
        last = latest.get(pid)
        if last is not None:
            before = uow.deployments.get(last.deployment_id)
            if all(before.hashes.get(name) == deployment.hashes[name] for name in needs.get(pid, ())):
                continue
        source = bundle.sources[pid]
        row = ProcessVersionRow(pid, last.version + 1 if last else 1, deployment.id, source,
                                deployment.hashes[source], bundle.version_tags.get(pid), deployment.created_at,
                                deployment.deployed_by)
        uow.deployments.add_version(row)
        latest[pid] = row
        numbered[pid] = row.version
    return numbered


def version_at(rows: Iterable[ProcessVersionRow], deployment_id: int) -> ProcessVersionRow | None:
    """The version of a process in a deployment: its newest recorded at or before it."""
    found = [r for r in rows if r.deployment_id <= deployment_id]
    return max(found, key=lambda r: r.version) if found else None


# --- rollback ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Activated:
    deployment_id: int
    previous: int | None
    changed: bool


def activate_deployment(deployment_id: int, by: str, services: Services) -> Activated:
    """Make an earlier (or later) deployment the one new requests start on; running ones keep theirs."""
    from .deploy import check_files  # deploy records versions through this module

    with services.uow() as uow:
        target = uow.deployments.get(deployment_id)
        active = uow.deployments.active()
        previous = active.id if active else None
        if previous == target.id:
            return Activated(target.id, previous, False)
        errors = [p for p in check_files(target.files, services) if p.severity == "error"]
        if errors:  # say, a service task it names is no longer registered
            raise ValidationFailed(f"deployment {target.id} no longer passes validation, so it stays inactive:\n"
                                   + "\n".join(map(str, errors)), field="deployment_id")
        uow.deployments.activate(target.id)
        rows = uow.deployments.versions()
        in_effect = {pid: row.version for pid in services.bundle(target).process_ids
                     if (row := version_at((r for r in rows if r.process_id == pid), target.id))}
        uow.audit.record(by, "deployment.activated", f"deployment:{target.id}", {"active": previous},
                         {"active": target.id, "versions": in_effect})
        uow.commit()
    return Activated(target.id, previous, True)


# --- listing and counting ------------------------------------------------------------------------------

def _by_process(rows: list[ProcessVersionRow]) -> dict[str, list[ProcessVersionRow]]:
    grouped: dict[str, list[ProcessVersionRow]] = defaultdict(list)
    for row in rows:
        grouped[row.process_id].append(row)
    return grouped


def _usage(instances: list[InstanceRow], grouped: dict[str, list[ProcessVersionRow]]
           ) -> dict[tuple[str, int], dict[str, int]]:
    """{(process id, version): {status: instances}} for every process each instance has run."""
    counts: dict[tuple[str, int], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for instance in instances:
        for pid in processes_entered(instance.state, instance.process_id):
            row = version_at(grouped.get(pid, ()), instance.deployment_id)
            if row is not None:
                status = "completed" if instance.status == "completed" else "running"
                counts[(pid, row.version)][status] += 1
    return counts


def _active_versions(uow: UnitOfWork, services: Services, grouped: dict[str, list[ProcessVersionRow]]
                     ) -> dict[str, int]:
    active = uow.deployments.active()
    if active is None:
        return {}
    present = services.bundle(active).process_ids
    return {pid: row.version for pid in present if (row := version_at(grouped.get(pid, ()), active.id))}


def list_versions(services: Services, process_id: str | None = None) -> list[VersionSummary]:
    """Every version of every process (or of one), newest first per process, with instance counts.

    Counting reads each instance's state once (the processes it entered are in it)."""
    with services.uow() as uow:
        rows = uow.deployments.versions(process_id)
        if process_id is not None and not rows:
            raise NotFound(f"no process {process_id} was ever deployed")
        grouped = _by_process(rows)
        active = _active_versions(uow, services, grouped)
        instances = uow.instances.for_deployments(sorted({d.id for d in uow.deployments.list()}))
    usage = _usage(instances, grouped)
    return [_summary(row, active.get(row.process_id) == row.version, usage.get((row.process_id, row.version)))
            for pid in sorted(grouped) for row in reversed(grouped[pid])]


# --- one version: diagram and heatmap ------------------------------------------------------------------

@dataclass(frozen=True)
class VersionDetail:
    summary: VersionSummary
    diagram: bytes  # the process's BPMN file in the deployment that recorded this version
    files: dict[str, str]  # every file it runs with -> sha256
    deployments: tuple[int, ...]  # the deployments that carry this version
    elements: dict[str, ElementInfo]
    waiting: dict[str, int] = field(default_factory=dict)  # element -> running instances there now
    durations: dict[str, float] = field(default_factory=dict)  # element -> average seconds spent there
    samples: dict[str, int] = field(default_factory=dict)  # element -> completed user tasks averaged


def _find(rows: list[ProcessVersionRow], process_id: str, number: int | None) -> ProcessVersionRow:
    if not rows:
        raise NotFound(f"no process {process_id} was ever deployed")
    found = rows[-1] if number is None else next((r for r in rows if r.version == number), None)
    if found is None:
        raise NotFound(f"process {process_id} has no version {number} (it has 1 to {rows[-1].version})")
    return found


def show_version(process_id: str, number: int | None, services: Services) -> VersionDetail:
    """One version of a process (the newest without a number): its diagram, files and heatmap."""
    with services.uow() as uow:
        rows = uow.deployments.versions(process_id)
        row = _find(rows, process_id, number)
        active = _active_versions(uow, services, {process_id: rows})
        deployment = uow.deployments.get(row.deployment_id)
        carrying = tuple(d.id for d in uow.deployments.list()
                         if (at := version_at(rows, d.id)) is not None and at.version == row.version)
        instances = [i for i in uow.instances.for_deployments(carrying)
                     if process_id in processes_entered(i.state, i.process_id)]
        tasks = [t for t in uow.tasks.for_instances([i.id for i in instances]) if t.process_id == process_id]
        bundles = {d: services.bundle(uow.deployments.get(d)) for d in {i.deployment_id for i in instances}}
    waiting: dict[str, int] = defaultdict(int)
    for instance in instances:
        if instance.status != "completed":
            progress = services.engine.progress(bundles[instance.deployment_id], instance.process_id, instance.state)
            for element in progress.active.get(process_id, set()):
                waiting[element] += 1
    spent: dict[str, list[float]] = defaultdict(list)
    for task in tasks:
        if task.status == "completed" and task.completed_at is not None:
            spent[task.element_id].append((task.completed_at - task.created_at).total_seconds())
    running = sum(1 for i in instances if i.status != "completed")
    summary = _summary(row, active.get(process_id) == row.version,
                       {"running": running, "completed": len(instances) - running})
    needed = dependencies(deployment.files).get(process_id, {row.file_name})
    return VersionDetail(summary, deployment.files[row.file_name],
                         {name: deployment.hashes[name] for name in sorted(needed)}, carrying,
                         outline_processes(deployment.files)[process_id].elements, dict(waiting),
                         {e: sum(v) / len(v) for e, v in spent.items()}, {e: len(v) for e, v in spent.items()})


def heatmap_svg(detail: VersionDetail) -> str | None:
    """The version's diagram as SVG with the heatmap drawn over it; None when the file has no drawing."""
    pid, number = detail.summary.process_id, detail.summary.version
    try:
        diagram = read_diagram(detail.diagram, element_id=pid)
    except DrawingError:
        try:
            diagram = read_diagram(detail.diagram)
        except DrawingError:
            return None
    highlights = Highlights(active=set(detail.waiting), counts=dict(detail.waiting),
                            durations=dict(detail.durations))
    return render_svg(diagram, highlights=highlights, title=f"{pid} version {number}")


# --- comparing two versions ----------------------------------------------------------------------------

@dataclass(frozen=True)
class ElementChange:
    element_id: str
    kind: str
    name: str
    changes: dict[str, tuple[Any, Any]]  # field -> (in a, in b)


@dataclass(frozen=True)
class FileChange:
    name: str
    change: str  # added | removed | changed
    before: str | None  # sha256
    after: str | None


@dataclass(frozen=True)
class VersionDiff:
    process_id: str
    a: VersionSummary
    b: VersionSummary
    added: tuple[ElementInfo, ...]
    removed: tuple[ElementInfo, ...]
    changed: tuple[ElementChange, ...]
    forms: tuple[FileChange, ...]  # the forms it (and what it calls) uses
    files: tuple[FileChange, ...]  # every other file it runs with: called processes, decision tables


def _file_changes(before: dict[str, str], after: dict[str, str]) -> list[FileChange]:
    found = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old != new:
            change = "added" if old is None else "removed" if new is None else "changed"
            found.append(FileChange(name, change, old, new))
    return found


def _version_files(deployment: Deployment, process_id: str, own_file: str) -> dict[str, str]:
    needed = dependencies(deployment.files).get(process_id, set())
    return {n: deployment.hashes[n] for n in needed if n != own_file}


def diff_versions(process_id: str, a: int, b: int, services: Services) -> VersionDiff:
    """What changed in a process from version a to version b: elements, forms, other files."""
    with services.uow() as uow:
        rows = uow.deployments.versions(process_id)
        row_a, row_b = _find(rows, process_id, a), _find(rows, process_id, b)
        dep_a, dep_b = uow.deployments.get(row_a.deployment_id), uow.deployments.get(row_b.deployment_id)
        active = _active_versions(uow, services, {process_id: rows}).get(process_id)
    old = outline_processes(dep_a.files)[process_id].elements
    new = outline_processes(dep_b.files)[process_id].elements
    changed = []
    for element_id in sorted(set(old) & set(new)):
        before, after = old[element_id], new[element_id]
        changes = {name: (getattr(before, name), getattr(after, name)) for name in COMPARED
                   if getattr(before, name) != getattr(after, name)}
        if changes:
            changed.append(ElementChange(element_id, after.kind, after.name, changes))
    file_changes = _file_changes(_version_files(dep_a, process_id, row_a.file_name),
                                 _version_files(dep_b, process_id, row_b.file_name))
    return VersionDiff(
        process_id, _summary(row_a, active == row_a.version), _summary(row_b, active == row_b.version),
        tuple(new[e] for e in sorted(set(new) - set(old))), tuple(old[e] for e in sorted(set(old) - set(new))),
        tuple(changed), tuple(f for f in file_changes if f.name.startswith("forms/")),
        tuple(f for f in file_changes if not f.name.startswith("forms/")))
