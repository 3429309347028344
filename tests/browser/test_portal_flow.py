"""A customer's billing dispute in real Chromium: submit with a PDF, follow the status link, accept, rate.

The staff steps between are done through the use cases, as in seed case 1 (bob investigates, carol
approves). Screenshots at 1280 and 360 px wide go to test-output/screenshots/.
"""

from __future__ import annotations

import re
from typing import Any

from browser_helpers import both_widths

from bpmn_requests.usecases.portal import open_status_link
from bpmn_requests.usecases.submit import SubmitRequest, submit_request
from bpmn_requests.usecases.tasks import CompleteTask, complete_task

# A minimal but well-formed one-page PDF.
PDF = (b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n"
       b"2 0 obj << /Type /Pages /Kids [3 0 R] /Count 1 >> endobj\n"
       b"3 0 obj << /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >> endobj\n"
       b"trailer << /Root 1 0 R >>\n%%EOF\n")


def complete_as(services: Any, reference: str, element_id: str, username: str, data: dict[str, Any]) -> None:
    with services.uow() as uow:
        task = next(t for t in uow.tasks.open_for_request(reference) if t.element_id == element_id)
        user = uow.users.get(username)
    complete_task(CompleteTask(task.id, user, data), services)


def test_a_customer_disputes_an_invoice_and_follows_it_to_the_end(live_server: Any, live_system: Any,
                                                                  page: Any) -> None:
    base = live_server.url
    page.goto(f"{base}/portal/")
    both_widths(page, "portal-index")
    page.get_by_role("link", name="Dispute an invoice").click()
    page.fill("#f-customer_id", "C-1001")
    page.fill("#f-contact_email", "ap@northwind.example")
    page.fill("#f-invoice_numbers", "INV-1001")
    page.fill("#f-disputed_amount", "700.00")
    page.fill("#f-description", "Invoice INV-1001 uses the old unit price; the contract page is attached.")
    page.set_input_files("#evidence", files=[{"name": "contract-page.pdf", "mimeType": "application/pdf",
                                              "buffer": PDF}])
    both_widths(page, "portal-new")
    page.get_by_role("button", name="Send request").click()

    page.wait_for_url(re.compile(r".*/portal/submitted$"))
    assert "Thank you: we received your request" in page.content()
    reference = page.locator(".reference").inner_text()
    link = page.locator(".status-link a").get_attribute("href")
    assert reference.startswith("REQ-") and link and "/portal/status/" in link
    both_widths(page, "portal-submitted")

    services = live_system.services
    complete_as(services, reference, "Task_Investigate", "bob",
                {"decision": "adjust", "corrected_amount": "11800.00", "reason_code": "pricing_error",
                 "note": "Checked the contract price list against the invoice lines."})
    complete_as(services, reference, "Task_Approve", "carol",
                {"decision": "approve", "comment": "Checked against contract and evidence."})

    page.goto(link)
    assert page.locator(".badge.status").inner_text() == "Waiting for your answer"
    assert "a credit note of USD 700.00 on invoice INV-1001" in page.locator("#proposal-title + p").inner_text()
    assert page.get_by_role("link", name="contract-page.pdf").is_visible()
    content = page.content().lower()
    assert "carol" not in content and "bob" not in content and "checked the contract price list" not in content
    both_widths(page, "portal-status")

    page.fill("#respond-comment", "Thank you, that is right.")
    page.get_by_role("button", name="Accept the proposal").click()
    page.wait_for_selector("text=you accepted our proposal")
    assert page.locator(".badge.status").inner_text() == "Closed"
    page.check("#score-5")
    page.fill("#rating-comment", "Quick and clear.")
    page.get_by_role("button", name="Send rating").click()
    page.wait_for_selector("text=Thank you for rating our service")
    assert "You rated our service 5 out of 5" in page.locator("#rating-title + p").inner_text()
    assert page.locator("form[action$='/rating']").count() == 0
    both_widths(page, "portal-closed")

    with services.uow() as uow:
        record = uow.requests.get(reference)
        rating = uow.ratings.get(reference)
    assert (record.status, record.outcome) == ("closed", "resolved")
    assert rating is not None and rating.score == 5


def test_a_customer_answers_a_question_from_billing(live_server: Any, live_system: Any, page: Any) -> None:
    services = live_system.services
    submitted = submit_request(SubmitRequest(
        {"type": "billing_dispute", "customer_id": "C-1002", "invoice_numbers": ["INV-1002"],
         "description": "Volume discount missing on INV-1002."}, "customer:C-1002", "portal"), services)
    token = open_status_link(submitted.reference, "customer:C-1002", services)
    complete_as(services, submitted.reference, "Task_Investigate", "bob",
                {"decision": "need_info", "question": "Which volume discount was agreed, and from which date?",
                 "note": "No discount agreement in the contract file."})

    page.goto(f"{live_server.url}/portal/status/{token}")
    assert page.locator(".question").inner_text() == "Which volume discount was agreed, and from which date?"
    assert "No discount agreement" not in page.content()
    page.fill("#f-answer", "5% from 1 January, see the attached letter.")
    page.set_input_files("#answer-files", files=[{"name": "discount-letter.pdf", "mimeType": "application/pdf",
                                                  "buffer": PDF}])
    both_widths(page, "portal-question")
    page.get_by_role("button", name="Send answer").click()
    page.wait_for_selector("text=we have your answer and 1 document")
    assert page.locator(".badge.status").inner_text() == "In progress"
    assert page.locator("#question-title").count() == 0
    assert page.get_by_role("link", name="discount-letter.pdf").is_visible()
    assert "You answered our question" in page.locator("#history-title + ol").inner_text()
    with services.uow() as uow:
        assert [t.element_id for t in uow.tasks.open_for_request(submitted.reference)] == ["Task_Investigate"]
        record = uow.requests.get(submitted.reference)
    [step] = [s for s in record.steps if s.element_id == "Task_ProvideInformation"]
    assert step.data["answer"].endswith("Attached: discount-letter.pdf")
