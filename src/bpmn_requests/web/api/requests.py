"""/api/v1/requests: create a request (idempotently with a key), read one, search with pages."""

from __future__ import annotations

from typing import Any

from flask import request, url_for
from flask_smorest import Blueprint

from ...domain.requests import customer_status
from ...usecases.queries import list_requests, show_request
from ...usecases.submit import SubmitRequest, Submitted, body_digest, submit_request
from ..context import services
from .auth import INTAKE_GROUPS, api_user, authenticate, require_groups
from .schemas import (
    IdempotencyHeaderSchema,
    RequestCreateSchema,
    RequestPageSchema,
    RequestQuerySchema,
    RequestRecordSchema,
    SubmittedSchema,
)
from .tasks import task_json

blp = Blueprint("api_requests", __name__, url_prefix="/api/v1/requests",
                description="Customer requests: create, read, search")
blp.before_request(authenticate)


def request_links(reference: str) -> dict[str, str]:
    return {"self": url_for("api_requests.request_record", reference=reference),
            "audit": url_for("api_audit.audit_trail", reference=reference)}


def submitted_json(result: Submitted) -> dict[str, Any]:
    return {"reference": result.reference, "status": result.status, "customer_status": result.customer_status,
            "tasks": [task_json(t) for t in result.opened_tasks], "links": request_links(result.reference)}


@blp.route("", methods=["POST"])
@blp.arguments(IdempotencyHeaderSchema, location="headers", as_kwargs=True)
@blp.arguments(RequestCreateSchema)
@blp.response(201, SubmittedSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(403, response="FORBIDDEN")
@blp.alt_response(409, response="CONFLICT")
def create_request(data: dict[str, Any], idempotency_key: str | None = None) -> Any:
    """Create a request

    Runs the request to its first wait state and answers with its reference and the tasks it opened.
    Needs the agents group. A duplicate (same customer and invoice or payment as an open request) is
    refused with 409 `duplicate` and `existing_reference`.
    """
    user = api_user()
    require_groups(user, INTAKE_GROUPS, "create requests")
    result = submit_request(SubmitRequest(data, user.username, "api", idempotency_key=idempotency_key,
                                          body_sha256=body_digest(request.get_json(silent=True))), services())
    headers = {"Location": url_for("api_requests.request_record", reference=result.reference)}
    if result.replayed:
        headers["Idempotent-Replayed"] = "true"
    return submitted_json(result), 201, headers


@blp.route("/<reference>")
@blp.response(200, RequestRecordSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(404, response="NOT_FOUND")
def request_record(reference: str) -> Any:
    """Read a request

    The whole record: customer, financial references with open balances, KYC, approvals, steps,
    postings, resolution, open tasks and audit trail.
    """
    view = show_request(reference, services())
    view["links"] = request_links(reference)
    return view


@blp.route("")
@blp.arguments(RequestQuerySchema, location="query")
@blp.response(200, RequestPageSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
def search_requests(query: dict[str, Any]) -> Any:
    """Search requests

    Newest first, `page_size` per page. The body carries `page` (page, page_size, has_next) and
    `links` (self, and next and prev when there are such pages).
    """
    page, size = query["page"], query["page_size"]
    filters = {k: query[k] for k in ("status", "type", "customer_id") if query.get(k)}
    rows = list_requests(services(), limit=size + 1, offset=(page - 1) * size, **filters)
    items = [dict(row, customer_status=customer_status(row["status"]), links=request_links(row["reference"]))
             for row in rows[:size]]
    links = {"self": url_for("api_requests.search_requests", page=page, page_size=size, **filters)}
    if len(rows) > size:
        links["next"] = url_for("api_requests.search_requests", page=page + 1, page_size=size, **filters)
    if page > 1:
        links["prev"] = url_for("api_requests.search_requests", page=page - 1, page_size=size, **filters)
    return {"items": items, "page": {"page": page, "page_size": size, "has_next": len(rows) > size},
            "links": links}
