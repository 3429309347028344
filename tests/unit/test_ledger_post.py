"""ledger/post: nothing is booked without the approval that covers it, and a retried step books once."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from finance_fakes import NOW, approve, demo_gateway, make_context, make_record

from bpmn_requests.domain.errors import BusinessRuleViolation, ServiceTaskError
from bpmn_requests.domain.requests import RequestRecord
from bpmn_requests.service_tasks.ledger_post import DEFINITION
from bpmn_requests.service_tasks.registry import ServiceContext
from bpmn_requests.store.memory_finance import MemoryFinanceGateway

D = Decimal


def _context(customer_id: str = "C-1001") -> tuple[ServiceContext, MemoryFinanceGateway, RequestRecord]:
    gateway, record = demo_gateway(), make_record(customer_id)
    return make_context(gateway, record), gateway, record


CREDIT_MEMO = {"action": "credit_memo", "action_amount": D("700.00"), "approval_level": 1,
               "target_invoice": "INV-1001", "reason_code": "pricing_error"}


def test_an_approved_credit_memo_is_booked_against_the_invoice() -> None:
    ctx, gateway, record = _context()
    approval = approve(record, "credit_memo", "700.00")
    assert DEFINITION.call(ctx, CREDIT_MEMO) == {"posting_number": "CM-000001"}
    [posting] = gateway.postings_for(record.reference)
    assert (posting.amount, posting.invoice_number, posting.approval_id, posting.reason_code) == (
        D("700.00"), "INV-1001", approval.id, "pricing_error")
    invoice = gateway.invoice("INV-1001")
    assert invoice is not None and invoice.open_amount == D("11800.00")
    assert record.resolution["adjustments"] == [{
        "kind": "credit_memo", "number": "CM-000001", "amount": "700.00", "currency": "USD",
        "invoice": "INV-1001", "payment": None, "reason_code": "pricing_error", "approval_id": approval.id,
        "at": NOW.isoformat()}]
    assert gateway.reconcile().balanced


def test_running_the_step_again_books_nothing_new() -> None:
    ctx, gateway, record = _context()
    approve(record, "credit_memo", "700.00")
    first = DEFINITION.call(ctx, CREDIT_MEMO)
    again = DEFINITION.call(ctx, CREDIT_MEMO)
    assert first == again
    assert len(gateway.postings_for(record.reference)) == 1
    assert len(record.resolution["adjustments"]) == 1
    assert len(gateway.journal_entry("CM-000001")) == 2


@pytest.mark.parametrize(("decision", "amount", "level"), [
    (None, None, None),  # no approval at all
    ("reject", "700.00", 1),
    ("approve", "650.00", 1),  # approved a different amount
    ("approve", "700.00", 0),  # below the level the amount needs
])
def test_without_a_covering_approval_nothing_is_booked(decision: str | None, amount: str | None,
                                                       level: int | None) -> None:
    ctx, gateway, record = _context()
    if decision is not None and amount is not None and level is not None:
        approve(record, "credit_memo", amount, level=level, decision=decision)
    with pytest.raises(BusinessRuleViolation):
        DEFINITION.call(ctx, CREDIT_MEMO)
    assert gateway.postings_for(record.reference) == []
    invoice = gateway.invoice("INV-1001")
    assert invoice is not None and invoice.open_amount == D("12500.00")
    assert "adjustments" not in record.resolution


def test_an_approval_for_another_action_does_not_cover_a_write_off() -> None:
    ctx, gateway, record = _context()
    approve(record, "credit_memo", "700.00")
    with pytest.raises(BusinessRuleViolation):
        DEFINITION.call(ctx, {**CREDIT_MEMO, "action": "write_off"})
    assert gateway.postings_for(record.reference) == []


def test_unidentified_cash_is_applied_to_the_matched_invoice() -> None:
    ctx, gateway, record = _context("C-1003")
    approve(record, "payment_application", "18500.00", level=0)
    out = DEFINITION.call(ctx, {"action": "payment_application", "action_amount": D("18500.00"),
                                "approval_level": "0", "target_invoice": "INV-1003",
                                "payment_reference": "PAY-5003"})
    assert out == {"posting_number": "PA-000001"}
    payment = gateway.payment("PAY-5003")
    assert payment is not None and (payment.status, payment.customer_id) == ("applied", "C-1003")


@pytest.mark.parametrize(("amount", "count", "expected"), [
    ("30000.00", 3, ["10000.00", "10000.00", "10000.00"]),
    ("100.00", 3, ["33.33", "33.33", "33.34"]),
])
def test_an_installment_plan_is_scheduled_monthly(amount: str, count: int, expected: list[str]) -> None:
    ctx, gateway, record = _context("C-1007")
    approve(record, "installment_plan", amount, level=2)
    out = DEFINITION.call(ctx, {"action": "installment_plan", "action_amount": D(amount), "approval_level": 2,
                                "plan_installments": count, "first_due_date": "2025-04-15",
                                "invoice_numbers": ["INV-1071", "INV-1072", "INV-1073"]})
    [posting] = gateway.postings_for(record.reference)
    assert out["posting_number"] == posting.number == "IP-000001"
    assert [str(a) for _, a in posting.installments] == expected
    assert [d for d, _ in posting.installments][:2] == [date(2025, 4, 15), date(2025, 5, 15)]


def test_an_approved_credit_limit_is_set() -> None:
    ctx, gateway, record = _context("C-1006")
    approve(record, "credit_limit_change", "50000.00", level=2)
    DEFINITION.call(ctx, {"action": "credit_limit_change", "action_amount": "50000.00", "approval_level": 2})
    customer = gateway.customer("C-1006")
    assert customer is not None and customer.credit_limit == D("50000.00")
    assert record.resolution["adjustments"][0]["invoice"] is None


@pytest.mark.parametrize(("inputs", "code", "field"), [
    ({**CREDIT_MEMO, "action": "refund"}, "invalid_action", "action"),
    ({**CREDIT_MEMO, "target_invoice": ""}, "missing_input", "target_invoice"),
    ({**CREDIT_MEMO, "action_amount": 700.0}, "invalid_input", "action_amount"),
    ({**CREDIT_MEMO, "action_amount": "-5"}, "invalid_input", "action_amount"),
    ({**CREDIT_MEMO, "approval_level": "high"}, "invalid_input", "approval_level"),
    ({"action": "installment_plan", "action_amount": D("100.00"), "approval_level": 1,
      "plan_installments": 3}, "missing_input", "first_due_date"),
])
def test_malformed_inputs_are_refused_before_the_approval_is_checked(inputs: dict[str, object], code: str,
                                                                     field: str) -> None:
    ctx, gateway, _record = _context()
    with pytest.raises(ServiceTaskError) as caught:
        DEFINITION.call(ctx, inputs)
    assert (caught.value.error_code, caught.value.field) == (code, field)


def test_a_gateway_refusal_reaches_the_process_and_books_nothing() -> None:
    ctx, gateway, record = _context()
    approve(record, "credit_memo", "13000.00", level=2)
    with pytest.raises(ServiceTaskError) as caught:
        DEFINITION.call(ctx, {**CREDIT_MEMO, "action_amount": D("13000.00"), "approval_level": 2})
    assert caught.value.error_code == "amount_exceeds_open_balance"
    assert gateway.postings_for(record.reference) == [] and "adjustments" not in record.resolution
