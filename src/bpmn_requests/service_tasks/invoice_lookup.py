"""`invoice/lookup`: the invoices a request is about, with their open amounts and days past due.

Also home of the input helpers the finance service tasks share (lists of references, amounts, customer).

Contract (processes/README.md):
  inputs   customer_id (required); invoice_numbers (list, optional: empty means every overdue open
           invoice of the customer, oldest due first).
  outputs  invoice_number (the first invoice, None when there is none), invoice_amount and
           invoice_open_amount (of the first, Decimal), invoices (list of {number, amount, open_amount,
           due_on ISO, days_past_due, status}, amounts Decimal), invoice_open_total (Decimal).
  errors   customer_not_found (customer_id), invoice_not_found and invoice_not_of_customer
           (invoice_numbers).
  record   details["invoices"]: the same list, JSON-friendly (amounts as strings).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date
from decimal import Decimal
from typing import Any

from ..domain.errors import ServiceTaskError, ValidationFailed
from ..domain.finance import Customer, FinanceGateway, Invoice, billed_amount
from ..domain.money import parse_amount
from .registry import Param, ServiceContext, ServiceTaskDefinition

_SEPARATORS = re.compile(r"[\s,;]+")


def reference_list(value: object, field: str) -> list[str]:
    """A list input as distinct, trimmed, upper-case strings; a literal BPMN input gives "A, B" as one string."""
    if value is None or value == "":
        return []
    if isinstance(value, str):
        items = _SEPARATORS.split(value)
    elif isinstance(value, Iterable):
        items = [str(v) for v in value]
    else:
        raise ServiceTaskError(f"{field} must be a list, got {value!r}", error_code="invalid_input", field=field)
    distinct: list[str] = []
    for item in (i.strip().upper() for i in items):
        if item and item not in distinct:
            distinct.append(item)
    return distinct


def amount_input(value: object, field: str) -> Decimal:
    """A positive money input (Decimal, int or string; never a float), refused naming `field`."""
    try:
        return parse_amount(value, field)
    except ValidationFailed as error:
        raise ServiceTaskError(error.message, error_code="invalid_input", field=field) from None


def require_customer(finance: FinanceGateway, customer_id: object) -> Customer:
    """The customer a request names; refuses naming the `customer_id` input when unknown."""
    customer = finance.customer(str(customer_id))
    if customer is None:
        raise ServiceTaskError(f"customer {customer_id} does not exist", error_code="customer_not_found",
                               field="customer_id")
    return customer


def days_past_due(invoice: Invoice, today: date) -> int:
    """Days since the due date of an invoice still open; 0 when it is not due yet or settled."""
    if invoice.open_amount <= 0:
        return 0
    return max(0, (today - invoice.due_on).days)


def _named_invoices(finance: FinanceGateway, customer: Customer, numbers: list[str]) -> list[Invoice]:
    found: list[Invoice] = []
    for number in numbers:
        invoice = finance.invoice(number)
        if invoice is None:
            raise ServiceTaskError(f"invoice {number} does not exist", error_code="invoice_not_found",
                                   field="invoice_numbers")
        if invoice.customer_id != customer.id:
            raise ServiceTaskError(f"invoice {number} is not an invoice of customer {customer.id}",
                                   error_code="invoice_not_of_customer", field="invoice_numbers")
        found.append(invoice)
    return found


def _overdue_invoices(finance: FinanceGateway, customer: Customer, today: date) -> list[Invoice]:
    overdue = [i for i in finance.open_invoices(customer.id) if i.due_on < today]
    return sorted(overdue, key=lambda i: (i.due_on, i.number))


def _summary(invoice: Invoice, today: date) -> dict[str, Any]:
    return {"number": invoice.number, "amount": invoice.amount, "open_amount": invoice.open_amount,
            "due_on": invoice.due_on.isoformat(), "days_past_due": days_past_due(invoice, today),
            "status": invoice.status}


def _jsonable(summary: dict[str, Any], currency: str) -> dict[str, Any]:
    return {**summary, "amount": str(summary["amount"]), "open_amount": str(summary["open_amount"]),
            "currency": currency}


def lookup_invoices(ctx: ServiceContext, inputs: dict[str, Any]) -> dict[str, Any]:
    """Resolve the request's invoices and record them as its financial references."""
    customer = require_customer(ctx.finance, inputs["customer_id"])
    today = ctx.clock.today()
    numbers = reference_list(inputs.get("invoice_numbers"), "invoice_numbers")
    found = (_named_invoices(ctx.finance, customer, numbers) if numbers
             else _overdue_invoices(ctx.finance, customer, today))
    summaries = [_summary(invoice, today) for invoice in found]
    ctx.record.details["invoices"] = [_jsonable(s, i.currency) for s, i in zip(summaries, found, strict=True)]
    first = found[0] if found else None
    billed = billed_amount(first, ctx.finance.postings_on(first.number)) if first else Decimal("0.00")
    return {
        "invoice_number": first.number if first else None,
        "invoice_amount": billed,
        "invoice_original_amount": first.amount if first else Decimal("0.00"),
        "invoice_open_amount": first.open_amount if first else Decimal("0.00"),
        "invoices": summaries,
        "invoice_open_total": sum((i.open_amount for i in found), Decimal("0.00")),
    }


DEFINITION = ServiceTaskDefinition(
    topic="invoice/lookup",
    title="Look up invoices",
    description="Finds the request's invoices (or the customer's overdue ones) with open amounts and age.",
    inputs=(
        Param("customer_id", "string", "The customer the request is about."),
        Param("invoice_numbers", "list", "Invoice numbers; empty means every overdue open invoice.",
              required=False),
    ),
    outputs=(
        Param("invoice_number", "string", "The first invoice, or None when none was found."),
        Param("invoice_amount", "decimal", "What the first invoice bills now (amount less credit memos "
                                           "plus debit memos)."),
        Param("invoice_original_amount", "decimal", "The first invoice's amount as issued."),
        Param("invoice_open_amount", "decimal", "The first invoice's open amount."),
        Param("invoices", "list", "Each invoice: number, amount, open_amount, due_on, days_past_due, status."),
        Param("invoice_open_total", "decimal", "The open amount of all the invoices found."),
    ),
    handler=lookup_invoices,
)
