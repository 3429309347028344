"""The posting rules in domain/ledger.py, without any adapter."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from bpmn_requests.domain import ledger
from bpmn_requests.domain.errors import ServiceTaskError
from bpmn_requests.domain.finance import Customer, Invoice, JournalLine, Payment, PostingRequest

D = Decimal


def _customer(limit: str = "1000.00") -> Customer:
    return Customer("C-1", "Acme Inc.", "company", "US", "ap@acme.example", credit_limit=D(limit))


def _invoice(open_amount: str = "500.00", status: str = "open", customer_id: str = "C-1") -> Invoice:
    return Invoice("INV-1", customer_id, D("500.00"), D(open_amount), "USD", date(2025, 1, 1),
                   date(2025, 1, 31), status)


def _payment(unapplied: str = "300.00", customer_id: str | None = None) -> Payment:
    return Payment("PAY-1", customer_id, "ACME INC", D("300.00"), D(unapplied), "USD", date(2025, 2, 1),
                   "INV 1", "unapplied" if unapplied == "300.00" else "partially_applied")


def _request(kind: str, amount: str, **extra: object) -> PostingRequest:
    return PostingRequest(kind=kind, request_reference="REQ-1", approval_id="APR-1", customer_id="C-1",
                          amount=D(amount), currency="USD", idempotency_key=f"REQ-1:APR-1:{kind}",
                          **extra)  # type: ignore[arg-type]


def _refusal(request: PostingRequest, targets: ledger.PostingTargets) -> ServiceTaskError:
    with pytest.raises(ServiceTaskError) as caught:
        ledger.plan_posting(request, targets, date(2025, 3, 1))
    return caught.value


ON = date(2025, 3, 1)


@pytest.mark.parametrize(("kind", "debit", "credit"), [
    ("credit_memo", "4100", "1200"), ("debit_memo", "1200", "4000"),
    ("payment_application", "2050", "1200"), ("write_off", "6100", "1200")])
def test_each_money_movement_books_one_balanced_pair(kind: str, debit: str, credit: str) -> None:
    lines = ledger.journal_lines(kind, D("700.00"))
    assert lines == (JournalLine(debit, D("700.00"), D("0.00")), JournalLine(credit, D("0.00"), D("700.00")))


@pytest.mark.parametrize("kind", ["credit_limit_change", "installment_plan"])
def test_changes_that_move_no_money_book_no_lines(kind: str) -> None:
    assert ledger.journal_lines(kind, D("100.00")) == ()


@pytest.mark.parametrize(("amount", "count", "expected"), [
    ("30000.00", 3, ["10000.00", "10000.00", "10000.00"]),
    ("100.00", 3, ["33.33", "33.33", "33.34"]),
    ("0.05", 5, ["0.01"] * 5),
    ("1000.00", 1, ["1000.00"]),
])
def test_installments_are_equal_with_the_remainder_last_and_sum_exactly(
        amount: str, count: int, expected: list[str]) -> None:
    schedule = ledger.installment_schedule(D(amount), count, date(2025, 4, 1))
    assert [str(a) for _, a in schedule] == expected
    assert sum((a for _, a in schedule), D(0)) == D(amount)


def test_installments_fall_monthly_and_clamp_to_the_month_end() -> None:
    schedule = ledger.installment_schedule(D("400.00"), 4, date(2024, 1, 31))
    assert [d for d, _ in schedule] == [date(2024, 1, 31), date(2024, 2, 29), date(2024, 3, 31),
                                        date(2024, 4, 30)]


@pytest.mark.parametrize(("amount", "count"), [("0.02", 3), ("100.00", 0), ("100.00", 121)])
def test_impossible_schedules_are_refused(amount: str, count: int) -> None:
    with pytest.raises(ServiceTaskError) as caught:
        ledger.installment_schedule(D(amount), count, date(2025, 4, 1))
    assert caught.value.error_code == "invalid_installments"


def test_posting_numbers_are_per_kind_with_six_digits() -> None:
    assert ledger.posting_number("credit_memo", 1) == "CM-000001"
    assert ledger.posting_number("installment_plan", 42) == "IP-000042"
    assert {ledger.counter_name(k) for k in ledger.POSTING_KINDS} == {
        "posting_CM", "posting_DM", "posting_PA", "posting_WO", "posting_CL", "posting_IP"}


def test_credit_memo_reduces_the_open_amount_and_settles_at_zero() -> None:
    partial = ledger.plan_posting(_request("credit_memo", "200.00", invoice_number="INV-1"),
                                  ledger.PostingTargets(_customer(), _invoice()), ON)
    assert partial.invoice is not None and (partial.invoice.open_amount, partial.invoice.status) == (D("300.00"), "open")
    full = ledger.plan_posting(_request("credit_memo", "500.00", invoice_number="INV-1"),
                               ledger.PostingTargets(_customer(), _invoice()), ON)
    assert full.invoice is not None and (full.invoice.status, full.invoice.paid_on) == ("paid", ON)


def test_credit_memo_above_the_open_amount_is_refused() -> None:
    error = _refusal(_request("credit_memo", "500.01", invoice_number="INV-1"),
                     ledger.PostingTargets(_customer(), _invoice()))
    assert (error.error_code, error.field) == ("amount_exceeds_open_balance", "amount")


def test_debit_memo_reopens_a_paid_invoice() -> None:
    effect = ledger.plan_posting(_request("debit_memo", "50.00", invoice_number="INV-1"),
                                 ledger.PostingTargets(_customer(), _invoice("0.00", "paid")), ON)
    assert effect.invoice is not None
    assert (effect.invoice.open_amount, effect.invoice.status, effect.invoice.paid_on) == (
        D("50.00"), "partially_paid", None)


def test_debit_memo_on_a_written_off_invoice_is_refused() -> None:
    error = _refusal(_request("debit_memo", "50.00", invoice_number="INV-1"),
                     ledger.PostingTargets(_customer(), _invoice("0.00", "written_off")))
    assert error.error_code == "invoice_written_off"


def test_payment_application_moves_cash_and_identifies_the_payer() -> None:
    effect = ledger.plan_posting(
        _request("payment_application", "300.00", invoice_number="INV-1", payment_reference="PAY-1"),
        ledger.PostingTargets(_customer(), _invoice(), _payment()), ON)
    assert effect.invoice is not None and effect.payment is not None
    assert (effect.invoice.open_amount, effect.invoice.status) == (D("200.00"), "partially_paid")
    assert (effect.payment.unapplied_amount, effect.payment.status, effect.payment.customer_id) == (
        D("0.00"), "applied", "C-1")


@pytest.mark.parametrize(("unapplied", "open_amount", "code"), [
    ("100.00", "500.00", "amount_exceeds_unapplied_cash"),
    ("300.00", "100.00", "amount_exceeds_open_balance")])
def test_over_application_is_refused(unapplied: str, open_amount: str, code: str) -> None:
    error = _refusal(
        _request("payment_application", "150.00", invoice_number="INV-1", payment_reference="PAY-1"),
        ledger.PostingTargets(_customer(), _invoice(open_amount), _payment(unapplied)))
    assert error.error_code == code


def test_payment_of_another_customer_is_refused() -> None:
    error = _refusal(
        _request("payment_application", "100.00", invoice_number="INV-1", payment_reference="PAY-1"),
        ledger.PostingTargets(_customer(), _invoice(), _payment(customer_id="C-2")))
    assert (error.error_code, error.field) == ("payment_not_of_customer", "payment_reference")


def test_write_off_to_zero_marks_the_invoice_written_off() -> None:
    effect = ledger.plan_posting(_request("write_off", "500.00", invoice_number="INV-1"),
                                 ledger.PostingTargets(_customer(), _invoice()), ON)
    assert effect.invoice is not None and effect.invoice.status == "written_off"


def test_credit_limit_change_records_old_and_new() -> None:
    effect = ledger.plan_posting(_request("credit_limit_change", "5000.00"),
                                 ledger.PostingTargets(_customer("1000.00")), ON)
    assert effect.credit_limit == (D("1000.00"), D("5000.00")) and effect.lines == ()


def test_installment_plan_must_sum_to_its_amount() -> None:
    schedule = ((date(2025, 4, 1), D("50.00")), (date(2025, 5, 1), D("49.99")))
    error = _refusal(_request("installment_plan", "100.00", installments=schedule),
                     ledger.PostingTargets(_customer()))
    assert (error.error_code, error.field) == ("installments_mismatch", "installments")


def test_installment_plan_cannot_exceed_the_open_total_of_its_invoices() -> None:
    schedule = ledger.installment_schedule(D("600.00"), 2, date(2025, 4, 1))
    error = _refusal(_request("installment_plan", "600.00", installments=schedule, invoice_numbers=("INV-1",)),
                     ledger.PostingTargets(_customer(), plan_invoices=(_invoice(),)))
    assert error.error_code == "amount_exceeds_open_balance"


@pytest.mark.parametrize(("request_", "targets", "code", "field"), [
    (_request("credit_memo", "1.00", invoice_number="INV-1"), ledger.PostingTargets(None, _invoice()),
     "customer_not_found", "customer_id"),
    (_request("credit_memo", "1.00", invoice_number="INV-9"), ledger.PostingTargets(_customer(), None),
     "invoice_not_found", "invoice_number"),
    (_request("credit_memo", "1.00", invoice_number="INV-1"),
     ledger.PostingTargets(_customer(), _invoice(customer_id="C-2")), "invoice_not_of_customer", "invoice_number"),
    (_request("payment_application", "1.00", invoice_number="INV-1", payment_reference="PAY-9"),
     ledger.PostingTargets(_customer(), _invoice(), None), "payment_not_found", "payment_reference"),
    (_request("credit_memo", "1.00"), ledger.PostingTargets(_customer()), "missing_input", "invoice_number"),
    (_request("refund", "1.00"), ledger.PostingTargets(_customer()), "invalid_posting_kind", "kind"),
    (_request("credit_memo", "0.00", invoice_number="INV-1"), ledger.PostingTargets(_customer(), _invoice()),
     "invalid_amount", "amount"),
    (_request("credit_memo", "1.001", invoice_number="INV-1"), ledger.PostingTargets(_customer(), _invoice()),
     "invalid_amount", "amount"),
])
def test_bad_requests_are_refused_naming_the_field(request_: PostingRequest, targets: ledger.PostingTargets,
                                                   code: str, field: str) -> None:
    error = _refusal(request_, targets)
    assert (error.error_code, error.field) == (code, field)


def test_opening_entries_put_open_items_on_the_control_account() -> None:
    paid = Invoice("INV-2", "C-1", D("80.00"), D("0.00"), "USD", ON, ON, "paid", paid_on=ON)
    payment = Payment("PAY-2", "C-1", "ACME", D("80.00"), D("0.00"), "USD", ON, "INV-2", "applied")
    still_open = Invoice("INV-1", "C-1", D("300.00"), D("300.00"), "USD", ON, ON, "open")
    entries = ledger.opening_entries([still_open, paid], [payment])
    lines = [line for _, entry in entries for line in entry]
    control = sum((line.debit - line.credit for line in lines if line.account == ledger.RECEIVABLES), D(0))
    assert control == D("300.00")
    assert sum((line.debit - line.credit for line in lines), D(0)) == 0
    assert sum((line.debit - line.credit for line in lines if line.account == ledger.UNAPPLIED_CASH), D(0)) == 0
