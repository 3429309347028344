"""What staff see of their work: inbox rows with the request's SLA, and one task with its form and data."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from ..domain.calendar import BusinessCalendar
from ..domain.errors import Conflict, Forbidden
from ..domain.requests import RequestRecord
from ..domain.sla import Sla
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
    due_at: datetime | None  # the request's SLA target in business hours (None while paused)
    sla_hours: float | None
    overdue: bool
    sla_used: int | None  # percent of the SLA target used: business hours, without the pauses
    age: timedelta  # since the task opened
    may_do: bool  # False for tasks a supervisor sees in the team view but may not do
    sla_paused: bool = False  # the request waits for the customer: the SLA clock stands still
    reminded_at: datetime | None = None  # the SLA reminder fired on this task
    escalated_to: str | None = None  # the group the task was escalated to at the SLA breach


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
        calendar = services.settings.calendar
        return [_item(uow, records[task.request_reference], task, task.id in mine_ids, now, names, calendar)
                for task in tasks if task.request_reference in records]


def _item(uow: UnitOfWork, record: RequestRecord, task: HumanTask, may_do: bool, now: datetime,
          names: dict[str, str | None], calendar: BusinessCalendar) -> InboxItem:
    if record.customer_id not in names:
        customer = uow.finance.customer(record.customer_id)
        names[record.customer_id] = customer.name if customer else None
    sla = Sla.of(record.classification, record.submitted_at)
    # The due time is kept current on the record at every change of status (lifecycle.track_sla); only
    # the share used moves with the clock.
    due = _when((record.classification or {}).get("due_at")) if sla else None
    used = round(sla.used(calendar, now) * 100) if sla else None
    return InboxItem(task, record.customer_id, names[record.customer_id], record.submitted_at, due,
                     sla.target_hours if sla else None, due is not None and due < now, used,
                     now - task.created_at, may_do, sla_paused=bool(sla and sla.paused),
                     reminded_at=_when(task.properties.get("reminded_at")),
                     escalated_to=task.properties.get("escalated_to") or None)


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
