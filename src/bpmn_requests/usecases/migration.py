"""Moving running instances from one deployment to another: check each, move one or every safe one.

Each move is its own transaction: lock the instance, check again under the lock, move its state with
SpiffWorkflow's spec diff, run whatever became ready, re-sync its open task rows (element ids, names,
forms and groups of the new version) and audit the move. An instance that cannot move is left untouched.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ..domain.errors import Conflict, DomainError, ValidationFailed
from ..domain.requests import RequestRecord
from ..engine.bundle import ProcessBundle
from ..engine.migration import MigrationCheck, VersionMigration
from ..engine.runner import WaitingTask
from .context import Services, announce_due, form_files
from .lifecycle import TaskChanges, apply_snapshot, record_state, run_context, task_row
from .ports import Deployment, HumanTask, InstanceRow, UnitOfWork


@dataclass(frozen=True)
class InstanceCheck:
    instance_id: str
    reference: str
    status: str
    waiting_at: tuple[str, ...]  # "process/element" of what it has open now
    safe: bool
    reasons: tuple[str, ...]  # why it cannot move
    notes: tuple[str, ...] = ()  # what changes around it that the move takes care of


@dataclass(frozen=True)
class MigrationPlan:
    from_deployment: int
    to_deployment: int
    instances: tuple[InstanceCheck, ...]

    @property
    def safe(self) -> tuple[InstanceCheck, ...]:
        return tuple(i for i in self.instances if i.safe)

    @property
    def unsafe(self) -> tuple[InstanceCheck, ...]:
        return tuple(i for i in self.instances if not i.safe)


@dataclass(frozen=True)
class Migrated:
    instance_id: str
    reference: str
    moved: bool
    from_deployment: int
    to_deployment: int
    tasks: tuple[str, ...] = ()  # the elements of its open tasks after the move
    reason: str | None = None  # why it did not move


def _deployments(uow: UnitOfWork, from_id: int, to_id: int) -> tuple[Deployment, Deployment]:
    if from_id == to_id:
        raise ValidationFailed(f"instances of deployment {from_id} are on it already; name another one",
                               field="to")
    return uow.deployments.get(from_id), uow.deployments.get(to_id)


def _form_problems(check: MigrationCheck, old: ProcessBundle, new: ProcessBundle, target: Deployment
                   ) -> list[str]:
    """An open user task whose form the target removes (or whose new element names a missing one)."""
    forms = set(form_files(target.files))
    problems = []
    for open_element in check.open_elements:
        for bundle in (old, new):
            facts = bundle.element(open_element.process_id, open_element.element_id)
            if facts is not None and facts.form_id and facts.form_id not in forms:
                problems.append(f"its open task {open_element.process_id}/{open_element.element_id} uses form "
                                f"{facts.form_id}, which deployment {target.id} does not have")
                break
    return problems


def _instance_check(instance: InstanceRow, migration: VersionMigration, target: Deployment
                    ) -> tuple[InstanceCheck, str | None]:
    check, moved = migration.attempt(instance.state)
    reasons = [*check.problems, *_form_problems(check, migration.old, migration.new, target)]
    result = InstanceCheck(instance.id, instance.request_reference, instance.status,
                           tuple(f"{e.process_id}/{e.element_id}" for e in check.open_elements),
                           not reasons, tuple(reasons), check.notes)
    return result, (moved if not reasons else None)


def check_migration(from_id: int, to_id: int, services: Services) -> MigrationPlan:
    """Every unfinished instance of deployment `from_id`: whether it can move to `to_id`, and why not."""
    with services.uow() as uow:
        source, target = _deployments(uow, from_id, to_id)
        instances = sorted((i for i in uow.instances.for_deployments([from_id]) if i.status != "completed"),
                           key=lambda i: (i.created_at, i.request_reference))
    old, new = services.bundle(source), services.bundle(target)
    migrations: dict[str, VersionMigration] = {}
    checks = []
    for instance in instances:
        if instance.process_id not in migrations:
            migrations[instance.process_id] = VersionMigration(services.engine, old, new, instance.process_id)
        checks.append(_instance_check(instance, migrations[instance.process_id], target)[0])
    return MigrationPlan(from_id, to_id, tuple(checks))


def _resync(uow: UnitOfWork, services: Services, instance: InstanceRow, record: RequestRecord,
            waiting: list[WaitingTask], opened: list[HumanTask]) -> None:
    """Open rows the move kept take the definition of their element in the new version."""
    fresh_ids = {t.id for t in opened}
    for row in uow.tasks.open_for_instance(instance.id):
        item = next((w for w in waiting if w.id == row.id), None)
        if item is None or row.id in fresh_ids:
            continue
        new = task_row(item, instance, record, services)
        uow.tasks.update_definition(replace(
            row, element_id=new.element_id, process_id=new.process_id, name=new.name, form_id=new.form_id,
            candidate_groups=new.candidate_groups, assignee=new.assignee, properties=new.properties,
            required_level=new.required_level))


def migrate_instance(instance_id: str, to_id: int, by: str, services: Services, *,
                     from_id: int | None = None) -> Migrated:
    """Move one unfinished instance to deployment `to_id` (from `from_id` when given); refuses with
    Conflict, changing nothing, when it is unsafe."""
    with services.uow() as uow:
        instance = uow.instances.get_for_update(instance_id)
        if instance.status == "completed":
            raise Conflict(f"request {instance.request_reference} has completed; there is nothing to move")
        if from_id is not None and instance.deployment_id != from_id:
            raise Conflict(f"request {instance.request_reference} is on deployment {instance.deployment_id}, "
                           f"not {from_id}")
        source, target = _deployments(uow, instance.deployment_id, to_id)
        migration = VersionMigration(services.engine, services.bundle(source), services.bundle(target),
                                     instance.process_id)
        check, moved = _instance_check(instance, migration, target)
        if moved is None:
            raise Conflict(f"request {instance.request_reference} cannot move from deployment {source.id} to "
                           f"{target.id}: " + "; ".join(check.reasons))
        record = uow.requests.get(instance.request_reference)
        before = record_state(record)
        had = sorted(t.element_id for t in uow.tasks.open_for_instance(instance.id))
        instance.deployment_id, instance.state = target.id, moved
        changes = TaskChanges()
        ctx = run_context(services, uow, record, instance.id, changes)
        snapshot = services.engine.advance(migration.new, instance.process_id, moved, ctx.bridge, instance.id,
                                           ctx=ctx)
        missing = sorted({w.form_id for w in snapshot.waiting if w.form_id} - set(form_files(target.files)))
        if missing:
            raise Conflict(f"request {record.reference} cannot move to deployment {target.id}: its open tasks "
                           f"would need form(s) {', '.join(missing)}, which it does not have")
        opened = apply_snapshot(uow, services, instance, record, snapshot, by, before, changes)
        _resync(uow, services, instance, record, snapshot.waiting, opened)
        uow.instances.save(instance)
        tasks = tuple(sorted(t.element_id for t in uow.tasks.open_for_instance(instance.id)))
        uow.audit.record(by, "instance.migrated", record.reference,
                         {"deployment": source.id, "tasks": had},
                         {"deployment": target.id, "instance": instance.id, "tasks": list(tasks),
                          "notes": list(check.notes)})
        uow.commit()
    announce_due(services, instance)
    return Migrated(instance.id, record.reference, True, source.id, target.id, tasks)


def migrate_all_safe(from_id: int, to_id: int, by: str, services: Services) -> list[Migrated]:
    """Move every instance of `from_id` the check finds safe, each in its own transaction; the others stay."""
    plan = check_migration(from_id, to_id, services)
    results = []
    for item in plan.instances:
        if not item.safe:
            results.append(Migrated(item.instance_id, item.reference, False, from_id, to_id,
                                    reason="; ".join(item.reasons)))
            continue
        try:
            results.append(migrate_instance(item.instance_id, to_id, by, services, from_id=from_id))
        except DomainError as refused:  # changed since the check (say, moved or completed meanwhile)
            results.append(Migrated(item.instance_id, item.reference, False, from_id, to_id,
                                    reason=refused.message))
    return results
