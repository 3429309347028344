"""Bearer-token authentication of the REST API. Session cookies are never looked at here.

Every API blueprint runs `authenticate` before its views; views ask `api_user()` who is calling.
"""

from __future__ import annotations

from flask import g, request
from werkzeug.datastructures import WWWAuthenticate
from werkzeug.exceptions import Unauthorized

from ...domain.errors import Forbidden
from ...domain.users import User
from ...usecases.tokens import verify_token
from ..context import services

REALM = "bpmn-requests"
# Who may create requests through the API: the intake team (admins pass every check).
INTAKE_GROUPS = frozenset({"agents"})


def _refuse(message: str, error: str | None = None) -> Unauthorized:
    values = {"realm": REALM, **({"error": error} if error else {})}
    return Unauthorized(message, www_authenticate=WWWAuthenticate("bearer", values))


def authenticate() -> None:
    """Before every API view: the caller is the active staff user of a valid `Authorization: Bearer` token."""
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise _refuse("an API token is needed: send the header 'Authorization: Bearer <token>'")
    user = verify_token(token.strip(), services())
    if user is None:
        raise _refuse("the API token is unknown or revoked, or its user is deactivated", "invalid_token")
    g.api_user = user


def api_user() -> User:
    return g.api_user  # type: ignore[no-any-return]


def require_groups(user: User, groups: frozenset[str], doing: str) -> None:
    if not user.is_admin and not user.in_any(set(groups)):
        raise Forbidden(f"{user.username} may not {doing}: it needs one of {', '.join(sorted(groups))}")
