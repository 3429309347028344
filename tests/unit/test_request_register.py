"""request/register and payment references: a payment issue may name a payment the bank has not reported
yet (the request waits for it); a payment of another customer is still refused, as is an unknown payment
named by any other request type."""

from __future__ import annotations

from decimal import Decimal

import pytest
from finance_fakes import make_context, make_record

from bpmn_requests.domain.errors import ServiceTaskError
from bpmn_requests.domain.requests import RequestRecord
from bpmn_requests.service_tasks.request_register import DEFINITION

D = Decimal


def _issue(*references: str, type: str = "payment_issue", invoices: tuple[str, ...] = ()) -> RequestRecord:
    record = make_record("C-1003", type=type, reference="")
    record.details.update(payment_references=list(references), invoice_numbers=list(invoices))
    return record


def _register(record: RequestRecord) -> dict[str, object]:
    return DEFINITION.call(make_context(record=record), {})


def test_a_payment_issue_naming_an_unknown_payment_is_registered_with_nothing_at_stake() -> None:
    record = _issue("PAY-7777")
    out = _register(record)
    assert (out["reference"], out["amount"]) == ("REQ-2025-000999", D("0.00"))
    assert record.status == "registered"


def test_an_unknown_payment_adds_nothing_to_the_known_ones() -> None:
    assert _register(_issue("PAY-5003", "PAY-7777"))["amount"] == D("18500.00")


@pytest.mark.parametrize(("record", "code"), [
    (_issue("PAY-4901"), "payment_not_of_customer"),  # C-1001's payment
    (_issue("PAY-7777", type="billing_dispute", invoices=("INV-1003",)), "payment_not_found"),
])
def test_other_payment_references_are_still_refused(record: RequestRecord, code: str) -> None:
    with pytest.raises(ServiceTaskError) as caught:
        _register(record)
    assert (caught.value.error_code, caught.value.field) == (code, "payment_references")
