"""`/healthz`: whether this web process can reach its database, for load balancers and container health
checks. Public (it tells nothing about requests), never cached."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, jsonify

from ..usecases.jobs import next_due_at
from .context import services

log = logging.getLogger(__name__)
bp = Blueprint("health", __name__)


@bp.route("/healthz")
def healthz() -> Any:
    """200 when the database answers (with the next due time, to see that work is scheduled), else 503."""
    try:
        due = next_due_at(services())
    except Exception as exc:  # noqa: BLE001 - any failure to answer means "not healthy"
        log.warning("health check: the database does not answer: %s", exc)
        response = jsonify(status="unavailable", database="unreachable")
        response.status_code = 503
    else:
        response = jsonify(status="ok", database="ok", next_due_at=due.isoformat() if due else None)
    response.headers["Cache-Control"] = "no-store"
    return response


def register(app: Flask) -> None:
    app.register_blueprint(bp)
