"""Request pages for staff: search, the whole record with where it stands, notes, comments and attachments."""

from __future__ import annotations

import io
import logging
from typing import Any

from flask import Blueprint, Flask, abort, flash, redirect, render_template, request, send_file, url_for
from markupsafe import Markup

from ..domain.errors import ValidationFailed
from ..domain.requests import CUSTOMER_STATUS, REQUEST_TYPES
from ..usecases.notes import Upload, add_attachment, add_note, attachments_of, notes_of, open_attachment
from ..usecases.queries import request_progress, search_requests, show_request
from .context import STAFF_GROUPS, requires, services, staff, system

bp = Blueprint("requests", __name__)
log = logging.getLogger(__name__)
PER_PAGE = 25


@bp.get("/requests")
@requires(*STAFF_GROUPS)
def search() -> Any:
    args = request.args
    text, customer = args.get("q", "").strip(), args.get("customer", "").strip()
    page, per_page = _number(args.get("page"), 1, 1, 10_000), _number(args.get("per_page"), PER_PAGE, 1, 100)
    found = search_requests(services(), text=text, customer=customer, status=args.get("status") or None,
                            type=args.get("type") or None, page=page, per_page=per_page)
    exact = [r for r in found["rows"] if r["reference"].lower() == text.lower()]
    if text and len(exact) == 1 and page == 1:
        return redirect(url_for("requests.show", ref=exact[0]["reference"]))
    return render_template("requests/search.html", found=found, args=args, statuses=sorted(CUSTOMER_STATUS),
                           types=REQUEST_TYPES, query={k: v for k, v in args.items() if k != "page" and v})


def _number(text: str | None, default: int, least: int, most: int) -> int:
    try:
        return min(max(int(text or default), least), most)
    except ValueError:
        return default


def _diagrams(reference: str) -> list[dict[str, Any]]:
    """Each process of the request: its SVG with completed and active elements, or the element lists."""
    try:
        from ..drawing import Highlights, render_svg
    except ImportError:  # the renderer is optional: without it the page lists the elements
        render_svg = Highlights = None  # type: ignore[assignment,misc]
    drawn = []
    for process in request_progress(reference, services())["processes"]:
        svg = None
        if render_svg is not None:
            try:
                highlights = Highlights(completed=set(process["completed"]), active=set(process["active"]))
                svg = Markup(render_svg(process["diagram"], highlights=highlights))  # our renderer escapes
            except Exception:  # a diagram we cannot draw must not hide the rest of the record
                log.exception("cannot draw %s of %s", process["file"], reference)
        drawn.append({**process, "svg": svg})
    return drawn


def _show(reference: str, status: int = 200, **form_state: Any) -> Any:
    record = show_request(reference, services())
    notes = notes_of(reference, services(), customer_view=False)
    return render_template(
        "requests/show.html", record=record, r=record, diagrams=_diagrams(reference),
        internal_notes=[n for n in notes if n.visibility == "internal"],
        comments=[n for n in notes if n.visibility == "customer"],
        attachments=attachments_of(reference, services(), customer_view=False),
        max_upload=system().settings.max_upload_bytes, **form_state), status


@bp.get("/requests/<ref>")
@requires(*STAFF_GROUPS)
def show(ref: str) -> Any:
    return _show(ref)


@bp.post("/requests/<ref>/notes")
@requires(*STAFF_GROUPS)
def note(ref: str) -> Any:
    visibility = request.form.get("visibility", "internal")
    body = request.form.get("body", "")
    try:
        add_note(ref, staff(), body, visibility, services())
    except ValidationFailed as failed:
        return _show(ref, 422, note_error=(visibility, failed.message), note_text={visibility: body})
    flash("Comment sent to the customer." if visibility == "customer" else "Work note added.", "info")
    return redirect(url_for("requests.show", ref=ref, _anchor="notes"))


@bp.post("/requests/<ref>/attachments")
@requires(*STAFF_GROUPS)
def upload(ref: str) -> Any:
    sent = request.files.get("file")
    visibility = request.form.get("visibility", "internal")
    if sent is None or not sent.filename:
        return _show(ref, 422, upload_error="Choose a file to attach.")
    settings = system().settings
    try:
        attachment = add_attachment(ref, staff(), Upload(sent.filename, sent.read(), sent.mimetype), visibility,
                                    settings.upload_dir, settings.max_upload_bytes, services())
    except ValidationFailed as failed:
        return _show(ref, 422, upload_error=failed.message)
    flash(f"Attached {attachment.filename}.", "info")
    return redirect(url_for("requests.show", ref=ref, _anchor="attachments"))


@bp.get("/attachments/<attachment_id>")
@requires(*STAFF_GROUPS)
def attachment(attachment_id: str) -> Any:
    if not attachment_id.isalnum():
        abort(404)
    found, content = open_attachment(attachment_id, staff(), system().settings.upload_dir, services())
    response = send_file(io.BytesIO(content), mimetype=found.content_type, as_attachment=True,
                         download_name=found.filename, max_age=0)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response


def register(app: Flask) -> None:
    app.register_blueprint(bp)
