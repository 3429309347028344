"""/api/v1/requests/<reference>/audit: the hash-chained audit trail of one request."""

from __future__ import annotations

from typing import Any

from flask_smorest import Blueprint

from ...usecases.audit import audit_trail as request_audit_trail
from ..context import services
from .auth import authenticate
from .schemas import AuditTrailSchema

blp = Blueprint("api_audit", __name__, url_prefix="/api/v1", description="The audit trail of a request")
blp.before_request(authenticate)


@blp.route("/requests/<reference>/audit")
@blp.response(200, AuditTrailSchema)
@blp.alt_response(401, response="UNAUTHORIZED")
@blp.alt_response(404, response="NOT_FOUND")
def audit_trail(reference: str) -> Any:
    """Audit trail of a request

    Every state change, oldest first: who, what, when, before and after, and the chain's hashes.
    """
    return {"reference": reference, "items": request_audit_trail(reference, services())}
