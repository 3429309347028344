"""Admin pages: staff users (create, groups, deactivate and reactivate) and their API tokens. Admins only."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for

from ..domain.errors import Conflict, NotFound, ValidationFailed
from ..usecases.accounts import STAFF_GROUPS, create_user, list_users, set_active, set_groups
from ..usecases.tokens import create_token, list_tokens, revoke_token
from .context import requires, services, staff

bp = Blueprint("admin", __name__, url_prefix="/admin")


def _user(username: str) -> Any:
    found = next((u for u in list_users(services()) if u.username == username), None)
    if found is None:
        raise NotFound(f"no staff user {username}")
    return found


def _users_page(errors: dict[str, str] | None = None, form: Any = None, status: int = 200) -> Any:
    tokens = list_tokens(services())
    active_tokens = {u: sum(1 for t in tokens if t.username == u and t.revoked_at is None)
                     for u in {t.username for t in tokens}}
    return render_template("admin/users.html", users=list_users(services()), groups=STAFF_GROUPS,
                           active_tokens=active_tokens, errors=errors or {}, form=form or {}), status


@bp.get("/users")
@requires("admins")
def users() -> Any:
    return _users_page()


@bp.post("/users")
@requires("admins")
def create() -> Any:
    form = request.form
    try:
        user = create_user(form.get("username", ""), form.get("full_name", ""), form.getlist("groups"),
                           form.get("password", ""), staff().username, services())
    except ValidationFailed as failed:
        return _users_page(failed.field_errors, form, 422)
    except Conflict as taken:
        return _users_page({"username": taken.message}, form, 409)
    flash(f"{user.username} can sign in now, in {', '.join(sorted(user.groups))}.", "info")
    return redirect(url_for("admin.user", username=user.username))


def _user_page(username: str, errors: dict[str, str] | None = None, status: int = 200) -> Any:
    return render_template("admin/user.html", user=_user(username), groups=STAFF_GROUPS,
                           tokens=list_tokens(services(), username), errors=errors or {}), status


@bp.get("/users/<username>")
@requires("admins")
def user(username: str) -> Any:
    return _user_page(username)


@bp.post("/users/<username>/groups")
@requires("admins")
def groups(username: str) -> Any:
    try:
        changed = set_groups(username, request.form.getlist("groups"), staff().username, services())
    except (ValidationFailed, Conflict) as refused:
        return _user_page(username, {"groups": refused.message}, 409 if isinstance(refused, Conflict) else 422)
    flash(f"{username} is now in {', '.join(sorted(changed.groups))}.", "info")
    return redirect(url_for("admin.user", username=username))


@bp.post("/users/<username>/active")
@requires("admins")
def active(username: str) -> Any:
    activate = request.form.get("active") == "1"
    try:
        set_active(username, activate, staff().username, services())
    except Conflict as refused:
        return _user_page(username, {"active": refused.message}, 409)
    flash(f"{username} is {'active again' if activate else 'deactivated: no sign-in, no API access'}.", "info")
    return redirect(url_for("admin.user", username=username))


@bp.post("/users/<username>/tokens")
@requires("admins")
def new_token(username: str) -> Any:
    try:
        created = create_token(username, request.form.get("name", ""), staff().username, services())
    except (ValidationFailed, Conflict) as refused:
        return _user_page(username, {"token": refused.message}, 409 if isinstance(refused, Conflict) else 422)
    page = render_template("admin/token_created.html", user=_user(username), created=created)
    # The token is on this page only: never cache it, never put it in a redirect or the session.
    return page, 201, {"Cache-Control": "no-store"}


@bp.post("/tokens/<int:token_id>/revoke")
@requires("admins")
def revoke(token_id: int) -> Any:
    token = revoke_token(token_id, staff().username, services())
    flash(f"Token {token.name!r} of {token.username} is revoked.", "info")
    return redirect(url_for("admin.user", username=token.username))


def register(app: Flask) -> None:
    app.register_blueprint(bp)
