"""Shared steps of every use case that moves an instance: bind services, run, write what changed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..domain.requests import RequestRecord
from ..engine.runner import ServiceBridge, ServiceCall, Snapshot, WaitingTask
from ..service_tasks.registry import ServiceContext
from .context import Services, jsonable
from .ports import HumanTask, InstanceRow, UnitOfWork


def service_bridge(services: Services, uow: UnitOfWork, record: RequestRecord) -> ServiceBridge:
    """Run service tasks against this transaction's ports; audit each call with its outputs."""

    def bridge(call: ServiceCall) -> dict[str, Any]:
        definition = services.registry.get(call.topic)
        inputs = {p.name: call.data[p.name] for p in definition.inputs if p.name in call.data}
        inputs.update(call.inputs)
        ctx = ServiceContext(record=record, finance=uow.finance, directory=uow.requests, outbox=uow.outbox,
                             screener=services.screener, peps=services.peps, clock=services.clock,
                             step_key=call.step_key, data=call.data, settings=services.settings)
        result = definition.call(ctx, inputs)
        uow.audit.record("system", f"service:{call.topic}", record.reference,
                         None, {"element": call.element_id, "outputs": jsonable(result)})
        return result

    return bridge


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


def apply_snapshot(uow: UnitOfWork, services: Services, instance: InstanceRow, record: RequestRecord,
                   snapshot: Snapshot, actor: str, before: Mapping[str, Any]) -> list[HumanTask]:
    """Write instance state, tasks, record and audit for one engine run (inside the caller's transaction)."""
    if snapshot.statuses and record.status != "closed":
        record.status = snapshot.statuses[-1]
    now = services.clock.now()
    instance.state = snapshot.state
    instance.status = "completed" if snapshot.completed else "running"
    instance.end_event = snapshot.end_event or instance.end_event
    instance.updated_at = now
    instance.request_reference = record.reference
    opened = sync_tasks(uow, services, instance, record, snapshot.waiting)
    uow.requests.save(record)
    after = record_state(record)
    if dict(before) != after:
        passed = [s for s in snapshot.statuses if s not in (before.get("status"), after["status"])]
        uow.audit.record(actor, "request.updated", record.reference, dict(before),
                         {**after, "passed": passed} if passed else after)
    for task in opened:
        uow.audit.record("system", "task.opened", record.reference, None,
                         {"task": task.id, "element": task.element_id, "groups": list(task.candidate_groups)})
    if snapshot.completed:
        uow.audit.record("system", "instance.completed", record.reference, None,
                         {"end_event": snapshot.end_event, "outcome": record.outcome})
    return opened
