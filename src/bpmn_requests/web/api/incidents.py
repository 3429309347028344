"""/api/v1/incidents: steps that failed for good, and what an admin does about them (retry, skip with the
result the step should have given, or cancel the request). Admins only; every action is audited."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from ...usecases.incidents import (
    IncidentView,
    cancel_incident,
    incident_view,
    list_incidents,
    retry_incident,
    skip_incident,
)
from ...usecases.ports import Incident
from ..context import services
from .auth import api_user, authenticate, require_groups

blp = Blueprint("api_incidents", __name__, url_prefix="/api/v1/incidents",
                description="Incidents: failed steps, retried, skipped or cancelled by admins")
blp.before_request(authenticate)
ADMINS = frozenset({"admins"})
MAX_ID = 2**31 - 1  # incident ids are 32-bit: a larger one is no incident (404), never a database error


class IncidentSchema(Schema):
    id = fields.Integer(required=True)
    reference = fields.String(required=True, metadata={"description": "the request"})
    instance_id = fields.String(required=True)
    element_id = fields.String(allow_none=True, metadata={"description": "the step that failed"})
    error_code = fields.String(required=True)
    message = fields.String(required=True)
    data = fields.Dict(required=True, metadata={"description": "the process variables where it failed"})
    attempts = fields.Integer(required=True, metadata={"description": "failed tries before the incident"})
    created_at = fields.DateTime(required=True)
    open = fields.Boolean(required=True)
    resolved_at = fields.DateTime(allow_none=True)
    resolved_by = fields.String(allow_none=True)
    resolution = fields.String(allow_none=True, metadata={"enum": ["retried", "skipped", "cancelled"]})
    resolution_data = fields.Dict(allow_none=True, metadata={"description": "the skip's result, the cancel's reason"})
    request_status = fields.String(metadata={"description": "the request's status now (one incident)"})
    instance_status = fields.String(metadata={"description": "running, incident, completed or cancelled "
                                                             "(one incident)"})
    links = fields.Dict(keys=fields.String(), values=fields.String())


class IncidentListSchema(Schema):
    items = fields.List(fields.Nested(IncidentSchema), required=True, metadata={"description": "newest first"})


class IncidentQuerySchema(Schema):
    open = fields.Boolean(load_default=True, metadata={"description": "false: resolved ones too"})


class SkipSchema(Schema):
    result = fields.Dict(keys=fields.String(), required=True, metadata={
        "description": "the outputs the step should have given; the request goes on with them",
        "example": {"credit_score": 70, "risk_class": "B", "recommended_limit": "20000.00"}})


class CancelSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(1, 2000), metadata={
        "description": "why the request is cancelled (kept in the audit trail and the resolution)"})


def incident_json(incident: Incident, view: IncidentView | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": incident.id, "reference": incident.request_reference, "instance_id": incident.instance_id,
        "element_id": incident.element_id, "error_code": incident.error_code, "message": incident.message,
        "data": incident.data, "attempts": incident.attempts, "created_at": incident.created_at,
        "open": incident.open, "resolved_at": incident.resolved_at, "resolved_by": incident.resolved_by,
        "resolution": incident.resolution, "resolution_data": incident.resolution_data,
        "links": {"self": url_for("api_incidents.incident", incident_id=incident.id),
                  "request": url_for("api_requests.request_record", reference=incident.request_reference)}}
    if view is not None:
        body.update(request_status=view.request_status, instance_status=view.instance_status)
    return body


def _admin(doing: str) -> Any:
    user = api_user()
    require_groups(user, ADMINS, doing)
    return user


def _current(incident_id: int) -> dict[str, Any]:
    view = incident_view(incident_id, services())
    return incident_json(view.incident, view)


@blp.route("")
@blp.arguments(IncidentQuerySchema, location="query")
@blp.response(200, IncidentListSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(403, response="FORBIDDEN")
def incidents(query: dict[str, Any]) -> Any:
    """Incidents

    Open incidents (with `open=false` the resolved ones too), newest first: the request, the failed
    element, the error and the process variables at the failure. Needs the admins group.
    """
    _admin("read incidents")
    return {"items": [incident_json(i) for i in list_incidents(services(), open_only=query["open"])]}


@blp.route(f"/<int(min=1, max={MAX_ID}):incident_id>")
@blp.response(200, IncidentSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
def incident(incident_id: int) -> Any:
    """An incident

    The incident with the request's and the instance's status now. Needs the admins group.
    """
    _admin("read incidents")
    return _current(incident_id)


@blp.route(f"/<int(min=1, max={MAX_ID}):incident_id>/retry", methods=["POST"])
@blp.response(200, IncidentSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def retry(incident_id: int) -> Any:
    """Retry the failed step

    The step is due again now, with a fresh set of retries; a worker runs it. An incident already
    resolved is a 409. Needs the admins group.
    """
    retry_incident(incident_id, _admin("retry incidents"), services())
    return _current(incident_id)


@blp.route(f"/<int(min=1, max={MAX_ID}):incident_id>/skip", methods=["POST"])
@blp.arguments(SkipSchema)
@blp.response(200, IncidentSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def skip(data: dict[str, Any], incident_id: int) -> Any:
    """Skip the failed step

    The step completes with `result` as its outputs, without being called, and the request goes on in
    the same transaction (if it then fails elsewhere, nothing changes and the error is answered). Needs
    the admins group.
    """
    skip_incident(incident_id, data["result"], _admin("skip failed steps"), services())
    return _current(incident_id)


@blp.route(f"/<int(min=1, max={MAX_ID}):incident_id>/cancel", methods=["POST"])
@blp.arguments(CancelSchema)
@blp.response(200, IncidentSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(404, response="NOT_FOUND")
@blp.alt_response(409, response="CONFLICT")
def cancel(data: dict[str, Any], incident_id: int) -> Any:
    """Cancel the request

    Its instance and open tasks are cancelled and it is closed with outcome `cancelled` and the reason.
    Needs the admins group.
    """
    cancel_incident(incident_id, data["reason"], _admin("cancel requests"), services())
    return _current(incident_id)
