"""Admin pages for incidents: steps that failed for good, with the error, the element and the data at the
failure, and the three ways out (retry, skip with the result the step should have given, cancel the
request). Admins only; every form carries a CSRF token; every action is audited by its use case."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for

from ..domain.errors import Conflict, ServiceTaskError, ValidationFailed
from ..usecases.incidents import cancel_incident, incident_view, list_incidents, retry_incident, skip_incident
from .context import requires, services, staff

bp = Blueprint("incidents", __name__, url_prefix="/admin/incidents")
MAX_ID = 2**31 - 1  # incident ids are 32-bit: a larger one is no incident (404), never a database error


@bp.get("")
@requires("admins")
def index() -> Any:
    show_all = request.args.get("all") == "1"
    return render_template("admin/incidents.html", incidents=list_incidents(services(), open_only=not show_all),
                           show_all=show_all)


def _page(incident_id: int, status: int = 200, **form_state: Any) -> Any:
    view = incident_view(incident_id, services())
    data = json.dumps(view.incident.data, indent=2, sort_keys=True, default=str)
    return render_template("admin/incident.html", view=view, i=view.incident, data=data, **form_state), status


@bp.get(f"/<int(min=1, max={MAX_ID}):incident_id>")
@requires("admins")
def show(incident_id: int) -> Any:
    return _page(incident_id)


@bp.post(f"/<int(min=1, max={MAX_ID}):incident_id>/retry")
@requires("admins")
def retry(incident_id: int) -> Any:
    try:
        done = retry_incident(incident_id, staff(), services())
    except Conflict as gone:
        return _page(incident_id, 409, problem=gone.message)
    flash(f"The step {done.element_id or ''} of {done.request_reference} is due again; a worker runs it now.",
          "info")
    return redirect(url_for("incidents.show", incident_id=incident_id))


def parse_result(text: str) -> dict[str, Any]:
    """The skip form's JSON object (numbers with a fraction as Decimal, like every amount)."""
    try:
        result = json.loads(text or "{}", parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise ValidationFailed(f"not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                               field="result") from None
    if not isinstance(result, dict):
        raise ValidationFailed("the result must be a JSON object of the step's outputs, like "
                               '{"credit_score": 70}', field="result")
    return result


@bp.post(f"/<int(min=1, max={MAX_ID}):incident_id>/skip")
@requires("admins")
def skip(incident_id: int) -> Any:
    text = request.form.get("result", "")
    try:
        done = skip_incident(incident_id, parse_result(text), staff(), services())
    except (ValidationFailed, ServiceTaskError) as refused:
        return _page(incident_id, 422, skip_error=refused.message, skip_text=text)
    except Conflict as gone:
        return _page(incident_id, 409, problem=gone.message, skip_text=text)
    flash(f"The step {done.element_id} of {done.request_reference} was skipped with the result you gave; "
          f"the request went on.", "info")
    return redirect(url_for("incidents.show", incident_id=incident_id))


@bp.post(f"/<int(min=1, max={MAX_ID}):incident_id>/cancel")
@requires("admins")
def cancel(incident_id: int) -> Any:
    reason = request.form.get("reason", "")
    try:
        done = cancel_incident(incident_id, reason, staff(), services())
    except ValidationFailed as refused:
        return _page(incident_id, 422, cancel_error=refused.message, cancel_text=reason)
    except Conflict as gone:
        return _page(incident_id, 409, problem=gone.message, cancel_text=reason)
    flash(f"{done.request_reference} is cancelled and closed.", "info")
    return redirect(url_for("incidents.show", incident_id=incident_id))


def register(app: Flask) -> None:
    app.register_blueprint(bp)
