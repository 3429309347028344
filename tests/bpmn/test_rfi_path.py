"""The request-for-information path of billing_dispute and credit_adjustment, through the real use cases.

The investigator chooses `need_info` with a `question`; the customer is told (`information_requested`), answers
in `Task_ProvideInformation` / `Task_ProvideAdjustmentInformation` (form `customer_information`), and the
request goes back to the same investigation task, as often as needed.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from lxml import etree
from support import (
    ROOT,
    complete,
    decision,
    dispute,
    ending,
    investigation,
    notices,
    open_elements,
    open_task,
    opened,
    postings,
    record,
    rejection,
    state_copy,
    statuses,
    submit,
)

from bpmn_requests.domain.errors import Conflict, Forbidden, ValidationFailed
from bpmn_requests.domain.users import customer_actor
from bpmn_requests.service_tasks.notify_customer import TEMPLATES
from bpmn_requests.usecases.context import Services
from bpmn_requests.usecases.tasks import Completed, CompleteTask, complete_task, respond_as_customer

QUESTION = "Which unit price did you agree for INV-1001? Please send the page of the contract."
ANSWER = "USD 10.00 per unit; the contract page is attached on the status page."


def ask(question: str = QUESTION, note: str = "The customer's contract is not in our files.") -> dict[str, str]:
    return {"decision": "need_info", "question": question, "note": note}


def answer(services: Services, reference: str, element_id: str = "Task_ProvideInformation",
           text: str = ANSWER, customer: str = "C-1001") -> Completed:
    task = open_task(services, reference, element_id)
    return complete_task(CompleteTask(task.id, customer_actor(customer), {"answer": text}), services)


def messages(services: Services, reference: str, template: str) -> list[str]:
    with services.uow() as uow:
        return [m.body for m in uow.outbox.for_request(reference) if m.template == template]


def test_a_question_waits_for_the_customer_and_the_answer_goes_back_to_billing(services: Services) -> None:
    ref = dispute(services)
    complete(services, ref, "Task_Investigate", "bob", ask())
    assert open_elements(services, ref) == ["Task_ProvideInformation"]
    assert record(services, ref).status == "awaiting_customer"
    assert notices(services, ref) == ["request_received", "information_requested"]
    [body] = messages(services, ref, "information_requested")
    assert QUESTION in body and "status page" in body
    assert "contract is not in our files" not in body  # the work note stays inside

    answer(services, ref)
    assert open_elements(services, ref) == ["Task_Investigate"]
    assert record(services, ref).steps[-1].data == {"answer": ANSWER}

    complete(services, ref, "Task_Investigate", "bob", investigation("11800.00"))
    complete(services, ref, "Task_Approve", "carol", decision("approve"))
    respond_as_customer(ref, True, "", services)
    assert ending(services, ref) == ("Event_Resolved", "resolved")
    assert opened(services, ref) == ["Task_Investigate", "Task_ProvideInformation", "Task_Investigate",
                                     "Task_Approve", "Task_CustomerResolution"]
    assert statuses(services, ref) == ["investigation", "awaiting_customer", "investigation", "awaiting_approval",
                                       "awaiting_customer", "closed"]
    assert postings(services, ref) == [("credit_memo", Decimal("700.00"), "INV-1001")]


def test_billing_may_ask_twice_and_then_reject(services: Services) -> None:
    ref = dispute(services)
    complete(services, ref, "Task_Investigate", "bob", ask("First: which delivery is concerned?"))
    answer(services, ref, text="The one of 3 March.")
    complete(services, ref, "Task_Investigate", "bob", ask("Second: who signed the delivery note?"))
    answer(services, ref, text="Our warehouse manager.")
    complete(services, ref, "Task_Investigate", "bob", rejection())
    assert ending(services, ref) == ("Event_Rejected", "rejected")
    bodies = messages(services, ref, "information_requested")
    assert len(bodies) == 2 and "First:" in bodies[0] and "Second:" in bodies[1]
    assert opened(services, ref).count("Task_ProvideInformation") == 2
    assert postings(services, ref) == []


def test_a_reviewed_credit_adjustment_asks_through_its_own_task(services: Services) -> None:
    ref = submit(services, type="credit_adjustment", customer_id="C-1002", invoice_numbers=["INV-1002"],
                 adjustment_kind="refund", disputed_amount="400.00", description="Refund the late fee.").reference
    complete(services, ref, "Task_ReviewAdjustment", "bob", ask("When did you pay the invoice?"))
    assert open_elements(services, ref) == ["Task_ProvideAdjustmentInformation"]
    assert record(services, ref).status == "awaiting_customer"
    assert "When did you pay the invoice?" in messages(services, ref, "information_requested")[0]
    answer(services, ref, "Task_ProvideAdjustmentInformation", "On the due date, by wire.", customer="C-1002")
    assert open_elements(services, ref) == ["Task_ReviewAdjustment"]
    complete(services, ref, "Task_ReviewAdjustment", "bob",
             {"decision": "adjust", "adjustment_amount": "400.00", "reason_code": "goodwill", "note": "Paid on time."})
    complete(services, ref, "Task_Approve", "carol", decision("approve"))
    respond_as_customer(ref, True, "", services)
    assert ending(services, ref) == ("Event_Resolved", "resolved")
    assert postings(services, ref) == [("credit_memo", Decimal("400.00"), "INV-1002")]


def test_the_question_is_required_when_asking(services: Services) -> None:
    ref = dispute(services)
    before = state_copy(services)
    with pytest.raises(ValidationFailed) as refused:
        complete(services, ref, "Task_Investigate", "bob", {"decision": "need_info", "note": "Missing facts."})
    assert refused.value.field_errors == {"question": "is required"}
    assert state_copy(services) == before


def test_only_the_customer_of_the_request_answers_and_only_with_an_answer(services: Services) -> None:
    ref = dispute(services)
    complete(services, ref, "Task_Investigate", "bob", ask())
    before = state_copy(services)
    with pytest.raises(Forbidden):
        complete(services, ref, "Task_ProvideInformation", "bob", {"answer": "I am not the customer."})
    with pytest.raises(Forbidden):
        answer(services, ref, customer="C-1002")
    with pytest.raises(ValidationFailed) as empty:
        answer(services, ref, text="")
    assert empty.value.field_errors == {"answer": "is required"}
    with pytest.raises(ValidationFailed) as long:
        answer(services, ref, text="x" * 4001)
    assert "answer" in long.value.field_errors
    assert state_copy(services) == before


def test_answering_a_proposal_is_refused_while_a_question_is_open(services: Services) -> None:
    ref = dispute(services)
    complete(services, ref, "Task_Investigate", "bob", ask())
    with pytest.raises(Conflict, match="not waiting for the customer's answer to a proposed resolution"):
        respond_as_customer(ref, True, "", services)


def test_the_information_requested_template_names_the_question() -> None:
    subject, body = TEMPLATES["information_requested"]
    assert "{ref}" in subject and "{question}" in body


def test_element_ids_are_unique_across_all_diagram_files() -> None:
    seen: dict[str, str] = {}
    for path in sorted(Path(ROOT, "processes").glob("*.bpmn")):
        for element in etree.parse(str(path)).getroot().iter():
            element_id = element.get("id")
            if element_id is None:
                continue
            assert element_id not in seen, f"{element_id} is in {seen.get(element_id)} and {path.name}"
            seen[element_id] = path.name
