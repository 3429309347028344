"""payment/receive: a payment the bank reports is booked once as the request customer's unapplied cash,
and every malformed input is refused naming its field."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest
from finance_fakes import TODAY, demo_gateway, make_context, make_record

from bpmn_requests.domain import ledger
from bpmn_requests.domain.errors import ServiceTaskError
from bpmn_requests.domain.finance import Payment
from bpmn_requests.service_tasks import build_registry
from bpmn_requests.service_tasks.payment_receive import DEFINITION
from bpmn_requests.store.memory_finance import MemoryFinanceGateway

D = Decimal
MESSAGE = {"payment_reference": "PAY-9001", "payment_amount": "1250.00", "customer_id": "C-1003"}


def _receive(gateway: MemoryFinanceGateway, step_key: str = "i1:t1", **changes: Any) -> dict[str, Any]:
    ctx = make_context(gateway, make_record("C-1003", type="payment_issue"))
    ctx.step_key = step_key
    inputs = {name: value for name, value in {**MESSAGE, **changes}.items() if value is not None}
    return DEFINITION.call(ctx, inputs)


def _refused(**changes: Any) -> ServiceTaskError:
    gateway = demo_gateway()
    with pytest.raises(ServiceTaskError) as caught:
        _receive(gateway, **changes)
    assert gateway.payment("PAY-9001") is None
    return caught.value


def test_the_topic_is_registered() -> None:
    assert "payment/receive" in build_registry()


def test_a_reported_payment_is_booked_as_the_request_customers_cash() -> None:
    gateway = demo_gateway()
    out = _receive(gateway, payer_name=" FABRIKAM INC ", remittance_text="INV 1013", received_on="2025-03-13")
    assert out == {"payment_reference": "PAY-9001", "payment_received": True}
    assert gateway.payment("PAY-9001") == Payment("PAY-9001", "C-1003", "FABRIKAM INC", D("1250.00"),
                                                  D("1250.00"), "USD", date(2025, 3, 13), "INV 1013", "unapplied")
    assert gateway.journal_entry("RC-PAY-9001") == ledger.receipt_entry(gateway.payment("PAY-9001"))[1]  # type: ignore[arg-type]
    assert gateway.reconcile().balanced


def test_currency_date_and_texts_default_to_the_request_today_and_blank() -> None:
    gateway = demo_gateway()
    ctx = make_context(gateway, make_record("C-1003", type="payment_issue"))
    ctx.record.currency = "EUR"
    DEFINITION.call(ctx, {**MESSAGE, "payment_reference": " pay-9001 "})
    payment = gateway.payment("PAY-9001")
    assert payment is not None
    assert (payment.currency, payment.received_on, payment.payer_name, payment.remittance_text) == (
        "EUR", TODAY, "", "")


def test_a_repeated_message_or_retried_step_books_nothing() -> None:
    gateway = demo_gateway()
    first = _receive(gateway)
    balance = gateway.account_balance(ledger.CASH)
    assert _receive(gateway) == first
    assert _receive(gateway, step_key="i1:t2", payment_amount="1250") == first
    assert gateway.account_balance(ledger.CASH) == balance


def test_another_amount_under_a_booked_reference_is_a_conflict() -> None:
    gateway = demo_gateway()
    _receive(gateway)
    with pytest.raises(ServiceTaskError) as caught:
        _receive(gateway, step_key="i2:t1", payment_amount="1300.00")
    assert (caught.value.error_code, caught.value.field) == ("payment_conflict", "payment_reference")
    assert gateway.payment("PAY-9001").amount == D("1250.00")  # type: ignore[union-attr]


def test_a_long_remittance_text_keeps_its_start() -> None:
    gateway = demo_gateway()
    _receive(gateway, remittance_text="INV-1013 " + "x" * 600, payer_name="P" * 300)
    payment = gateway.payment("PAY-9001")
    assert payment is not None and payment.remittance_text.startswith("INV-1013 ")
    assert (len(payment.remittance_text), len(payment.payer_name)) == (500, 200)


@pytest.mark.parametrize(("changes", "code", "field"), [
    ({"payment_reference": None}, "missing_input", "payment_reference"),
    ({"payment_amount": None}, "missing_input", "payment_amount"),
    ({"customer_id": None}, "missing_input", "customer_id"),
    ({"payment_reference": "BANK 42"}, "invalid_input", "payment_reference"),
    ({"payment_amount": 1250.0}, "invalid_input", "payment_amount"),
    ({"payment_amount": "0.00"}, "invalid_input", "payment_amount"),
    ({"payment_amount": "-5"}, "invalid_input", "payment_amount"),
    ({"payment_amount": "12.345"}, "invalid_input", "payment_amount"),
    ({"payment_amount": "lots"}, "invalid_input", "payment_amount"),
    ({"currency": "XYZ"}, "invalid_input", "currency"),
    ({"received_on": "2025-13-01"}, "invalid_input", "received_on"),
    ({"received_on": (TODAY + timedelta(days=1)).isoformat()}, "invalid_input", "received_on"),
    ({"customer_id": "C-9999"}, "customer_not_found", "customer_id"),
])
def test_malformed_inputs_are_refused_naming_the_field(changes: dict[str, Any], code: str, field: str) -> None:
    error = _refused(**changes)
    assert (error.error_code, error.field, error.transient) == (code, field, False)
