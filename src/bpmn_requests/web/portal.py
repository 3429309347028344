"""The customer portal: submit a request through its intake form, follow it with a private status link.

Thin: parse the post, call a use case of usecases/portal.py, render. Customers never sign in; a signed-in
agent may submit on a customer's behalf. Status pages are never cached and never indexed.
"""

from __future__ import annotations

import io
import secrets
from typing import Any

from flask import (
    Blueprint,
    Flask,
    Response,
    flash,
    make_response,
    redirect,
    render_template,
    request,
    send_file,
    session,
    url_for,
)
from flask_login import current_user
from werkzeug.datastructures import MultiDict

from ..domain.errors import Conflict, DuplicateRequest, ValidationFailed
from ..domain.notes import EXTENSIONS
from ..domain.users import User
from ..usecases import portal as use
from ..usecases import portal_answers as answers
from ..usecases.notes import Upload
from .context import services, staff, system
from .forms_render import parse_post, render_form

bp = Blueprint("portal", __name__, url_prefix="/portal")

TYPES = {
    "billing_dispute": ("Dispute an invoice", "An invoice is wrong: price, quantity, a missing discount."),
    "payment_issue": ("Report a payment problem", "We have not applied your payment, or applied it wrongly."),
    "credit_onboarding": ("Apply for trade credit", "Buy on account with a credit limit."),
    "credit_adjustment": ("Ask for a credit adjustment", "A refund credit, or a small balance written off."),
    "debt_restructuring": ("Ask to pay in installments", "Spread overdue invoices over monthly payments."),
}
OWN_FIELDS = ("csrf_token", "channel")  # posted beside the intake form's own fields
RECEIPT = "portal_receipt"


def _agent() -> User | None:
    """The signed-in agent who submits for a customer, or None for a customer."""
    if getattr(current_user, "is_authenticated", False) and staff().in_any(set(use.AGENT_GROUPS)):
        return staff()
    return None


def _uploads(name: str) -> tuple[Upload, ...]:
    return tuple(Upload(f.filename or "", f.read(), f.mimetype) for f in request.files.getlist(name) if f.filename)


def _limits() -> dict[str, Any]:
    settings = system().settings
    return {"max_mb": round(settings.max_upload_bytes / (1024 * 1024), 1),
            "accept": ",".join(sorted(EXTENSIONS)), "max_files": use.MAX_EVIDENCE_FILES,
            "extensions": ", ".join(e.lstrip(".").upper() for e in sorted(EXTENSIONS))}


@bp.get("/")
def index() -> Any:
    return render_template("portal/index.html", types=TYPES, agent=_agent())


@bp.route("/new/<request_type>", methods=["GET", "POST"])
def new(request_type: str) -> Any:
    form = use.intake_form(request_type, services())
    today = services().clock.today()
    agent = _agent()
    if request.method == "GET":
        return _new_page(request_type, render_form(form, {}, today=today), agent)
    posted = parse_post(form, MultiDict([(k, v) for k, v in request.form.items(multi=True) if k not in OWN_FIELDS]))
    submission = use.PortalSubmission(request_type, posted, _uploads("evidence"), agent,
                                      request.form.get("channel", "") if agent else "portal")
    try:
        receipt = use.submit_from_portal(submission, system().settings.upload_dir,
                                         system().settings.max_upload_bytes, services())
    except ValidationFailed as failed:
        fields = dict(failed.field_errors)
        problems = [fields.pop(name) for name in ("evidence", "file") if name in fields]
        channel_error = fields.pop("channel", None)
        if not (fields or problems or channel_error):  # not about one field: who the customer is
            problems.append(failed.message)
        return _new_page(request_type, render_form(form, {}, posted, fields, today=today), agent,
                         " ".join(problems) or None, channel_error=channel_error), 422
    except DuplicateRequest as duplicate:
        return _new_page(request_type, render_form(form, {}, posted, today=today), agent,
                         duplicate=duplicate.existing_reference), 409
    session[RECEIPT] = {"reference": receipt.reference, "token": receipt.status_token}
    return redirect(url_for("portal.submitted"))


def _new_page(request_type: str, rendered: Any, agent: User | None, problem: str | None = None,
              duplicate: str | None = None, channel_error: str | None = None) -> Any:
    title, _ = TYPES.get(request_type, (request_type.replace("_", " "), ""))
    return render_template("portal/new.html", request_type=request_type, title=title, rendered=rendered,
                           agent=agent, problem=problem, duplicate=duplicate, channel_error=channel_error,
                           channels=use.AGENT_CHANNELS, chosen=request.form.get("channel", ""), **_limits())


@bp.get("/submitted")
def submitted() -> Any:
    receipt = session.pop(RECEIPT, None)
    if not receipt:
        return redirect(url_for("portal.index"))
    link = url_for("portal.status", token=receipt["token"], _external=True)
    return _private(render_template("portal/submitted.html", reference=receipt["reference"], link=link,
                                    agent=_agent()))


def _private(body: Any, status: int = 200) -> Response:
    """A page that carries a status link: never cached, never indexed."""
    response = make_response(body, status)
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Robots-Tag"] = "noindex, nofollow"
    return response


def _status_page(token: str, status: int = 200, **state: Any) -> Response:
    view = use.status_of(token, services())
    answer = state.pop("answer", None)
    rendered = None
    if view.answer_form is not None:
        rendered = render_form(view.answer_form, {}, answer, state.pop("answer_errors", None),
                               today=services().clock.today())
    # A fresh id for each form shown: it is the message id of the answer, so a second send has no effect.
    return _private(render_template("portal/status.html", view=view, token=token, answer_form=rendered,
                                    types=TYPES, state=state, form_id=secrets.token_urlsafe(16), **_limits()),
                    status)


@bp.get("/status/<token>")
def status(token: str) -> Any:
    return _status_page(token)


def _done(token: str, message: str) -> Any:
    flash(message, "info")
    return redirect(url_for("portal.status", token=token))


ANSWER_OWN_FIELDS = ("csrf_token", "message_id", "files")  # posted beside the answer form's own fields
ALREADY = "We already have this answer: you sent this form before. There is nothing more to do."


@bp.post("/status/<token>/answer")
def answer(token: str) -> Any:
    form = use.status_of(token, services()).answer_form
    sent = MultiDict([(k, v) for k, v in request.form.items(multi=True) if k not in ANSWER_OWN_FIELDS])
    # Not waiting (any more): still asked, so that a second send of the same form is told so politely.
    posted = parse_post(form, sent) if form is not None else sent.to_dict()
    settings = system().settings
    try:
        done = answers.answer_question(token, posted, services(), form_id=request.form.get("message_id"),
                                       files=_uploads("files"), upload_dir=settings.upload_dir,
                                       max_bytes=settings.max_upload_bytes)
    except ValidationFailed as failed:
        fields = dict(failed.field_errors)
        files_error = fields.pop("file", None)
        stale = fields.pop("message_id", None)
        return _status_page(token, 422, answer=posted, answer_errors=fields, files_error=files_error,
                            problem=stale or (None if failed.field_errors else failed.message))
    except Conflict as gone:
        return _status_page(token, 409, problem=gone.message)
    if done.duplicate:
        return _done(token, ALREADY)
    attached = f" and {len(done.attached)} document{'' if len(done.attached) == 1 else 's'}" if done.attached else ""
    return _done(token, f"Thank you: we have your answer{attached} and continue with your request.")


@bp.post("/status/<token>/respond")
def respond(token: str) -> Any:
    choice, comment = request.form.get("decision", ""), request.form.get("comment", "")
    if choice not in ("accept", "reject"):
        return _status_page(token, 422, respond_error="Choose to accept or to reject the proposal.",
                            respond_comment=comment)
    try:
        done = answers.respond_to_proposal(token, choice == "accept", comment, services(),
                                           form_id=request.form.get("message_id"))
    except ValidationFailed as failed:
        return _status_page(token, 422, respond_error=failed.message, respond_comment=comment)
    except Conflict as gone:
        return _status_page(token, 409, problem=gone.message)
    if done.duplicate:
        return _done(token, ALREADY)
    return _done(token, "Thank you: you accepted our proposal." if choice == "accept" else
                 "Thank you: you rejected our proposal. We will look at your request again.")


@bp.post("/status/<token>/comments")
def comment(token: str) -> Any:
    body = request.form.get("body", "")
    try:
        use.comment_on(token, body, services())
    except ValidationFailed as failed:
        return _status_page(token, 422, comment_error=failed.message, comment_body=body)
    return _done(token, "Your comment was added.")


@bp.post("/status/<token>/attachments")
def upload(token: str) -> Any:
    files = _uploads("file")
    if not files:
        return _status_page(token, 422, upload_error="Choose a file to attach.")
    try:
        use.attach(token, files[0], system().settings.upload_dir, system().settings.max_upload_bytes, services())
    except ValidationFailed as failed:
        return _status_page(token, 422, upload_error=failed.message)
    return _done(token, f"{files[0].filename} was attached.")


@bp.get("/status/<token>/attachments/<attachment_id>")
def download(token: str, attachment_id: str) -> Any:
    attachment, content = use.attachment_of(token, attachment_id, system().settings.upload_dir, services())
    response = send_file(io.BytesIO(content), mimetype=attachment.content_type, as_attachment=True,
                         download_name=attachment.filename)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/status/<token>/rating")
def rate(token: str) -> Any:
    score, text = request.form.get("score", ""), request.form.get("comment", "")
    try:
        use.rate_service(token, score, text, services())
    except ValidationFailed as failed:
        return _status_page(token, 422, rating_error=failed.message, rating_comment=text)
    except Conflict as refused:
        return _status_page(token, 409, problem=refused.message)
    return _done(token, "Thank you for rating our service.")


def register(app: Flask) -> None:
    app.register_blueprint(bp)

