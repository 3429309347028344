"""Accounts-receivable posting rules shared by every FinanceGateway adapter (stdlib only).

What a posting does to its invoice, payment or customer, the journal lines it books, the schedule of an
installment plan, posting numbers, the opening entries that make seeded facts reconcile, and the receipt
of cash the bank reports. The SQL and the in-memory adapters both call these functions, so the two cannot
drift apart.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from decimal import ROUND_DOWN, Decimal

from .errors import ServiceTaskError
from .finance import Customer, Invoice, JournalLine, Payment, Posting, PostingRequest
from .money import CENT

CASH = "1000"
RECEIVABLES = "1200"  # the AR control account: its balance equals the sum of open items
UNAPPLIED_CASH = "2050"
REVENUE = "4000"
SALES_ADJUSTMENTS = "4100"
BAD_DEBT = "6100"
ACCOUNTS = {CASH: "Cash", RECEIVABLES: "Accounts receivable", UNAPPLIED_CASH: "Unapplied cash",
            REVENUE: "Revenue", SALES_ADJUSTMENTS: "Sales adjustments", BAD_DEBT: "Bad debt expense"}

NUMBER_PREFIXES = {"credit_memo": "CM", "debit_memo": "DM", "payment_application": "PA",
                   "write_off": "WO", "credit_limit_change": "CL", "installment_plan": "IP"}
POSTING_KINDS = tuple(NUMBER_PREFIXES)
INVOICE_KINDS = frozenset({"credit_memo", "debit_memo", "payment_application", "write_off"})

# (debit account, credit account) of the single money movement each kind books; the others book none.
MOVEMENTS = {
    "credit_memo": (SALES_ADJUSTMENTS, RECEIVABLES),
    "debit_memo": (RECEIVABLES, REVENUE),
    "payment_application": (UNAPPLIED_CASH, RECEIVABLES),
    "write_off": (BAD_DEBT, RECEIVABLES),
}
MAX_INSTALLMENTS = 120


def refusal(message: str, error_code: str, field: str | None = None) -> ServiceTaskError:
    """A business refusal a BPMN error boundary event can catch by `error_code`."""
    return ServiceTaskError(message, error_code=error_code, field=field)


def posting_number(kind: str, value: int) -> str:
    """CM-000001, DM-000001, ...: one gap-free sequence per kind."""
    return f"{NUMBER_PREFIXES[kind]}-{value:06d}"


def counter_name(kind: str) -> str:
    """The name of the counter that numbers postings of `kind`."""
    return f"posting_{NUMBER_PREFIXES[kind]}"


def journal_lines(kind: str, amount: Decimal) -> tuple[JournalLine, ...]:
    """The balanced double entry a posting of `kind` books; none for changes that move no money."""
    if kind not in MOVEMENTS:
        return ()
    return _pair(*MOVEMENTS[kind], amount)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (Jan 31 + 1 -> Feb 28 or 29)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def installment_schedule(amount: Decimal, count: int, first_due: date) -> tuple[tuple[date, Decimal], ...]:
    """Monthly installments from `first_due`: equal cents, the remainder on the last, summing exactly."""
    if not 1 <= count <= MAX_INSTALLMENTS:
        raise refusal(f"an installment plan has 1 to {MAX_INSTALLMENTS} installments, not {count}",
                      "invalid_installments", "installments")
    amount = _cents(amount, "amount")
    share = (amount / count).quantize(CENT, rounding=ROUND_DOWN)
    if share <= 0:
        raise refusal(f"{amount} cannot be split into {count} installments of at least 0.01",
                      "invalid_installments", "installments")
    last = amount - share * (count - 1)
    return tuple((add_months(first_due, i), share if i < count - 1 else last) for i in range(count))


@dataclass(frozen=True)
class PostingTargets:
    """What a posting acts on, as the adapter found (and locked) it; None when it does not exist."""

    customer: Customer | None
    invoice: Invoice | None = None
    payment: Payment | None = None
    plan_invoices: tuple[Invoice | None, ...] = ()  # one per request.invoice_numbers


@dataclass(frozen=True)
class PostingEffect:
    """Everything a posting changes; the adapter writes exactly this and nothing else."""

    lines: tuple[JournalLine, ...]
    invoice: Invoice | None = None  # the invoice after the posting
    payment: Payment | None = None  # the payment after the posting
    credit_limit: tuple[Decimal, Decimal] | None = None  # (old, new)
    installments: tuple[tuple[date, Decimal], ...] = ()


@dataclass(frozen=True)
class CreditLimitChange:
    customer_id: str
    old_limit: Decimal
    new_limit: Decimal
    posting_number: str


def check_request(request: PostingRequest) -> None:
    """Refuse a malformed request before anything is looked up or locked."""
    if request.kind not in NUMBER_PREFIXES:
        raise refusal(f"unknown posting kind {request.kind!r}; expected one of {', '.join(POSTING_KINDS)}",
                      "invalid_posting_kind", "kind")
    _cents(request.amount, "amount")
    if not request.idempotency_key:
        raise refusal("a posting needs an idempotency key", "missing_input", "idempotency_key")
    if request.kind in INVOICE_KINDS and not request.invoice_number:
        raise refusal(f"a {request.kind} needs an invoice number", "missing_input", "invoice_number")
    if request.kind == "payment_application" and not request.payment_reference:
        raise refusal("a payment application needs a payment reference", "missing_input", "payment_reference")
    if request.kind == "installment_plan" and not request.installments:
        raise refusal("an installment plan needs its installments", "missing_input", "installments")


def plan_posting(request: PostingRequest, targets: PostingTargets, on: date) -> PostingEffect:
    """Validate `request` against what it acts on and compute its effect; raises before any change."""
    check_request(request)
    customer = _require_customer(request, targets.customer)
    return _PLANNERS[request.kind](request, targets, customer, on)


def utc(at: datetime) -> datetime:
    """A posting's time in UTC; a naive time is refused, since its day (paid_on) would be a guess."""
    if at.tzinfo is None:
        raise ValueError("a posting needs a timezone-aware time")
    return at.astimezone(UTC)


def make_posting(number: str, request: PostingRequest, at: datetime, effect: PostingEffect) -> Posting:
    """The posting record for a request and its computed effect."""
    return Posting(
        number=number, kind=request.kind, request_reference=request.request_reference,
        approval_id=request.approval_id, customer_id=request.customer_id,
        amount=request.amount.quantize(CENT), currency=request.currency, posted_at=utc(at),
        invoice_number=request.invoice_number, payment_reference=request.payment_reference,
        reason_code=request.reason_code, lines=effect.lines, installments=effect.installments)


def _cents(amount: Decimal, field: str) -> Decimal:
    if not isinstance(amount, Decimal) or not amount.is_finite() or amount <= 0:
        raise refusal(f"{field} must be a positive decimal amount, got {amount!r}", "invalid_amount", field)
    if amount != amount.quantize(CENT):
        raise refusal(f"{field} has more than two decimals: {amount}", "invalid_amount", field)
    return amount.quantize(CENT)


def _require_customer(request: PostingRequest, customer: Customer | None) -> Customer:
    if customer is None:
        raise refusal(f"customer {request.customer_id} does not exist", "customer_not_found", "customer_id")
    _same_currency(request, customer.currency, f"customer {customer.id}")
    return customer


def _require_invoice(request: PostingRequest, invoice: Invoice | None, number: str | None,
                     field: str = "invoice_number") -> Invoice:
    if invoice is None:
        raise refusal(f"invoice {number} does not exist", "invoice_not_found", field)
    if invoice.customer_id != request.customer_id:
        raise refusal(f"invoice {invoice.number} belongs to customer {invoice.customer_id}, "
                      f"not {request.customer_id}", "invoice_not_of_customer", field)
    _same_currency(request, invoice.currency, f"invoice {invoice.number}")
    return invoice


def _same_currency(request: PostingRequest, currency: str, what: str) -> None:
    if request.currency != currency:
        raise refusal(f"{what} is in {currency}; the posting is in {request.currency}",
                      "currency_mismatch", "currency")


def _reduce_open(invoice: Invoice, amount: Decimal, kind: str) -> Decimal:
    remaining = invoice.open_amount - amount
    if remaining < 0:
        raise refusal(f"{kind} of {amount} exceeds the open balance {invoice.open_amount} of invoice "
                      f"{invoice.number}", "amount_exceeds_open_balance", "amount")
    return remaining


def _settled(invoice: Invoice, remaining: Decimal, status: str, on: date) -> Invoice:
    """The invoice with its new open amount; `status` applies only once nothing is left open."""
    if remaining == 0:
        return replace(invoice, open_amount=remaining, status=status, paid_on=invoice.paid_on or on)
    return replace(invoice, open_amount=remaining)


def _credit_memo(request: PostingRequest, targets: PostingTargets, customer: Customer, on: date) -> PostingEffect:
    invoice = _require_invoice(request, targets.invoice, request.invoice_number)
    remaining = _reduce_open(invoice, request.amount, request.kind)
    # The status list has no "credited": an invoice settled by a credit memo counts as paid.
    return PostingEffect(journal_lines(request.kind, request.amount), _settled(invoice, remaining, "paid", on))


def _debit_memo(request: PostingRequest, targets: PostingTargets, customer: Customer, on: date) -> PostingEffect:
    invoice = _require_invoice(request, targets.invoice, request.invoice_number)
    if invoice.status == "written_off":
        raise refusal(f"invoice {invoice.number} is written off; bill the customer on a new invoice",
                      "invoice_written_off", "invoice_number")
    # A settled invoice that is charged again is open once more, with part of it already paid.
    status = "partially_paid" if invoice.status == "paid" else invoice.status
    changed = replace(invoice, open_amount=invoice.open_amount + request.amount, status=status, paid_on=None)
    return PostingEffect(journal_lines(request.kind, request.amount), changed)


def _payment_application(request: PostingRequest, targets: PostingTargets, customer: Customer,
                         on: date) -> PostingEffect:
    invoice = _require_invoice(request, targets.invoice, request.invoice_number)
    payment = _require_payment(request, targets.payment)
    unapplied = payment.unapplied_amount - request.amount
    if unapplied < 0:
        raise refusal(f"applying {request.amount} exceeds the unapplied {payment.unapplied_amount} of payment "
                      f"{payment.reference}", "amount_exceeds_unapplied_cash", "amount")
    remaining = _reduce_open(invoice, request.amount, request.kind)
    changed_invoice = _settled(invoice, remaining, "paid", on)
    if remaining:
        changed_invoice = replace(changed_invoice, status="partially_paid")
    # Applying unidentified cash identifies its customer.
    changed_payment = replace(payment, unapplied_amount=unapplied, customer_id=request.customer_id,
                              status="applied" if unapplied == 0 else "partially_applied")
    return PostingEffect(journal_lines(request.kind, request.amount), changed_invoice, changed_payment)


def _require_payment(request: PostingRequest, payment: Payment | None) -> Payment:
    if payment is None:
        raise refusal(f"payment {request.payment_reference} does not exist", "payment_not_found",
                      "payment_reference")
    if payment.customer_id not in (None, request.customer_id):
        raise refusal(f"payment {payment.reference} belongs to customer {payment.customer_id}, "
                      f"not {request.customer_id}", "payment_not_of_customer", "payment_reference")
    _same_currency(request, payment.currency, f"payment {payment.reference}")
    return payment


def _write_off(request: PostingRequest, targets: PostingTargets, customer: Customer, on: date) -> PostingEffect:
    invoice = _require_invoice(request, targets.invoice, request.invoice_number)
    remaining = _reduce_open(invoice, request.amount, request.kind)
    return PostingEffect(journal_lines(request.kind, request.amount),
                         _settled(invoice, remaining, "written_off", on))


def _credit_limit_change(request: PostingRequest, targets: PostingTargets, customer: Customer,
                         on: date) -> PostingEffect:
    return PostingEffect((), credit_limit=(customer.credit_limit, request.amount.quantize(CENT)))


def _installment_plan(request: PostingRequest, targets: PostingTargets, customer: Customer,
                      on: date) -> PostingEffect:
    schedule = request.installments
    if any(amount <= 0 or amount != amount.quantize(CENT) for _, amount in schedule):
        raise refusal("every installment must be a positive amount in cents", "invalid_installments",
                      "installments")
    if any(later <= earlier for (earlier, _), (later, _) in zip(schedule, schedule[1:], strict=False)):
        raise refusal("installment due dates must be strictly ascending", "invalid_installments", "installments")
    total = sum((amount for _, amount in schedule), Decimal("0.00"))
    if total != request.amount:
        raise refusal(f"the installments sum to {total}, not the plan amount {request.amount}",
                      "installments_mismatch", "installments")
    if request.invoice_numbers:
        found = targets.plan_invoices or (None,) * len(request.invoice_numbers)
        invoices = [_require_invoice(request, invoice, number, "invoice_numbers")
                    for number, invoice in zip(request.invoice_numbers, found, strict=True)]
        open_total = sum((i.open_amount for i in invoices), Decimal("0.00"))
        if request.amount > open_total:
            raise refusal(f"the plan amount {request.amount} exceeds the open total {open_total} of "
                          f"{', '.join(request.invoice_numbers)}", "amount_exceeds_open_balance", "amount")
    return PostingEffect((), installments=tuple((d, a.quantize(CENT)) for d, a in schedule))


def opening_entries(invoices: Iterable[Invoice], payments: Iterable[Payment]
                    ) -> list[tuple[str, tuple[JournalLine, ...]]]:
    """The entries that bring seeded facts into the journal, so the subledger reconciles from the start.

    An invoice is billed at its amount (Dr 1200 / Cr 4000, entry OB-<number>); what it no longer owes was
    settled before the seed (OS-<number>: Dr 2050 / Cr 1200, or Dr 6100 when written off; an open amount
    above the amount is an earlier debit memo). Each payment was received (RC-<reference>: Dr 1000 / Cr 2050).
    """
    entries: list[tuple[str, tuple[JournalLine, ...]]] = []
    for invoice in invoices:
        entries.append((f"OB-{invoice.number}", _pair(RECEIVABLES, REVENUE, invoice.amount)))
        settled = invoice.amount - invoice.open_amount
        if settled > 0:
            settled_from = BAD_DEBT if invoice.status == "written_off" else UNAPPLIED_CASH
            entries.append((f"OS-{invoice.number}", _pair(settled_from, RECEIVABLES, settled)))
        elif settled < 0:
            entries.append((f"OS-{invoice.number}", _pair(RECEIVABLES, REVENUE, -settled)))
    entries.extend(receipt_entry(p) for p in payments)
    return entries


def receipt_entry(payment: Payment) -> tuple[str, tuple[JournalLine, ...]]:
    """Cash the bank received: RC-<reference>, Dr 1000 cash / Cr 2050 unapplied cash (until applied)."""
    return f"RC-{payment.reference}", _pair(CASH, UNAPPLIED_CASH, payment.amount)


def plan_receipt(payment: Payment, existing: Payment | None, customer: Customer | None, on: date,
                 key: str) -> tuple[Payment, bool]:
    """The payment on file once the bank reported `payment`, and whether to book it now: a repeated report
    returns `existing` and books nothing. Refuses a malformed receipt, or one contradicting the one on file."""
    if not key:
        raise refusal("receiving a payment needs an idempotency key", "missing_input", "idempotency_key")
    amount = _cents(payment.amount, "amount")
    _check_receipt_texts(payment)
    if payment.unapplied_amount != payment.amount or payment.status != "unapplied":
        raise refusal("a received payment is unapplied in full", "invalid_input", "unapplied_amount")
    if len(payment.currency) != 3 or not payment.currency.isalpha() or not payment.currency.isupper():
        raise refusal(f"currency must be a three-letter code, got {payment.currency!r}", "invalid_input", "currency")
    if payment.received_on > on:
        raise refusal(f"a payment cannot be received after today ({payment.received_on})", "invalid_input",
                      "received_on")
    if payment.customer_id is not None and customer is None:
        raise refusal(f"customer {payment.customer_id} does not exist", "customer_not_found", "customer_id")
    if existing is None:
        return replace(payment, amount=amount, unapplied_amount=amount), True
    # Unidentified cash on file is no contradiction: payment/match identifies it later.
    customers = {existing.customer_id, payment.customer_id} - {None}
    if existing.amount != amount or existing.currency != payment.currency or len(customers) > 1:
        raise refusal(f"payment {payment.reference} is on file as {existing.amount} {existing.currency} of "
                      f"{existing.customer_id or 'an unidentified payer'}; the bank now reports {amount} "
                      f"{payment.currency} of {payment.customer_id or 'an unidentified payer'}",
                      "payment_conflict", "payment_reference")
    return existing, False


def _check_receipt_texts(payment: Payment) -> None:
    """The lengths the payments table holds; a reference cannot be blank."""
    if not payment.reference.strip() or len(payment.reference) > 40:
        raise refusal("payment_reference must be 1 to 40 characters", "invalid_input", "payment_reference")
    for field, text, longest in (("payer_name", payment.payer_name, 200),
                                 ("remittance_text", payment.remittance_text, 500)):
        if len(text) > longest:
            raise refusal(f"{field} is longer than {longest} characters", "invalid_input", field)


def _pair(debit_account: str, credit_account: str, amount: Decimal) -> tuple[JournalLine, ...]:
    zero = Decimal("0.00")
    amount = amount.quantize(CENT)
    return (JournalLine(debit_account, amount, zero), JournalLine(credit_account, zero, amount))


_Planner = Callable[[PostingRequest, PostingTargets, Customer, date], PostingEffect]
_PLANNERS: dict[str, _Planner] = {
    "credit_memo": _credit_memo,
    "debit_memo": _debit_memo,
    "payment_application": _payment_application,
    "write_off": _write_off,
    "credit_limit_change": _credit_limit_change,
    "installment_plan": _installment_plan,
}
