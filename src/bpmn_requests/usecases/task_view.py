"""What staff see of their work: inbox rows with the request's SLA, and one task with its form and data."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from ..domain.errors import Conflict, Forbidden
from ..domain.requests import RequestRecord
from ..domain.users import CUSTOMER_GROUP, User
from ..forms import FormDefinition
from .context import Services
from .ports import HumanTask, UnitOfWork
from .tasks import SUPERVISOR_GROUPS, may_see, tasks_for


@dataclass(frozen=True)
class InboxItem:
    task: HumanTask
    customer_id: str
    customer_name: str | None
    submitted_at: datetime
    due_at: datetime | None  # the request's SLA target (classification.due_at)
    sla_hours: int | None
    overdue: bool
    sla_used: int | None  # percent of the SLA time gone since submission
    age: timedelta  # since the task opened
    may_do: bool  # False for tasks a supervisor sees in the team view but may not do


@dataclass(frozen=True)
class TaskView:
    task: HumanTask
    form: FormDefinition | None
    data: dict[str, Any]  # the task's process variables, as the form is shown with them


@dataclass(frozen=True)
class Colleague:
    username: str
    full_name: str


def inbox(user: User, services: Services, *, team: bool = False) -> list[InboxItem]:
    """The open tasks `user` may do; with `team`, every open staff task (supervisors only)."""
    if team and not user.in_any(set(SUPERVISOR_GROUPS)):
        raise Forbidden(f"{user.username} may not see the team's tasks: only supervisors")
    mine = tasks_for(user, services)
    mine_ids = {t.id for t in mine}
    now = services.clock.now()
    with services.uow() as uow:
        tasks = mine
        if team:
            others = [t for t in uow.tasks.open_tasks()
                      if t.id not in mine_ids and CUSTOMER_GROUP not in t.candidate_groups]
            tasks = mine + sorted(others, key=lambda t: t.created_at)
        records = uow.requests.headers([t.request_reference for t in tasks])
        names: dict[str, str | None] = {}
        return [_item(uow, records[task.request_reference], task, task.id in mine_ids, now, names)
                for task in tasks if task.request_reference in records]


def _item(uow: UnitOfWork, record: RequestRecord, task: HumanTask, may_do: bool, now: datetime,
          names: dict[str, str | None]) -> InboxItem:
    if record.customer_id not in names:
        customer = uow.finance.customer(record.customer_id)
        names[record.customer_id] = customer.name if customer else None
    classification = record.classification or {}
    due = _when(classification.get("due_at"))
    hours = int(classification["sla_hours"]) if classification.get("sla_hours") else None
    used = round((now - record.submitted_at) / timedelta(hours=hours) * 100) if hours else None
    return InboxItem(task, record.customer_id, names[record.customer_id], record.submitted_at, due, hours,
                     due is not None and due < now, used, now - task.created_at, may_do)


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def task_form(task_id: str, user: User, services: Services) -> TaskView:
    """An open task with its form and data, for a user who may do it (else Forbidden; Conflict once done)."""
    with services.uow() as uow:
        task = uow.tasks.get(task_id)
        record = uow.requests.get(task.request_reference)
        if not may_see(user, task, record.customer_id):
            raise Forbidden(f"{user.username} may not do task {task.name} of {record.reference}")
        if task.status != "open":
            by = f" by {task.completed_by}" if task.completed_by else ""
            raise Conflict(f"task {task.name} of {record.reference} is already {task.status}{by}")
        instance = uow.instances.for_request(record.reference)
        deployment = uow.deployments.get(instance.deployment_id)
    form = services.forms(deployment).get(task.form_id) if task.form_id else None
    waiting = services.engine.waiting(services.bundle(deployment), instance.process_id, instance.state)
    data = next((w.data for w in waiting if w.id == task.id), None)
    if data is None:
        raise Conflict(f"task {task.name} of {record.reference} is no longer waiting; reload the inbox")
    return TaskView(task, form, dict(data))


def assignable_users(tasks: list[HumanTask], services: Services) -> dict[str, list[Colleague]]:
    """Per task id: whom a supervisor may give it to (its groups, the level it needs, never its proposer)."""
    with services.uow() as uow:
        users = sorted((u for u in uow.users.all() if u.active and not u.is_customer), key=lambda u: u.username)
    return {task.id: [Colleague(u.username, u.full_name) for u in users if may_see(u, replace(task, assignee=None))]
            for task in tasks if CUSTOMER_GROUP not in task.candidate_groups}
