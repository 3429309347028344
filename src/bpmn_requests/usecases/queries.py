"""Read models: the request record as staff see it, request lists, the audit trail."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from ..domain.audit import AuditEvent
from ..domain.errors import NotFound
from ..domain.finance import FinanceGateway, Posting
from ..domain.requests import RequestRecord, customer_status
from ..domain.sla import Sla
from .context import Services, jsonable
from .ports import Deployment, Incident, InstanceRow, UnitOfWork


def _invoices(finance: FinanceGateway, record: RequestRecord) -> list[dict[str, Any]]:
    numbers = list(record.details.get("invoice_numbers") or [])
    numbers += [p.invoice_number for p in finance.postings_for(record.reference)
                if p.invoice_number and p.invoice_number not in numbers]
    found = []
    for number in numbers:
        invoice = finance.invoice(number)
        if invoice is not None:
            found.append({"number": invoice.number, "amount": invoice.amount, "open_amount": invoice.open_amount,
                          "currency": invoice.currency, "due_on": invoice.due_on, "status": invoice.status})
    return found


def _payments(finance: FinanceGateway, record: RequestRecord) -> list[dict[str, Any]]:
    found = []
    for reference in record.details.get("payment_references") or []:
        payment = finance.payment(reference)
        if payment is not None:
            found.append({"reference": payment.reference, "amount": payment.amount,
                          "unapplied_amount": payment.unapplied_amount, "received_on": payment.received_on,
                          "status": payment.status, "remittance_text": payment.remittance_text})
    return found


def _posting(p: Posting) -> dict[str, Any]:
    return {"kind": p.kind, "number": p.number, "amount": p.amount, "currency": p.currency,
            "invoice": p.invoice_number, "payment": p.payment_reference, "approval_id": p.approval_id,
            "request": p.request_reference, "posted_at": p.posted_at, "reason_code": p.reason_code,
            "lines": [asdict(line) for line in p.lines],
            "installments": [{"due_on": d, "amount": a} for d, a in p.installments]}


def _audit(events: list[AuditEvent]) -> list[dict[str, Any]]:
    return [{"seq": e.seq, "at": e.at, "actor": e.actor, "action": e.action, "before": e.before,
             "after": e.after, "hash": e.hash} for e in events]


def request_view(uow: UnitOfWork, reference: str) -> dict[str, Any]:
    """Every component of the request record, inside an open unit of work."""
    record = uow.requests.get(reference)
    customer = uow.finance.customer(record.customer_id)
    view: dict[str, Any] = jsonable({
        "reference": record.reference, "type": record.type, "status": record.status,
        "customer_status": customer_status(record.status), "outcome": record.outcome,
        "customer": {"id": record.customer_id, "name": customer.name if customer else None,
                     "kind": customer.kind if customer else None, "country": customer.country if customer else None,
                     "email": customer.email if customer else None},
        "description": record.description, "submitted_at": record.submitted_at,
        "requested_by": record.requested_by, "priority": record.priority, "channel": record.channel,
        "currency": record.currency, "details": record.details,
        "financial_references": {"invoices": _invoices(uow.finance, record),
                                 "payments": _payments(uow.finance, record)},
        "kyc": record.kyc, "classification": record.classification, "credit": record.credit,
        "approvals": [asdict(a) for a in record.approvals],
        "steps": [asdict(s) for s in record.steps],
        "postings": [_posting(p) for p in uow.finance.postings_for(record.reference)],
        "resolution": record.resolution, "closed_at": record.closed_at,
        "open_tasks": [{"id": t.id, "name": t.name, "element_id": t.element_id, "form_id": t.form_id,
                        "candidate_groups": list(t.candidate_groups), "claimed_by": t.claimed_by,
                        "required_level": t.required_level}
                       for t in uow.tasks.open_for_request(reference)],
        "messages": [{"template": m.template, "subject": m.subject, "to": m.to, "created_at": m.created_at}
                     for m in uow.outbox.for_request(reference)],
        "audit": _audit(uow.audit.for_subject(reference)),
    })
    return view


def show_request(reference: str, services: Services) -> dict[str, Any]:
    """The request record with its SLA, its open incident and what it waits for (the unattended parts)."""
    with services.uow() as uow:
        view = request_view(uow, reference)
        record = uow.requests.get(reference)
        view["sla"] = sla_view(record, services)
        try:
            instance = uow.instances.for_request(reference)
        except NotFound:
            return {**view, "incident": None, "waiting_for": None, "due_work": None}
        incident = uow.incidents.open_for_instance(instance.id)
        deployment = uow.deployments.get(instance.deployment_id)
    view["incident"] = _incident(incident)
    view["waiting_for"] = _waiting_for(services, deployment, instance, view["open_tasks"])
    view["due_work"] = {"instance_status": instance.status, "due_at": _iso(instance.due_at),
                        "attempts": instance.attempts, "last_error": instance.error}
    return view


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


def sla_view(record: RequestRecord, services: Services) -> dict[str, Any] | None:
    """The SLA in business hours: target, due time (None while paused), share used, when it was breached.

    Counted to now, or to the closing time of a closed request."""
    sla = Sla.of(record.classification, record.submitted_at)
    if sla is None:
        return None
    calendar = services.settings.calendar
    until = record.closed_at or services.clock.now()
    # The moment the target is used up, as if a running pause ended now: in the past means breached.
    breach = sla.resume(until).due_at(calendar)
    return {"target_hours": sla.target_hours, "started_at": sla.started_at.isoformat(),
            "due_at": _iso(sla.due_at(calendar)), "reminder_at": _iso(sla.due_at(calendar, services.jobs.reminder_share)),
            "paused": sla.paused, "paused_since": _iso(sla.pauses[-1].start) if sla.paused else None,
            "used_percent": round(sla.used(calendar, until) * 100),
            "breached_at": _iso(breach) if breach is not None and breach <= until else None}


def _incident(incident: Incident | None) -> dict[str, Any] | None:
    if incident is None:
        return None
    return {"id": incident.id, "element_id": incident.element_id, "error_code": incident.error_code,
            "message": incident.message, "attempts": incident.attempts, "created_at": incident.created_at.isoformat()}


def _waiting_for(services: Services, deployment: Deployment, instance: InstanceRow,
                 open_tasks: list[dict[str, Any]]) -> dict[str, Any]:
    """What the instance waits for: people (open tasks), messages with their key, timers, workers."""
    found: dict[str, Any] = {"tasks": [t["name"] for t in open_tasks], "messages": [], "timers": [],
                             "next_timer": None, "workers": []}
    if instance.status not in ("running", "incident"):
        return found
    bundle = services.bundle(deployment)
    now = services.engine.describe(bundle, instance.process_id, instance.state)

    def name(process_id: str | None, element_id: str) -> str:
        facts = bundle.element(process_id, element_id) if process_id else None
        if facts is None:  # an element of a called process, named by its id only
            facts = next((f for (_, element), f in bundle.facts.items() if element == element_id), None)
        return (facts.name if facts else "") or element_id

    found["messages"] = [{"message": s.message, "correlation_key": s.correlation_key, "element_id": s.element_id,
                          "name": name(s.process_id, s.element_id)} for s in now.subscriptions]
    found["timers"] = [{"element_id": t.element_id, "name": name(t.process_id, t.element_id),
                        "due_at": t.due_at.isoformat()} for t in now.timers]
    found["next_timer"] = found["timers"][0] if found["timers"] else None
    found["workers"] = [{"element_id": e, "name": name(None, e)} for e in now.pending_async]
    return found


def list_requests(services: Services, *, status: str | None = None, type: str | None = None,
                  customer_id: str | None = None, limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    with services.uow() as uow:
        records = uow.requests.search(status=status, type=type, customer_id=customer_id, limit=limit,
                                      offset=offset)
        return [jsonable({"reference": r.reference, "type": r.type, "status": r.status, "customer_id": r.customer_id,
                          "priority": r.priority, "submitted_at": r.submitted_at, "outcome": r.outcome,
                          "team": (r.classification or {}).get("team")}) for r in records]


def request_progress(reference: str, services: Services) -> dict[str, Any]:
    """Where a request stands: per process, its diagram file and the elements completed and active."""
    with services.uow() as uow:
        instance = uow.instances.for_request(reference)
        deployment = uow.deployments.get(instance.deployment_id)
    bundle = services.bundle(deployment)
    progress = services.engine.progress(bundle, instance.process_id, instance.state)
    processes = []
    others = (set(progress.completed) | set(progress.active)) - {instance.process_id}
    for pid in [instance.process_id, *sorted(others)]:
        source = bundle.sources.get(pid)
        if source is None or source not in deployment.files:
            continue
        processes.append({"process_id": pid, "file": source, "diagram": deployment.files[source],
                          "completed": sorted(progress.completed.get(pid, set())),
                          "active": sorted(progress.active.get(pid, set()))})
    return {"reference": reference, "deployment": deployment.id, "processes": processes}


SEARCH_WINDOW = 500  # text filters look at this many newest requests (the repository filters no text yet)


def search_requests(services: Services, *, text: str = "", customer: str = "", status: str | None = None,
                    type: str | None = None, page: int = 1, per_page: int = 25) -> dict[str, Any]:
    """One page of requests, newest first: `text` in the reference, `customer` in the customer's id or name."""
    text, customer, page = text.strip().lower(), customer.strip().lower(), max(page, 1)
    filtered = bool(text or customer)
    start = 0 if filtered else (page - 1) * per_page
    window = SEARCH_WINDOW if filtered else per_page + 1  # one more than a page tells whether a next one exists
    names: dict[str, str | None] = {}
    with services.uow() as uow:
        records = uow.requests.search(status=status or None, type=type or None, limit=window, offset=start)
        rows = []
        for r in records:
            if r.customer_id not in names:
                found = uow.finance.customer(r.customer_id)
                names[r.customer_id] = found.name if found else None
            name = names[r.customer_id] or ""
            if (text and text not in r.reference.lower()) or (
                    customer and customer not in r.customer_id.lower() and customer not in name.lower()):
                continue
            rows.append(jsonable({"reference": r.reference, "type": r.type, "status": r.status,
                                  "customer_status": customer_status(r.status), "customer_id": r.customer_id,
                                  "customer_name": name or None, "priority": r.priority,
                                  "submitted_at": r.submitted_at, "outcome": r.outcome,
                                  "due_at": (r.classification or {}).get("due_at")}))
    first = (page - 1) * per_page if filtered else 0
    return {"rows": rows[first:first + per_page], "page": page, "per_page": per_page,
            "has_next": len(rows) > first + per_page, "window": window,
            "truncated": filtered and len(records) >= window}
