"""Read models: the request record as staff see it, request lists, the audit trail."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from ..domain.audit import AuditEvent
from ..domain.finance import FinanceGateway, Posting
from ..domain.requests import RequestRecord, customer_status
from .context import Services, jsonable
from .ports import UnitOfWork


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
    with services.uow() as uow:
        return request_view(uow, reference)


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
