"""invoice/lookup: the request's invoices, or the customer's overdue ones, with open amounts and age."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from finance_fakes import make_context, make_record

from bpmn_requests.domain.errors import ServiceTaskError
from bpmn_requests.service_tasks.invoice_lookup import DEFINITION

D = Decimal


def test_named_invoice_is_returned_with_amounts_as_decimals() -> None:
    ctx = make_context()
    out = DEFINITION.call(ctx, {"customer_id": "C-1001", "invoice_numbers": ["INV-1001"]})
    assert (out["invoice_number"], out["invoice_amount"], out["invoice_open_amount"]) == (
        "INV-1001", D("12500.00"), D("12500.00"))
    assert out["invoice_open_total"] == D("12500.00")
    assert out["invoices"] == [{"number": "INV-1001", "amount": D("12500.00"), "open_amount": D("12500.00"),
                                "due_on": "2025-04-03", "days_past_due": 0, "status": "open"}]


def test_the_invoices_are_recorded_as_json_friendly_references() -> None:
    ctx = make_context()
    DEFINITION.call(ctx, {"customer_id": "C-1001", "invoice_numbers": ["INV-1001"]})
    recorded = ctx.record.details["invoices"]
    assert recorded[0]["amount"] == "12500.00" and recorded[0]["currency"] == "USD"
    json.dumps(recorded)


def test_without_numbers_every_overdue_invoice_comes_oldest_first() -> None:
    out = DEFINITION.call(make_context(record=make_record("C-1007")), {"customer_id": "C-1007", "invoice_numbers": []})
    assert [(i["number"], i["days_past_due"]) for i in out["invoices"]] == [
        ("INV-1071", 90), ("INV-1072", 65), ("INV-1073", 45)]
    assert (out["invoice_number"], out["invoice_open_total"]) == ("INV-1071", D("30000.00"))


def test_only_overdue_invoices_are_picked_when_none_are_named() -> None:
    out = DEFINITION.call(make_context(), {"customer_id": "C-1003"})
    assert [i["number"] for i in out["invoices"]] == ["INV-1003"]  # INV-1013 is not due yet


def test_a_customer_with_nothing_overdue_gets_an_empty_answer() -> None:
    out = DEFINITION.call(make_context(), {"customer_id": "C-1001"})
    assert (out["invoice_number"], out["invoices"], out["invoice_open_total"]) == (None, [], D("0.00"))


def test_numbers_may_come_as_one_literal_string() -> None:
    out = DEFINITION.call(make_context(), {"customer_id": "C-1007", "invoice_numbers": "inv-1073, INV-1071"})
    assert [i["number"] for i in out["invoices"]] == ["INV-1073", "INV-1071"]
    assert out["invoice_open_total"] == D("19500.00")


@pytest.mark.parametrize(("inputs", "code", "field"), [
    ({"customer_id": "C-1001", "invoice_numbers": ["INV-9999"]}, "invoice_not_found", "invoice_numbers"),
    ({"customer_id": "C-1001", "invoice_numbers": ["INV-1001", "INV-1002"]}, "invoice_not_of_customer",
     "invoice_numbers"),
    ({"customer_id": "C-9999", "invoice_numbers": ["INV-1001"]}, "customer_not_found", "customer_id"),
    ({"invoice_numbers": ["INV-1001"]}, "missing_input", "customer_id"),
    ({"customer_id": "C-1001", "invoice_numbers": 1001}, "invalid_input", "invoice_numbers"),
])
def test_bad_references_are_refused_naming_the_field(inputs: dict[str, object], code: str, field: str) -> None:
    with pytest.raises(ServiceTaskError) as caught:
        DEFINITION.call(make_context(), inputs)
    assert (caught.value.error_code, caught.value.field) == (code, field)


def test_settled_invoices_are_not_past_due() -> None:
    out = DEFINITION.call(make_context(), {"customer_id": "C-1001", "invoice_numbers": ["INV-0901"]})
    assert (out["invoices"][0]["status"], out["invoices"][0]["days_past_due"], out["invoice_open_total"]) == (
        "paid", 0, D("0.00"))
