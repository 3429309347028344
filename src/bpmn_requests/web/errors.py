"""One place that maps errors to HTTP: domain errors from use cases, HTTP errors, CSRF failures.

Pages get an HTML error page; `/api/` gets the one JSON error shape: {"code", "message", "field_errors"}.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, jsonify, render_template, request
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from ..domain.errors import (
    BusinessRuleViolation,
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    ProcessError,
    ServiceTaskError,
    ValidationFailed,
)

STATUS_BY_ERROR: tuple[tuple[type[DomainError], int], ...] = (
    (ValidationFailed, 422), (ServiceTaskError, 422), (NotFound, 404), (BusinessRuleViolation, 403),
    (Forbidden, 403), (Conflict, 409), (ProcessError, 500),
)


def status_of(exc: DomainError) -> int:
    return next((status for kind, status in STATUS_BY_ERROR if isinstance(exc, kind)), 400)


def error_body(code: str, message: str, field_errors: dict[str, str] | None = None,
               **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message, "field_errors": field_errors or {}}
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def _wants_json() -> bool:
    return request.path.startswith("/api/")


def _respond(status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> Any:
    if _wants_json():
        return jsonify(body), status, headers or {}
    return render_template("error.html", status=status, error=body), status, headers or {}


def handle_domain_error(exc: DomainError) -> Any:
    fields = exc.details.get("field_errors") if isinstance(exc, ValidationFailed) else None
    existing = exc.details.get("existing_reference")
    return _respond(status_of(exc), error_body(exc.code, exc.message, fields or ({exc.field: exc.message}
                                                                              if exc.field else None),
                                               existing_reference=existing))


# Headers an HTTP error keeps: how to authenticate (401), which methods a URL allows (405).
KEPT_HEADERS = ("WWW-Authenticate", "Allow", "Retry-After")
# Where webargs (flask-smorest) found a bad value; field names leave it out.
_LOCATIONS = ("json", "query", "querystring", "headers", "view_args", "path", "form", "files", "cookies")


def _field_errors(messages: Any, prefix: str = "") -> dict[str, str]:
    """webargs' nested {"json": {"field": ["message"]}} as {"field": "message"} ({"list.0": ...} inside)."""
    if isinstance(messages, dict):
        found: dict[str, str] = {}
        for key, value in messages.items():
            name = "" if not prefix and key in _LOCATIONS else (f"{prefix}.{key}" if prefix else str(key))
            found.update(_field_errors(value, name))
        return found
    if isinstance(messages, list) and not all(isinstance(m, str) for m in messages):
        return {k: v for m in messages for k, v in _field_errors(m, prefix).items()}
    text = " ".join(messages) if isinstance(messages, list) else str(messages)
    return {(prefix or "body").replace("_schema", "body"): text}


def handle_http_error(exc: HTTPException) -> Any:
    status = exc.code or 500
    code = (exc.name or "error").lower().replace(" ", "_")
    message = exc.description or exc.name or "error"
    data = getattr(exc, "data", None)  # webargs puts what it refused here
    fields = _field_errors(data["messages"]) if isinstance(data, dict) and data.get("messages") else None
    if status == 400 and fields:
        code, message = "malformed_json", "the request body is not valid JSON"
    elif status == 422 and fields:
        code, message = ValidationFailed.code, ValidationFailed.for_fields(fields).message
    headers = {name: value for name, value in exc.get_headers() if name in KEPT_HEADERS}
    return _respond(status, error_body(code, message, fields), headers)


def handle_csrf_error(exc: CSRFError) -> Any:
    return _respond(400, error_body("csrf_failed", f"The form's security token is missing or wrong "
                                                   f"({exc.description}). Reload the page and try again."))


def register(app: Flask) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
