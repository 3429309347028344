"""`notify/customer`: queue a message to the customer in the outbox (delivered by SMTP when configured).

The outbox key is the request, the template and the step, so a retried step never queues twice.
Messages never name internal facts (approvers, KYC evidence, work notes).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..domain.errors import ServiceTaskError
from ..domain.ports import OutboxMessage
from ..domain.requests import RequestRecord
from .registry import Param, ServiceContext, ServiceTaskDefinition

TEMPLATES: dict[str, tuple[str, str]] = {
    "request_received": ("We received your request {ref}",
                         "Dear {name},\n\nwe received your request {ref} ({kind}) and will answer "
                         "within our service target. You can follow it with your status link.\n"),
    "resolution_proposed": ("Proposed resolution for {ref}",
                            "Dear {name},\n\nwe propose to resolve your request {ref} as follows: {summary}. "
                            "Please accept or reject the proposal from your status page.\n"),
    "request_rejected": ("Your request {ref}",
                         "Dear {name},\n\nafter review we could not grant your request {ref}: the "
                         "documents we hold are correct. Reply if you have new information.\n"),
    "request_declined": ("Your request {ref}",
                         "Dear {name},\n\nwe are unable to process your request {ref}. "
                         "Our team will contact you if anything further is needed.\n"),
    "information_requested": ("We need information for your request {ref}",
                              "Dear {name},\n\nto continue with your request {ref} we need the following "
                              "from you:\n\n{question}\n\nPlease answer from your status page.\n"),
    "request_closed_no_response": ("Request {ref} closed without your answer",
                                   "Dear {name},\n\nwe asked you for information about your request {ref} and "
                                   "did not receive an answer in time, so we have closed it. You are welcome to "
                                   "submit a new request with the information at any time.\n"),
    "request_closed": ("Request {ref} closed",
                       "Dear {name},\n\nyour request {ref} is closed. Thank you; you can rate our "
                       "service from your status page.\n"),
}

ACTION_WORDS = {
    "credit_memo": "a credit note of {amount} on invoice {invoice}",
    "debit_memo": "an additional charge of {amount} on invoice {invoice}",
    "payment_application": "your payment applied to invoice {invoice}",
    "write_off": "a write-off of {amount} on invoice {invoice}",
    "credit_limit_change": "a credit limit of {amount}",
    "installment_plan": "an installment plan for {amount}",
}


def _summary(data: dict[str, Any], record: RequestRecord) -> str:
    words = ACTION_WORDS.get(str(data.get("action")), "the actions described in your status page")
    return words.format(amount=f"{record.currency} {data.get('action_amount')}", invoice=data.get("target_invoice"))


def _question(data: Mapping[str, Any]) -> str:
    """The investigator's question, as written for the customer (information_requested)."""
    question = str(data.get("question") or "").strip()
    return question or "the details our team will contact you about"


def notify(ctx: ServiceContext, inputs: dict[str, Any]) -> dict[str, Any]:
    template = str(inputs["template"])
    if template not in TEMPLATES:
        raise ServiceTaskError(f"template: no message template {template!r} (known: {', '.join(TEMPLATES)})",
                               error_code="unknown_template", field="template")
    record = ctx.record
    customer = ctx.finance.customer(record.customer_id)
    name = customer.name if customer else record.customer_id
    subject, body = TEMPLATES[template]
    values = {"ref": record.reference, "name": name, "kind": record.type.replace("_", " "),
              "summary": _summary(dict(ctx.data), record), "question": _question(ctx.data)}
    key = f"{record.reference}:{template}:{ctx.step_key}"
    ctx.outbox.add(OutboxMessage(key=key, request_reference=record.reference, customer_id=record.customer_id,
                                 to=customer.email if customer else None, template=template,
                                 subject=subject.format(**values), body=body.format(**values),
                                 created_at=ctx.clock.now()))
    return {"message_key": key}


DEFINITION = ServiceTaskDefinition(
    topic="notify/customer", title="Notify customer",
    description="Queues a message to the customer in the outbox; delivered by SMTP when configured.",
    inputs=(Param("template", "string", f"one of {', '.join(TEMPLATES)}"),),
    outputs=(Param("message_key", "string", "the outbox key"),),
    handler=notify,
)
