"""The default FinanceGateway: an accounts-receivable subledger in the application database.

It runs inside the caller's session and never commits: the use case's unit of work commits the posting
together with the process state that asked for it. The posting rules live in domain/ledger.py.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Row, Table, cast, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain import ledger
from ..domain.finance import (
    Customer,
    IdDocument,
    Invoice,
    JournalLine,
    Payment,
    Person,
    Posting,
    PostingRequest,
    Reconciliation,
)
from .counters import next_value
from .demo_data import FinanceFacts
from .finance_tables import (
    contacts,
    contracts,
    credit_limit_changes,
    customer_people,
    customers,
    installments,
    invoices,
    journal_lines,
    payments,
    postings,
)

_CUSTOMER_LOCK_KINDS = frozenset({"credit_limit_change", "installment_plan"})


class SqlFinanceGateway:
    """FinanceGateway on the `ar_*` tables of the caller's session."""

    def __init__(self, session: Session) -> None:
        self._session = session
        # Customers read in this transaction: one engine run asks for the same customer in several service
        # tasks. Locked reads refresh an entry; a credit-limit change drops it.
        self._customers: dict[str, Customer] = {}

    def customer(self, customer_id: str) -> Customer | None:
        cached = self._customers.get(customer_id)
        return cached if cached is not None else self._customer(customer_id, lock=False)

    def invoice(self, number: str) -> Invoice | None:
        return self._invoice(number, lock=False)

    def open_invoices(self, customer_id: str) -> list[Invoice]:
        query = (select(invoices).where(invoices.c.customer_id == customer_id, invoices.c.open_amount > 0)
                 .order_by(invoices.c.due_on, invoices.c.number))
        return [_invoice_from(row) for row in self._session.execute(query)]

    def invoices_of(self, customer_id: str) -> list[Invoice]:
        query = (select(invoices).where(invoices.c.customer_id == customer_id)
                 .order_by(invoices.c.issued_on, invoices.c.number))
        return [_invoice_from(row) for row in self._session.execute(query)]

    def payment(self, reference: str) -> Payment | None:
        return self._payment(reference, lock=False)

    def payments_of(self, customer_id: str) -> list[Payment]:
        query = (select(payments).where(payments.c.customer_id == customer_id)
                 .order_by(payments.c.received_on, payments.c.reference))
        return [_payment_from(row) for row in self._session.execute(query)]

    def post(self, request: PostingRequest, at: datetime) -> Posting:
        """Book once per idempotency key, in the caller's transaction; a repeat returns the first posting."""
        at = ledger.utc(at)
        existing = self._posting_by_key(request.idempotency_key)
        if existing is not None:
            return existing
        ledger.check_request(request)
        targets = self._lock_targets(request)
        # A concurrent transaction may have booked this key while we waited for the row locks; on
        # PostgreSQL (read committed) this new statement sees its commit.
        existing = self._posting_by_key(request.idempotency_key)
        if existing is not None:
            return existing
        effect = ledger.plan_posting(request, targets, at.date())
        value = next_value(self._session, ledger.counter_name(request.kind))
        posting = ledger.make_posting(ledger.posting_number(request.kind, value), request, at, effect)
        self._write(posting, request, effect)
        return posting

    def receive_payment(self, payment: Payment, at: datetime, key: str) -> Payment:
        """Book cash the bank reports once per reference, in the caller's transaction."""
        on = ledger.utc(at).date()
        customer = self.customer(payment.customer_id) if payment.customer_id else None
        existing = self._payment(payment.reference, lock=True)
        received, book = ledger.plan_receipt(payment, existing, customer, on, key)
        if not book:
            return received
        try:  # in a savepoint: losing the race below leaves the caller's transaction usable
            with self._session.begin_nested():
                self._session.execute(insert(payments).values(**vars(received)))
                number, lines = ledger.receipt_entry(received)
                _insert(self._session, journal_lines, _line_rows(number, lines))
        except IntegrityError:
            # A concurrent transaction received the same reference and committed first; on PostgreSQL
            # (read committed) this new statement sees its row, which we judge like any repeat.
            existing = self._payment(payment.reference, lock=True)
            if existing is None:
                raise
            received, _ = ledger.plan_receipt(payment, existing, customer, on, key)
        return received

    def postings_for(self, request_reference: str) -> list[Posting]:
        query = select(postings).where(postings.c.request_reference == request_reference).order_by(postings.c.id)
        return [self._posting_from(row) for row in self._session.execute(query)]

    def postings_on(self, invoice_number: str) -> list[Posting]:
        query = select(postings).where(postings.c.invoice_number == invoice_number).order_by(postings.c.id)
        return [self._posting_from(row) for row in self._session.execute(query)]

    def reconcile(self) -> Reconciliation:
        return Reconciliation(open_items_total=_sum_cents(self._session, invoices.c.open_amount),
                              control_total=self.account_balance(ledger.RECEIVABLES))

    def account_balance(self, account: str) -> Decimal:
        """Debits minus credits booked on `account`."""
        where = journal_lines.c.account == account
        return (_sum_cents(self._session, journal_lines.c.debit, where)
                - _sum_cents(self._session, journal_lines.c.credit, where))

    def journal_entry(self, number: str) -> tuple[JournalLine, ...]:
        """The lines booked under a posting number or an opening entry (OB-, OS-, RC-)."""
        query = select(journal_lines).where(journal_lines.c.posting_number == number).order_by(journal_lines.c.id)
        return tuple(JournalLine(r.account, r.debit, r.credit) for r in self._session.execute(query))

    def credit_limit_changes(self, customer_id: str) -> list[ledger.CreditLimitChange]:
        query = (select(credit_limit_changes).where(credit_limit_changes.c.customer_id == customer_id)
                 .order_by(credit_limit_changes.c.id))
        return [ledger.CreditLimitChange(r.customer_id, r.old_limit, r.new_limit, r.posting_number)
                for r in self._session.execute(query)]

    def _customer(self, customer_id: str, *, lock: bool) -> Customer | None:
        query = select(customers).where(customers.c.id == customer_id)
        row = self._session.execute(query.with_for_update() if lock else query).first()
        if row is None:
            return None
        people = self._session.execute(
            select(customer_people).where(customer_people.c.customer_id == customer_id)
            .order_by(customer_people.c.id))
        customer = _customer_from(row, tuple(Person(p.name, p.date_of_birth, p.country, p.ownership, p.role)
                                             for p in people))
        self._customers[customer_id] = customer
        return customer

    def _invoice(self, number: str, *, lock: bool) -> Invoice | None:
        query = select(invoices).where(invoices.c.number == number)
        row = self._session.execute(query.with_for_update() if lock else query).first()
        return _invoice_from(row) if row is not None else None

    def _payment(self, reference: str, *, lock: bool) -> Payment | None:
        query = select(payments).where(payments.c.reference == reference)
        row = self._session.execute(query.with_for_update() if lock else query).first()
        return _payment_from(row) if row is not None else None

    def _lock_targets(self, request: PostingRequest) -> ledger.PostingTargets:
        """Load what the posting acts on, locking the rows it changes (always invoice before payment)."""
        customer = self._customer(request.customer_id, lock=request.kind in _CUSTOMER_LOCK_KINDS)
        invoice = (self._invoice(request.invoice_number, lock=True)
                   if request.invoice_number and request.kind in ledger.INVOICE_KINDS else None)
        payment = (self._payment(request.payment_reference, lock=True)
                   if request.payment_reference and request.kind == "payment_application" else None)
        plan_invoices = (tuple(self._invoice(n, lock=False) for n in request.invoice_numbers)
                         if request.kind == "installment_plan" else ())
        return ledger.PostingTargets(customer, invoice, payment, plan_invoices)

    def _posting_by_key(self, key: str) -> Posting | None:
        row = self._session.execute(select(postings).where(postings.c.idempotency_key == key)).first()
        return self._posting_from(row) if row is not None else None

    def _posting_from(self, row: Row[Any]) -> Posting:
        plan = self._session.execute(select(installments.c.due_on, installments.c.amount)
                                     .where(installments.c.posting_number == row.number)
                                     .order_by(installments.c.seq))
        return Posting(
            number=row.number, kind=row.kind, request_reference=row.request_reference,
            approval_id=row.approval_id, customer_id=row.customer_id, amount=row.amount,
            currency=row.currency, posted_at=row.posted_at, invoice_number=row.invoice_number,
            payment_reference=row.payment_reference, reason_code=row.reason_code,
            lines=self.journal_entry(row.number), installments=tuple((d, a) for d, a in plan))

    def _write(self, posting: Posting, request: PostingRequest, effect: ledger.PostingEffect) -> None:
        session = self._session
        session.execute(insert(postings).values(
            number=posting.number, kind=posting.kind, request_reference=posting.request_reference,
            approval_id=posting.approval_id, customer_id=posting.customer_id, amount=posting.amount,
            currency=posting.currency, invoice_number=posting.invoice_number,
            payment_reference=posting.payment_reference, reason_code=posting.reason_code,
            idempotency_key=request.idempotency_key, posted_at=posting.posted_at,
            details={"invoice_numbers": list(request.invoice_numbers)}))
        _insert(session, journal_lines, _line_rows(posting.number, posting.lines))
        _insert(session, installments, [
            {"posting_number": posting.number, "seq": seq, "due_on": due_on, "amount": amount,
             "status": "scheduled"} for seq, (due_on, amount) in enumerate(posting.installments, start=1)])
        if effect.invoice is not None:
            session.execute(update(invoices).where(invoices.c.number == effect.invoice.number).values(
                open_amount=effect.invoice.open_amount, status=effect.invoice.status,
                paid_on=effect.invoice.paid_on))
        if effect.payment is not None:
            session.execute(update(payments).where(payments.c.reference == effect.payment.reference).values(
                unapplied_amount=effect.payment.unapplied_amount, status=effect.payment.status,
                customer_id=effect.payment.customer_id))
        if effect.credit_limit is not None:
            old, new = effect.credit_limit
            session.execute(update(customers).where(customers.c.id == posting.customer_id).values(credit_limit=new))
            self._customers.pop(posting.customer_id, None)
            session.execute(insert(credit_limit_changes).values(
                customer_id=posting.customer_id, old_limit=old, new_limit=new, posting_number=posting.number))


def load_finance_facts(session: Session, facts: FinanceFacts) -> None:
    """Insert seed facts and book their opening entries, so the subledger reconciles; never commits."""
    _insert(session, customers, [_customer_row(c) for c in facts.customers])
    _insert(session, customer_people, [
        {"customer_id": c.id, "name": p.name, "role": p.role, "ownership": p.ownership,
         "date_of_birth": p.date_of_birth, "country": p.country} for c in facts.customers for p in c.people])
    _insert(session, contacts, [vars(contact) for contact in facts.contacts])
    _insert(session, contracts, [vars(contract) for contract in facts.contracts])
    _insert(session, invoices, [vars(invoice) for invoice in facts.invoices])
    _insert(session, payments, [vars(payment) for payment in facts.payments])
    _insert(session, journal_lines, [row for number, lines in ledger.opening_entries(facts.invoices, facts.payments)
                                     for row in _line_rows(number, lines)])


def has_finance_data(session: Session) -> bool:
    """Whether any customer is stored, so seeding the demo can run once."""
    return session.execute(select(customers.c.id).limit(1)).first() is not None


def _insert(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(table), list(rows))


def _line_rows(number: str, lines: Iterable[JournalLine]) -> list[dict[str, Any]]:
    return [{"posting_number": number, "account": line.account, "debit": line.debit, "credit": line.credit}
            for line in lines]


def _sum_cents(session: Session, column: ColumnElement[Decimal], *where: ColumnElement[bool]) -> Decimal:
    """An exact sum of a money column: SQLite keeps NUMERIC as floating point, so add whole cents."""
    cents = func.coalesce(func.sum(cast(func.round(column * 100), BigInteger)), 0)
    total = session.execute(select(cents).where(*where)).scalar_one()
    return (Decimal(int(total)) / 100).quantize(Decimal("0.01"))


def _customer_row(customer: Customer) -> dict[str, Any]:
    document = customer.id_document
    row = {name: getattr(customer, name) for name in (
        "id", "name", "kind", "country", "email", "currency", "tax_id", "registration_number", "address",
        "date_of_birth", "credit_limit", "since")}
    row.update(id_document_kind=document.kind if document else None,
               id_document_number=document.number if document else None,
               id_document_expires_on=document.expires_on if document else None,
               financials={name: str(value) for name, value in customer.financials.items()})
    return row


def _customer_from(row: Row[Any], people: tuple[Person, ...]) -> Customer:
    document = (IdDocument(row.id_document_kind, row.id_document_number, row.id_document_expires_on)
                if row.id_document_kind else None)
    return Customer(
        id=row.id, name=row.name, kind=row.kind, country=row.country, email=row.email, currency=row.currency,
        tax_id=row.tax_id, registration_number=row.registration_number, address=row.address,
        date_of_birth=row.date_of_birth, id_document=document, people=people, credit_limit=row.credit_limit,
        since=row.since, financials={name: Decimal(value) for name, value in row.financials.items()})


def _invoice_from(row: Row[Any]) -> Invoice:
    return Invoice(number=row.number, customer_id=row.customer_id, amount=row.amount,
                   open_amount=row.open_amount, currency=row.currency, issued_on=row.issued_on,
                   due_on=row.due_on, status=row.status, contract_number=row.contract_number,
                   paid_on=row.paid_on)


def _payment_from(row: Row[Any]) -> Payment:
    return Payment(reference=row.reference, customer_id=row.customer_id, payer_name=row.payer_name,
                   amount=row.amount, unapplied_amount=row.unapplied_amount, currency=row.currency,
                   received_on=row.received_on, remittance_text=row.remittance_text, status=row.status)
