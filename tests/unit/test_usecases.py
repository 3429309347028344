"""The use cases' rules on the in-memory unit of work: intake, duplicates, who sees and does which task,
four eyes and authority, form errors, stale completions, and the audit chain. No database, no Flask.

A refused action changes nothing: each refusal test compares the whole memory store before and after.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from support import (
    add_staff,
    approvals,
    complete,
    decision,
    dispute,
    ending,
    investigation,
    memory_state,
    open_task,
    postings,
    record,
    rejection,
    staff,
    state_copy,
    submit,
)

from bpmn_requests.domain.audit import first_broken
from bpmn_requests.domain.errors import (
    BusinessRuleViolation,
    Conflict,
    DuplicateRequest,
    Forbidden,
    ServiceTaskError,
    ValidationFailed,
)
from bpmn_requests.domain.users import customer_actor
from bpmn_requests.usecases.audit import verify_audit
from bpmn_requests.usecases.context import Services
from bpmn_requests.usecases.tasks import (
    CompleteTask,
    claim_task,
    complete_task,
    respond_as_customer,
    tasks_for,
)


def awaiting_approval(services: Services, corrected: str = "11800.00", invoice: str = "INV-1001",
                      customer: str = "C-1001", by: str = "alice") -> str:
    """A dispute whose credit memo waits at Task_Approve (700.00 on INV-1001: level 1)."""
    ref = dispute(services, invoice, customer, by=by)
    complete(services, ref, "Task_Investigate", "bob", investigation(corrected))
    return ref


def small_write_off(services: Services, customer: str, invoice: str) -> str:
    """A write-off under the tolerance: booked automatically, then waiting for the customer's answer."""
    return submit(services, type="credit_adjustment", customer_id=customer, invoice_numbers=[invoice],
                  adjustment_kind="write_off", disputed_amount="120.00",
                  description="Small balance.").reference


def visible(services: Services, username: str) -> set[tuple[str, str]]:
    return {(t.request_reference, t.element_id) for t in tasks_for(staff(services, username), services)}


# --- submit --------------------------------------------------------------------------------------------

def test_submit_refuses_bad_intake_naming_every_bad_field_and_writes_nothing(services: Services) -> None:
    before = state_copy(services)
    with pytest.raises(ValidationFailed) as refused:
        submit(services, type="billing_dispute", customer_id="X-1", description=" ", disputed_amount="-5",
               priority="asap", colour="red")
    assert set(refused.value.field_errors) == {"customer_id", "description", "disputed_amount", "priority",
                                               "colour", "invoice_numbers"}
    for name in refused.value.field_errors:
        assert name in refused.value.message
    assert state_copy(services) == before
    assert memory_state(services).records == {}
    assert [e.action for e in memory_state(services).audit] == ["deployment.created"]


def test_submit_refused_by_registration_leaves_no_trace_and_uses_no_reference(services: Services) -> None:
    before = state_copy(services)
    with pytest.raises(ServiceTaskError) as refused:
        submit(services, type="billing_dispute", customer_id="C-9999", invoice_numbers=["INV-1001"],
               description="Unknown customer.")
    assert refused.value.field == "customer_id"
    assert state_copy(services) == before
    assert dispute(services) == "REQ-100001"


def test_duplicate_request_for_an_open_invoice_is_refused_with_the_existing_reference(
        services: Services) -> None:
    first = dispute(services)
    before = state_copy(services)
    with pytest.raises(DuplicateRequest) as refused:
        dispute(services)
    assert refused.value.existing_reference == first
    assert first in refused.value.message
    assert state_copy(services) == before


def test_a_closed_request_no_longer_blocks_a_new_one_for_the_same_invoice(services: Services) -> None:
    first = dispute(services)
    complete(services, first, "Task_Investigate", "bob", rejection())
    assert dispute(services) != first


# --- who sees which task ---------------------------------------------------------------------------------

def test_approvers_see_only_approvals_within_their_level(services: Services) -> None:
    level_1 = awaiting_approval(services)  # 700.00
    level_2 = awaiting_approval(services, "5600.00", "INV-1004", "C-1004")  # 6,000.00
    assert visible(services, "carol") == {(level_1, "Task_Approve")}
    assert visible(services, "dave") == {(level_1, "Task_Approve"), (level_2, "Task_Approve")}
    assert visible(services, "erin") == visible(services, "dave")
    assert visible(services, "bob") == set() and visible(services, "alice") == set()


def test_staff_see_only_the_tasks_of_their_groups(services: Services) -> None:
    billing = dispute(services)
    kyc = submit(services, type="credit_onboarding", customer_id="C-1009", requested_limit="2000.00",
                 description="Credit terms.").reference
    assert visible(services, "bob") == {(billing, "Task_Investigate")}
    assert visible(services, "frank") == {(kyc, "Task_KycReview")}
    assert visible(services, "grace") == set() and visible(services, "carol") == set()


def test_a_customers_answer_is_a_message_to_their_own_request_not_an_inbox_task(services: Services) -> None:
    mine = small_write_off(services, "C-1001", "INV-1001")
    theirs = small_write_off(services, "C-1002", "INV-1002")
    assert tasks_for(customer_actor("C-1001"), services) == []  # nothing to do in an inbox
    assert visible(services, "bob") == set() and visible(services, "dave") == set()
    answered = respond_as_customer(mine, True, "Thank you.", services)
    assert answered.status == "closed" and record(services, mine).status == "closed"
    assert record(services, theirs).status == "awaiting_customer"
    with services.uow() as uow:
        [waiting] = uow.subscriptions.for_instance(uow.instances.for_request(theirs).id)
    assert (waiting.message, waiting.correlation_key) == ("customer_decision", theirs)


# --- claim, release, completing what is not yours ---------------------------------------------------------

def test_a_claimed_task_is_refused_to_others_until_it_is_released(services: Services) -> None:
    ref = awaiting_approval(services)
    task = open_task(services, ref, "Task_Approve")
    carol, dave = staff(services, "carol"), staff(services, "dave")
    assert claim_task(task.id, carol, services).claimed_by == "carol"
    with pytest.raises(Conflict, match="claimed by carol"):
        claim_task(task.id, dave, services)
    before = state_copy(services)
    with pytest.raises(Conflict, match="claimed by carol"):
        complete_task(CompleteTask(task.id, dave, decision("approve")), services)
    assert state_copy(services) == before
    assert claim_task(task.id, carol, services, release=True).claimed_by is None
    complete_task(CompleteTask(task.id, dave, decision("approve")), services)
    assert approvals(services, ref) == [("dave", 1, "approve")]


def test_staff_outside_the_candidate_groups_cannot_claim_a_task(services: Services) -> None:
    task = open_task(services, dispute(services), "Task_Investigate")
    with pytest.raises(Forbidden, match="billing"):
        claim_task(task.id, staff(services, "alice"), services)


@pytest.mark.parametrize("username", ["alice", "grace", "carol"])
def test_completing_a_task_of_another_group_is_forbidden_and_changes_nothing(
        services: Services, username: str) -> None:
    ref = dispute(services)
    before = state_copy(services)
    with pytest.raises(Forbidden):
        complete(services, ref, "Task_Investigate", username, investigation("11800.00"))
    assert state_copy(services) == before


# --- four eyes and authority ----------------------------------------------------------------------------

def test_proposer_cannot_approve_their_own_proposal(services: Services) -> None:
    add_staff(services, "pat", "billing", "ar_supervisors")
    ref = dispute(services)
    complete(services, ref, "Task_Investigate", "pat", investigation("11800.00"))
    before = state_copy(services)
    with pytest.raises(BusinessRuleViolation, match="four eyes: pat proposed"):
        complete(services, ref, "Task_Approve", "pat", decision("approve"))
    assert state_copy(services) == before
    complete(services, ref, "Task_Approve", "carol", decision("approve"))
    assert approvals(services, ref) == [("carol", 1, "approve")]


def test_requester_cannot_approve_their_own_request(services: Services) -> None:
    ref = awaiting_approval(services, "5600.00", "INV-1004", "C-1004", by="dave")  # level 2
    before = state_copy(services)
    with pytest.raises(BusinessRuleViolation, match=f"four eyes: dave submitted request {ref}"):
        complete(services, ref, "Task_Approve", "dave", decision("approve"))
    assert state_copy(services) == before
    complete(services, ref, "Task_Approve", "erin", decision("approve"))
    assert approvals(services, ref) == [("erin", 2, "approve")]


def test_approval_above_the_approvers_level_is_refused(services: Services) -> None:
    ref = awaiting_approval(services, "5600.00", "INV-1004", "C-1004")  # 6,000.00 needs level 2
    before = state_copy(services)
    with pytest.raises(BusinessRuleViolation, match="needs level 2; carol has level 1"):
        complete(services, ref, "Task_Approve", "carol", decision("approve"))
    assert state_copy(services) == before
    assert postings(services, ref) == []


# --- form errors ----------------------------------------------------------------------------------------

FORM_ERRORS: list[tuple[str, dict[str, Any], str]] = [
    ("missing required", {k: v for k, v in investigation("11800.00").items() if k != "note"}, "note"),
    ("wrong type", {**investigation("11800.00"), "corrected_amount": "eleven thousand"}, "corrected_amount"),
    ("option not allowed", {**investigation("11800.00"), "reason_code": "too_expensive"}, "reason_code"),
    ("decision not offered", {**investigation("11800.00"), "decision": "maybe"}, "decision"),
    ("unknown key", {**investigation("11800.00"), "colour": "red"}, "colour"),
]


@pytest.mark.parametrize(("case", "data", "field"), FORM_ERRORS, ids=[c for c, _, _ in FORM_ERRORS])
def test_form_errors_name_the_field_and_change_nothing(services: Services, case: str, data: dict[str, Any],
                                                       field: str) -> None:
    ref = dispute(services)
    before = state_copy(services)
    with pytest.raises(ValidationFailed) as refused:
        complete(services, ref, "Task_Investigate", "bob", data)
    assert field in refused.value.field_errors, case
    assert state_copy(services) == before


# --- stale actions --------------------------------------------------------------------------------------

def test_completing_a_completed_task_is_a_conflict(services: Services) -> None:
    ref = dispute(services)
    task = open_task(services, ref, "Task_Investigate")
    bob = staff(services, "bob")
    complete_task(CompleteTask(task.id, bob, rejection()), services)
    before = state_copy(services)
    with pytest.raises(Conflict, match="already completed by bob"):
        complete_task(CompleteTask(task.id, bob, rejection()), services)
    assert state_copy(services) == before


def test_customer_answer_when_nothing_waits_for_it_is_a_conflict(services: Services) -> None:
    ref = dispute(services)
    before = state_copy(services)
    with pytest.raises(Conflict, match="not waiting for the customer"):
        respond_as_customer(ref, True, "", services)
    assert state_copy(services) == before


# --- audit chain ----------------------------------------------------------------------------------------

def _lifecycle(services: Services) -> str:
    ref = awaiting_approval(services)
    complete(services, ref, "Task_Approve", "carol", decision("approve"))
    respond_as_customer(ref, True, "Fine.", services)
    assert ending(services, ref) == ("Event_Resolved", "resolved")
    return ref


def test_audit_chain_of_a_whole_lifecycle_verifies(services: Services) -> None:
    ref = _lifecycle(services)
    events = memory_state(services).audit
    assert first_broken(events) is None
    check = verify_audit(services)
    assert check.ok and check.events == len(events)
    actions = [e.action for e in events if e.subject == ref]
    for action in ("request.submitted", "task.opened", "task.completed", "approval.decided",
                   "service:ledger/post", "instance.completed"):
        assert action in actions


def test_an_edited_audit_event_is_detected(services: Services) -> None:
    _lifecycle(services)
    events = memory_state(services).audit
    index = next(i for i, e in enumerate(events) if e.action == "approval.decided")
    events[index] = replace(events[index], after={**(events[index].after or {}), "approver": "mallory"})
    broken = first_broken(events)
    assert broken is not None and broken[0].seq == index + 1
    assert "changed after it was written" in broken[1]
    check = verify_audit(services)
    assert not check.ok and check.broken_seq == index + 1


def test_a_deleted_audit_event_is_detected(services: Services) -> None:
    _lifecycle(services)
    events = memory_state(services).audit
    del events[3]
    check = verify_audit(services)
    assert not check.ok and check.broken_seq == 5


def test_an_approver_below_the_level_cannot_claim_and_so_block_an_approval(services: Services) -> None:
    ref = awaiting_approval(services, corrected="5600.00", invoice="INV-1004", customer="C-1004")
    task = open_task(services, ref, "Task_Approve")
    before = state_copy(services)
    with pytest.raises(Forbidden, match="level 2"):
        claim_task(task.id, staff(services, "carol"), services)
    assert state_copy(services) == before
    assert claim_task(task.id, staff(services, "dave"), services).claimed_by == "dave"


def test_an_approval_is_not_offered_to_the_approver_who_submitted_the_request(services: Services) -> None:
    ref = awaiting_approval(services, by="dave", corrected="5600.00", invoice="INV-1004", customer="C-1004")
    assert ref not in {t.request_reference for t in tasks_for(staff(services, "dave"), services)}
    assert ref in {t.request_reference for t in tasks_for(staff(services, "erin"), services)}


def test_deleting_the_last_audit_event_is_detected(services: Services) -> None:
    _lifecycle(services)
    events = memory_state(services).audit
    last = events.pop()
    check = verify_audit(services)
    assert not check.ok and check.broken_seq == last.seq and "deleted" in (check.reason or "")
