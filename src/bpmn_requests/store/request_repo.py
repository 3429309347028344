"""Request records: rows, their references, approvals and steps, mapped to domain dataclasses."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, update
from sqlalchemy.orm import Session

from ..domain.errors import NotFound
from ..domain.requests import Approval, RequestRecord, StepRecord
from .counters import next_value
from .tables import approvals, request_refs, request_steps, requests

REFERENCE_START = 100001


def _row_values(record: RequestRecord, now: datetime) -> dict[str, Any]:
    return {
        "type": record.type, "customer_id": record.customer_id, "description": record.description,
        "submitted_at": record.submitted_at, "requested_by": record.requested_by, "priority": record.priority,
        "channel": record.channel, "status": record.status, "currency": record.currency,
        "details": record.details, "kyc": record.kyc, "classification": record.classification,
        "credit": record.credit, "resolution": record.resolution, "closed_at": record.closed_at,
        "outcome": record.outcome, "updated_at": now,
    }


def _approval(row: Any) -> Approval:
    return Approval(id=row.id, level=row.level, approver=row.approver, decision=row.decision,
                    comment=row.comment, decided_at=row.decided_at, action=row.action,
                    amount=Decimal(row.amount), proposed_by=row.proposed_by)


class SqlRequestRepository:
    def __init__(self, session: Session, now: Any):
        self.session = session
        self._now = now
        # Approvals and steps only grow. What this transaction read or wrote of them, by reference, so a
        # save inserts the new ones without asking what is stored (saves run under the instance lock).
        self._stored: dict[str, tuple[set[str], int]] = {}

    # --- RequestDirectory ---------------------------------------------------------------------
    def next_reference(self) -> str:
        return f"REQ-{next_value(self.session, 'request', start=REFERENCE_START)}"

    def open_request_for(self, customer_id: str, invoice_numbers: list[str],
                         payment_references: list[str], exclude: str | None) -> str | None:
        wanted = [("invoice", n) for n in invoice_numbers] + [("payment", p) for p in payment_references]
        if not wanted:
            return None
        query = (select(requests.c.reference).join(request_refs, request_refs.c.reference == requests.c.reference)
                 .where(requests.c.customer_id == customer_id, requests.c.status != "closed")
                 .where(and_(request_refs.c.kind.in_({k for k, _ in wanted}),
                             request_refs.c.value.in_({v for _, v in wanted})))
                 .order_by(requests.c.submitted_at).limit(1))
        if exclude:
            query = query.where(requests.c.reference != exclude)
        return self.session.execute(query).scalar()

    def open_disputes_of(self, customer_id: str, exclude: str | None) -> int:
        query = select(func.count()).select_from(requests).where(
            requests.c.customer_id == customer_id, requests.c.status != "closed",
            requests.c.type.in_(("billing_dispute", "payment_issue")))
        if exclude:
            query = query.where(requests.c.reference != exclude)
        return int(self.session.execute(query).scalar() or 0)

    # --- records --------------------------------------------------------------------------------
    def add(self, record: RequestRecord) -> None:
        self.session.execute(insert(requests).values(reference=record.reference, **_row_values(record, self._now())))
        refs = {("invoice", n) for n in record.details.get("invoice_numbers", [])}
        refs |= {("payment", p) for p in record.details.get("payment_references", [])}
        if refs:
            self.session.execute(insert(request_refs), [
                {"reference": record.reference, "kind": k, "value": v} for k, v in sorted(refs)])
        self._stored[record.reference] = (set(), 0)
        self._sync_children(record)

    def save(self, record: RequestRecord) -> None:
        self.session.execute(update(requests).where(requests.c.reference == record.reference)
                             .values(**_row_values(record, self._now())))
        self._sync_children(record)

    def _sync_children(self, record: RequestRecord) -> None:
        known, stored = self._stored.get(record.reference) or self._stored_children(record.reference)
        for seq, a in enumerate(record.approvals, start=1):
            if a.id not in known:
                self.session.execute(insert(approvals).values(
                    id=a.id, request_reference=record.reference, seq=seq, level=a.level, approver=a.approver,
                    decision=a.decision, comment=a.comment, decided_at=a.decided_at, action=a.action,
                    amount=a.amount, proposed_by=a.proposed_by))
        for seq, step in enumerate(record.steps[stored:], start=stored + 1):
            self.session.execute(insert(request_steps).values(
                request_reference=record.reference, seq=seq, element_id=step.element_id, name=step.name,
                actor=step.actor, completed_at=step.completed_at, data=step.data))
        self._stored[record.reference] = (known | {a.id for a in record.approvals}, max(stored, len(record.steps)))

    def _stored_children(self, reference: str) -> tuple[set[str], int]:
        known = set(self.session.execute(
            select(approvals.c.id).where(approvals.c.request_reference == reference)).scalars())
        stored = self.session.execute(select(func.count()).select_from(request_steps)
                                      .where(request_steps.c.request_reference == reference)).scalar() or 0
        return known, int(stored)

    def get(self, reference: str) -> RequestRecord:
        row = self.session.execute(select(requests).where(requests.c.reference == reference)).first()
        if row is None:
            raise NotFound(f"no request {reference}")
        return self._record(row)

    def headers(self, references: list[str]) -> dict[str, RequestRecord]:
        found: dict[str, RequestRecord] = {}
        unique = sorted(set(references))
        for start in range(0, len(unique), 500):  # keep IN lists within every database's limits
            rows = self.session.execute(select(requests).where(requests.c.reference.in_(unique[start:start + 500])))
            for row in rows:
                found[row.reference] = self._record(row, children=False)
        return found

    def _record(self, row: Any, *, children: bool = True) -> RequestRecord:
        found = self.session.execute(select(approvals).where(approvals.c.request_reference == row.reference)
                                     .order_by(approvals.c.seq)).all() if children else []
        steps = self.session.execute(select(request_steps).where(request_steps.c.request_reference == row.reference)
                                     .order_by(request_steps.c.seq)).all() if children else []
        self._stored[row.reference] = ({a.id for a in found}, len(steps))
        return RequestRecord(
            reference=row.reference, type=row.type, customer_id=row.customer_id, description=row.description,
            submitted_at=row.submitted_at, requested_by=row.requested_by, priority=row.priority,
            channel=row.channel, status=row.status, currency=row.currency, details=dict(row.details),
            kyc=row.kyc, classification=row.classification, credit=row.credit, resolution=dict(row.resolution),
            approvals=[_approval(a) for a in found],
            steps=[StepRecord(s.element_id, s.name, s.actor, s.completed_at, dict(s.data)) for s in steps],
            closed_at=row.closed_at, outcome=row.outcome)

    def search(self, *, status: str | None = None, type: str | None = None, customer_id: str | None = None,
               limit: int = 100, offset: int = 0) -> list[RequestRecord]:
        query = (select(requests).order_by(requests.c.submitted_at.desc(), requests.c.reference.desc())
                 .limit(limit).offset(offset))
        if status:
            query = query.where(requests.c.status == status)
        if type:
            query = query.where(requests.c.type == type)
        if customer_id:
            query = query.where(requests.c.customer_id == customer_id)
        return [self._record(row) for row in self.session.execute(query).all()]

    def delete_all(self) -> None:
        for table in (request_steps, approvals, request_refs, requests):
            self.session.execute(delete(table))
        self._stored.clear()
