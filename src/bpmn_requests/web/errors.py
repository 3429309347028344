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


def _respond(status: int, body: dict[str, Any]) -> Any:
    if _wants_json():
        return jsonify(body), status
    return render_template("error.html", status=status, error=body), status


def handle_domain_error(exc: DomainError) -> Any:
    fields = exc.details.get("field_errors") if isinstance(exc, ValidationFailed) else None
    existing = exc.details.get("existing_reference")
    return _respond(status_of(exc), error_body(exc.code, exc.message, fields or ({exc.field: exc.message}
                                                                              if exc.field else None),
                                               existing_reference=existing))


def handle_http_error(exc: HTTPException) -> Any:
    code = (exc.name or "error").lower().replace(" ", "_")
    return _respond(exc.code or 500, error_body(code, exc.description or exc.name or "error"))


def handle_csrf_error(exc: CSRFError) -> Any:
    return _respond(400, error_body("csrf_failed", f"The form's security token is missing or wrong "
                                                   f"({exc.description}). Reload the page and try again."))


def register(app: Flask) -> None:
    app.register_error_handler(DomainError, handle_domain_error)
    app.register_error_handler(CSRFError, handle_csrf_error)
    app.register_error_handler(HTTPException, handle_http_error)
