"""SignedIn pages over HTTP (Flask test client, CSRF on): inbox, task forms, request pages, notes, attachments.

Every refusal is checked twice: the status code, and that nothing was written (the whole request record,
its audit trail, notes and attachments are compared before and after).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from html import unescape
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
from web_client import SignedIn

from bpmn_requests.usecases.accounts import add_user
from bpmn_requests.usecases.notes import attachments_of, notes_of
from bpmn_requests.usecases.queries import show_request
from bpmn_requests.usecases.seed_cases import SEED_CASES, run_seed_case
from bpmn_requests.usecases.submit import SubmitRequest, submit_request
from bpmn_requests.usecases.task_view import inbox
from bpmn_requests.usecases.tasks import CompleteTask, complete_task
from bpmn_requests.web import create_app

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"
MAX_UPLOAD = 4096
PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
INVESTIGATION = {"decision": "adjust", "corrected_amount": "11800.00", "reason_code": "pricing_error",
                 "note": "Contract price list checked against the invoice lines."}


@pytest.fixture
def app(system: Any, tmp_path: Path) -> Any:
    system.settings = replace(system.settings, upload_dir=tmp_path / "uploads", max_upload_bytes=MAX_UPLOAD,
                              secret_key="e2e-tests-secret")
    return create_app(system=system)  # CSRF protection is on, as in production


@pytest.fixture
def colleagues(system: Any) -> None:
    """A second billing analyst, and one analyst in both compliance and credit."""
    with system.services.uow() as uow:
        add_user(uow, "beth", "Beth Billing", ("billing",), "demo", "admin")
        add_user(uow, "kim", "Kim Compliance", ("compliance", "credit"), "demo", "admin")
        uow.commit()


@pytest.fixture
def client_for(app: Any) -> Callable[[str], SignedIn]:
    return lambda username: SignedIn(app, username)


def text_of(response: Any) -> str:
    return unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True)))


def submit(system: Any, number: int, **changes: Any) -> str:
    case = SEED_CASES[number - 1]
    data = {**case.request, **changes}
    return submit_request(SubmitRequest(data, case.submitted_by, data.get("channel", "cli")), system.services).reference


def task_id(system: Any, reference: str, element_id: str) -> str:
    with system.services.uow() as uow:
        return next(t.id for t in uow.tasks.open_for_request(reference) if t.element_id == element_id)


def user(system: Any, username: str) -> Any:
    with system.services.uow() as uow:
        return uow.users.get(username)


def state(system: Any, reference: str) -> dict[str, Any]:
    """All that a request holds: record, tasks, audit, notes and attachments."""
    services = system.services
    with services.uow() as uow:
        tasks = [(t.id, t.status, t.claimed_by, t.assignee) for t in uow.tasks.open_for_request(reference)]
    return {"record": show_request(reference, services), "tasks": tasks,
            "notes": notes_of(reference, services, customer_view=False),
            "attachments": attachments_of(reference, services, customer_view=False)}


# --- signing in ------------------------------------------------------------------------------------------

def test_anonymous_visitors_are_sent_to_sign_in(app: Any, system: Any) -> None:
    reference = submit(system, 1)
    client = app.test_client()
    for url in ("/", f"/tasks/{task_id(system, reference, 'Task_Investigate')}", "/requests",
                f"/requests/{reference}", "/attachments/abc123"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.location, url
    assert client.post(f"/requests/{reference}/notes", data={"body": "x"}).status_code in (302, 400)


def test_login_refuses_a_wrong_password_and_an_unknown_user_with_the_same_words(app: Any) -> None:
    answers = []
    for username, password in (("alice", "wrong"), ("nobody", "demo")):
        client = app.test_client()
        token = CSRF.search(client.get("/login").get_data(as_text=True)).group(1)
        response = client.post("/login", data={"username": username, "password": password, "csrf_token": token})
        assert response.status_code == 401
        answers.append(re.search(r'role="alert">([^<]*)<', response.get_data(as_text=True)).group(1))
        assert client.get("/").status_code == 302  # still signed out
    assert answers[0] == answers[1] == "Unknown user or wrong password."


def test_login_without_the_csrf_token_is_refused(app: Any) -> None:
    client = app.test_client()
    client.get("/login")
    response = client.post("/login", data={"username": "alice", "password": "demo"})
    assert response.status_code == 400
    assert client.get("/").status_code == 302


def test_an_idle_session_expires(system: Any, tmp_path: Path) -> None:
    system.settings = replace(system.settings, upload_dir=tmp_path / "uploads", secret_key="e2e-tests-secret")
    app = create_app(system=system, config={"PERMANENT_SESSION_LIFETIME": timedelta(seconds=1)})
    bob = SignedIn(app, "bob")
    assert bob.get("/").status_code == 200
    time.sleep(2.2)
    response = bob.get("/")
    assert response.status_code == 302 and "/login" in response.location


# --- the inbox --------------------------------------------------------------------------------------------

def test_the_inbox_lists_what_each_user_may_do(system: Any, client_for: Callable[[str], SignedIn]) -> None:
    reference = submit(system, 1)
    page = client_for("bob").get("/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert reference in html and "Investigate dispute" in html and "Northwind Traders Inc." in html
    assert f'/tasks/{task_id(system, reference, "Task_Investigate")}' in html
    for other in ("alice", "carol"):
        assert "Nothing to do right now." in client_for(other).get("/").get_data(as_text=True)


def references_in(html: str) -> list[str]:
    rows = re.findall(r'<td data-label="Request"><a href="/requests/(REQ-\d+)"', html)
    return rows


def test_the_inbox_filters_and_sorts(system: Any, client_for: Callable[[str], SignedIn]) -> None:
    clock = system.services.clock
    first = submit(system, 1)  # $700 at stake: normal priority, 40 h SLA
    clock.advance(timedelta(hours=1))
    second = submit(system, 2)  # the whole $14,200 invoice: high priority, 24 h SLA
    clock.advance(timedelta(hours=1))
    third = submit(system, 4, priority="urgent")
    bob = client_for("bob")

    assert references_in(bob.get("/").get_data(as_text=True)) == [third, second, first]  # most urgent first
    assert references_in(bob.get("/?sort=age").get_data(as_text=True)) == [first, second, third]
    items = inbox(user(system, "bob"), system.services)
    by_due = [i.task.request_reference for i in sorted(items, key=lambda i: i.due_at)]
    assert references_in(bob.get("/?sort=due").get_data(as_text=True)) == by_due
    by_sla = [i.task.request_reference for i in sorted(items, key=lambda i: -i.sla_used)]
    assert references_in(bob.get("/?sort=sla").get_data(as_text=True)) == by_sla

    assert references_in(bob.get(f"/?ref={second.lower()}").get_data(as_text=True)) == [second]
    assert references_in(bob.get("/?priority=urgent").get_data(as_text=True)) == [third]
    assert references_in(bob.get("/?type=payment_issue").get_data(as_text=True)) == []
    assert len(references_in(bob.get("/?type=billing_dispute").get_data(as_text=True))) == 3
    assert references_in(bob.get("/?overdue=1").get_data(as_text=True)) == []
    # SLAs count business hours (09-17, Monday to Friday): from Monday 09:00, three days on is past the
    # 24-hour targets (Wednesday 17:00) and within the 40-hour one (Friday 17:00).
    clock.advance(timedelta(days=3))
    overdue = references_in(bob.get("/?overdue=1").get_data(as_text=True))
    assert first not in overdue and second in overdue
    assert "overdue" in bob.get("/").get_data(as_text=True)


def test_claim_and_unclaim_are_shown_and_audited(system: Any, colleagues: None, client_for: Callable[[str], SignedIn]) -> None:
    reference = submit(system, 1)
    task = task_id(system, reference, "Task_Investigate")
    bob, beth = client_for("bob"), client_for("beth")
    assert bob.post(f"/tasks/{task}/claim", {"next": "/?sort=age"}).location.endswith("/?sort=age")
    assert "Claimed by bob" in beth.get("/").get_data(as_text=True)
    before = state(system, reference)
    assert beth.post(f"/tasks/{task}/claim").status_code == 409
    assert beth.post(f"/tasks/{task}", INVESTIGATION).status_code == 409
    assert state(system, reference) == before
    assert bob.post(f"/tasks/{task}/release", {"next": "https://evil.example/"}).location.endswith("/")
    actions = [e["action"] for e in show_request(reference, system.services)["audit"]]
    assert actions.count("task.claimed") == 1 and actions.count("task.released") == 1


def test_a_supervisor_assigns_a_task_to_one_member_of_its_group(system: Any, colleagues: None,
                                                                  client_for: Callable[[str], SignedIn]) -> None:
    reference = submit(system, 1)
    task = task_id(system, reference, "Task_Investigate")
    carol = client_for("carol")
    team = carol.get("/?scope=team").get_data(as_text=True)
    assert reference in team and f'action="/tasks/{task}/assign"' in team
    assert f"/tasks/{task}/assign" not in carol.get("/").get_data(as_text=True)  # her own tasks only
    assert carol.post(f"/tasks/{task}/assign", {"assignee": "beth"}).status_code == 302
    assert references_in(client_for("bob").get("/").get_data(as_text=True)) == []
    assert "Assigned to beth" in client_for("beth").get("/").get_data(as_text=True)
    [event] = [e for e in show_request(reference, system.services)["audit"] if e["action"] == "task.assigned"]
    assert event["actor"] == "carol" and event["after"]["assignee"] == "beth"


def test_only_supervisors_assign_and_only_to_the_tasks_group(system: Any, colleagues: None,
                                                             client_for: Callable[[str], SignedIn]) -> None:
    reference = submit(system, 1)
    task = task_id(system, reference, "Task_Investigate")
    before = state(system, reference)
    assert client_for("bob").post(f"/tasks/{task}/assign", {"assignee": "beth"}).status_code == 403
    assert client_for("alice").post(f"/tasks/{task}/assign", {"assignee": "bob"}).status_code == 403
    assert 'name="scope"' not in client_for("bob").get("/").get_data(as_text=True)
    assert client_for("carol").post(f"/tasks/{task}/assign", {"assignee": "alice"}).status_code == 422
    assert state(system, reference) == before


# --- task forms -----------------------------------------------------------------------------------------

def test_the_task_page_shows_the_record_beside_the_form(system: Any, client_for: Callable[[str], SignedIn]) -> None:
    reference = submit(system, 1)
    page = client_for("bob").get(f"/tasks/{task_id(system, reference, 'Task_Investigate')}")
    assert page.status_code == 200
    html, words = page.get_data(as_text=True), text_of(page)
    for fact in ("Northwind Traders Inc.", "billing dispute", "INV-1001", "12,500.00", "USD 700.00", "clear",
                 "2024-01-08", "None yet."):
        assert fact in words, fact
    assert '<label for="f-corrected_amount">' in html and 'step="0.01"' in html and 'min="0"' in html
    hidden = re.search(r'<div class="field field-number"\s+id="f-corrected_amount-field"[^>]*>', html).group(0)
    assert "hidden" in hidden and 'data-hide="=decision != &#34;adjust&#34;"' in hidden
    assert re.search(r'<textarea id="f-note"[^>]*required', html)
    assert '<script src="/static/forms.js"' in html


def test_completing_the_investigation_returns_to_the_inbox(system: Any, client_for: Callable[[str], SignedIn]) -> None:
    reference = submit(system, 1)
    bob = client_for("bob")
    response = bob.post(f"/tasks/{task_id(system, reference, 'Task_Investigate')}", INVESTIGATION)
    assert response.status_code == 302 and response.location.endswith("/")
    assert "Investigate dispute on " + reference + " is done" in text_of(bob.get("/"))
    record = show_request(reference, system.services)
    assert record["status"] == "awaiting_approval"
    assert record["steps"][-1]["data"]["corrected_amount"] == "11800.00"


def test_completing_goes_to_the_users_next_task_on_the_same_request(system: Any,
                                                                    client_for: Callable[[str], SignedIn]) -> None:
    with system.services.uow() as uow:
        add_user(uow, "sam", "Sam Supervisor", ("billing", "ar_supervisors"), "demo", "admin")
        uow.commit()
    reference = submit(system, 1)
    complete_task(CompleteTask(task_id(system, reference, "Task_Investigate"), user(system, "bob"), INVESTIGATION),
                  system.services)
    sam = client_for("sam")  # approves at level 1, and investigates too
    response = sam.post(f"/tasks/{task_id(system, reference, 'Task_Approve')}",
                        {"decision": "return", "comment": "Check the delivery notes as well."})
    assert response.status_code == 302
    assert response.location.endswith(f"/tasks/{task_id(system, reference, 'Task_Investigate')}")


def test_completing_a_task_before_asynchronous_work_goes_back_to_the_inbox(
        system: Any, colleagues: None, client_for: Callable[[str], SignedIn]) -> None:
    from bpmn_requests.usecases.jobs import run_due_work

    reference = submit(system, 7)  # a director on the sanctions list: KYC review, then the credit score
    kim = client_for("kim")  # compliance and credit
    response = kim.post(f"/tasks/{task_id(system, reference, 'Task_KycReview')}",
                        {"decision": "clear", "rationale": "Different person: date of birth does not match."})
    assert response.status_code == 302 and response.location.endswith("/")  # credit/score waits for a worker
    run_due_work(system.services)
    assert f"/tasks/{task_id(system, reference, 'Task_CreditReview')}" in kim.get("/").get_data(as_text=True)


def test_an_invalid_submission_shows_errors_beside_fields_with_the_input_kept(
        system: Any, client_for: Callable[[str], SignedIn]) -> None:
    reference = submit(system, 1)
    task = task_id(system, reference, "Task_Investigate")
    before = state(system, reference)
    response = client_for("bob").post(f"/tasks/{task}", {"decision": "adjust", "corrected_amount": "-5",
                                                         "note": "Typed before the error"})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'id="f-corrected_amount"[^>]*value="-5"|value="-5"[^>]*id="f-corrected_amount"', html) or \
        re.search(r'<input id="f-corrected_amount" name="corrected_amount" value="-5"', html)
    assert '<p class="field-error" id="f-corrected_amount-error">must be at least 0</p>' in html
    assert 'aria-describedby="f-corrected_amount-desc f-corrected_amount-error"' in html
    assert '<p class="field-error" id="f-reason_code-error">is required</p>' in html
    assert ">Typed before the error</textarea>" in html
    assert re.search(r'value="adjust"[^>]*checked', html)
    assert state(system, reference) == before


def test_without_javascript_update_form_shows_the_fields_a_choice_reveals(system: Any,
                                                                         client_for: Callable[[str], SignedIn]) -> None:
    reference = submit(system, 1)
    task = task_id(system, reference, "Task_Investigate")
    before = state(system, reference)
    response = client_for("bob").post(f"/tasks/{task}", {"decision": "adjust", "note": "so far",
                                                         "form-refresh": "1"})
    assert response.status_code == 200  # re-drawn, not validated, nothing written
    html = response.get_data(as_text=True)
    field = re.search(r'<div class="field field-number"\s+id="f-corrected_amount-field"[^>]*>', html).group(0)
    assert " hidden" not in field and "field-error" not in html
    assert re.search(r'<input id="f-corrected_amount"[^>]*>', html).group(0).count("disabled") == 0
    assert ">so far</textarea>" in html
    assert state(system, reference) == before


def test_alice_cannot_complete_bobs_investigation(system: Any, client_for: Callable[[str], SignedIn]) -> None:
    reference = submit(system, 1)
    task = task_id(system, reference, "Task_Investigate")
    before = state(system, reference)
    alice = client_for("alice")
    assert alice.get(f"/tasks/{task}").status_code == 403
    assert alice.post(f"/tasks/{task}", INVESTIGATION).status_code == 403
    assert alice.post(f"/tasks/{task}/claim").status_code == 403
    assert state(system, reference) == before


def test_carol_cannot_complete_a_level_2_approval(system: Any, client_for: Callable[[str], SignedIn]) -> None:
    reference = submit(system, 4)  # a $6,000 credit memo needs level 2
    complete_task(CompleteTask(task_id(system, reference, "Task_Investigate"), user(system, "bob"),
                               SEED_CASES[3].steps[0].data), system.services)
    approval = task_id(system, reference, "Task_Approve")
    before = state(system, reference)
    carol = client_for("carol")
    assert approval not in carol.get("/").get_data(as_text=True)
    assert carol.get(f"/tasks/{approval}").status_code == 403
    assert carol.post(f"/tasks/{approval}", {"decision": "approve", "comment": "Looks right"}).status_code == 403
    assert state(system, reference) == before
    assert client_for("dave").get(f"/tasks/{approval}").status_code == 200


def test_a_task_completed_meanwhile_says_so_with_409(system: Any, colleagues: None, client_for: Callable[[str], SignedIn]) -> None:
    reference = submit(system, 1)
    task = task_id(system, reference, "Task_Investigate")
    bob, beth = client_for("bob"), client_for("beth")
    assert bob.get(f"/tasks/{task}").status_code == 200  # bob opens the form ...
    assert beth.post(f"/tasks/{task}", INVESTIGATION).status_code == 302  # ... beth finishes first
    before = state(system, reference)
    response = bob.post(f"/tasks/{task}", {**INVESTIGATION, "note": "Mine"})
    assert response.status_code == 409
    assert "This task is no longer open" in text_of(response) and "completed by beth" in text_of(response)
    assert bob.get(f"/tasks/{task}").status_code == 409
    assert state(system, reference) == before


def test_posts_without_or_with_a_wrong_csrf_token_are_refused(system: Any, app: Any,
                                                              client_for: Callable[[str], SignedIn]) -> None:
    reference = submit(system, 1)
    task = task_id(system, reference, "Task_Investigate")
    bob, carol = client_for("bob"), client_for("carol")
    before = state(system, reference)
    for token in (None, "wrong", carol.token):  # carol's token is valid for her session only
        assert bob.post(f"/tasks/{task}", INVESTIGATION, csrf=token).status_code == 400
        assert bob.post(f"/tasks/{task}/claim", csrf=token).status_code == 400
        assert bob.post(f"/requests/{reference}/notes", {"body": "note", "visibility": "internal"},
                        csrf=token).status_code == 400
        assert bob.post(f"/requests/{reference}/attachments", {"file": (BytesIO(PDF), "a.pdf")},
                        csrf=token).status_code == 400
        assert carol.post(f"/tasks/{task}/assign", {"assignee": "bob"},
                          csrf=None if token == carol.token else token).status_code == 400
    assert "security token" in text_of(bob.post(f"/tasks/{task}", INVESTIGATION, csrf=None))
    assert state(system, reference) == before
    assert not (Path(app.extensions["bpmn_requests"].settings.upload_dir)).exists()


def test_html_in_text_fields_is_shown_escaped(system: Any, client_for: Callable[[str], SignedIn]) -> None:
    reference = submit(system, 1)
    task = task_id(system, reference, "Task_Investigate")
    bob = client_for("bob")
    invalid = bob.post(f"/tasks/{task}", {"decision": "adjust", "note": SCRIPT})
    assert invalid.status_code == 422
    assert ESCAPED in invalid.get_data(as_text=True) and SCRIPT not in invalid.get_data(as_text=True)
    assert bob.post(f"/tasks/{task}", {**INVESTIGATION, "note": SCRIPT}).status_code == 302
    assert bob.post(f"/requests/{reference}/notes", {"body": SCRIPT, "visibility": "internal"}).status_code == 302
    assert bob.post(f"/requests/{reference}/notes", {"body": SCRIPT, "visibility": "customer"}).status_code == 302
    page = bob.get(f"/requests/{reference}").get_data(as_text=True)
    assert page.count(ESCAPED) >= 4  # two notes, the step's data and the audit event
    assert SCRIPT not in page
    carol_page = client_for("carol").get(f"/tasks/{task_id(system, reference, 'Task_Approve')}")
    assert SCRIPT not in carol_page.get_data(as_text=True)


# --- request pages ----------------------------------------------------------------------------------------

def test_request_search_filters_and_pages(system: Any, client_for: Callable[[str], SignedIn]) -> None:
    first, second, third = submit(system, 1), submit(system, 2), submit(system, 5)
    alice = client_for("alice")

    def found(query: str) -> list[str]:
        response = alice.get(f"/requests?{query}")
        assert response.status_code == 200
        return re.findall(r'data-label="Reference"><a href="/requests/(REQ-\d+)"', response.get_data(as_text=True))

    assert found("") == [third, second, first]
    assert found("per_page=2") == [third, second] and 'rel="next"' in alice.get("/requests?per_page=2").get_data(
        as_text=True)
    assert found("per_page=2&page=2") == [first]
    assert found("customer=northwind") == [first] and found("customer=C-1002") == [second]
    assert found("q=1000&per_page=2&page=2") == [first]
    assert found("type=payment_issue") == [] and found("status=investigation") == [third, second, first]
    exact = alice.get(f"/requests?q={second.lower()}")
    assert exact.status_code == 302 and exact.location.endswith(f"/requests/{second}")
    assert alice.get("/requests/REQ-999999").status_code == 404
    assert alice.get("/tasks/no-such-task").status_code == 404


def test_the_request_page_shows_every_component_of_the_record(system: Any,
                                                              client_for: Callable[[str], SignedIn]) -> None:
    result = run_seed_case(SEED_CASES[0], system.services)
    response = client_for("alice").get(f"/requests/{result.reference}")
    assert response.status_code == 200
    words = " ".join(text_of(response).split())
    for fact in ("Northwind Traders Inc.", "C-1001", "billing dispute", "Invoice INV-1001 uses the old unit price.",
                 "USD 12,500.00", "USD 11,800.00", "2024-01-08 (7379 entries)", "Nancy Davolio (director)",
                 "No sanctions hits.", "carol", "approve", "Checked against contract and evidence.",
                 "CM-000001 · credit memo USD 700.00", "approval APR-", "Investigate dispute by bob",
                 "request.submitted", "approval.decided", "instance.completed", "No open tasks.",
                 "We received your request"):
        assert fact in words, fact
    html = response.get_data(as_text=True)
    assert "<svg" in html or "Completed:" in html
    assert 'class="bpmn-element' in html  # the diagram is drawn, with highlights
    assert "bpmn-completed" in html


def test_the_request_page_shows_sanctions_hits_with_their_scores(system: Any,
                                                                 client_for: Callable[[str], SignedIn]) -> None:
    reference = submit(system, 7)
    words = " ".join(text_of(client_for("frank").get(f"/requests/{reference}")).split())
    assert "NORIEGA, Manuel Antonio (SDN 1572, individual)" in words and "96.7" in words
    assert "Manuel A. Noriega" in words and "review" in words


def test_notes_and_comments_are_added_audited_and_checked(system: Any, client_for: Callable[[str], SignedIn]) -> None:
    reference = submit(system, 1)
    bob = client_for("bob")
    assert bob.post(f"/requests/{reference}/notes", {"body": "Called the customer.", "visibility": "internal"}
                    ).location.endswith(f"/requests/{reference}#notes")
    bob.post(f"/requests/{reference}/notes", {"body": "We are checking the prices.", "visibility": "customer"})
    notes = notes_of(reference, system.services, customer_view=False)
    assert [(n.visibility, n.body, n.author) for n in notes] == [
        ("internal", "Called the customer.", "bob"), ("customer", "We are checking the prices.", "bob")]
    assert notes_of(reference, system.services, customer_view=True)[0].body == "We are checking the prices."
    actions = [e["action"] for e in show_request(reference, system.services)["audit"]]
    assert "note.internal" in actions and "note.customer" in actions
    before = state(system, reference)
    empty = bob.post(f"/requests/{reference}/notes", {"body": "   ", "visibility": "internal"})
    assert empty.status_code == 422 and 'id="note-internal-error"' in empty.get_data(as_text=True)
    assert bob.post(f"/requests/{reference}/notes", {"body": "x", "visibility": "everyone"}).status_code == 422
    assert state(system, reference) == before


def test_uploads_are_checked_and_downloads_are_safe(system: Any, app: Any, client_for: Callable[[str], SignedIn]) -> None:
    reference = submit(system, 1)
    bob = client_for("bob")
    upload_dir = Path(app.extensions["bpmn_requests"].settings.upload_dir)
    before = state(system, reference)
    refused = {
        "an executable": (b"MZ\x90\x00" + b"\x00" * 100, "tool.exe"),
        "a PDF that is not one": (b"<html><script>alert(1)</script></html>", "invoice.pdf"),
        "a file over the limit": (b"%PDF-" + b"0" * MAX_UPLOAD, "big.pdf"),
        "an empty file": (b"", "empty.pdf"),
    }
    for what, (content, name) in refused.items():
        response = bob.post(f"/requests/{reference}/attachments",
                            {"file": (BytesIO(content), name), "visibility": "internal"},
                            content_type="multipart/form-data")
        assert response.status_code == 422, what
        assert 'id="file-error"' in response.get_data(as_text=True), what
    huge = bob.post(f"/requests/{reference}/attachments", {"file": (BytesIO(b"%PDF-" + b"0" * 400_000), "h.pdf")},
                    content_type="multipart/form-data")
    assert huge.status_code == 413
    assert state(system, reference) == before
    assert not upload_dir.exists() or not any(p.is_file() for p in upload_dir.rglob("*"))

    response = bob.post(f"/requests/{reference}/attachments",
                        {"file": (BytesIO(PDF), "../../credit <note>.pdf"), "visibility": "customer"},
                        content_type="multipart/form-data")
    assert response.status_code == 302
    [attachment] = attachments_of(reference, system.services, customer_view=False)
    page = bob.get(f"/requests/{reference}").get_data(as_text=True)
    assert f'/attachments/{attachment.id}' in page and "&lt;note&gt;" not in page or "credit _note_.pdf" in page
    download = client_for("alice").get(f"/attachments/{attachment.id}")
    assert download.status_code == 200 and download.data == PDF
    assert download.headers["Content-Type"] == "application/pdf"
    assert download.headers["Content-Disposition"].startswith("attachment;")
    assert download.headers["X-Content-Type-Options"] == "nosniff"
    assert app.test_client().get(f"/attachments/{attachment.id}").status_code == 302
    assert bob.get("/attachments/0000ffff").status_code == 404


# --- the form renderer with every component type ----------------------------------------------------------

EVERY_COMPONENT = """{
  "id": "everything", "type": "default", "schemaVersion": 16,
  "components": [
    {"id": "c1", "type": "text", "text": "# Hello {{customer_name}}\\n\\nAmount **{{amount}}**"},
    {"id": "c2", "type": "textfield", "key": "email", "label": "Email", "description": "Where we answer",
     "validate": {"required": true, "validationType": "email", "maxLength": 80}},
    {"id": "c3", "type": "textarea", "key": "note", "label": "Note", "validate": {"minLength": 3}},
    {"id": "c4", "type": "number", "key": "amount", "label": "Amount", "decimalDigits": 2,
     "validate": {"min": 0, "max": 1000}},
    {"id": "c5", "type": "checkbox", "key": "urgent", "label": "Urgent"},
    {"id": "c6", "type": "checklist", "key": "docs", "label": "Documents",
     "values": [{"label": "Contract", "value": "contract"}, {"label": "Delivery note", "value": "delivery"}]},
    {"id": "c7", "type": "radio", "key": "decision", "label": "Decision", "validate": {"required": true},
     "values": [{"label": "Yes", "value": "yes"}, {"label": "No", "value": "no"}]},
    {"id": "c8", "type": "select", "key": "invoice", "label": "Invoice", "valuesKey": "invoice_options"},
    {"id": "c9", "type": "taglist", "key": "tags", "label": "Tags",
     "values": [{"label": "A", "value": "a"}, {"label": "B", "value": "b"}]},
    {"id": "c10", "type": "datetime", "key": "day", "subtype": "date", "dateLabel": "Day",
     "disallowPassedDates": true},
    {"id": "c11", "type": "datetime", "key": "at", "subtype": "time", "timeLabel": "Time"},
    {"id": "c12", "type": "datetime", "key": "when", "subtype": "datetime", "dateLabel": "When"},
    {"id": "c13", "type": "group", "label": "Contact", "path": "contact", "components": [
      {"id": "c14", "type": "textfield", "key": "name", "label": "Name",
       "conditional": {"hide": "=decision = \\"no\\""}}]},
    {"id": "c15", "type": "dynamiclist", "label": "Lines", "path": "lines", "components": [
      {"id": "c16", "type": "number", "key": "qty", "label": "Quantity", "validate": {"required": true}},
      {"id": "c17", "type": "textfield", "key": "why", "label": "Why",
       "conditional": {"hide": "=qty = null or qty < 10"}}]},
    {"id": "c18", "type": "spacer"},
    {"id": "c19", "type": "separator"},
    {"id": "c20", "type": "textfield", "key": "customer_name", "label": "Customer", "readonly": true},
    {"id": "c21", "type": "button", "action": "reset", "label": "Start again"}
  ]
}"""


def test_every_component_type_renders_without_javascript_and_parses_back(app: Any) -> None:
    from flask import render_template_string
    from werkzeug.datastructures import MultiDict

    from bpmn_requests.forms import parse_form, validate_submission
    from bpmn_requests.web.forms_render import add_row, parse_post, remove_row, render_form

    form = parse_form(EVERY_COMPONENT, "everything.form")
    data = {"customer_name": "<b>Acme</b>", "amount": 12, "invoice_options": [{"label": "INV-1", "value": "INV-1"}],
            "lines": [{"qty": 3}, {"qty": 20, "why": "bulk"}]}
    posted = MultiDict([("csrf_token", "t"), ("email", "x@example.com"), ("note", SCRIPT), ("amount", "12.50"),
                        ("docs", "contract"), ("docs", "delivery"), ("decision", "no"), ("invoice", "INV-1"),
                        ("tags", "a"), ("tags", "b"), ("day", "2099-01-02"), ("at", "14:30"),
                        ("when", "2099-01-02T14:30"), ("contact.name", "Ann"), ("lines[0].qty", "3"),
                        ("lines[1].qty", "20"), ("lines[1].why", "bulk"), ("form-refresh", "1")])
    nested = parse_post(form, posted)
    assert nested["docs"] == ["contract", "delivery"] and nested["tags"] == ["a", "b"]
    assert nested["lines"] == [{"qty": "3"}, {"qty": "20", "why": "bulk"}] and "csrf_token" not in nested
    cleaned = validate_submission(form, nested, context=data)
    assert cleaned["urgent"] is False  # an unticked checkbox is not posted: absent means false
    assert "name" not in cleaned["contact"]  # hidden by `decision = "no"`: not stored
    add_row(nested, "lines")
    assert nested["lines"][-1] == {}
    remove_row(nested, "lines[0]")
    assert [row.get("qty") for row in nested["lines"]] == ["20", None]

    with app.test_request_context():
        html = render_template_string("{% from 'forms/macros.html' import render_form %}{{ render_form(r) }}",
                                      r=render_form(form, data, nested, {"email": "bad <address>"}))
    for input_id in re.findall(r'<(?:input|select|textarea) id="([^"]+)"', html):
        assert f'<label for="{input_id}">' in html, input_id
    assert "<h2>Hello &lt;b&gt;Acme&lt;/b&gt;</h2>" in html and "<strong>12.50</strong>" in html  # as typed
    assert 'type="email"' in html and 'maxlength="80"' in html and 'aria-describedby="f-email-desc f-email-error"' in html
    assert "bad &lt;address&gt;" in html and ESCAPED in html
    assert 'step="0.01"' in html and 'min="0"' in html and 'max="1000"' in html
    assert re.search(r'type="checkbox" id="f-docs-1"[^>]*checked', html.replace("\n", " "))
    assert re.search(r'<option value="INV-1"[^>]*selected', html) and "multiple" in html
    assert 'type="date"' in html and 'type="time"' in html and 'type="datetime-local"' in html
    assert re.search(r'id="f-contact-name-field"[^>]*data-hide="=decision = &#34;no&#34;" hidden', html)
    assert 'name="contact.name"' in html and 'name="lines[0].why"' in html  # the row of 20 moved up
    assert re.search(r'id="f-lines-0-why-field"[^>]*hidden', html) is None  # qty 20: shown
    assert re.search(r'id="f-lines-1-why-field"[^>]*hidden', html)  # the added, empty row: hidden
    assert 'value="lines[1]"' in html and 'name="form-add-row" value="lines"' in html
    assert "<template>" in html and "lines[__ROW_c15__].qty" in html
    assert '<hr class="separator">' in html and 'class="spacer"' in html and 'type="reset"' in html
    assert re.search(r'id="f-customer_name"[^>]*value="&lt;b&gt;Acme&lt;/b&gt;"', html) or \
        re.search(r'value="&lt;b&gt;Acme&lt;/b&gt;"[^>]*readonly', html)
    assert 'id="form-context">{' in html and "<b>Acme" not in html
    with app.test_request_context():
        few = render_template_string("{% from 'forms/macros.html' import render_form %}{{ render_form(r) }}",
                                     r=render_form(form, data, {"lines": [{"qty": "3"}]}))
    assert re.search(r'id="f-lines-0-why-field"[^>]*hidden', few)  # "3" compares as the number 3


def test_a_long_inbox_is_shown_a_page_at_a_time(app: Any, system: Any) -> None:
    from bpmn_requests.web import inbox as inbox_module

    for customer, invoice in (("C-1001", "INV-1001"), ("C-1002", "INV-1002")):
        submit_request(SubmitRequest({"type": "billing_dispute", "customer_id": customer,
                                      "invoice_numbers": [invoice], "description": "Wrong price."}, "alice"),
                       system.services)
    original = inbox_module.PAGE_SIZE
    inbox_module.PAGE_SIZE = 1  # two open investigations: one per page shows the paging
    try:
        bob = SignedIn(app, "bob")
        first = bob.get("/").get_data(as_text=True)
        assert "page 1 of 2" in first and "Next page" in first and "Previous page" not in first
        second = bob.get("/?page=2").get_data(as_text=True)
        assert "page 2 of 2" in second and "Previous page" in second
    finally:
        inbox_module.PAGE_SIZE = original
