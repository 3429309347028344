"""The request-for-information path of billing_dispute and credit_adjustment, through the real use cases.

The investigator chooses `need_info` with a `question`; the customer is told (`information_requested`), answers
as a `customer_answer` message to the receive task `Task_ProvideInformation` /
`Task_ProvideAdjustmentInformation` (checked by the form `customer_information`), and the request goes back to
the same investigation task, as often as needed.
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
    drain,
    ending,
    investigation,
    notices,
    open_elements,
    opened,
    postings,
    record,
    rejection,
    staff,
    state_copy,
    statuses,
    submit,
)

from bpmn_requests.domain.errors import Conflict, ValidationFailed
from bpmn_requests.service_tasks.notify_customer import TEMPLATES
from bpmn_requests.usecases.context import Services
from bpmn_requests.usecases.tasks import CustomerAnswered, answer_for_customer, respond_as_customer, tasks_for

QUESTION = "Which unit price did you agree for INV-1001? Please send the page of the contract."
ANSWER = "USD 10.00 per unit; the contract page is attached on the status page."


def ask(question: str = QUESTION, note: str = "The customer's contract is not in our files.") -> dict[str, str]:
    return {"decision": "need_info", "question": question, "note": note}


def answer(services: Services, reference: str, text: str = ANSWER) -> CustomerAnswered:
    """The customer's answer, as the portal and the API send it; a worker then does what fell due."""
    answered = answer_for_customer(reference, "customer_answer", {"answer": text}, services)
    drain(services)
    return answered


def waits_for(services: Services, reference: str) -> list[tuple[str, str]]:
    """(element, message) the request waits for now."""
    with services.uow() as uow:
        return sorted((s.element_id, s.message)
                      for s in uow.subscriptions.for_instance(uow.instances.for_request(reference).id))


def messages(services: Services, reference: str, template: str) -> list[str]:
    with services.uow() as uow:
        return [m.body for m in uow.outbox.for_request(reference) if m.template == template]


def test_a_question_waits_for_the_customer_and_the_answer_goes_back_to_billing(services: Services) -> None:
    ref = dispute(services)
    complete(services, ref, "Task_Investigate", "bob", ask())
    assert open_elements(services, ref) == []  # the customer answers by message, not in an inbox
    assert waits_for(services, ref) == [("Task_ProvideInformation", "customer_answer")]
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
    assert opened(services, ref) == ["Task_Investigate", "Task_Investigate", "Task_Approve"]
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
    assert opened(services, ref).count("Task_Investigate") == 3
    assert [s.element_id for s in record(services, ref).steps].count("Task_ProvideInformation") == 2
    assert postings(services, ref) == []


def test_a_reviewed_credit_adjustment_asks_through_its_own_task(services: Services) -> None:
    ref = submit(services, type="credit_adjustment", customer_id="C-1002", invoice_numbers=["INV-1002"],
                 adjustment_kind="refund", disputed_amount="400.00", description="Refund the late fee.").reference
    complete(services, ref, "Task_ReviewAdjustment", "bob", ask("When did you pay the invoice?"))
    assert waits_for(services, ref) == [("Task_ProvideAdjustmentInformation", "customer_answer")]
    assert record(services, ref).status == "awaiting_customer"
    assert "When did you pay the invoice?" in messages(services, ref, "information_requested")[0]
    answer(services, ref, "On the due date, by wire.")
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


def test_the_answer_is_checked_by_its_form_and_no_staff_task_stands_for_it(services: Services) -> None:
    ref = dispute(services)
    complete(services, ref, "Task_Investigate", "bob", ask())
    assert all(t.request_reference != ref for t in tasks_for(staff(services, "bob"), services))
    before = state_copy(services)
    with pytest.raises(ValidationFailed) as empty:
        answer(services, ref, text="")
    assert empty.value.field_errors == {"answer": "is required"}
    with pytest.raises(ValidationFailed) as long:
        answer(services, ref, text="x" * 4001)
    assert "answer" in long.value.field_errors
    with pytest.raises(ValidationFailed, match="accept: not a field of form customer_information"):
        answer_for_customer(ref, "customer_answer", {"answer": "Yes.", "accept": True}, services)
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
            # A message is defined in every file that receives it (by its name): the same id in each.
            if element_id is None or etree.QName(element).localname == "message":
                continue
            assert element_id not in seen, f"{element_id} is in {seen.get(element_id)} and {path.name}"
            seen[element_id] = path.name
