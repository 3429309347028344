"""Accounts-receivable facts and the FinanceGateway port that serves them.

The default adapter keeps a subledger in the application database (store/finance_sql.py); an ERP
adapter would implement the same Protocol. Every posting names the request and the approval it rests on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Protocol


@dataclass(frozen=True)
class Person:
    """A director, beneficial owner or individual customer, as KYC sees them."""

    name: str
    date_of_birth: date | None = None
    country: str | None = None
    ownership: Decimal | None = None  # percent, for beneficial owners
    role: str = "director"  # director | owner | individual


@dataclass(frozen=True)
class IdDocument:
    kind: str  # passport | national_id | registry_extract
    number: str
    expires_on: date | None


@dataclass(frozen=True)
class Customer:
    id: str
    name: str
    kind: str  # individual | company
    country: str
    email: str | None
    currency: str = "USD"
    tax_id: str | None = None
    registration_number: str | None = None
    address: str | None = None
    date_of_birth: date | None = None
    id_document: IdDocument | None = None
    people: tuple[Person, ...] = ()
    credit_limit: Decimal = Decimal("0.00")
    since: date | None = None
    financials: dict[str, Decimal] = field(default_factory=dict)  # current_assets, current_liabilities, ...


@dataclass(frozen=True)
class Invoice:
    number: str
    customer_id: str
    amount: Decimal
    open_amount: Decimal
    currency: str
    issued_on: date
    due_on: date
    status: str  # open | paid | partially_paid | written_off
    contract_number: str | None = None
    paid_on: date | None = None


@dataclass(frozen=True)
class Payment:
    reference: str
    customer_id: str | None
    payer_name: str
    amount: Decimal
    unapplied_amount: Decimal
    currency: str
    received_on: date
    remittance_text: str
    status: str  # unapplied | applied | partially_applied


@dataclass(frozen=True)
class PostingRequest:
    """What a ledger/post step asks for. `idempotency_key` makes a retried step book once."""

    kind: str  # credit_memo | debit_memo | payment_application | write_off | credit_limit_change | installment_plan
    request_reference: str
    approval_id: str
    customer_id: str
    amount: Decimal
    currency: str
    idempotency_key: str
    invoice_number: str | None = None
    payment_reference: str | None = None
    reason_code: str | None = None
    installments: tuple[tuple[date, Decimal], ...] = ()
    invoice_numbers: tuple[str, ...] = ()


@dataclass(frozen=True)
class JournalLine:
    account: str
    debit: Decimal
    credit: Decimal


@dataclass(frozen=True)
class Posting:
    number: str  # CM-000001, DM-..., PA-..., WO-..., CL-..., IP-...
    kind: str
    request_reference: str
    approval_id: str
    customer_id: str
    amount: Decimal
    currency: str
    posted_at: datetime
    invoice_number: str | None = None
    payment_reference: str | None = None
    reason_code: str | None = None
    lines: tuple[JournalLine, ...] = ()
    installments: tuple[tuple[date, Decimal], ...] = ()


def billed_amount(invoice: Invoice, postings: list[Posting]) -> Decimal:
    """What the invoice bills now: its amount less credit memos plus debit memos on it.

    A second correction of the same invoice starts from here, never from the original amount, so a
    reopened dispute does not credit the first difference twice.
    """
    total = invoice.amount
    for posting in postings:
        if posting.invoice_number != invoice.number:
            continue
        if posting.kind == "credit_memo":
            total -= posting.amount
        elif posting.kind == "debit_memo":
            total += posting.amount
    return total


@dataclass(frozen=True)
class Reconciliation:
    open_items_total: Decimal
    control_total: Decimal

    @property
    def balanced(self) -> bool:
        return self.open_items_total == self.control_total


class FinanceGateway(Protocol):
    """Finance facts and postings. Implementations run inside the caller's transaction."""

    def customer(self, customer_id: str) -> Customer | None: ...
    def invoice(self, number: str) -> Invoice | None: ...
    def open_invoices(self, customer_id: str) -> list[Invoice]: ...
    def invoices_of(self, customer_id: str) -> list[Invoice]: ...
    def payment(self, reference: str) -> Payment | None: ...
    def payments_of(self, customer_id: str) -> list[Payment]: ...
    def post(self, request: PostingRequest, at: datetime) -> Posting:
        """Book once per idempotency key; a repeat returns the first posting unchanged."""
        ...
    def receive_payment(self, payment: Payment, at: datetime, key: str) -> Payment:
        """Book cash the bank reports (RC-<reference>: Dr 1000 cash / Cr 2050 unapplied cash). The bank's
        reference identifies the payment: the same one again returns the payment on file and books
        nothing; another amount, currency or customer under that reference is refused (payment_conflict).
        `key` is the booking step's idempotency key, for an adapter whose ledger wants one."""
        ...
    def postings_for(self, request_reference: str) -> list[Posting]: ...
    def postings_on(self, invoice_number: str) -> list[Posting]:
        """Every posting that names this invoice, oldest first."""
        ...
    def reconcile(self) -> Reconciliation: ...
