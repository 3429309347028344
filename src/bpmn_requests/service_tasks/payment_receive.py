"""`payment/receive`: book a payment the bank reports, so a payment issue waiting for it can match it.

A customer may report a payment the ledger does not show yet; the payment issue then waits for the bank's
`payment_received` message, correlated by the payment reference, whose variables this task reads.

Contract (processes/README.md):
  inputs   payment_reference (required), payment_amount (decimal string > 0, required), customer_id
           (required: the request's customer; the payment is booked as theirs); optional currency
           (default the request's currency), payer_name, remittance_text, received_on (ISO date, default
           today).
  outputs  payment_reference (as booked: trimmed, upper case), payment_received (True).
  errors   invalid_input naming the field; customer_not_found (customer_id); payment_conflict
           (payment_reference: the bank reported that reference before with another amount, currency or
           customer).
  ledger   RC-<reference>: Dr 1000 cash / Cr 2050 unapplied cash. Receiving the same payment again (a
           repeated message, a retried step) returns the payment on file and books nothing.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ..domain.errors import ServiceTaskError
from ..domain.finance import Payment
from ..domain.intake import PAYMENT_REFERENCE
from ..domain.money import CURRENCIES
from .invoice_lookup import amount_input, require_customer
from .registry import Param, ServiceContext, ServiceTaskDefinition

# What the payments table holds; a longer bank text keeps its start, where references usually are.
PAYER_NAME_LENGTH = 200
REMITTANCE_LENGTH = 500


def _invalid(field: str, message: str) -> ServiceTaskError:
    return ServiceTaskError(f"{field}: {message}", error_code="invalid_input", field=field)


def _reference(value: object) -> str:
    reference = str(value).strip().upper()
    if not PAYMENT_REFERENCE.match(reference):
        raise _invalid("payment_reference", f"{value!r} is not a payment reference such as PAY-5003")
    return reference


def _currency(value: object, default: str) -> str:
    if value in (None, ""):
        return default
    currency = str(value).strip().upper()
    if currency not in CURRENCIES:
        raise _invalid("currency", f"{value!r} is not one of {', '.join(sorted(CURRENCIES))}")
    return currency


def _received_on(value: object, today: date) -> date:
    if value in (None, ""):
        return today
    if isinstance(value, date):
        return value
    try:
        received = date.fromisoformat(str(value).strip())
    except ValueError:
        raise _invalid("received_on", f"{value!r} is not an ISO date such as 2026-11-02") from None
    if received > today:
        raise _invalid("received_on", f"{received} is after today")
    return received


def _text(value: object, longest: int) -> str:
    return "" if value is None else str(value).strip()[:longest]


def receive_payment(ctx: ServiceContext, inputs: dict[str, Any]) -> dict[str, Any]:
    """Book the payment the bank's message describes, once, as the request customer's cash."""
    customer = require_customer(ctx.finance, inputs["customer_id"])
    amount = amount_input(inputs["payment_amount"], "payment_amount")
    payment = Payment(
        reference=_reference(inputs["payment_reference"]), customer_id=customer.id,
        payer_name=_text(inputs.get("payer_name"), PAYER_NAME_LENGTH), amount=amount, unapplied_amount=amount,
        currency=_currency(inputs.get("currency"), ctx.record.currency),
        received_on=_received_on(inputs.get("received_on"), ctx.clock.today()),
        remittance_text=_text(inputs.get("remittance_text"), REMITTANCE_LENGTH), status="unapplied")
    booked = ctx.finance.receive_payment(payment, ctx.clock.now(), f"{ctx.step_key}:payment/receive")
    return {"payment_reference": booked.reference, "payment_received": True}


DEFINITION = ServiceTaskDefinition(
    topic="payment/receive",
    title="Receive a payment",
    description="Books a payment the bank reports (cash to unapplied cash) as the request customer's, once.",
    inputs=(
        Param("payment_reference", "string", "The bank's payment reference (PAY-...)."),
        Param("payment_amount", "decimal", "The amount received, a decimal string."),
        Param("customer_id", "string", "The request's customer; the payment is booked as theirs."),
        Param("currency", "string", "Three-letter code; default the request's currency.", required=False),
        Param("payer_name", "string", "The payer as the bank line names them.", required=False),
        Param("remittance_text", "string", "The bank line's remittance text.", required=False),
        Param("received_on", "date", "ISO date the bank received it; default today.", required=False),
    ),
    outputs=(
        Param("payment_reference", "string", "The payment booked (or found already booked)."),
        Param("payment_received", "boolean", "True."),
    ),
    handler=receive_payment,
)
