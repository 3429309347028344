"""`request/register`: check a new request against the ledger, refuse duplicates, give it its number.

A payment issue may name a payment the ledger does not know yet (the request waits for the bank to report
it); every other unknown or foreign reference is refused.

Inputs: none beyond the request record (set by the submit use case). Outputs: `reference`, `amount`
(the amount at stake, Decimal), `customer_name`, `customer_is_new`, `write_off_tolerance`,
`rfi_answer_period` (how long the customer has to answer a request for information).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from ..domain.errors import DuplicateRequest, ServiceTaskError
from ..domain.finance import Customer
from .registry import Param, ServiceContext, ServiceTaskDefinition

NEW_CUSTOMER_DAYS = 90


def _customer(ctx: ServiceContext) -> Customer:
    customer = ctx.finance.customer(ctx.record.customer_id)
    if customer is None:
        raise ServiceTaskError(f"customer_id: no customer {ctx.record.customer_id}",
                               error_code="customer_not_found", field="customer_id")
    return customer


def _invoice_total(ctx: ServiceContext, customer: Customer, numbers: list[str]) -> Decimal:
    total = Decimal("0.00")
    for number in numbers:
        invoice = ctx.finance.invoice(number)
        if invoice is None:
            raise ServiceTaskError(f"invoice_numbers: no invoice {number}", error_code="invoice_not_found",
                                   field="invoice_numbers")
        if invoice.customer_id != customer.id:
            raise ServiceTaskError(f"invoice_numbers: invoice {number} is not an invoice of {customer.id}",
                                   error_code="invoice_not_of_customer", field="invoice_numbers")
        total += invoice.open_amount if ctx.record.type == "debt_restructuring" else invoice.amount
    return total


def _payment_total(ctx: ServiceContext, customer: Customer, references: list[str]) -> Decimal:
    """What the named payments add up to. A payment issue may name one the bank has not reported yet: it
    waits for the bank's message (payment/receive) and adds nothing until then."""
    total = Decimal("0.00")
    for reference in references:
        payment = ctx.finance.payment(reference)
        if payment is None and ctx.record.type == "payment_issue":
            continue
        if payment is None:
            raise ServiceTaskError(f"payment_references: no payment {reference}",
                                   error_code="payment_not_found", field="payment_references")
        if payment.customer_id not in (None, customer.id):
            raise ServiceTaskError(f"payment_references: payment {reference} belongs to another customer",
                                   error_code="payment_not_of_customer", field="payment_references")
        total += payment.amount
    return total


def _amount_at_stake(ctx: ServiceContext, customer: Customer) -> Decimal:
    details = ctx.record.details
    invoices = _invoice_total(ctx, customer, list(details.get("invoice_numbers") or []))
    payments = _payment_total(ctx, customer, list(details.get("payment_references") or []))
    stated = {
        "billing_dispute": details.get("disputed_amount"),
        "credit_adjustment": details.get("disputed_amount"),
        "debt_restructuring": details.get("disputed_amount"),
        "credit_onboarding": details.get("requested_limit"),
        "payment_issue": None,
    }.get(ctx.record.type)
    if stated is not None:
        return Decimal(str(stated))
    if ctx.record.type == "payment_issue":
        return payments
    if ctx.record.type == "debt_restructuring" and not details.get("invoice_numbers"):
        # No invoices named: the plan covers everything overdue, as invoice/lookup will find it.
        today = ctx.clock.today()
        invoices = sum((i.open_amount for i in ctx.finance.open_invoices(customer.id) if i.due_on < today),
                       Decimal("0.00"))
    if ctx.record.type == "debt_restructuring" and invoices <= 0:
        raise ServiceTaskError(f"invoice_numbers: {customer.id} has no overdue open invoices to restructure",
                               error_code="nothing_to_restructure", field="invoice_numbers")
    return invoices


def register(ctx: ServiceContext, inputs: dict[str, Any]) -> dict[str, Any]:
    customer = _customer(ctx)
    amount = _amount_at_stake(ctx, customer)
    details = ctx.record.details
    existing = ctx.directory.open_request_for(customer.id, list(details.get("invoice_numbers") or []),
                                              list(details.get("payment_references") or []), exclude=None)
    if existing:
        raise DuplicateRequest(existing, f"duplicate: {customer.id} already has open request {existing} "
                                         f"for the same invoice or payment")
    if not ctx.record.reference:
        ctx.record.reference = ctx.directory.next_reference()
    ctx.record.currency = customer.currency
    ctx.record.status = "registered"
    details["customer_name"] = customer.name
    is_new = customer.since is None or customer.since >= ctx.clock.today() - timedelta(days=NEW_CUSTOMER_DAYS)
    return {"reference": ctx.record.reference, "amount": amount, "customer_name": customer.name,
            "customer_is_new": is_new, "write_off_tolerance": ctx.settings.write_off_tolerance,
            # No answer from the customer yet: a rejection later sets it False, and automatic steps such
            # as the small write-off must not repeat in the round a rejection reopens.
            "accept": None,
            # How long the customer has to answer a request for information (an ISO 8601 duration).
            "rfi_answer_period": ctx.settings.rfi_answer_period}


DEFINITION = ServiceTaskDefinition(
    topic="request/register", title="Register request",
    description="Completeness and duplicate check against the ledger; assigns the REQ- number.",
    inputs=(),
    outputs=(Param("reference", "string", "the request number, REQ- and digits"),
             Param("amount", "decimal", "the amount at stake"),
             Param("customer_name", "string", "the customer's name"),
             Param("customer_is_new", "boolean", "customer for less than 90 days"),
             Param("write_off_tolerance", "decimal", "automatic write-off limit"),
             Param("accept", "boolean", "the customer's answer: None until they answer", required=False),
             Param("rfi_answer_period", "string", "ISO 8601 duration the customer has to answer a question")),
    handler=register,
)
