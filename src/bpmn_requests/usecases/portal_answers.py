"""The customer's answers on the status page: to a request for information (with documents) and to a
proposed resolution, delivered to the request waiting for them (`tasks.answer_for_customer`).

The page carries the id of the form the customer was shown; it becomes the message id, so sending the
same form twice (a double click, a reload that posts again) has one effect, and the second is told so.
Documents sent with an answer are checked before anything is written, attached to the request, and named
in the answer ("Attached: a.pdf, b.png"), so whoever reads the answer knows where to look; the answer's
variables stay those of its form.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..domain.errors import Conflict, ValidationFailed
from ..domain.requests import RequestRecord
from ..domain.users import customer_actor
from ..forms import validate_submission
from .context import Services
from .notes import Upload, add_attachment, check_upload
from .portal import MAX_EVIDENCE_FILES, customer_waits_for, record_of_link
from .tasks import CUSTOMER_ANSWER, CUSTOMER_DECISION, INFORMATION_FORM, answer_for_customer

ANSWER = "answer"  # the field of form customer_information that holds the customer's text
FORM_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
NOT_WAITING = "We are not waiting for {what} from you on this request."


@dataclass(frozen=True)
class Answered:
    reference: str
    duplicate: bool  # this form was sent before: nothing happened now
    attached: tuple[str, ...] = ()  # the documents attached with the answer, as stored


def message_id_of(record: RequestRecord, form_id: str | None) -> str | None:
    """The message id of an answer given on a form shown with `form_id` (None: no resend protection).

    Prefixed with the request, so no form id a customer sends can stand for another request's message."""
    if not form_id:
        return None
    if not FORM_ID.match(form_id):
        raise ValidationFailed("this form is out of date: reload the page and answer again", field="message_id")
    return f"portal:{record.reference}:{form_id}"


def _received(services: Services, message: str, message_id: str | None) -> bool:
    if message_id is None:
        return False
    with services.uow() as uow:
        return uow.messages.by_message_id(message, message_id) is not None


def _deliver(record: RequestRecord, message: str, data: Mapping[str, Any], message_id: str | None,
             what: str, services: Services) -> bool:
    """Deliver; False when this very message was received before (a resend of the same form)."""
    try:
        answer_for_customer(record.reference, message, data, services, message_id=message_id)
    except Conflict:
        if _received(services, message, message_id):  # the first send won a race with this one
            return False
        raise Conflict(NOT_WAITING.format(what=what)) from None
    return True


def respond_to_proposal(token: str, accept: bool, comment: str, services: Services, *,
                        form_id: str | None = None) -> Answered:
    """Accept or reject the proposed resolution (rejecting reopens the investigation)."""
    with services.uow() as uow:
        record = record_of_link(uow, token)
    message_id = message_id_of(record, form_id)
    if _received(services, CUSTOMER_DECISION, message_id):
        return Answered(record.reference, duplicate=True)
    data: dict[str, Any] = {"accept": accept}
    if comment.strip():
        data["comment"] = comment.strip()
    delivered = _deliver(record, CUSTOMER_DECISION, data, message_id, "an answer to a proposal", services)
    return Answered(record.reference, duplicate=not delivered)


def _with_names(answer: Mapping[str, Any], names: Sequence[str]) -> dict[str, Any]:
    """The answer naming the documents sent with it (documents alone are an answer too)."""
    text = str(answer.get(ANSWER) or "").strip()
    if not names:
        return dict(answer)
    attached = f"Attached: {', '.join(names)}"
    return {**answer, ANSWER: f"{text}\n\n{attached}" if text else attached}


def _check_answer(record: RequestRecord, answer: Mapping[str, Any], files: Sequence[Upload], max_bytes: int,
                  services: Services) -> None:
    """Refuse before anything is written: not waiting, too many or unacceptable files, an invalid answer."""
    with services.uow() as uow:
        waiting = customer_waits_for(uow, record)
        deployment = uow.deployments.get(uow.instances.for_request(record.reference).deployment_id)
    if CUSTOMER_ANSWER not in waiting:
        raise Conflict(NOT_WAITING.format(what="information"))
    if len(files) > MAX_EVIDENCE_FILES:
        raise ValidationFailed(f"attach at most {MAX_EVIDENCE_FILES} files", field="file")
    for upload in files:
        check_upload(upload, max_bytes)
    # Stored names are never longer than the names given, so an answer valid with these is valid as sent.
    given = [Path(f.filename).name for f in files]
    form = services.forms(deployment).get(INFORMATION_FORM)
    validate_submission(form, _with_names(answer, given), today=services.clock.today())


def answer_question(token: str, answer: Mapping[str, Any], services: Services, *, form_id: str | None = None,
                    files: Sequence[Upload] = (), upload_dir: Path | None = None, max_bytes: int = 0) -> Answered:
    """The customer's answer (form customer_information) to a request for information, with documents;
    the investigation continues."""
    with services.uow() as uow:
        record = record_of_link(uow, token)
    message_id = message_id_of(record, form_id)
    if _received(services, CUSTOMER_ANSWER, message_id):
        return Answered(record.reference, duplicate=True)
    try:
        _check_answer(record, answer, files, max_bytes, services)
    except Conflict:
        if _received(services, CUSTOMER_ANSWER, message_id):  # the same form, sent a moment earlier, won
            return Answered(record.reference, duplicate=True)
        raise
    customer = customer_actor(record.customer_id)
    names = []
    for upload in files:
        assert upload_dir is not None, "documents need the upload folder"
        names.append(add_attachment(record.reference, customer, upload, "customer", upload_dir, max_bytes,
                                    services).filename)
    delivered = _deliver(record, CUSTOMER_ANSWER, _with_names(answer, names), message_id, "information", services)
    return Answered(record.reference, duplicate=not delivered, attached=tuple(names))
