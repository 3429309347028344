"""Small fakes of the ports the KYC service task sees, and builders for its test data."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

from bpmn_requests.domain.clock import FixedClock
from bpmn_requests.domain.finance import (
    Customer,
    IdDocument,
    Invoice,
    Payment,
    Person,
    Posting,
    PostingRequest,
    Reconciliation,
)
from bpmn_requests.domain.ports import OutboxMessage, PepList, SanctionsScreener
from bpmn_requests.domain.requests import RequestRecord
from bpmn_requests.service_tasks.registry import ServiceContext, ServiceSettings

SANCTIONS_DIR = Path(__file__).resolve().parents[2] / "data" / "sanctions"
NOW = datetime(2025, 3, 14, 9, 30, tzinfo=UTC)


class FakeFinance:
    """A FinanceGateway that knows a fixed set of customers and nothing else."""

    def __init__(self, *customers: Customer):
        self._customers = {c.id: c for c in customers}

    def customer(self, customer_id: str) -> Customer | None:
        return self._customers.get(customer_id)

    def invoice(self, number: str) -> Invoice | None:
        return None

    def open_invoices(self, customer_id: str) -> list[Invoice]:
        return []

    def invoices_of(self, customer_id: str) -> list[Invoice]:
        return []

    def payment(self, reference: str) -> Payment | None:
        return None

    def payments_of(self, customer_id: str) -> list[Payment]:
        return []

    def post(self, request: PostingRequest, at: datetime) -> Posting:
        raise AssertionError("kyc/validate must not post")

    def postings_for(self, request_reference: str) -> list[Posting]:
        return []

    def reconcile(self) -> Reconciliation:
        return Reconciliation(Decimal("0.00"), Decimal("0.00"))


class FakeDirectory:
    def next_reference(self) -> str:
        return "REQ-000001"

    def open_request_for(self, customer_id: str, invoice_numbers: list[str],
                         payment_references: list[str], exclude: str | None) -> str | None:
        return None

    def open_disputes_of(self, customer_id: str, exclude: str | None) -> int:
        return 0


class FakeOutbox:
    def __init__(self) -> None:
        self.messages: list[OutboxMessage] = []

    def add(self, message: OutboxMessage) -> bool:
        if any(m.key == message.key for m in self.messages):
            return False
        self.messages.append(message)
        return True

    def for_request(self, request_reference: str) -> list[OutboxMessage]:
        return [m for m in self.messages if m.request_reference == request_reference]


def a_record(customer_id: str) -> RequestRecord:
    return RequestRecord(reference="REQ-000001", type="credit_onboarding", customer_id=customer_id,
                         description="New credit line", submitted_at=NOW, requested_by="agent")


def a_context(customer: Customer, screener: SanctionsScreener, peps: PepList,
              settings: ServiceSettings | None = None) -> ServiceContext:
    return ServiceContext(record=a_record(customer.id), finance=FakeFinance(customer),
                          directory=FakeDirectory(), outbox=FakeOutbox(), screener=screener, peps=peps,
                          clock=FixedClock(NOW), step_key="REQ-000001:kyc:1",
                          settings=settings or ServiceSettings())


def a_company(**changes: object) -> Customer:
    """A complete company whose people all screen clear (a demo customer)."""
    company = Customer(
        id="C-1001", name="Northwind Traders Inc.", kind="company", country="US", email="ap@northwind.test",
        registration_number="DE-4471-22", address="1 Harbour Road, Seattle WA",
        people=(
            Person("Nancy Davolio", country="US", role="director"),
            Person("Andrew Fuller", country="US", ownership=Decimal("60"), role="owner"),
            Person("Harriet Lowe", country="GB", ownership=Decimal("25"), role="owner"),
        ),
    )
    return replace(company, **changes)  # type: ignore[arg-type]


def an_individual(**changes: object) -> Customer:
    """A complete individual customer with a passport valid for years."""
    person = Customer(
        id="C-2001", name="Olivia Bennett", kind="individual", country="GB", email="olivia@bennett.test",
        address="12 Mill Lane, York", date_of_birth=date(1984, 5, 2),
        id_document=IdDocument("passport", "P1234567", date(2030, 1, 31)),
    )
    return replace(person, **changes)  # type: ignore[arg-type]
