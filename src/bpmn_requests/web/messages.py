"""Admin page of recent messages: what came in (a customer's answer, another system's event) and what
became of it: delivered to a request, kept until a request waits for it, expired, or refused. Admins only."""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Flask, render_template, request

from ..usecases.messages import recent_messages
from .context import requires, services

bp = Blueprint("messages", __name__, url_prefix="/admin/messages")
STATUSES = ("buffered", "delivered", "expired", "refused")
SHOWN = 200


@bp.get("")
@requires("admins")
def index() -> Any:
    status = request.args.get("status", "")
    chosen = status if status in STATUSES else None
    found = recent_messages(services(), SHOWN, chosen)
    return render_template("admin/messages.html", messages=found, statuses=STATUSES, status=chosen or "",
                           shown=SHOWN)


def register(app: Flask) -> None:
    app.register_blueprint(bp)
