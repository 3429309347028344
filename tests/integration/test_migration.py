"""Moving running requests to a new deployment, on SQLite and PostgreSQL.

Five requests wait at different places: the investigation (inside the billing_dispute call activity), the
customer's answer to a question (also inside it), the approval, the customer's answer to the proposed
resolution, and the compliance review of a KYC finding. A new version that only renames and adds elements
after them lets every one move and finish on it; one that removes where a request waits, or the form its
open task shows, leaves that request untouched with the reason.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from support import (
    complete,
    decision,
    dispute,
    drain,
    ending,
    instance,
    investigation,
    open_elements,
    open_task,
    opened,
    submit,
)
from version_edits import (
    Edit,
    Sources,
    change_id,
    form,
    insert_after,
    remove,
    rename,
    without_boundary_events,
)

from bpmn_requests.domain.errors import Conflict, ValidationFailed
from bpmn_requests.usecases.audit import verify_audit
from bpmn_requests.usecases.context import Services
from bpmn_requests.usecases.migration import check_migration, migrate_all_safe, migrate_instance
from bpmn_requests.usecases.tasks import answer_for_customer, respond_as_customer

KYC_CLEAR = {"decision": "clear", "rationale": "The renewed passport was checked."}
QUESTION = {"decision": "need_info", "question": "Which unit price did you agree?", "note": "No contract on file."}


@pytest.fixture
def services(system: Any) -> Services:
    return system.services  # type: ignore[no-any-return]


@pytest.fixture
def sources(tmp_path: Path) -> Sources:
    return Sources(tmp_path / "edited")


@pytest.fixture
def waiting(services: Services) -> dict[str, str]:
    """{where it waits: request reference} on deployment 1."""
    investigating = dispute(services)
    asked = dispute(services, "INV-1002", "C-1002")
    complete(services, asked, "Task_Investigate", "bob", QUESTION)
    approving = dispute(services, "INV-1003", "C-1003")
    complete(services, approving, "Task_Investigate", "bob", investigation("17000.00"))
    answering = dispute(services, "INV-1004", "C-1004")
    complete(services, answering, "Task_Investigate", "bob", investigation("11800.00"))
    reviewing = submit(services, type="credit_onboarding", customer_id="C-1009", requested_limit="2000.00",
                       description="Credit terms for repeat orders.").reference
    found = {"investigation": investigating, "question": asked, "approval": approving,
             "resolution": answering, "compliance": reviewing}
    assert {k: waiting_at(services, r) for k, r in found.items()} == {
        "investigation": ["Task_Investigate"], "question": ["Task_ProvideInformation"], "approval": ["Task_Approve"],
        "resolution": ["Task_CustomerResolution"], "compliance": ["Task_KycReview"]}
    return found


def waiting_at(services: Services, reference: str) -> list[str]:
    """Where the request waits: its open user tasks and the elements waiting for a message."""
    with services.uow() as uow:
        row = uow.instances.for_request(reference)
        received = [s.element_id for s in uow.subscriptions.for_instance(row.id)]
    return sorted(open_elements(services, reference) + received)


def answer(services: Services, reference: str, text: str = "USD 10.00 per unit.") -> None:
    answer_for_customer(reference, "customer_answer", {"answer": text}, services)
    drain(services)


def downstream_only(sources: Sources) -> None:
    """A version that renames and adds elements after every place a request waits."""
    sources.edit("customer_request.bpmn", rename("Task_Post", "Post the change to the ledger"),
                 insert_after("Task_KycReview", "Task_LogKycDecision", "Log KYC decision"),
                 insert_after("Task_Approve", "Task_LogApproval", "Log approval"),
                 insert_after("Task_CustomerResolution", "Task_LogAnswer", "Log the answer"))
    sources.edit("billing_dispute.bpmn", rename("Task_ComputeInvoiceAdjustment", "Compute the adjustment"),
                 insert_after("Task_Investigate", "Task_CheckEvidence", "Check evidence"),
                 insert_after("Task_ProvideInformation", "Task_LogInformation", "Log information"))


def snapshot(services: Services, reference: str) -> tuple[Any, ...]:
    """What a move would change: the instance row, its task rows, its audit trail."""
    row = instance(services, reference)
    with services.uow() as uow:
        tasks = sorted((t.id, t.element_id, t.form_id, t.status) for t in uow.tasks.for_instances([row.id]))
        events = len(uow.audit.for_subject(reference))
    return row.deployment_id, row.state, row.version, tasks, events


def timers(services: Services, reference: str) -> list[tuple[str, Any]]:
    """(element, due time) of every timer the request waits for."""
    row = instance(services, reference)
    with services.uow() as uow:
        deployment = uow.deployments.get(row.deployment_id)
    described = services.engine.describe(services.bundle(deployment), row.process_id, row.state)
    return sorted((t.element_id, t.due_at) for t in described.timers)


def variables(services: Services, reference: str) -> dict[str, Any]:
    row = instance(services, reference)
    with services.uow() as uow:
        deployment = uow.deployments.get(row.deployment_id)
    return services.engine.data(services.bundle(deployment), row.process_id, row.state)


def test_a_version_that_only_renames_and_adds_downstream_lets_every_request_move_and_finish_on_it(
        services: Services, sources: Sources, waiting: dict[str, str]) -> None:
    downstream_only(sources)
    assert sources.deploy(services).deployment_id == 2
    plan = check_migration(1, 2, services)
    assert {i.reference: i.safe for i in plan.instances} == {r: True for r in waiting.values()}
    by_ref = {i.reference: i for i in plan.instances}
    assert by_ref[waiting["investigation"]].waiting_at == (
        "customer_request/Activity_BillingDispute", "billing_dispute/Task_Investigate",
        "billing_dispute/Event_InvestigateReminder", "billing_dispute/Event_InvestigateBreached")
    assert any("Task_Investigate: outputs changed" in n for n in by_ref[waiting["investigation"]].notes)

    services.clock.advance(timedelta(days=2))  # type: ignore[attr-defined]
    answer_period = timers(services, waiting["question"])
    results = migrate_all_safe(1, 2, "admin", services)
    assert all(r.moved for r in results) and len(results) == 5
    # A moved request keeps its timers' due times: the answer period does not start again.
    assert timers(services, waiting["question"]) == answer_period
    assert ("Event_DisputeInformationOverdue", services.clock.now() + timedelta(days=12)) in answer_period
    for where, reference in waiting.items():
        assert instance(services, reference).deployment_id == 2, where
        with services.uow() as uow:
            [event] = [e for e in uow.audit.for_subject(reference) if e.action == "instance.migrated"]
        assert (event.actor, event.before["deployment"], event.after["deployment"]) == ("admin", 1, 2)
    assert check_migration(1, 2, services).instances == ()

    # Each one continues on the new diagrams, through the elements only they have.
    complete(services, waiting["investigation"], "Task_Investigate", "bob", investigation("11800.00"))
    complete(services, waiting["investigation"], "Task_Approve", "carol", decision("approve"))
    respond_as_customer(waiting["investigation"], True, "", services)
    answer(services, waiting["question"])
    complete(services, waiting["question"], "Task_Investigate", "bob", investigation("14000.00"))
    respond_as_customer(waiting["question"], True, "", services)
    complete(services, waiting["approval"], "Task_Approve", "carol", decision("approve"))
    respond_as_customer(waiting["approval"], True, "", services)
    respond_as_customer(waiting["resolution"], True, "", services)
    complete(services, waiting["compliance"], "Task_KycReview", "frank", KYC_CLEAR)
    complete(services, waiting["compliance"], "Task_CreditReview", "grace",
             {"decision": "approve_limit", "approved_limit": "2000.00", "note": "Small limit, good references."})
    complete(services, waiting["compliance"], "Task_Approve", "carol", decision("approve"))
    for where, reference in waiting.items():
        assert ending(services, reference) == ("Event_Resolved", "resolved"), where
    passed = {where: sorted(k for k in variables(services, ref) if k.startswith("passed_"))
              for where, ref in waiting.items()}
    assert passed == {
        "investigation": ["passed_Task_CheckEvidence", "passed_Task_LogAnswer", "passed_Task_LogApproval"],
        "question": ["passed_Task_CheckEvidence", "passed_Task_LogAnswer", "passed_Task_LogInformation"],
        "approval": ["passed_Task_LogAnswer", "passed_Task_LogApproval"],
        "resolution": ["passed_Task_LogAnswer"],
        "compliance": ["passed_Task_LogApproval", "passed_Task_LogKycDecision"]}
    assert verify_audit(services).ok


def test_a_version_removing_where_a_request_waits_leaves_that_request_untouched_with_the_reason(
        services: Services, sources: Sources, waiting: dict[str, str]) -> None:
    sources.edit("billing_dispute.bpmn", without_boundary_events("Task_ProvideInformation"), remove("Task_ProvideInformation"))
    sources.deploy(services)
    plan = check_migration(1, 2, services)
    [unsafe] = plan.unsafe
    assert unsafe.reference == waiting["question"]
    assert unsafe.reasons == ("it waits at billing_dispute/Task_ProvideInformation, which the new version removes",
                              "it waits at billing_dispute/Event_DisputeInformationOverdue, which the new version "
                              "removes")
    before = snapshot(services, waiting["question"])

    results = {r.reference: r for r in migrate_all_safe(1, 2, "admin", services)}
    assert not results[waiting["question"]].moved and "Task_ProvideInformation" in str(results[waiting["question"]].reason)
    assert sum(r.moved for r in results.values()) == 4
    assert snapshot(services, waiting["question"]) == before
    with pytest.raises(Conflict, match="which the new version removes"):
        migrate_instance(instance(services, waiting["question"]).id, 2, "admin", services)
    assert snapshot(services, waiting["question"]) == before

    # It finishes on the version it started on.
    answer(services, waiting["question"])
    assert open_elements(services, waiting["question"]) == ["Task_Investigate"]
    assert instance(services, waiting["question"]).deployment_id == 1


def test_a_request_whose_open_task_form_was_removed_cannot_move(
        services: Services, sources: Sources, waiting: dict[str, str]) -> None:
    sources.copy_form("kyc_review", "kyc_decision")
    sources.remove_form("kyc_review")
    sources.edit("customer_request.bpmn", form("Task_KycReview", "kyc_decision"))
    sources.deploy(services)
    plan = check_migration(1, 2, services)
    assert [(i.reference, i.reasons) for i in plan.unsafe] == [
        (waiting["compliance"], ("its open task customer_request/Task_KycReview uses form kyc_review, which "
                                 "deployment 2 does not have",))]


def test_moved_task_rows_take_the_element_id_name_and_form_of_the_new_version(
        services: Services, sources: Sources, waiting: dict[str, str]) -> None:
    reviewing = open_task(services, waiting["compliance"], "Task_KycReview")
    sources.copy_form("investigation", "dispute_investigation")
    sources.edit("customer_request.bpmn", change_id("Task_KycReview", "Task_ReviewKycFinding"),
                 rename("Task_ReviewKycFinding", "Review the KYC finding"))
    sources.edit("billing_dispute.bpmn", form("Task_Investigate", "dispute_investigation"))
    sources.deploy(services)
    [check] = [i for i in check_migration(1, 2, services).instances if i.reference == waiting["compliance"]]
    assert check.safe and "customer_request/Task_KycReview is Task_ReviewKycFinding in the new version" in check.notes
    migrate_instance(instance(services, waiting["investigation"]).id, 2, "admin", services, from_id=1)
    moved = migrate_instance(reviewing.instance_id, 2, "admin", services, from_id=1)
    assert moved.tasks == ("Task_ReviewKycFinding",)
    renamed = open_task(services, waiting["compliance"], "Task_ReviewKycFinding")
    assert (renamed.id, renamed.name, renamed.form_id) == (reviewing.id, "Review the KYC finding", "kyc_review")
    assert open_task(services, waiting["investigation"], "Task_Investigate").form_id == "dispute_investigation"
    complete(services, waiting["compliance"], "Task_ReviewKycFinding", "frank", KYC_CLEAR)
    assert opened(services, waiting["compliance"])[-1] == "Task_CreditReview"
    complete(services, waiting["investigation"], "Task_Investigate", "bob", investigation("11800.00"))
    assert opened(services, waiting["investigation"])[-1] == "Task_Approve"


def test_a_request_waiting_at_a_customer_task_cannot_move_where_that_element_is_a_receive_task(
        services: Services, sources: Sources) -> None:
    """Requests of a version where the customer answered in a user task finish there: the element that
    became a receive task (same id) is of another kind, and the check says so."""
    older = Sources(sources.processes.parent.parent / "older")
    older.edit("customer_request.bpmn", as_customer_task("Task_CustomerResolution", "customer_resolution"))
    older.deploy(services)  # deployment 2: the customer's answer is a task again
    reference = dispute(services)
    complete(services, reference, "Task_Investigate", "bob", investigation("11800.00"))
    complete(services, reference, "Task_Approve", "carol", decision("approve"))
    assert open_elements(services, reference) == ["Task_CustomerResolution"]
    sources.deploy(services)  # deployment 3: the shipped receive task
    [check] = [i for i in check_migration(2, 3, services).instances if i.reference == reference]
    assert check.reasons == ("it waits at customer_request/Task_CustomerResolution, a userTask here, which the new "
                             "version makes a receiveTask: what an instance waits at cannot change its kind",)
    before = snapshot(services, reference)
    with pytest.raises(Conflict, match="cannot change its kind"):
        migrate_instance(instance(services, reference).id, 3, "admin", services)
    assert snapshot(services, reference) == before
    respond_as_customer(reference, True, "", services)  # answered on its own version, as a task
    assert ending(services, reference) == ("Event_Resolved", "resolved")


def test_requests_inside_a_call_activity_follow_what_the_new_version_adds_or_removes_after_it(
        services: Services, sources: Sources, waiting: dict[str, str]) -> None:
    sources.edit("customer_request.bpmn", insert_after("Activity_BillingDispute", "Task_AuditDispute", "Audit"))
    sources.deploy(services)
    investigating, asked = instance(services, waiting["investigation"]), instance(services, waiting["question"])
    for row in (investigating, asked):
        migrate_instance(row.id, 2, "admin", services)
    complete(services, waiting["investigation"], "Task_Investigate", "bob", investigation("11800.00"))
    assert variables(services, waiting["investigation"])["passed_Task_AuditDispute"] is True

    sources.edit("customer_request.bpmn", remove("Task_AuditDispute"))
    sources.deploy(services)
    checks = {i.instance_id: i for i in check_migration(2, 3, services).instances}
    assert checks[investigating.id].reasons == (
        "it passed customer_request/Task_AuditDispute, which the new version removes, so its history could not "
        "be kept",)
    assert checks[asked.id].safe, checks[asked.id].reasons
    migrate_instance(asked.id, 3, "admin", services, from_id=2)
    answer(services, waiting["question"])
    complete(services, waiting["question"], "Task_Investigate", "bob", investigation("14000.00"))
    respond_as_customer(waiting["question"], True, "", services)
    assert ending(services, waiting["question"]) == ("Event_Resolved", "resolved")
    assert "passed_Task_AuditDispute" not in variables(services, waiting["question"])
    with services.uow() as uow:
        moves = [(e.before["deployment"], e.after["deployment"]) for e in uow.audit.for_subject(asked.request_reference)
                 if e.action == "instance.migrated"]
    assert moves == [(1, 2), (2, 3)]


def test_moving_refuses_what_has_nothing_to_move(services: Services, sources: Sources,
                                                  waiting: dict[str, str]) -> None:
    downstream_only(sources)
    sources.deploy(services)
    row = instance(services, waiting["approval"])
    with pytest.raises(ValidationFailed, match="on it already"):
        migrate_instance(row.id, 1, "admin", services)
    with pytest.raises(Conflict, match="is on deployment 1, not 2"):
        migrate_instance(row.id, 1, "admin", services, from_id=2)
    migrate_instance(row.id, 2, "admin", services)
    with pytest.raises(ValidationFailed, match="on it already"):
        migrate_instance(row.id, 2, "admin", services)


def timers_follow(element_id: str, new_id: str) -> Edit:
    """The SLA timers stay on a task whose id changed, and their steps name the new id."""

    def change(tree: etree._ElementTree) -> None:
        for event in tree.xpath(f"//*[@attachedToRef='{element_id}']"):
            event.set("attachedToRef", new_id)
        for parameter in tree.xpath(f"//*[local-name()='inputParameter'][text()='{element_id}']"):
            parameter.text = new_id

    return change


def as_customer_task(element_id: str, form_id: str) -> Edit:
    """The receive task as the earlier versions drew it: a user task of the customers with the form."""

    def change(tree: etree._ElementTree) -> None:
        camunda = "http://camunda.org/schema/1.0/bpmn"
        [node] = tree.xpath(f"//*[@id='{element_id}']")
        node.tag = "{http://www.omg.org/spec/BPMN/20100524/MODEL}userTask"
        del node.attrib["messageRef"]
        node.set(f"{{{camunda}}}formRef", form_id)
        node.set(f"{{{camunda}}}formRefBinding", "deployment")
        node.set(f"{{{camunda}}}candidateGroups", "customers")

    return change
