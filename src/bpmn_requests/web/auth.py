"""Sign-in and sign-out of staff: local accounts with argon2 hashes, sessions that expire when idle."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import UserMixin, current_user, login_user, logout_user

from ..domain.users import User
from ..usecases.accounts import authenticate
from .context import services
from .extensions import login_manager

bp = Blueprint("auth", __name__)


class SignedIn(UserMixin):  # type: ignore[misc]
    def __init__(self, user: User):
        self.user = user

    def get_id(self) -> str:
        return self.user.username


@login_manager.user_loader  # type: ignore[untyped-decorator]
def load_user(username: str) -> SignedIn | None:
    with services().uow() as uow:
        user = uow.users.get(username)
    return SignedIn(user) if user is not None and user.active and not user.is_customer else None


def _safe_next(target: str | None) -> str:
    if target and not urlsplit(target).netloc and target.startswith("/") and not target.startswith("//"):
        return target
    return url_for("inbox.index")


@bp.route("/login", methods=["GET", "POST"])
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("inbox.index"))
    error = None
    if request.method == "POST":
        username = request.form.get("username", "").strip()
        with services().uow() as uow:
            user = authenticate(username, request.form.get("password", ""), uow)
        if user is None:
            error = "Unknown user or wrong password."
        else:
            session.clear()
            session.permanent = True
            login_user(SignedIn(user))
            flash(f"Signed in as {user.full_name}.", "info")
            return redirect(_safe_next(request.args.get("next")))
    return render_template("login.html", error=error), (401 if error else 200)


@bp.route("/logout", methods=["POST"])
def logout() -> Any:
    logout_user()
    session.clear()
    flash("Signed out.", "info")
    return redirect(url_for("auth.login"))
