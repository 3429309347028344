"""`ledger/post`: book an approved financial change (credit memo, payment application, ...) once.

Contract (processes/README.md):
  inputs   action (credit_memo | debit_memo | payment_application | write_off | credit_limit_change |
           installment_plan), action_amount (Decimal > 0), approval_level (int); optional
           target_invoice, payment_reference, reason_code, plan_installments (int), first_due_date (ISO
           date or date), invoice_numbers (list).
  outputs  posting_number (CM-000001, ...).
  errors   BusinessRuleViolation when no approval covers the action and amount: nothing is posted
           before its approval. ServiceTaskError: invalid_action, invalid_input, missing_input, and
           the gateway's refusals (amount_exceeds_open_balance, invoice_not_found, ...).
  record   resolution["adjustments"]: one JSON-friendly entry per posting (kind, number, amount, invoice,
           approval id, at), added once however often the step runs.

The amount is what moves: a credit memo correcting $12,500.00 to $11,800.00 posts $700.00; a credit
limit change posts the new limit. The idempotency key is request:approval:action, so a retried step,
or a re-run after a crash, returns the first posting instead of booking again.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ..domain import ledger
from ..domain.approvals import approval_for_posting
from ..domain.errors import ServiceTaskError
from ..domain.finance import Posting, PostingRequest
from .invoice_lookup import amount_input, reference_list
from .registry import Param, ServiceContext, ServiceTaskDefinition

# Inputs each action cannot do without, beyond action, action_amount and approval_level.
REQUIRED_FOR = {
    "credit_memo": ("target_invoice",),
    "debit_memo": ("target_invoice",),
    "write_off": ("target_invoice",),
    "payment_application": ("target_invoice", "payment_reference"),
    "credit_limit_change": (),
    "installment_plan": ("plan_installments", "first_due_date"),
}


def _text(value: object) -> str | None:
    """An optional text input; blank means absent."""
    text = "" if value is None else str(value).strip()
    return text or None


def _integer(value: object, field: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str | Decimal):
        raise ServiceTaskError(f"{field} must be a whole number, got {value!r}", error_code="invalid_input",
                               field=field)
    try:
        number = Decimal(str(value).strip())
    except ArithmeticError:
        number = Decimal("NaN")
    if not number.is_finite() or number != number.to_integral_value():
        raise ServiceTaskError(f"{field} must be a whole number, got {value!r}", error_code="invalid_input",
                               field=field)
    return int(number)


def _date(value: object, field: str) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise ServiceTaskError(f"{field} must be an ISO date (YYYY-MM-DD), got {value!r}",
                               error_code="invalid_input", field=field) from None


def _check_inputs(action: str, inputs: dict[str, Any]) -> None:
    if action not in REQUIRED_FOR:
        raise ServiceTaskError(f"action {action!r} cannot be posted; expected one of {', '.join(REQUIRED_FOR)}",
                               error_code="invalid_action", field="action")
    missing = [name for name in REQUIRED_FOR[action] if inputs.get(name) in (None, "")]
    if missing:
        raise ServiceTaskError(f"ledger/post: a {action} needs {', '.join(missing)}",
                               error_code="missing_input", field=missing[0])


def _schedule(action: str, amount: Decimal, inputs: dict[str, Any]) -> tuple[tuple[date, Decimal], ...]:
    if action != "installment_plan":
        return ()
    count = _integer(inputs["plan_installments"], "plan_installments")
    try:
        return ledger.installment_schedule(amount, count, _date(inputs["first_due_date"], "first_due_date"))
    except ServiceTaskError as error:
        raise ServiceTaskError(error.message, error_code=error.error_code, field="plan_installments") from None


def _adjustment(posting: Posting) -> dict[str, Any]:
    return {"kind": posting.kind, "number": posting.number, "amount": str(posting.amount),
            "currency": posting.currency, "invoice": posting.invoice_number,
            "payment": posting.payment_reference, "reason_code": posting.reason_code,
            "approval_id": posting.approval_id, "at": posting.posted_at.isoformat()}


def post_to_ledger(ctx: ServiceContext, inputs: dict[str, Any]) -> dict[str, Any]:
    """Post the approved action once and note it in the request's resolution."""
    action = str(inputs["action"]).strip()
    _check_inputs(action, inputs)
    amount = amount_input(inputs["action_amount"], "action_amount")
    level = _integer(inputs["approval_level"], "approval_level")
    # Raises when no approval covers exactly this action and amount: nothing is posted before it.
    approval = approval_for_posting(ctx.record, required_level=level, action=action, amount=amount)
    request = PostingRequest(
        kind=action, request_reference=ctx.record.reference, approval_id=approval.id,
        customer_id=ctx.record.customer_id, amount=amount, currency=ctx.record.currency,
        idempotency_key=f"{ctx.record.reference}:{approval.id}:{action}",
        invoice_number=_text(inputs.get("target_invoice")),
        payment_reference=_text(inputs.get("payment_reference")),
        reason_code=_text(inputs.get("reason_code")),
        installments=_schedule(action, amount, inputs),
        invoice_numbers=tuple(reference_list(inputs.get("invoice_numbers"), "invoice_numbers")))
    posting = ctx.finance.post(request, ctx.clock.now())
    adjustments: list[dict[str, Any]] = ctx.record.resolution.setdefault("adjustments", [])
    if not any(entry.get("number") == posting.number for entry in adjustments):
        adjustments.append(_adjustment(posting))
    return {"posting_number": posting.number}


DEFINITION = ServiceTaskDefinition(
    topic="ledger/post",
    title="Post to the ledger",
    description="Books an approved credit memo, debit memo, payment application, write-off, credit limit "
                "change or installment plan, once per approval.",
    inputs=(
        Param("action", "string", "credit_memo | debit_memo | payment_application | write_off | "
                                  "credit_limit_change | installment_plan"),
        Param("action_amount", "decimal", "The amount that moves (the new limit for a credit limit change)."),
        Param("approval_level", "integer", "The approval level the action needs (0 = automatic)."),
        Param("target_invoice", "string", "The invoice the action changes.", required=False),
        Param("payment_reference", "string", "The payment to apply.", required=False),
        Param("reason_code", "string", "Why (a reason code from the review form).", required=False),
        Param("plan_installments", "integer", "Number of monthly installments of a plan.", required=False),
        Param("first_due_date", "date", "Due date of a plan's first installment.", required=False),
        Param("invoice_numbers", "list", "The invoices a plan restructures.", required=False),
    ),
    outputs=(Param("posting_number", "string", "The posting's number, e.g. CM-000001."),),
    handler=post_to_ledger,
)
