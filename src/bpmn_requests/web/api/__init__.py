"""The REST API at /api/v1 (flask-smorest): bearer tokens only, JSON in and out, OpenAPI 3 document.

The OpenAPI document is served at /api/v1/openapi.json. Errors go through web/errors.py like every other
error of the app, in the one JSON shape {"code", "message", "field_errors"}.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from flask_smorest import Api

from ..extensions import csrf
from .schemas import ErrorSchema

DESCRIPTION = """Customer requests of finance teams, run as BPMN processes.

Authenticate every call with an API token: `Authorization: Bearer brq_...` (an admin creates tokens on
/admin/users or with `bpmn-requests tokens create`). Session cookies are not accepted.

Money is a decimal string (`"700.00"`), never a JSON number. Lists of requests come in pages: the body
holds `page` and `links.next` / `links.prev`. Every error has the same body: `code`, `message` and
`field_errors`, plus `existing_reference` when a request already exists.

Other systems post events to `/messages` (a payment the bank received, keyed by its payment reference); a
customer's answer taken by an agent is a message too (`customer_answer`, `customer_decision`, keyed by the
request reference). Each message carries the sender's `message_id`: the same id twice has one effect.
Admins resolve incidents (steps that failed for good) at `/incidents`.
"""


class RestApi(Api):  # type: ignore[misc]
    """flask-smorest with our error shape documented, and without its own error handler."""

    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self) -> None:
        # web/errors.py maps every error of the app in one place; flask-smorest's handler would replace it.
        pass


def register(app: Flask) -> None:
    from . import audit, incidents, messages, requests, tasks, versions, versions_admin

    app.config.setdefault("OPENAPI_URL_PREFIX", "/api/v1")
    app.config.setdefault("OPENAPI_JSON_PATH", "openapi.json")
    spec: dict[str, Any] = {
        "title": "bpmn-requests API", "version": "1", "openapi_version": "3.0.3",
        "info": {"description": DESCRIPTION}, "security": [{"bearerAuth": []}],
    }
    api = RestApi(app, spec_kwargs=spec)
    api.spec.components.security_scheme("bearerAuth", {
        "type": "http", "scheme": "bearer", "description": "an API token, brq_ and 43 characters"})
    for module in (requests, tasks, audit, versions, versions_admin, messages, incidents):
        api.register_blueprint(module.blp)
        csrf.exempt(module.blp)  # bearer tokens, never cookies: nothing for a forged form to ride on
