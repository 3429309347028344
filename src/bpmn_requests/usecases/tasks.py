"""Work on user tasks: list what a user may do, claim, unclaim, complete; the customer's answer."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import timedelta
from decimal import Decimal
from typing import Any

from ..domain.approvals import check_may_approve
from ..domain.errors import Conflict, Forbidden, NotFound, ProcessError, ValidationFailed
from ..domain.requests import Approval, RequestRecord, StepRecord
from ..domain.users import CUSTOMER_GROUP, User, customer_actor
from ..forms import FormCatalog, validate_submission
from .context import Services, announce_due, jsonable
from .lifecycle import TaskChanges, apply_snapshot, record_state, run_context
from .messages import IncomingMessage, send_message
from .ports import HumanTask, UnitOfWork


@dataclass(frozen=True)
class CompleteTask:
    task_id: str
    user: User
    data: Mapping[str, Any]


@dataclass(frozen=True)
class Completed:
    task: HumanTask
    reference: str
    status: str
    next_tasks: tuple[HumanTask, ...]  # what this user may do next on the same request


def may_see(user: User, task: HumanTask, record_customer: str | None = None) -> bool:
    """Whether `user` may do `task` (candidate group or assignee; approvers by level; customers their own)."""
    if task.assignee and task.assignee != user.username:
        return False
    if CUSTOMER_GROUP in task.candidate_groups:
        return user.is_customer and (record_customer is None or user.username == f"customer:{record_customer}")
    if _is_approval(task) and user.username in (task.properties.get("proposed_by"),
                                                 task.properties.get("requested_by")):
        return False  # four eyes: never offer an approval to its proposer or requester
    if task.assignee == user.username:
        return True
    if not user.in_any(set(task.candidate_groups)):
        return False
    return user.approval_level >= task.required_level


def _is_approval(task: HumanTask) -> bool:
    return task.properties.get("approval", "").lower() == "true"


def check_groups(user: User, task: HumanTask) -> None:
    if not task.assignee and not user.in_any(set(task.candidate_groups)):
        raise Forbidden(f"{user.username} may not do task {task.id} ({task.name}): it is for "
                        f"{', '.join(task.candidate_groups)}")


def check_may_work(user: User, task: HumanTask, record: RequestRecord, *, groups: bool = True) -> None:
    if task.status != "open":
        raise Conflict(f"task {task.id} is already {task.status}"
                       + (f" by {task.completed_by}" if task.completed_by else ""))
    if task.claimed_by and task.claimed_by != user.username:
        raise Conflict(f"task {task.id} is claimed by {task.claimed_by}")
    if task.assignee and task.assignee != user.username:
        raise Forbidden(f"task {task.id} is assigned to {task.assignee}, not {user.username}")
    if CUSTOMER_GROUP in task.candidate_groups:
        if user.username != f"customer:{record.customer_id}":
            raise Forbidden(f"task {task.id} is for customer {record.customer_id} to answer")
        return
    if groups:
        check_groups(user, task)


def _clean(catalog: FormCatalog, task: HumanTask, data: Mapping[str, Any], task_data: dict[str, Any],
           services: Services) -> dict[str, Any]:
    if not isinstance(data, Mapping):
        raise ValidationFailed("task data must be a JSON object", field="data")
    if task.form_id is None:
        if data:
            raise ValidationFailed(f"task {task.element_id} has no form and takes no data",
                                   field=next(iter(data)))
        return {}
    return dict(validate_submission(catalog.get(task.form_id), data, context=task_data,
                                    today=services.clock.today()))


def _decide_approval(user: User, task: HumanTask, record: RequestRecord, task_data: dict[str, Any],
                     cleaned: dict[str, Any], services: Services) -> Approval:
    required = int(task_data.get("approval_level") or 0)
    proposed_by = task_data.get("proposed_by")
    # Four eyes first: "you proposed this" says more than "you are not an approver".
    check_may_approve(user, record, required_level=required, proposed_by=proposed_by)
    check_groups(user, task)
    approval = Approval(
        id=f"APR-{record.reference}-{len(record.approvals) + 1}", level=required, approver=user.username,
        decision=str(cleaned.get("decision")), comment=str(cleaned.get("comment") or ""),
        decided_at=services.clock.now(), action=str(task_data.get("action")),
        amount=Decimal(str(task_data.get("action_amount") or "0")), proposed_by=proposed_by)
    record.approvals.append(approval)
    return approval


def _preparer(cmd: CompleteTask, task: HumanTask, record: RequestRecord, catalog: FormCatalog,
              services: Services, uow: UnitOfWork) -> Any:
    def prepare(task_data: dict[str, Any]) -> dict[str, Any]:
        if _is_approval(task):
            approval_needs = {"approval_level", "action", "action_amount"} - set(task_data)
            if approval_needs:
                raise ProcessError(f"approval task {task.element_id} is reached without "
                                   f"{', '.join(sorted(approval_needs))}: the diagram must set them before it")
        cleaned = _clean(catalog, task, cmd.data, task_data, services)
        if _is_approval(task):
            approval = _decide_approval(cmd.user, task, record, task_data, cleaned, services)
            cleaned["approval_id"] = approval.id
            uow.audit.record(cmd.user.username, "approval.decided", record.reference, None,
                             jsonable(approval.__dict__))
        if task.properties.get("proposal", "").lower() == "true":
            cleaned["proposed_by"] = cmd.user.username
        record.steps.append(StepRecord(task.element_id, task.name, cmd.user.username, services.clock.now(),
                                       jsonable(cleaned)))
        return cleaned

    return prepare


def complete_task(cmd: CompleteTask, services: Services) -> Completed:
    """Validate the form, enforce four eyes and authority, run to the next wait state, commit once."""
    with services.uow() as uow:
        first = uow.tasks.get(cmd.task_id)
        instance = uow.instances.get_for_update(first.instance_id)
        task = uow.tasks.get(cmd.task_id)  # read again under the instance lock
        record = uow.requests.get(task.request_reference)
        check_may_work(cmd.user, task, record, groups=not _is_approval(task))
        deployment = uow.deployments.get(instance.deployment_id)
        before = record_state(record)
        prepare = _preparer(cmd, task, record, services.forms(deployment), services, uow)
        changes = TaskChanges()
        ctx = run_context(services, uow, record, instance.id, changes)
        snapshot = services.engine.complete(services.bundle(deployment), instance.process_id, instance.state,
                                            task.id, prepare, ctx.bridge, instance.id, ctx=ctx)
        task.status, task.completed_by, task.completed_at = "completed", cmd.user.username, services.clock.now()
        uow.tasks.update(task)
        uow.audit.record(cmd.user.username, "task.completed", record.reference, None,
                         {"task": task.id, "element": task.element_id, "data": record.steps[-1].data})
        opened = apply_snapshot(uow, services, instance, record, snapshot, cmd.user.username, before, changes)
        uow.instances.save(instance)
        uow.commit()
    announce_due(services, instance)
    mine = tuple(t for t in opened if may_see(cmd.user, t, record.customer_id))
    return Completed(task, record.reference, record.status, mine)


def tasks_for(user: User, services: Services) -> list[HumanTask]:
    """Open tasks this user may do, most urgent first."""
    order = {"urgent": 0, "high": 1, "normal": 2, "low": 3}
    with services.uow() as uow:
        tasks = uow.tasks.open_tasks()
        customer = user.username.removeprefix("customer:") if user.is_customer else None
        mine = _customer_refs(uow, customer, tasks) if customer else set()
        visible = [t for t in tasks if may_see(user, t, customer)
                   and (customer is None or t.request_reference in mine)]
    return sorted(visible, key=lambda t: (order.get(t.priority, 2), t.created_at))


def _customer_refs(uow: UnitOfWork, customer_id: str, tasks: list[HumanTask]) -> set[str]:
    """The customer's own requests among those waiting for a customer, read in one query."""
    refs = [t.request_reference for t in tasks if CUSTOMER_GROUP in t.candidate_groups]
    return {ref for ref, record in uow.requests.headers(refs).items() if record.customer_id == customer_id}


def claim_task(task_id: str, user: User, services: Services, *, release: bool = False) -> HumanTask:
    """Claim a task (or release it) so colleagues see who works on it."""
    with services.uow() as uow:
        first = uow.tasks.get(task_id)
        uow.instances.get_for_update(first.instance_id)
        task = uow.tasks.get(task_id)
        record = uow.requests.get(task.request_reference)
        check_may_work(user, task, record)
        if not release and not may_see(user, task, record.customer_id):
            raise Forbidden(f"{user.username} may not decide task {task.id} ({task.name}): "
                            f"it needs approval level {task.required_level} and someone other than "
                            f"its proposer and requester")
        if release:
            task.claimed_by = None
        else:
            task.claimed_by = user.username
        uow.tasks.update(task)
        uow.audit.record(user.username, "task.released" if release else "task.claimed", record.reference,
                         None, {"task": task.id, "element": task.element_id})
        uow.commit()
    return task


RESOLUTION_FORM = "customer_resolution"
INFORMATION_FORM = "customer_information"
# The customer's answers, as messages correlated by the request reference (versions with receive tasks),
# and the form each is checked by (also the form of the customer user task of earlier versions).
CUSTOMER_ANSWER, CUSTOMER_DECISION = "customer_answer", "customer_decision"
CUSTOMER_FORMS = {CUSTOMER_ANSWER: INFORMATION_FORM, CUSTOMER_DECISION: RESOLUTION_FORM}
_WAITING_FOR = {CUSTOMER_ANSWER: "an answer to a request for information",
                CUSTOMER_DECISION: "the customer's answer to a proposed resolution"}


@dataclass(frozen=True)
class CustomerAnswered:
    reference: str
    status: str


def answer_for_customer(reference: str, message: str, data: Mapping[str, Any], services: Services, *,
                        message_id: str | None = None, sender: str | None = None) -> CustomerAnswered:
    """Deliver the customer's answer to the request waiting for it: as a message to its receive task, or,
    for a request still running on a version before receive tasks, by completing its customer task.

    `message_id` makes a resend harmless (the portal sends the id of the form it showed); `sender` is
    who answers (the customer, or an agent on the customer's behalf)."""
    with services.uow() as uow:
        record = uow.requests.get(reference)
        instance = uow.instances.for_request(reference)
        receives = any(s.message == message for s in uow.subscriptions.for_instance(instance.id))
        legacy = [t for t in uow.tasks.open_for_request(reference) if CUSTOMER_GROUP in t.candidate_groups
                  and t.form_id in {CUSTOMER_FORMS[message], *((None,) if message == CUSTOMER_DECISION else ())}]
    customer = customer_actor(record.customer_id)
    if receives:
        try:
            result = send_message(IncomingMessage(message, reference, dict(data), message_id or uuid.uuid4().hex,
                                                  sender or customer.username, ttl=timedelta(0)), services)
        except NotFound:
            # Answered meanwhile (a concurrent answer committed first): nothing waits for this one any more.
            raise Conflict(f"request {reference} is not waiting for {_WAITING_FOR[message]} any more") from None
        return CustomerAnswered(reference, result.request_status or record.status)
    if legacy:
        done = complete_task(CompleteTask(legacy[0].id, customer, data), services)
        return CustomerAnswered(reference, done.status)
    raise Conflict(f"request {reference} is not waiting for {_WAITING_FOR[message]} (status {record.status})")


def respond_as_customer(reference: str, accept: bool, comment: str, services: Services, *,
                        message_id: str | None = None, sender: str | None = None) -> CustomerAnswered:
    """The customer's answer to a proposed resolution (reject reopens the investigation)."""
    data: dict[str, Any] = {"accept": accept}
    if comment:
        data["comment"] = comment
    return answer_for_customer(reference, CUSTOMER_DECISION, data, services, message_id=message_id, sender=sender)


# Who may give a task to a colleague: team leads and the approvers above them.
SUPERVISOR_GROUPS = frozenset({"ar_supervisors", "finance_managers", "cfo", "admins"})


def assign_task(task_id: str, assignee: str, by: User, services: Services) -> HumanTask:
    """A supervisor gives an open task to one member of its candidate groups; only the assignee sees it then."""
    if not by.in_any(set(SUPERVISOR_GROUPS)):
        raise Forbidden(f"{by.username} may not assign tasks: only supervisors ({', '.join(sorted(SUPERVISOR_GROUPS))})")
    with services.uow() as uow:
        first = uow.tasks.get(task_id)
        uow.instances.get_for_update(first.instance_id)
        task = uow.tasks.get(task_id)  # read again under the instance lock
        if task.status != "open":
            raise Conflict(f"task {task.id} is already {task.status}")
        if CUSTOMER_GROUP in task.candidate_groups:
            raise Forbidden(f"task {task.id} is the customer's to answer; it cannot be assigned")
        user = uow.users.get(assignee)
        if user is None or not user.active or user.is_customer:
            raise ValidationFailed(f"there is no active staff user {assignee!r}", field="assignee")
        if not user.in_any(set(task.candidate_groups)):
            raise ValidationFailed(f"{assignee} is not in {', '.join(task.candidate_groups)}, who do task "
                                   f"{task.name}", field="assignee")
        if user.approval_level < task.required_level:
            raise ValidationFailed(f"{assignee} approves up to level {user.approval_level}; this approval needs "
                                   f"level {task.required_level}", field="assignee")
        if not may_see(user, replace(task, assignee=None)):
            raise ValidationFailed(f"{assignee} proposed or requested this change and may not approve it "
                                   f"(four eyes)", field="assignee")
        before = {"task": task.id, "assignee": task.assignee, "claimed_by": task.claimed_by}
        task.assignee, task.claimed_by = assignee, None
        uow.tasks.update(task)
        uow.audit.record(by.username, "task.assigned", task.request_reference, before,
                         {"task": task.id, "element": task.element_id, "assignee": assignee})
        uow.commit()
    return task
