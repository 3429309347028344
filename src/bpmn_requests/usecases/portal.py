"""The customer portal: intake through the type's Camunda Form, private status links, what a customer sees.

A customer proves who they are with their customer number and the email address on file (one answer for
an unknown customer and a wrong address); a signed-in agent submits on a customer's behalf without it.
Everything is checked before anything is written. The request is then created by `submit_request`, the
one submit path, in its own transaction; the status link and the evidence follow in theirs (a failure
there leaves a valid request that staff handle and that the duplicate check names).

A status link is a random token shown once; only its sha256 is stored. What the status page shows is built
from a whitelist: customer-visible status names, the messages sent to the customer, the customer's own
actions, comments and attachments marked for the customer. Never work notes, KYC, approvers or amounts of
internal steps.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from ..domain.audit import AuditEvent
from ..domain.errors import Conflict, Forbidden, NotFound, ServiceTaskError, ValidationFailed
from ..domain.notes import Attachment
from ..domain.ports import OutboxMessage
from ..domain.requests import REQUEST_TYPES, RequestRecord, customer_status
from ..domain.users import CUSTOMER_GROUP, User, customer_actor
from ..forms import FormDefinition, validate_submission
from .context import Services
from .notes import Upload, add_attachment, add_note, check_upload, open_attachment
from .ports import HumanTask, PortalLink, ServiceRating, UnitOfWork
from .submit import SubmitRequest, submit_request
from .tasks import CUSTOMER_ANSWER, CUSTOMER_DECISION, INFORMATION_FORM

AGENT_GROUPS = frozenset({"agents", "admins"})
AGENT_CHANNELS = ("phone", "email")
MAX_EVIDENCE_FILES = 5
MAX_RATING_COMMENT = 2000
TOKEN = re.compile(r"^[A-Za-z0-9_-]{43}$")  # secrets.token_urlsafe(32)
NO_SUCH_LINK = "This status link is not valid. Use the link from your confirmation, or contact us."
NOT_CONFIRMED = ("We could not confirm who you are: check your customer number and the email address "
                 "our invoices are sent to.")
SPLIT = re.compile(r"[\s,;]+")


def intake_form_id(request_type: str) -> str:
    if request_type not in REQUEST_TYPES:
        raise NotFound(f"there is no request type {request_type!r}")
    return f"intake_{request_type}"


def intake_form(request_type: str, services: Services) -> FormDefinition:
    """The intake form of a request type, from the active deployment."""
    form_id = intake_form_id(request_type)
    with services.uow() as uow:
        deployment = uow.deployments.active()
    if deployment is None:
        raise NotFound("the portal is not open yet: no process version is deployed")
    return services.forms(deployment).get(form_id)


@dataclass(frozen=True)
class PortalSubmission:
    request_type: str
    data: Mapping[str, Any]  # the intake form's fields as posted
    evidence: tuple[Upload, ...] = ()
    agent: User | None = None  # a signed-in agent submitting on the customer's behalf
    channel: str = "portal"  # an agent's: phone or email


@dataclass(frozen=True)
class PortalReceipt:
    reference: str
    status_token: str  # shown once; only its sha256 is stored
    customer_status: str


def submit_from_portal(sub: PortalSubmission, upload_dir: Path, max_bytes: int, services: Services) -> PortalReceipt:
    """Check the form, the customer (or the agent) and the evidence; submit; open the status link; attach."""
    cleaned = validate_submission(intake_form(sub.request_type, services), sub.data, today=services.clock.today())
    if len(sub.evidence) > MAX_EVIDENCE_FILES:
        raise ValidationFailed(f"attach at most {MAX_EVIDENCE_FILES} files", field="evidence")
    for upload in sub.evidence:
        check_upload(upload, max_bytes)
    customer_id = str(cleaned.get("customer_id") or "").strip().upper()
    if sub.agent is None:
        _confirm_customer(customer_id, str(cleaned.get("contact_email") or ""), services)
        actor, channel = customer_actor(customer_id), "portal"
    else:
        _check_agent(sub.agent, sub.channel)
        actor, channel = sub.agent, sub.channel
    try:
        submitted = submit_request(SubmitRequest(intake_data(sub.request_type, cleaned, customer_id, channel),
                                                 actor.username, channel), services)
    except ServiceTaskError as exc:
        raise _as_field_error(exc, for_customer=sub.agent is None) from None
    token = open_status_link(submitted.reference, actor.username, services)
    for upload in sub.evidence:
        add_attachment(submitted.reference, actor, upload, "customer", upload_dir, max_bytes, services)
    return PortalReceipt(submitted.reference, token, submitted.customer_status)


def intake_data(request_type: str, cleaned: Mapping[str, Any], customer_id: str, channel: str) -> dict[str, Any]:
    """The cleaned intake form as a request of domain/intake.py (lists split, numbers as text)."""
    data: dict[str, Any] = {"type": request_type, "customer_id": customer_id, "channel": channel,
                            "description": cleaned.get("description")}
    for name in ("invoice_numbers", "payment_references"):
        codes = [code for code in SPLIT.split(str(cleaned.get(name) or "")) if code]
        if codes:
            data[name] = codes
    for name in ("disputed_amount", "requested_limit"):
        if cleaned.get(name) is not None:
            data[name] = str(cleaned[name])
    if cleaned.get("installments") is not None:
        data["installments"] = int(cleaned["installments"])
    if cleaned.get("adjustment_kind"):
        data["adjustment_kind"] = cleaned["adjustment_kind"]
    return data


def _confirm_customer(customer_id: str, email: str, services: Services) -> None:
    with services.uow() as uow:
        customer = uow.finance.customer(customer_id)
    on_file = (customer.email or "") if customer is not None else ""
    given = email.strip().lower()
    # Compared in constant time, and refused the same way whether the customer or the address is wrong.
    if not (hmac.compare_digest(on_file.strip().lower().encode(), given.encode()) and given and on_file):
        raise ValidationFailed(NOT_CONFIRMED)


def _check_agent(agent: User, channel: str) -> None:
    if not agent.in_any(set(AGENT_GROUPS)):
        raise Forbidden(f"{agent.username} may not submit requests for customers: only agents")
    if channel not in AGENT_CHANNELS:
        raise ValidationFailed(f"channel must be one of {', '.join(AGENT_CHANNELS)}", field="channel")


def _as_field_error(exc: ServiceTaskError, *, for_customer: bool) -> ValidationFailed:
    """A refusal of the intake checks as a form error; a customer is not told whether someone else's
    invoice or payment exists."""
    if for_customer and exc.field == "invoice_numbers":
        return ValidationFailed("one of these is not an invoice of yours: check the numbers", field=exc.field)
    if for_customer and exc.field == "payment_references":
        return ValidationFailed("one of these is not a payment of yours: check the references", field=exc.field)
    return ValidationFailed(exc.message.removeprefix(f"{exc.field}: "), field=exc.field)


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("ascii")).hexdigest()


def open_status_link(reference: str, actor: str, services: Services) -> str:
    """A new private status link for a request: returns the token (shown once), stores its sha256."""
    token = secrets.token_urlsafe(32)
    with services.uow() as uow:
        uow.requests.get(reference)
        uow.portal_links.add(PortalLink(_digest(token), reference, services.clock.now()))
        uow.audit.record(actor, "portal.link_opened", reference, None, {"link": _digest(token)[:12]})
        uow.commit()
    return token


def record_of_link(uow: UnitOfWork, token: str) -> RequestRecord:
    """The request of a status link; one NotFound for a malformed, unknown or revoked link."""
    link = uow.portal_links.get(_digest(token)) if TOKEN.match(token or "") else None
    if link is None or link.revoked_at is not None:
        raise NotFound(NO_SUCH_LINK)
    return uow.requests.get(link.request_reference)


def _request_of(token: str, services: Services) -> tuple[RequestRecord, list[HumanTask]]:
    with services.uow() as uow:
        record = record_of_link(uow, token)
        return record, uow.tasks.open_for_request(record.reference)


# --- the status page: a whitelist of what a customer may see ----------------------------------------

# What each message to the customer adds to the history.
MESSAGE_EVENTS = {
    "request_received": "We confirmed that we received your request",
    "information_requested": "We asked you for information",
    "resolution_proposed": "We proposed a resolution",
    "request_rejected": "We could not grant your request",
    "request_declined": "We are unable to process your request",
    "request_closed": "We closed your request",
    "request_closed_no_response": "We closed your request because we did not receive your answer",
}
OUTCOMES = {"resolved": "Resolved", "rejected": "Not granted", "no_response": "Closed without your answer",
            "cancelled": "Cancelled"}
CUSTOMER_MESSAGES = (CUSTOMER_ANSWER, CUSTOMER_DECISION)


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    text: str


@dataclass(frozen=True)
class Comment:
    at: datetime
    from_customer: bool
    body: str


@dataclass(frozen=True)
class CustomerView:
    reference: str
    type: str
    status: str  # the customer-visible status name
    submitted_at: datetime
    closed: bool
    outcome: str | None  # Resolved / Not granted, once closed
    history: tuple[HistoryEntry, ...]
    description: str  # what the customer wrote, and the references they gave
    details: tuple[tuple[str, str], ...]
    messages: tuple[OutboxMessage, ...]  # written for the customer (notify/customer never names internals)
    comments: tuple[Comment, ...]
    attachments: tuple[Attachment, ...]  # those marked for the customer
    question: str | None  # a request for information waiting for the answer
    answer_form: FormDefinition | None  # its form, from the request's own deployed version
    proposal: str | None  # the proposed resolution waiting for the answer
    rating: ServiceRating | None

    @property
    def may_rate(self) -> bool:
        return self.closed and self.rating is None


def _history(record: RequestRecord, events: list[AuditEvent], messages: dict[str, OutboxMessage],
             customer: str) -> list[HistoryEntry]:
    # The submission comes first although the first service tasks run (and are audited) before it is recorded.
    entries = [HistoryEntry(record.submitted_at, "Request submitted")]
    shown_status = customer_status("submitted")
    # Service tasks run (and are audited) before the task completion that set them off is recorded: the
    # customer's own answer is shown before what followed from it.
    run_start = len(entries)
    for event in events:
        after = event.after or {}
        text = None
        if event.action == "task.completed" and event.actor == customer:
            entries.insert(run_start, HistoryEntry(event.at, _answered(after.get("data") or {})))
        elif event.action == "message.delivered" and after.get("message") in CUSTOMER_MESSAGES:
            # The customer's answer delivered to a receive task (sent by the customer, or by an agent for them).
            entries.insert(run_start, HistoryEntry(event.at, _answered(after.get("variables") or {})))
        elif event.action == "request.updated" and customer_status(str(after.get("status"))) != shown_status:
            shown_status = customer_status(str(after.get("status")))
            text = f"Status: {shown_status}"
        elif event.action == "service:notify/customer":
            message = messages.get(str((after.get("outputs") or {}).get("message_key")))
            text = MESSAGE_EVENTS.get(message.template) if message else None
        elif event.action == "portal.rated":
            text = "You rated our service"
        if text and entries[-1].text != text:
            entries.append(HistoryEntry(event.at, text))
        if not event.action.startswith("service:"):
            run_start = len(entries)
    return entries


def _answered(data: Mapping[str, Any]) -> str:
    if "answer" in data:
        return "You answered our question"
    return "You accepted the proposed resolution" if data.get("accept") else "You declined the proposed resolution"


DETAILS = (("invoice_numbers", "Invoices"), ("payment_references", "Payments"), ("disputed_amount", "Amount"),
           ("requested_limit", "Credit limit asked for"), ("installments", "Installments"),
           ("adjustment_kind", "Asked for"))


def _details(record: RequestRecord) -> tuple[tuple[str, str], ...]:
    """The references and amounts the customer gave at intake (record.details holds only those)."""
    shown = []
    for key, label in DETAILS:
        value = record.details.get(key)
        if value in (None, "", []):
            continue
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        elif key in ("disputed_amount", "requested_limit"):
            value = f"{record.currency} {value}"
        elif key == "adjustment_kind":
            value = {"refund": "a refund credit", "write_off": "a write-off"}.get(str(value), value)
        shown.append((label, str(value)))
    return tuple(shown)


def customer_waits_for(uow: UnitOfWork, record: RequestRecord) -> set[str]:
    """The customer answers the request waits for now: messages its receive tasks wait for, or the forms
    of its customer tasks (versions before receive tasks), both named as messages."""
    instance = uow.instances.for_request(record.reference)
    waiting = {s.message for s in uow.subscriptions.for_instance(instance.id)}
    for task in uow.tasks.open_for_request(record.reference):
        if CUSTOMER_GROUP in task.candidate_groups:
            waiting.add(CUSTOMER_ANSWER if task.form_id == INFORMATION_FORM else CUSTOMER_DECISION)
    return waiting


def _open_question(record: RequestRecord, waiting: set[str]) -> str | None:
    if CUSTOMER_ANSWER not in waiting:
        return None
    asked = [s.data.get("question") for s in record.steps if s.data.get("decision") == "need_info"]
    return str(asked[-1]) if asked and asked[-1] else "Please tell us more about your request."


def build_view(uow: UnitOfWork, record: RequestRecord) -> CustomerView:
    customer = customer_actor(record.customer_id).username
    messages = uow.outbox.for_request(record.reference)
    waiting = customer_waits_for(uow, record)
    proposals = [m.body for m in messages if m.template == "resolution_proposed"]
    return CustomerView(
        reference=record.reference, type=record.type, status=customer_status(record.status),
        submitted_at=record.submitted_at, closed=record.status == "closed",
        outcome=OUTCOMES.get(record.outcome or "") if record.status == "closed" else None,
        history=tuple(_history(record, uow.audit.for_subject(record.reference), {m.key: m for m in messages},
                               customer)),
        description=record.description, details=_details(record),
        messages=tuple(messages),
        comments=tuple(Comment(n.created_at, n.author == customer, n.body)
                       for n in uow.notes.for_request(record.reference) if n.visibility == "customer"),
        attachments=tuple(a for a in uow.attachments.for_request(record.reference) if a.visibility == "customer"),
        question=_open_question(record, waiting), answer_form=None,
        proposal=(proposals[-1] if proposals else "") if CUSTOMER_DECISION in waiting else None,
        rating=uow.ratings.get(record.reference))


def status_of(token: str, services: Services) -> CustomerView:
    """What the customer sees of their request (the status page)."""
    with services.uow() as uow:
        record = record_of_link(uow, token)
        view = build_view(uow, record)
        if view.question is None:
            return view
        deployment = uow.deployments.get(uow.instances.for_request(record.reference).deployment_id)
    return replace(view, answer_form=services.forms(deployment).get(INFORMATION_FORM))


def comment_on(token: str, body: str, services: Services) -> None:
    record, _ = _request_of(token, services)
    add_note(record.reference, customer_actor(record.customer_id), body, "customer", services)


def attach(token: str, upload: Upload, upload_dir: Path, max_bytes: int, services: Services) -> None:
    record, _ = _request_of(token, services)
    add_attachment(record.reference, customer_actor(record.customer_id), upload, "customer", upload_dir,
                   max_bytes, services)


def attachment_of(token: str, attachment_id: str, upload_dir: Path,
                  services: Services) -> tuple[Attachment, bytes]:
    """An attachment of this link's request that the customer may see, with its bytes."""
    with services.uow() as uow:
        record = record_of_link(uow, token)
        found = [a for a in uow.attachments.for_request(record.reference)
                 if a.id == attachment_id and a.visibility == "customer"]
    if not found:
        raise NotFound("no such attachment")
    return open_attachment(attachment_id, customer_actor(record.customer_id), upload_dir, services)


def rate_service(token: str, score: Any, comment: str, services: Services) -> ServiceRating:
    """Rate a closed request from 1 to 5, once."""
    text = (comment or "").strip()
    if isinstance(score, bool) or str(score).strip() not in {"1", "2", "3", "4", "5"}:
        raise ValidationFailed("choose a rating from 1 to 5", field="score")
    if len(text) > MAX_RATING_COMMENT:
        raise ValidationFailed(f"the comment is longer than {MAX_RATING_COMMENT} characters", field="comment")
    with services.uow() as uow:
        record = record_of_link(uow, token)
        if record.status != "closed":
            raise Conflict("You can rate our service once your request is closed.")
        if uow.ratings.get(record.reference) is not None:
            raise Conflict("You have rated this request already. Thank you!")
        rating = ServiceRating(record.reference, int(str(score).strip()), text, services.clock.now())
        uow.ratings.add(rating)
        uow.audit.record(customer_actor(record.customer_id).username, "portal.rated", record.reference, None,
                         {"score": rating.score})
        uow.commit()
    return rating
