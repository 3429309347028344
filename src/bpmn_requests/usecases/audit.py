"""Check the audit chain: every event links to the one before and its hash matches its content."""

from __future__ import annotations

from dataclasses import dataclass

from ..domain.audit import first_broken
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
    broken = first_broken(events)
    if broken is None:
        return AuditCheck(len(events), True)
    event, reason = broken
    return AuditCheck(len(events), False, event.seq, reason)
