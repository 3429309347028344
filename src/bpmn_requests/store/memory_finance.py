"""The FinanceGateway in plain dicts, for unit tests and the in-memory bare-engine benchmark.

Same facts, same posting rules (domain/ledger.py) and same answers as the SQL subledger; only the
storage differs. Not thread-safe: one instance serves one test or one benchmark run.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from decimal import Decimal

from ..domain import ledger
from ..domain.finance import Customer, Invoice, JournalLine, Payment, Posting, PostingRequest, Reconciliation
from ..domain.money import CENT
from .demo_data import Contact, Contract, FinanceFacts


class MemoryFinanceGateway:
    """An accounts-receivable subledger held in dicts."""

    def __init__(self, facts: FinanceFacts | None = None) -> None:
        self._customers: dict[str, Customer] = {}
        self._invoices: dict[str, Invoice] = {}
        self._payments: dict[str, Payment] = {}
        self.contracts: list[Contract] = []
        self.contacts: list[Contact] = []
        self._postings: dict[str, Posting] = {}  # by number, in booking order
        self._by_key: dict[str, str] = {}  # idempotency key -> posting number
        self._journal: list[tuple[str, JournalLine]] = []
        self._limit_changes: list[ledger.CreditLimitChange] = []
        self._counters: dict[str, int] = {}
        if facts is not None:
            self.load(facts)

    def load(self, facts: FinanceFacts) -> None:
        """Add seed facts and book their opening entries (what load_finance_facts does in SQL)."""
        self._customers.update((c.id, _customer_in_cents(c)) for c in facts.customers)
        self._invoices.update((i.number, _invoice_in_cents(i)) for i in facts.invoices)
        self._payments.update((p.reference, _payment_in_cents(p)) for p in facts.payments)
        self.contracts.extend(facts.contracts)
        self.contacts.extend(facts.contacts)
        for number, lines in ledger.opening_entries(facts.invoices, facts.payments):
            self._journal.extend((number, line) for line in lines)

    def customer(self, customer_id: str) -> Customer | None:
        return self._customers.get(customer_id)

    def invoice(self, number: str) -> Invoice | None:
        return self._invoices.get(number)

    def open_invoices(self, customer_id: str) -> list[Invoice]:
        found = [i for i in self._invoices.values() if i.customer_id == customer_id and i.open_amount > 0]
        return sorted(found, key=lambda i: (i.due_on, i.number))

    def invoices_of(self, customer_id: str) -> list[Invoice]:
        found = [i for i in self._invoices.values() if i.customer_id == customer_id]
        return sorted(found, key=lambda i: (i.issued_on, i.number))

    def payment(self, reference: str) -> Payment | None:
        return self._payments.get(reference)

    def payments_of(self, customer_id: str) -> list[Payment]:
        found = [p for p in self._payments.values() if p.customer_id == customer_id]
        return sorted(found, key=lambda p: (p.received_on, p.reference))

    def post(self, request: PostingRequest, at: datetime) -> Posting:
        """Book once per idempotency key; a repeat returns the first posting unchanged."""
        at = ledger.utc(at)
        if request.idempotency_key in self._by_key:
            return self._postings[self._by_key[request.idempotency_key]]
        ledger.check_request(request)
        effect = ledger.plan_posting(request, self._targets(request), at.date())
        kind = request.kind
        self._counters[kind] = self._counters.get(kind, 0) + 1
        posting = ledger.make_posting(ledger.posting_number(kind, self._counters[kind]), request, at, effect)
        self._write(posting, request, effect)
        return posting

    def receive_payment(self, payment: Payment, at: datetime, key: str) -> Payment:
        """Book cash the bank reports once per reference; a repeat returns the payment on file."""
        customer = self._customers.get(payment.customer_id) if payment.customer_id else None
        received, book = ledger.plan_receipt(payment, self._payments.get(payment.reference), customer,
                                             ledger.utc(at).date(), key)
        if book:
            self._payments[received.reference] = received
            number, lines = ledger.receipt_entry(received)
            self._journal.extend((number, line) for line in lines)
        return received

    def postings_for(self, request_reference: str) -> list[Posting]:
        return [p for p in self._postings.values() if p.request_reference == request_reference]

    def postings_on(self, invoice_number: str) -> list[Posting]:
        return [p for p in self._postings.values() if p.invoice_number == invoice_number]

    def reconcile(self) -> Reconciliation:
        open_total = sum((i.open_amount for i in self._invoices.values()), Decimal("0.00"))
        return Reconciliation(open_items_total=open_total, control_total=self.account_balance(ledger.RECEIVABLES))

    def account_balance(self, account: str) -> Decimal:
        """Debits minus credits booked on `account`."""
        return sum((line.debit - line.credit for _, line in self._journal if line.account == account),
                   Decimal("0.00"))

    def journal_entry(self, number: str) -> tuple[JournalLine, ...]:
        """The lines booked under a posting number or an opening entry (OB-, OS-, RC-)."""
        return tuple(line for entry, line in self._journal if entry == number)

    def credit_limit_changes(self, customer_id: str) -> list[ledger.CreditLimitChange]:
        return [change for change in self._limit_changes if change.customer_id == customer_id]

    def _targets(self, request: PostingRequest) -> ledger.PostingTargets:
        invoice = (self._invoices.get(request.invoice_number)
                   if request.invoice_number and request.kind in ledger.INVOICE_KINDS else None)
        payment = (self._payments.get(request.payment_reference)
                   if request.payment_reference and request.kind == "payment_application" else None)
        plan_invoices = (tuple(self._invoices.get(n) for n in request.invoice_numbers)
                         if request.kind == "installment_plan" else ())
        return ledger.PostingTargets(self._customers.get(request.customer_id), invoice, payment, plan_invoices)

    def _write(self, posting: Posting, request: PostingRequest, effect: ledger.PostingEffect) -> None:
        self._postings[posting.number] = posting
        self._by_key[request.idempotency_key] = posting.number
        self._journal.extend((posting.number, line) for line in posting.lines)
        if effect.invoice is not None:
            self._invoices[effect.invoice.number] = effect.invoice
        if effect.payment is not None:
            self._payments[effect.payment.reference] = effect.payment
        if effect.credit_limit is not None:
            old, new = effect.credit_limit
            customer = self._customers[posting.customer_id]
            self._customers[customer.id] = replace(customer, credit_limit=new)
            self._limit_changes.append(ledger.CreditLimitChange(customer.id, old, new, posting.number))


# Seeded amounts are kept in cents, as the database's NUMERIC(18, 2) columns would return them.
def _customer_in_cents(customer: Customer) -> Customer:
    people = tuple(replace(p, ownership=p.ownership.quantize(CENT)) if p.ownership is not None else p
                   for p in customer.people)
    return replace(customer, credit_limit=customer.credit_limit.quantize(CENT), people=people,
                   financials=dict(customer.financials))


def _invoice_in_cents(invoice: Invoice) -> Invoice:
    return replace(invoice, amount=invoice.amount.quantize(CENT), open_amount=invoice.open_amount.quantize(CENT))


def _payment_in_cents(payment: Payment) -> Payment:
    return replace(payment, amount=payment.amount.quantize(CENT),
                   unapplied_amount=payment.unapplied_amount.quantize(CENT))

