"""`payment/match`: which open invoice a received payment pays, and how sure we are.

Contract (processes/README.md):
  inputs   customer_id (required); payment_references (list, optional: empty means the customer's
           payments that still have unapplied cash).
  outputs  payment_reference, payment_amount (its unapplied amount: what can still be applied),
           matched_invoice (None when nothing fits), match_confidence (float 0..1), match_method,
           auto_apply (confidence >= settings.payment_auto_apply_confidence). With several payments the
           outputs describe the first; the evidence lists all.
  errors   customer_not_found (customer_id), payment_not_found, payment_not_of_customer and
           payment_already_applied (payment_references).
  record   details["payment_match"]: the evidence (method, confidence, payer-name score, amounts).

Confidence = method confidence x identity factor, rounded to cents:
  method    remittance names an open invoice whose open amount equals the payment: 0.98
            remittance names an open invoice (amount differs):                    0.85
            exactly one open invoice has the payment's amount:                     0.90
            otherwise the oldest due open invoice:                                 0.50
            no open invoice in the payment's currency:                             0.00
  identity  the payment already carries the customer: 1.0; unidentified cash whose payer name matches
            the customer (rapidfuzz token-sort ratio >= 85 after dropping legal suffixes): score/100;
            a payer name below that: score/100 x 0.5, since the cash may be someone else's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from rapidfuzz import fuzz

from ..domain.errors import ServiceTaskError
from ..domain.finance import Customer, Invoice, Payment
from .invoice_lookup import reference_list, require_customer
from .registry import Param, ServiceContext, ServiceTaskDefinition

METHOD_CONFIDENCE = {"remittance_and_amount": Decimal("0.98"), "remittance": Decimal("0.85"),
                     "exact_amount": Decimal("0.90"), "oldest_due": Decimal("0.50"), "none": Decimal("0.00")}
NAME_MATCH_THRESHOLD = Decimal("85")
LEGAL_SUFFIXES = frozenset({
    "inc", "incorporated", "ltd", "limited", "llc", "llp", "lp", "corp", "corporation", "co", "company",
    "sa", "ag", "gmbh", "plc", "bv", "nv", "srl", "spa", "pty", "oy", "ab",
})
# "INV 1003", "inv#1003", "Invoice 1003", "INV-1003", "invoice no. 1003" -> INV-1003
_INVOICE_REFERENCE = re.compile(r"\binv(?:oice)?\s*(?:no\.?|nr\.?|number)?\s*[#:\-]?\s*(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class Identity:
    method: str  # payment_customer | payer_name | unconfirmed
    name_score: Decimal  # 0..100
    factor: Decimal


@dataclass(frozen=True)
class InvoiceMatch:
    invoice: str | None
    method: str

    @property
    def confidence(self) -> Decimal:
        return METHOD_CONFIDENCE[self.method]


def normalise_company_name(name: str) -> str:
    """Lower case, punctuation and legal suffixes dropped: "FABRIKAM, INC." -> "fabrikam"."""
    tokens = re.split(r"[^0-9a-z]+", name.lower().replace(".", ""))
    return " ".join(t for t in tokens if t and t not in LEGAL_SUFFIXES)


def invoice_references(text: str) -> list[str]:
    """Invoice numbers a remittance text names, in our INV-<digits> form."""
    return [f"INV-{digits}" for digits in _INVOICE_REFERENCE.findall(text or "")]


def identify(payment: Payment, customer: Customer) -> Identity:
    """How sure we are that `payment` is this customer's money."""
    if payment.customer_id == customer.id:
        return Identity("payment_customer", Decimal("100"), Decimal("1"))
    if payment.customer_id is not None:
        raise ServiceTaskError(f"payment {payment.reference} belongs to customer {payment.customer_id}, "
                               f"not {customer.id}", error_code="payment_not_of_customer",
                               field="payment_references")
    ratio = fuzz.token_sort_ratio(normalise_company_name(payment.payer_name), normalise_company_name(customer.name))
    score = Decimal(f"{ratio:.1f}")
    if score >= NAME_MATCH_THRESHOLD:
        return Identity("payer_name", score, score / 100)
    return Identity("unconfirmed", score, score / 200)


def match_invoice(payment: Payment, open_invoices: list[Invoice]) -> InvoiceMatch:
    """Remittance reference first, then a unique exact amount, then the oldest due invoice."""
    pool = [i for i in open_invoices if i.currency == payment.currency and i.open_amount > 0]
    by_number = {i.number: i for i in pool}
    amount = payment.unapplied_amount
    for number in invoice_references(payment.remittance_text):
        if number in by_number:
            exact = by_number[number].open_amount == amount
            return InvoiceMatch(number, "remittance_and_amount" if exact else "remittance")
    same_amount = [i for i in pool if i.open_amount == amount]
    if len(same_amount) == 1:
        return InvoiceMatch(same_amount[0].number, "exact_amount")
    if pool:
        return InvoiceMatch(min(pool, key=lambda i: (i.due_on, i.number)).number, "oldest_due")
    return InvoiceMatch(None, "none")


def _payments(ctx: ServiceContext, customer: Customer, references: list[str]) -> list[Payment]:
    if not references:
        found = [p for p in ctx.finance.payments_of(customer.id) if p.unapplied_amount > 0]
        if not found:
            raise ServiceTaskError(f"customer {customer.id} has no payment with unapplied cash",
                                   error_code="payment_not_found", field="payment_references")
        return found
    payments: list[Payment] = []
    for reference in references:
        payment = ctx.finance.payment(reference)
        if payment is None:
            raise ServiceTaskError(f"payment {reference} does not exist", error_code="payment_not_found",
                                   field="payment_references")
        if payment.unapplied_amount <= 0:
            raise ServiceTaskError(f"payment {reference} is already fully applied",
                                   error_code="payment_already_applied", field="payment_references")
        payments.append(payment)
    return payments


def _evidence(ctx: ServiceContext, payment: Payment, customer: Customer) -> dict[str, Any]:
    identity = identify(payment, customer)
    found = match_invoice(payment, ctx.finance.open_invoices(customer.id))
    confidence = (found.confidence * identity.factor).quantize(Decimal("0.01"))
    threshold = Decimal(str(ctx.settings.payment_auto_apply_confidence))
    return {
        "payment_reference": payment.reference, "payer_name": payment.payer_name,
        "amount": str(payment.amount), "unapplied_amount": str(payment.unapplied_amount),
        "remittance_text": payment.remittance_text, "identified_by": identity.method,
        "name_score": str(identity.name_score), "matched_invoice": found.invoice,
        "match_method": found.method, "method_confidence": str(found.confidence),
        "match_confidence": str(confidence), "threshold": str(threshold),
        "auto_apply": found.invoice is not None and confidence >= threshold,
    }


def match_payments(ctx: ServiceContext, inputs: dict[str, Any]) -> dict[str, Any]:
    """Match the request's payments to open invoices and record the evidence."""
    customer = require_customer(ctx.finance, inputs["customer_id"])
    references = reference_list(inputs.get("payment_references"), "payment_references")
    payments = _payments(ctx, customer, references)
    evidence = [_evidence(ctx, payment, customer) for payment in payments]
    first, primary = payments[0], evidence[0]
    ctx.record.details["payment_match"] = {**primary, "other_payments": evidence[1:]}
    return {
        "payment_reference": first.reference,
        "payment_amount": first.unapplied_amount,
        "matched_invoice": primary["matched_invoice"],
        "match_confidence": float(primary["match_confidence"]),  # the contract's one float: a probability
        "match_method": primary["match_method"],
        "auto_apply": primary["auto_apply"],
    }


DEFINITION = ServiceTaskDefinition(
    topic="payment/match",
    title="Match a payment",
    description="Finds the open invoice a payment pays (remittance, exact amount, oldest due) with a confidence.",
    inputs=(
        Param("customer_id", "string", "The customer the request is about."),
        Param("payment_references", "list", "Payment references; empty means the customer's unapplied payments.",
              required=False),
    ),
    outputs=(
        Param("payment_reference", "string", "The payment matched."),
        Param("payment_amount", "decimal", "Its unapplied amount."),
        Param("matched_invoice", "string", "The invoice it pays, or None."),
        Param("match_confidence", "decimal", "0..1 (a float): method confidence x identity factor."),
        Param("match_method", "string", "remittance_and_amount | remittance | exact_amount | oldest_due | none"),
        Param("auto_apply", "boolean", "True when the confidence reaches the auto-apply threshold."),
    ),
    handler=match_payments,
)
