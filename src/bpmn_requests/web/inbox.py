"""The staff inbox: the tasks a user may do (filtered and sorted), claiming, assigning, and one task's form."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Flask, flash, redirect, render_template, request, url_for

from ..domain.errors import Conflict, ValidationFailed
from ..domain.requests import PRIORITIES, REQUEST_TYPES
from ..usecases.queries import show_request
from ..usecases.task_view import InboxItem, TaskView, assignable_users, inbox, task_form
from ..usecases.tasks import SUPERVISOR_GROUPS, CompleteTask, assign_task, claim_task, complete_task
from .context import STAFF_GROUPS, requires, services, staff
from .forms_render import ADD_ROW, REFRESH, REMOVE_ROW, add_row, parse_post, remove_row, render_form

bp = Blueprint("inbox", __name__)

SORTS = {"priority": "Priority", "due": "Due date", "sla": "SLA used", "age": "Oldest first"}


def _is_supervisor() -> bool:
    return staff().in_any(set(SUPERVISOR_GROUPS))


def _filtered(items: list[InboxItem], args: Any) -> list[InboxItem]:
    kind, priority, ref = args.get("type", ""), args.get("priority", ""), args.get("ref", "").strip().lower()
    return [i for i in items if (not kind or i.task.request_type == kind)
            and (not priority or i.task.priority == priority)
            and (not args.get("overdue") or i.overdue)
            and (not ref or ref in i.task.request_reference.lower())]


def _sorted(items: list[InboxItem], sort: str) -> list[InboxItem]:
    if sort == "due":
        return sorted(items, key=lambda i: (i.due_at is None, i.due_at.timestamp() if i.due_at else 0.0))
    if sort == "sla":
        return sorted(items, key=lambda i: (i.sla_used is None, -(i.sla_used or 0)))
    if sort == "age":
        return sorted(items, key=lambda i: -i.age)
    return items  # the use case's order: most urgent priority first, then oldest


PAGE_SIZE = 50  # a long inbox is read a page at a time; rendering 1,000 rows made it slow


@bp.get("/")
@requires(*STAFF_GROUPS)
def index() -> Any:
    team = request.args.get("scope") == "team" and _is_supervisor()
    items = inbox(staff(), services(), team=team)
    matching = _sorted(_filtered(items, request.args), request.args.get("sort", "priority"))
    pages = max(1, -(-len(matching) // PAGE_SIZE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    shown = matching[(page - 1) * PAGE_SIZE:page * PAGE_SIZE]
    assignees = assignable_users([i.task for i in shown], services()) if _is_supervisor() else {}
    return render_template("inbox.html", items=shown, total=len(items), matching=len(matching), page=page,
                           pages=pages, team=team, assignees=assignees, supervisor=_is_supervisor(),
                           types=REQUEST_TYPES, priorities=PRIORITIES, sorts=SORTS, args=request.args)


def _back() -> str:
    target = request.form.get("next", "")
    if target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("inbox.index")


@bp.post("/tasks/<task_id>/claim")
@requires(*STAFF_GROUPS)
def claim(task_id: str) -> Any:
    task = claim_task(task_id, staff(), services())
    flash(f"You claimed {task.name} on {task.request_reference}.", "info")
    return redirect(_back())


@bp.post("/tasks/<task_id>/release")
@requires(*STAFF_GROUPS)
def release(task_id: str) -> Any:
    task = claim_task(task_id, staff(), services(), release=True)
    flash(f"You gave back {task.name} on {task.request_reference}.", "info")
    return redirect(_back())


@bp.post("/tasks/<task_id>/assign")
@requires(*SUPERVISOR_GROUPS)
def assign(task_id: str) -> Any:
    task = assign_task(task_id, request.form.get("assignee", "").strip(), staff(), services())
    flash(f"{task.name} on {task.request_reference} is assigned to {task.assignee}.", "info")
    return redirect(_back())


def _page(view: TaskView, rendered: Any, status: int = 200) -> Any:
    record = show_request(view.task.request_reference, services())
    return render_template("task.html", view=view, task=view.task, record=record, rendered=rendered,
                           data=view.data), status


@bp.route("/tasks/<task_id>", methods=["GET", "POST"])
@requires(*STAFF_GROUPS)
def task(task_id: str) -> Any:
    try:
        view = task_form(task_id, staff(), services())
    except Conflict as gone:
        return render_template("task_closed.html", message=gone.message), 409
    today = services().clock.today()
    if request.method == "GET":
        return _page(view, view.form and render_form(view.form, view.data, today=today))
    submitted = parse_post(view.form, request.form) if view.form else {}
    if view.form and {ADD_ROW, REMOVE_ROW, REFRESH} & set(request.form):
        if ADD_ROW in request.form:
            add_row(submitted, request.form[ADD_ROW])
        if REMOVE_ROW in request.form:
            remove_row(submitted, request.form[REMOVE_ROW])
        return _page(view, render_form(view.form, view.data, submitted, today=today))
    try:
        done = complete_task(CompleteTask(task_id, staff(), submitted), services())
    except ValidationFailed as failed:
        rendered = view.form and render_form(view.form, view.data, submitted, failed.field_errors, today=today)
        return _page(view, rendered, 422)
    except Conflict as gone:
        return render_template("task_closed.html", message=gone.message, reference=view.task.request_reference), 409
    flash(f"{done.task.name} on {done.reference} is done; the request is now {done.status.replace('_', ' ')}.",
          "info")
    if done.next_tasks:
        return redirect(url_for("inbox.task", task_id=done.next_tasks[0].id))
    return redirect(url_for("inbox.index"))


def register(app: Flask) -> None:
    app.register_blueprint(bp)
