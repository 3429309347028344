"""Incidents: steps that failed for good. An admin sees the error, the element and the data, and decides:
retry the step, skip it with the result it should have given, or cancel the request. Each is audited.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from ..domain.errors import Conflict, Forbidden, ValidationFailed
from ..domain.users import User
from .context import Services, announce_due, jsonable
from .jobs import advance_instance
from .lifecycle import record_state, sync_tasks
from .ports import Incident, InstanceRow, UnitOfWork

CANCELLED_OUTCOME = "cancelled"


@dataclass(frozen=True)
class IncidentView:
    incident: Incident
    request_status: str
    instance_status: str


def _require_admin(user: User, doing: str) -> None:
    if not user.is_admin:
        raise Forbidden(f"{user.username} may not {doing}: only admins resolve incidents")


def list_incidents(services: Services, *, open_only: bool = True, limit: int = 200) -> list[Incident]:
    with services.uow() as uow:
        return uow.incidents.list(open_only=open_only, limit=limit)


def incident_view(incident_id: int, services: Services) -> IncidentView:
    with services.uow() as uow:
        incident = uow.incidents.get(incident_id)
        instance = uow.instances.for_request(incident.request_reference)
        return IncidentView(incident, uow.requests.get(incident.request_reference).status, instance.status)


def _open(uow: UnitOfWork, incident_id: int) -> tuple[Incident, InstanceRow]:
    incident = uow.incidents.get(incident_id)
    instance = uow.instances.get_for_update(incident.instance_id)
    incident = uow.incidents.get(incident_id)  # again, under the instance lock
    if not incident.open:
        raise Conflict(f"incident {incident_id} was already resolved ({incident.resolution} by "
                       f"{incident.resolved_by})")
    return incident, instance


def _resolve(uow: UnitOfWork, incident: Incident, at: Any, by: User, resolution: str,
             data: dict[str, Any] | None) -> Incident:
    uow.incidents.resolve(incident.id, at, by.username, resolution, data)
    return replace(incident, resolved_at=at, resolved_by=by.username, resolution=resolution, resolution_data=data)


def retry_incident(incident_id: int, by: User, services: Services) -> Incident:
    """Try the failed step again now, with a fresh set of retries."""
    _require_admin(by, "retry an incident")
    with services.uow() as uow:
        incident, instance = _open(uow, incident_id)
        now = services.clock.now()
        instance.status, instance.due_at, instance.attempts, instance.dispatched_at = "running", now, 0, None
        uow.instances.save(instance)
        resolved = _resolve(uow, incident, now, by, "retried", None)
        uow.audit.record(by.username, "incident.retried", incident.request_reference, None,
                         {"incident": incident.id, "element": incident.element_id})
        uow.commit()
    announce_due(services, instance)
    return resolved


def skip_incident(incident_id: int, result: Mapping[str, Any], by: User, services: Services) -> Incident:
    """Complete the failed service task with `result` (its outputs) instead of calling it, and go on.

    The step runs now, in this transaction: if the request then fails elsewhere, nothing changes and the
    admin sees that error.
    """
    _require_admin(by, "skip a step")
    if not isinstance(result, Mapping):
        raise ValidationFailed("the result of a skipped step must be a JSON object of its outputs", field="result")
    with services.uow() as uow:
        incident, instance = _open(uow, incident_id)
        if not incident.element_id:
            raise Conflict(f"incident {incident_id} names no step to skip; retry it or cancel the request")
        instance.status = "running"
        advance_instance(uow, services, instance, actor=by.username, overrides={incident.element_id: dict(result)})
        instance.attempts, instance.error = 0, None
        uow.instances.save(instance)
        now = services.clock.now()
        resolved = _resolve(uow, incident, now, by, "skipped", jsonable(dict(result)))
        uow.audit.record(by.username, "incident.skipped", incident.request_reference, None,
                         {"incident": incident.id, "element": incident.element_id, "result": jsonable(dict(result))})
        uow.commit()
    announce_due(services, instance)
    return resolved


def cancel_incident(incident_id: int, reason: str, by: User, services: Services) -> Incident:
    """Stop the request for good: its instance is cancelled, its open tasks too, and it is closed."""
    _require_admin(by, "cancel a request")
    if not reason.strip():
        raise ValidationFailed("say why the request is cancelled", field="reason")
    with services.uow() as uow:
        incident, instance = _open(uow, incident_id)
        record = uow.requests.get(instance.request_reference)
        before = record_state(record)
        bundle = services.bundle(uow.deployments.get(instance.deployment_id))
        snapshot = services.engine.cancel(bundle, instance.process_id, instance.state)
        now = services.clock.now()
        instance.state, instance.status, instance.due_at, instance.updated_at = snapshot.state, "cancelled", None, now
        sync_tasks(uow, services, instance, record, [])
        uow.subscriptions.replace(instance.id, record.reference, [], now)
        record.status, record.outcome, record.closed_at = "closed", CANCELLED_OUTCOME, now
        record.resolution.update(outcome=CANCELLED_OUTCOME, closed_at=now.isoformat(), cancel_reason=reason.strip())
        uow.requests.save(record)
        uow.instances.save(instance)
        resolved = _resolve(uow, incident, now, by, "cancelled", {"reason": reason.strip()})
        uow.audit.record(by.username, "request.cancelled", record.reference, before,
                         {**record_state(record), "incident": incident.id, "reason": reason.strip()})
        uow.commit()
    return resolved
