"""Two people acting on the same task at the same moment: exactly one wins, the other is told why.

Each call runs in its own thread with its own unit of work (the shared services open a session per call).
PostgreSQL serialises them with SELECT ... FOR UPDATE on the instance row; SQLite with BEGIN IMMEDIATE.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

from bpmn_requests.domain.errors import Conflict
from bpmn_requests.domain.users import User
from bpmn_requests.usecases.accounts import add_user
from bpmn_requests.usecases.audit import verify_audit
from bpmn_requests.usecases.queries import show_request
from bpmn_requests.usecases.submit import SubmitRequest, submit_request
from bpmn_requests.usecases.tasks import CompleteTask, claim_task, complete_task, respond_as_customer

DISPUTE = {"type": "billing_dispute", "customer_id": "C-1001", "invoice_numbers": ["INV-1001"],
           "disputed_amount": "700.00", "description": "Invoice INV-1001 uses the old unit price."}
INVESTIGATION = {"decision": "adjust", "corrected_amount": "11800.00", "reason_code": "pricing_error",
                 "note": "Checked the contract price list."}
APPROVAL = {"decision": "approve", "comment": "Checked against the contract."}
ALREADY_DONE = r"already completed|changed by someone else"


def race(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls in threads released at the same moment; each outcome is a result or an exception."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        barrier.wait()
        try:
            outcomes[index] = call()
        except Exception as exc:  # the loser's error is what the test looks at
            outcomes[index] = exc

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
        assert not thread.is_alive(), "a racing call hangs: a lock was never released"
    return outcomes


def winner_and_loser(outcomes: list[Any]) -> tuple[Any, BaseException]:
    errors = [o for o in outcomes if isinstance(o, BaseException)]
    successes = [o for o in outcomes if not isinstance(o, BaseException)]
    assert len(successes) == 1 and len(errors) == 1, f"expected one winner and one refusal, got {outcomes!r}"
    return successes[0], errors[0]


def user(system: Any, username: str) -> User:
    with system.services.uow() as uow:
        found = uow.users.get(username)
    assert found is not None
    return found


def open_task(system: Any, reference: str, element_id: str) -> str:
    with system.services.uow() as uow:
        [task] = [t for t in uow.tasks.open_for_request(reference) if t.element_id == element_id]
    return task.id


def complete(system: Any, task_id: str, username: str, data: dict[str, Any]) -> Callable[[], Any]:
    return lambda: complete_task(CompleteTask(task_id, user(system, username), data), system.services)


def audit_actions(view: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [e for e in view["audit"] if e["action"] == action]


def test_two_people_completing_the_same_task_at_once_advance_the_request_once(system: Any) -> None:
    reference = submit_request(SubmitRequest(DISPUTE, "alice"), system.services).reference
    investigate = open_task(system, reference, "Task_Investigate")

    winner, loser = winner_and_loser(race(complete(system, investigate, "bob", INVESTIGATION),
                                          complete(system, investigate, "bob", INVESTIGATION)))

    assert winner.status == "awaiting_approval"
    assert isinstance(loser, Conflict)
    assert loser.message.startswith(f"task {investigate} ")
    assert re.search(ALREADY_DONE, loser.message), loser.message
    view = show_request(reference, system.services)
    assert [s["element_id"] for s in view["steps"]] == ["Task_Investigate"]
    assert len(audit_actions(view, "task.completed")) == 1
    assert [t["element_id"] for t in view["open_tasks"]] == ["Task_Approve"]
    assert view["approvals"] == [] and view["postings"] == []
    assert verify_audit(system.services).ok


def test_two_approvers_approving_at_once_give_one_approval_and_one_posting(system: Any) -> None:
    reference = submit_request(SubmitRequest(DISPUTE, "alice"), system.services).reference
    complete(system, open_task(system, reference, "Task_Investigate"), "bob", INVESTIGATION)()
    approve = open_task(system, reference, "Task_Approve")

    winner, loser = winner_and_loser(race(complete(system, approve, "carol", APPROVAL),
                                          complete(system, approve, "dave", APPROVAL)))

    assert isinstance(loser, Conflict) and "already completed" in loser.message
    assert winner.task.completed_by in loser.message  # the loser learns who was first
    view = show_request(reference, system.services)
    [approval] = view["approvals"]
    assert approval["approver"] == winner.task.completed_by
    [posting] = view["postings"]
    assert (posting["kind"], Decimal(posting["amount"]), posting["approval_id"]) == (
        "credit_memo", Decimal("700.00"), approval["id"])
    assert len(audit_actions(view, "approval.decided")) == 1
    [invoice] = view["financial_references"]["invoices"]
    assert Decimal(invoice["open_amount"]) == Decimal("11800.00")
    with system.services.uow() as uow:
        assert uow.finance.reconcile().balanced
    assert verify_audit(system.services).ok


def test_customer_answering_twice_at_once_closes_the_request_once(system: Any) -> None:
    reference = submit_request(SubmitRequest(DISPUTE, "alice"), system.services).reference
    complete(system, open_task(system, reference, "Task_Investigate"), "bob", INVESTIGATION)()
    complete(system, open_task(system, reference, "Task_Approve"), "carol", APPROVAL)()

    outcomes = race(lambda: respond_as_customer(reference, True, "", system.services),
                    lambda: respond_as_customer(reference, True, "", system.services))

    winner, loser = winner_and_loser(outcomes)
    assert winner.status == "closed"
    # The loser either found the task completed under the lock, or found nothing waiting any more.
    assert isinstance(loser, Conflict)
    assert ("already completed" in loser.message or "not waiting for the customer" in loser.message), loser.message
    view = show_request(reference, system.services)
    assert view["status"] == "closed" and len(view["postings"]) == 1
    assert len(audit_actions(view, "instance.completed")) == 1


def test_two_people_claiming_the_same_task_at_once_leave_one_claim(system: Any) -> None:
    with system.services.uow() as uow:
        add_user(uow, "bianca", "Bianca Billing", ("billing",), "secret-pass", "admin")
        uow.commit()
    reference = submit_request(SubmitRequest(DISPUTE, "alice"), system.services).reference
    investigate = open_task(system, reference, "Task_Investigate")

    winner, loser = winner_and_loser(race(
        lambda: claim_task(investigate, user(system, "bob"), system.services),
        lambda: claim_task(investigate, user(system, "bianca"), system.services)))

    assert isinstance(loser, Conflict)
    assert loser.message == f"task {investigate} is claimed by {winner.claimed_by}"
    with system.services.uow() as uow:
        assert uow.tasks.get(investigate).claimed_by == winner.claimed_by
    view = show_request(reference, system.services)
    assert len(audit_actions(view, "task.claimed")) == 1
    assert verify_audit(system.services).ok
