"""Admin pages for process versions: the list, one version with its heatmap, a diff, rollback, and moving
running requests to another deployment. Admins only; every form carries a CSRF token."""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for
from markupsafe import Markup

from ..domain.errors import DomainError, ValidationFailed
from ..drawing.highlights import format_duration
from ..usecases.deploy import process_versions
from ..usecases.migration import check_migration, migrate_all_safe, migrate_instance
from ..usecases.versions import activate_deployment, diff_versions, heatmap_svg, list_versions, show_version
from .context import requires, services, staff

bp = Blueprint("versions", __name__, url_prefix="/admin/versions")
log = logging.getLogger(__name__)


def _deployment_number(name: str) -> int:
    """A deployment id from a query or form field; refused with the field's name."""
    try:
        return int(request.values.get(name, ""))
    except ValueError:
        raise ValidationFailed(f"{name}: a deployment number is needed", field=name) from None


@bp.get("")
@requires("admins")
def index() -> Any:
    found = list_versions(services())
    processes: dict[str, list[Any]] = {}
    for version in found:
        processes.setdefault(version.process_id, []).append(version)
    deployments = process_versions(services())
    return render_template("versions/index.html", processes=processes, deployments=deployments)


@bp.get("/<process_id>")
@bp.get("/<process_id>/<int:number>")
@requires("admins")
def show(process_id: str, number: int | None = None) -> Any:
    detail = show_version(process_id, number, services())
    svg = None
    try:
        drawn = heatmap_svg(detail)
        svg = Markup(drawn) if drawn is not None else None  # our renderer escapes every text it draws
    except Exception:  # a diagram we cannot draw must not hide the figures
        log.exception("cannot draw %s version %s", process_id, detail.summary.version)
    heated = sorted(set(detail.waiting) | set(detail.durations))
    times = {element: format_duration(seconds) for element, seconds in detail.durations.items()}
    others = [v for v in list_versions(services(), process_id) if v.version != detail.summary.version]
    return render_template("versions/show.html", d=detail, v=detail.summary, svg=svg, heated=heated,
                           times=times, others=others)


@bp.get("/<process_id>/diff")
@requires("admins")
def diff(process_id: str) -> Any:
    try:
        a, b = int(request.args.get("a", "")), int(request.args.get("b", ""))
    except ValueError:
        raise ValidationFailed("choose two version numbers, a and b", field="a") from None
    found = diff_versions(process_id, a, b, services())
    return render_template("versions/diff.html", diff=found, process_id=process_id)


@bp.post("/deployments/<int:deployment_id>/activate")
@requires("admins")
def activate(deployment_id: int) -> Any:
    result = activate_deployment(deployment_id, staff().username, services())
    if result.changed:
        flash(f"Deployment {deployment_id} is active: new requests start on it; running ones keep theirs.", "info")
    else:
        flash(f"Deployment {deployment_id} is active already.", "info")
    return redirect(url_for("versions.index"))


@bp.get("/migrations")
@requires("admins")
def migrations() -> Any:
    plan = check_migration(_deployment_number("from"), _deployment_number("to"), services())
    return render_template("versions/migration.html", plan=plan)


@bp.post("/migrations")
@requires("admins")
def migrate() -> Any:
    from_id, to_id = _deployment_number("from"), _deployment_number("to")
    instance_id = request.form.get("instance", "").strip()
    if instance_id:
        try:
            moved = migrate_instance(instance_id, to_id, staff().username, services(), from_id=from_id)
            flash(f"{moved.reference} moved to deployment {to_id}; open now: {', '.join(moved.tasks) or 'nothing'}.",
                  "info")
        except DomainError as refused:  # the page says why; the instance stays where it is
            flash(refused.message, "error")
    else:
        results = migrate_all_safe(from_id, to_id, staff().username, services())
        moved_count = sum(r.moved for r in results)
        flash(f"{moved_count} request(s) moved to deployment {to_id}; {len(results) - moved_count} stay on "
              f"deployment {from_id}.", "info")
    return redirect(url_for("versions.migrations", **{"from": from_id, "to": to_id}))


def register(app: Flask) -> None:
    app.register_blueprint(bp)
