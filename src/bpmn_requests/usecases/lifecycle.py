"""Shared steps of every use case that moves an instance: bind services, run, write what changed.

What one engine run leaves behind is written in the caller's transaction: the instance state and when
its work is due next (timers, asynchronous service tasks, buffered messages), the messages it waits for,
the open user tasks (with reminders and escalations its timers asked for), the request record with its
SLA clock (paused while the request waits for the customer), and the audit events.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..domain.requests import RequestRecord
from ..domain.sla import WAITING_FOR_CUSTOMER, Sla, SlaValues
from ..engine.runner import RunContext, ServiceBridge, ServiceCall, Snapshot, WaitingTask
from ..service_tasks.registry import ServiceContext
from .context import Services, jsonable
from .ports import HumanTask, InstanceRow, UnitOfWork


@dataclass
class TaskChanges:
    """Reminders and escalations service tasks asked for in one run; applied once the task rows exist
    (a timer may fire in the very run that opens its task)."""

    reminders: list[str] = field(default_factory=list)  # element ids
    escalations: list[tuple[str, str]] = field(default_factory=list)  # (element id, group)

    def remind(self, element_id: str) -> None:
        self.reminders.append(element_id)

    def escalate(self, element_id: str, group: str) -> None:
        self.escalations.append((element_id, group))


def service_bridge(services: Services, uow: UnitOfWork, record: RequestRecord,
                   changes: TaskChanges | None = None) -> ServiceBridge:
    """Run service tasks against this transaction's ports; audit each call with its outputs."""

    def bridge(call: ServiceCall) -> dict[str, Any]:
        definition = services.registry.get(call.topic)
        inputs = {p.name: call.data[p.name] for p in definition.inputs if p.name in call.data}
        inputs.update(call.inputs)
        ctx = ServiceContext(record=record, finance=uow.finance, directory=uow.requests, outbox=uow.outbox,
                             screener=services.screener, peps=services.peps, clock=services.clock,
                             step_key=call.step_key, data=call.data, settings=services.settings, tasks=changes,
                             bureau=services.bureau)
        result = definition.call(ctx, inputs)
        uow.audit.record("system", f"service:{call.topic}", record.reference,
                         None, {"element": call.element_id, "outputs": jsonable(result)})
        return result

    return bridge


def run_context(services: Services, uow: UnitOfWork, record: RequestRecord, instance_key: str,
                changes: TaskChanges, *, run_async: bool = False,
                overrides: Mapping[str, dict[str, Any]] | None = None) -> RunContext:
    """What the engine sees in one run: services, the time, and the request's SLA times for timers."""
    now = services.clock.now()
    values = SlaValues(lambda: record.classification, record.submitted_at, services.settings.calendar, now,
                       services.jobs.reminder_share)
    return RunContext(service_bridge(services, uow, record, changes), instance_key, now=now, values=values,
                      run_async=run_async, overrides=dict(overrides or {}))


def record_state(record: RequestRecord) -> dict[str, Any]:
    return {"status": record.status, "priority": record.priority, "outcome": record.outcome}


def _required_level(waiting: WaitingTask) -> int:
    if waiting.properties.get("approval", "").lower() != "true":
        return 0
    try:
        return int(waiting.data.get("approval_level") or 0)
    except (TypeError, ValueError):
        return 0


def _human_task(waiting: WaitingTask, instance: InstanceRow, record: RequestRecord, services: Services) -> HumanTask:
    properties = dict(waiting.properties)
    if properties.get("approval", "").lower() == "true":
        # Who may not decide it (four eyes), kept on the row so inboxes and claims can honour it.
        properties["proposed_by"] = str(waiting.data.get("proposed_by") or "")
        properties["requested_by"] = record.requested_by
    return HumanTask(
        id=waiting.id, instance_id=instance.id, request_reference=record.reference,
        element_id=waiting.element_id, process_id=waiting.process_id, name=waiting.name,
        form_id=waiting.form_id, candidate_groups=waiting.candidate_groups, assignee=waiting.assignee,
        status="open", created_at=services.clock.now(), required_level=_required_level(waiting),
        priority=record.priority, request_type=record.type, properties=properties)


def task_row(waiting: WaitingTask, instance: InstanceRow, record: RequestRecord, services: Services) -> HumanTask:
    """The open task row a wait state of the engine stands for (what `sync_tasks` adds)."""
    return _human_task(waiting, instance, record, services)


def sync_tasks(uow: UnitOfWork, services: Services, instance: InstanceRow, record: RequestRecord,
               waiting: list[WaitingTask]) -> list[HumanTask]:
    """Make the task rows match what the engine waits for; returns the tasks that opened now."""
    open_rows = {t.id: t for t in uow.tasks.open_for_instance(instance.id)}
    waiting_ids = {w.id for w in waiting}
    for task_id, row in open_rows.items():
        if task_id not in waiting_ids:
            row.status = "cancelled"
            uow.tasks.update(row)
    opened = []
    for item in waiting:
        if item.id not in open_rows:
            row = _human_task(item, instance, record, services)
            uow.tasks.add(row)
            opened.append(row)
    return opened


def _apply_task_changes(uow: UnitOfWork, services: Services, instance: InstanceRow, record: RequestRecord,
                        changes: TaskChanges) -> None:
    if not changes.reminders and not changes.escalations:
        return
    now = services.clock.now().isoformat()
    rows = uow.tasks.open_for_instance(instance.id)
    for element_id in changes.reminders:
        for row in (r for r in rows if r.element_id == element_id):
            row.properties["reminded_at"] = now
            uow.tasks.update_definition(row)
            uow.audit.record("system", "task.reminded", record.reference, None,
                             {"task": row.id, "element": element_id, "holder": row.assignee or row.claimed_by})
    for element_id, group in changes.escalations:
        for row in (r for r in rows if r.element_id == element_id):
            before = list(row.candidate_groups)
            if group not in row.candidate_groups:
                row.candidate_groups = (*row.candidate_groups, group)
            row.properties.update(escalated_at=now, escalated_to=group)
            uow.tasks.update_definition(row)
            uow.audit.record("system", "task.escalated", record.reference, {"groups": before},
                             {"task": row.id, "element": element_id, "groups": list(row.candidate_groups)})
    changes.reminders.clear()
    changes.escalations.clear()


def track_sla(record: RequestRecord, before_status: str | None, services: Services) -> None:
    """Pause the SLA clock while the request waits for the customer; keep its due time current."""
    sla = Sla.of(record.classification, record.submitted_at)
    if sla is None or record.classification is None:
        return
    now = services.clock.now()
    waiting_now = record.status == WAITING_FOR_CUSTOMER
    if waiting_now and before_status != WAITING_FOR_CUSTOMER:
        sla = sla.pause(now)
    elif not waiting_now:
        sla = sla.resume(now)
    calendar = services.settings.calendar
    due = sla.due_at(calendar)
    reminder = sla.due_at(calendar, services.jobs.reminder_share)
    record.classification = {**record.classification, **sla.as_json(),
                             "due_at": due.isoformat() if due else None,
                             "reminder_at": reminder.isoformat() if reminder else None,
                             "paused_since": sla.pauses[-1].start.isoformat() if sla.paused else None}


def _schedule(uow: UnitOfWork, services: Services, instance: InstanceRow, snapshot: Snapshot,
              now: datetime) -> None:
    """Store when the instance's work is due and the messages it waits for (with the state, one commit)."""
    due = snapshot.due_at
    keyed = [(s.message, s.correlation_key) for s in snapshot.subscriptions if s.correlation_key is not None]
    if keyed and uow.messages.buffered_for(keyed, now):
        due = now  # a message that came early waits in the buffer: deliver it now
    if due != instance.due_at:
        instance.dispatched_at = None
    instance.due_at = None if snapshot.completed else due
    if services.on_due is not None and instance.due_at is not None and instance.due_at <= now:
        # The caller hands it to a worker right after the commit (announce_due): the sweep need not too.
        instance.dispatched_at = now
    uow.subscriptions.replace(instance.id, instance.request_reference,
                              [] if snapshot.completed else
                              [(s.element_id, s.message, s.correlation_key) for s in snapshot.subscriptions], now)


def apply_snapshot(uow: UnitOfWork, services: Services, instance: InstanceRow, record: RequestRecord,
                   snapshot: Snapshot, actor: str, before: Mapping[str, Any],
                   changes: TaskChanges | None = None) -> list[HumanTask]:
    """Write instance state, tasks, record and audit for one engine run (inside the caller's transaction)."""
    if snapshot.statuses and record.status != "closed":
        record.status = snapshot.statuses[-1]
    now = services.clock.now()
    finished_before = instance.status == "completed"
    instance.state = snapshot.state
    # An instance with an open incident stays so until an admin resolves it, even when a person moves it on.
    instance.status = "completed" if snapshot.completed else ("incident" if instance.status == "incident" else "running")
    instance.end_event = snapshot.end_event or instance.end_event
    instance.updated_at = now
    instance.request_reference = record.reference
    _schedule(uow, services, instance, snapshot, now)
    opened = sync_tasks(uow, services, instance, record, snapshot.waiting)
    if changes is not None:
        _apply_task_changes(uow, services, instance, record, changes)
    track_sla(record, before.get("status"), services)
    uow.requests.save(record)
    after = record_state(record)
    if dict(before) != after:
        passed = [s for s in snapshot.statuses if s not in (before.get("status"), after["status"])]
        uow.audit.record(actor, "request.updated", record.reference, dict(before),
                         {**after, "passed": passed} if passed else after)
    for task in opened:
        uow.audit.record("system", "task.opened", record.reference, None,
                         {"task": task.id, "element": task.element_id, "groups": list(task.candidate_groups)})
    if snapshot.completed and not finished_before:
        uow.audit.record("system", "instance.completed", record.reference, None,
                         {"end_event": snapshot.end_event, "outcome": record.outcome})
    return opened
