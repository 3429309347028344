"""Small fakes for the finance service-task tests: a fixed clock, a request directory, a request record."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from bpmn_requests.domain.clock import FixedClock
from bpmn_requests.domain.ports import OutboxMessage, PepMatch, ScreeningResult
from bpmn_requests.domain.requests import Approval, RequestRecord
from bpmn_requests.service_tasks.registry import ServiceContext, ServiceSettings
from bpmn_requests.store.demo_data import demo_finance_facts
from bpmn_requests.store.memory_finance import MemoryFinanceGateway

NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)
TODAY: date = NOW.date()


def demo_gateway() -> MemoryFinanceGateway:
    return MemoryFinanceGateway(demo_finance_facts(TODAY))


class FakeDirectory:
    """Answers questions about other requests from a dict of open disputes per customer."""

    def __init__(self, open_disputes: dict[str, int] | None = None) -> None:
        self.open_disputes = dict(open_disputes or {})
        self.asked: list[tuple[str, str | None]] = []

    def next_reference(self) -> str:
        return "REQ-2025-000999"

    def open_request_for(self, customer_id: str, invoice_numbers: list[str], payment_references: list[str],
                         exclude: str | None) -> str | None:
        return None

    def open_disputes_of(self, customer_id: str, exclude: str | None) -> int:
        self.asked.append((customer_id, exclude))
        return self.open_disputes.get(customer_id, 0)


class FakeOutbox:
    def __init__(self) -> None:
        self.messages: dict[str, OutboxMessage] = {}

    def add(self, message: OutboxMessage) -> bool:
        return self.messages.setdefault(message.key, message) is message

    def for_request(self, request_reference: str) -> list[OutboxMessage]:
        return [m for m in self.messages.values() if m.request_reference == request_reference]


class NoScreening:
    def screen(self, names: list[tuple[str, str]]) -> ScreeningResult:
        return ScreeningResult(list_date="2025-03-01", entries=0, threshold=88.0)


class NoPeps:
    def screen(self, names: list[tuple[str, str]]) -> list[PepMatch]:
        return []


def make_record(customer_id: str = "C-1001", *, type: str = "billing_dispute",
                reference: str = "REQ-2025-000001") -> RequestRecord:
    return RequestRecord(reference=reference, type=type, customer_id=customer_id,
                         description="test request", submitted_at=NOW, requested_by="agent.alice")


def approve(record: RequestRecord, action: str, amount: str | Decimal, *, level: int = 1,
            decision: str = "approve") -> Approval:
    """Add an approval decision to the record, as the approval user task would."""
    approval = Approval(id=f"APR-{record.reference}-{len(record.approvals) + 1}", level=level,
                        approver="manager.maria", decision=decision, comment="ok", decided_at=NOW,
                        action=action, amount=Decimal(amount), proposed_by="analyst.bob")
    record.approvals.append(approval)
    return approval


def make_context(finance: MemoryFinanceGateway | None = None, record: RequestRecord | None = None, *,
                 directory: FakeDirectory | None = None, settings: ServiceSettings | None = None,
                 data: dict[str, Any] | None = None) -> ServiceContext:
    return ServiceContext(
        record=record or make_record(), finance=finance or demo_gateway(),
        directory=directory or FakeDirectory(), outbox=FakeOutbox(), screener=NoScreening(),
        peps=NoPeps(), clock=FixedClock(NOW), step_key="step-1", data=data or {},
        settings=settings or ServiceSettings())
