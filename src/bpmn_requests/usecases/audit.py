"""Check the audit chain: every event links to the one before and its hash matches its content."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.audit import AuditEvent, first_broken
from .context import Services


@dataclass(frozen=True)
class AuditCheck:
    events: int
    ok: bool
    broken_seq: int | None = None
    reason: str | None = None


def verify_audit(services: Services) -> AuditCheck:
    with services.uow() as uow:
        events = uow.audit.all()
        written = uow.audit.written()
    broken = first_broken(events)
    if broken is None:
        last = events[-1].seq if events else 0
        if written > last:
            return AuditCheck(len(events), False, last + 1,
                              f"event {last + 1} was deleted: the chain has had {written} events, {last} remain")
        return AuditCheck(len(events), True)
    event, reason = broken
    return AuditCheck(len(events), False, event.seq, reason)


def audit_trail(reference: str, services: Services) -> list[AuditEvent]:
    """The audit events of one request, oldest first (NotFound for an unknown request)."""
    with services.uow() as uow:
        uow.requests.get(reference)
        return uow.audit.for_subject(reference)
