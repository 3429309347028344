"""Staff pages of unattended work over HTTP (Flask test client, CSRF on, as in production): incidents and
their actions, recent messages, the request record's incident banner, SLA and what it waits for, and the
inbox's business-hours SLA with reminded and escalated tasks.
"""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape
from typing import Any

import pytest
from unattended_helpers import (
    NEED_INFO,
    actions,
    audit_count,
    complete,
    make_incident,
    open_elements,
    submit,
)
from web_client import SignedIn

from bpmn_requests.usecases.jobs import run_due_work
from bpmn_requests.usecases.messages import IncomingMessage, send_message
from bpmn_requests.web import create_app


@pytest.fixture
def system(ops_system: Any) -> Any:
    return ops_system


@pytest.fixture
def sqlite_system(ops_sqlite_system: Any) -> Any:
    return ops_sqlite_system


@pytest.fixture
def app(system: Any) -> Any:
    return create_app(system=system)  # CSRF protection is on


@pytest.fixture
def sqlite_app(sqlite_system: Any) -> Any:
    return create_app(system=sqlite_system)


def text(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def incident_state(system: Any, reference: str) -> tuple[Any, ...]:
    with system.services.uow() as uow:
        instance = uow.instances.for_request(reference)
        return (instance.status, instance.state, tuple(uow.incidents.list(open_only=False)),
                len(uow.audit.all()))


# --- incidents ---------------------------------------------------------------------------------------------

def test_incident_pages_are_for_admins_and_linked_from_their_navigation(sqlite_app: Any, sqlite_system: Any) -> None:
    reference, incident, _ = make_incident(sqlite_system)
    anonymous = sqlite_app.test_client().get("/admin/incidents")
    assert anonymous.status_code == 302 and "/login" in anonymous.headers["Location"]
    bob = SignedIn(sqlite_app, "bob")
    assert bob.get("/admin/incidents").status_code == 403
    assert bob.get(f"/admin/incidents/{incident}").status_code == 403
    assert bob.post(f"/admin/incidents/{incident}/retry").status_code == 403
    assert 'href="/admin/incidents"' not in bob.page("/")
    admin = SignedIn(sqlite_app, "admin")
    home = admin.page("/")
    assert 'href="/admin/incidents"' in home and 'href="/admin/messages"' in home
    listing = text(admin.page("/admin/incidents"))
    assert f"Incident {incident} {reference} Task_ScoreApplicant bureau_refused credit bureau: HTTP 400" in listing
    assert admin.get("/admin/incidents/999").status_code == 404


def test_the_incident_page_shows_the_variables_and_every_action_needs_the_csrf_token(
        sqlite_app: Any, sqlite_system: Any) -> None:
    reference, incident, _ = make_incident(sqlite_system)
    admin = SignedIn(sqlite_app, "admin")
    page = admin.page(f"/admin/incidents/{incident}")
    assert '"customer_id": "C-1006"' in unescape(page) and '"requested_limit": "50000.00"' in unescape(page)
    assert page.count('name="csrf_token"') >= 4  # sign-out, retry, skip, cancel
    for action in ("retry", "skip", "cancel"):
        assert f'action="/admin/incidents/{incident}/{action}"' in page
    before = incident_state(sqlite_system, reference)
    for action, data in (("retry", {}), ("skip", {"result": "{}"}), ("cancel", {"reason": "x"})):
        refused = admin.post(f"/admin/incidents/{incident}/{action}", data, csrf=False)
        assert refused.status_code == 400 and "security token" in refused.get_data(as_text=True)
    assert incident_state(sqlite_system, reference) == before


def test_a_skip_with_bad_json_is_refused_beside_the_field_and_a_good_one_goes_on(
        app: Any, system: Any) -> None:
    reference, incident, _ = make_incident(system)
    admin = SignedIn(app, "admin")
    before = incident_state(system, reference)
    for bad, why in (('{"credit_score": 70', "not valid JSON"), ('[70, "B"]', "must be a JSON object")):
        refused = admin.post(f"/admin/incidents/{incident}/skip", {"result": bad})
        assert refused.status_code == 422
        page = refused.get_data(as_text=True)
        assert why in page and 'aria-invalid="true"' in page and 'id="skip-result-error"' in page
        assert f">{bad}</textarea>".replace('"', "&#34;") in page  # the text is kept, escaped
    assert incident_state(system, reference) == before
    done = admin.post(f"/admin/incidents/{incident}/skip",
                      {"result": '{"credit_score": 70, "risk_class": "B", "recommended_limit": 20000.00}'})
    assert done.status_code == 302 and done.headers["Location"].endswith(f"/admin/incidents/{incident}")
    shown = text(admin.page(f"/admin/incidents/{incident}"))
    assert "skipped by admin" in shown and "was skipped with the result you gave" in shown
    assert open_elements(system, reference) == ["Task_CreditReview"]
    with system.services.uow() as uow:
        [event] = [e for e in uow.audit.for_subject(reference) if e.action == "incident.skipped"]
    assert event.after["result"]["recommended_limit"] == "20000.00"  # a decimal, never a float


def test_retry_from_the_incident_page_runs_the_step_again(app: Any, system: Any) -> None:
    reference, incident, bureau = make_incident(system)
    bureau.refuse = False
    admin = SignedIn(app, "admin")
    assert admin.post(f"/admin/incidents/{incident}/retry").status_code == 302
    run_due_work(system.services)
    assert open_elements(system, reference) == ["Task_CreditReview"]
    assert "retried by admin" in text(admin.page(f"/admin/incidents/{incident}"))
    assert "No open incidents" in admin.page("/admin/incidents")
    assert f"Incident {incident}" in admin.page("/admin/incidents?all=1")
    again = admin.post(f"/admin/incidents/{incident}/retry")
    assert again.status_code == 409 and "already resolved" in again.get_data(as_text=True)
    assert actions(system, reference).count("incident.retried") == 1


def test_cancel_from_the_incident_page_needs_a_reason_and_closes_the_request(
        sqlite_app: Any, sqlite_system: Any) -> None:
    reference, incident, _ = make_incident(sqlite_system)
    admin = SignedIn(sqlite_app, "admin")
    before = incident_state(sqlite_system, reference)
    empty = admin.post(f"/admin/incidents/{incident}/cancel", {"reason": "  "})
    assert empty.status_code == 422 and "say why the request is cancelled" in empty.get_data(as_text=True)
    assert incident_state(sqlite_system, reference) == before
    assert admin.post(f"/admin/incidents/{incident}/cancel", {"reason": "Duplicate application."}).status_code == 302
    record = text(admin.page(f"/requests/{reference}"))
    assert "closed" in record and "cancelled" in record and "Duplicate application." in record
    assert "Stopped by an incident" not in record


# --- messages ------------------------------------------------------------------------------------------

def test_the_messages_page_lists_recent_messages_with_their_status(sqlite_app: Any, sqlite_system: Any) -> None:
    services = sqlite_system.services
    reference = submit(sqlite_system)
    complete(sqlite_system, reference, "Task_Investigate", "bob", NEED_INFO)
    send_message(IncomingMessage("customer_answer", reference, {"answer": "USD 10.00"}, "call-1", "alice"), services)
    send_message(IncomingMessage("payment_received", "PAY-7001", {}, "feed-9", "bank", ttl=timedelta(hours=2)),
                 services)
    admin = SignedIn(sqlite_app, "admin")
    page = text(admin.page("/admin/messages"))
    assert f"customer_answer {reference} delivered" in page and "Task_ProvideInformation alice call-1" in page
    assert "payment_received PAY-7001 buffered kept until 2026-11-02 11:00 UTC" in page
    only = text(admin.page("/admin/messages?status=buffered"))
    assert "PAY-7001" in only and "call-1" not in only
    assert "No expired messages." in admin.page("/admin/messages?status=expired")
    assert SignedIn(sqlite_app, "alice").get("/admin/messages").status_code == 403


# --- the request record and the inbox ---------------------------------------------------------------------

def test_the_request_page_shows_an_incident_banner_that_links_admins_to_it(
        sqlite_app: Any, sqlite_system: Any) -> None:
    reference, incident, _ = make_incident(sqlite_system)
    admin_page = SignedIn(sqlite_app, "admin").page(f"/requests/{reference}")
    assert "Stopped by an incident" in admin_page and f'href="/admin/incidents/{incident}"' in admin_page
    grace_page = SignedIn(sqlite_app, "grace").page(f"/requests/{reference}")
    assert "Stopped by an incident" in grace_page and "/admin/incidents" not in grace_page
    assert "bureau_refused" in grace_page and "A worker to run Score credit" in text(grace_page)


def test_the_request_page_shows_the_sla_paused_while_waiting_and_what_the_request_waits_for(
        app: Any, system: Any) -> None:
    reference = submit(system)
    bob = SignedIn(app, "bob")
    page = text(bob.page(f"/requests/{reference}"))
    assert "40 business hours, due 2026-11-06 17:00 UTC; 0% used" in page
    assert "Someone to do Investigate dispute" in page and "Next timer: Reminder due at" in page
    system.services.clock.advance(timedelta(hours=4))
    complete(system, reference, "Task_Investigate", "bob", NEED_INFO)
    page = text(bob.page(f"/requests/{reference}"))
    assert "paused while waiting for the customer since 2026-11-02 13:00 UTC; 10% used" in page
    assert f"Message customer_answer with key {reference} at Provide information" in page
    assert "Next timer: Answer period over at 2026-11-16 13:00 UTC" in page


def inbox_row(page: str, reference: str) -> str:
    rows = [row for row in re.findall(r"<tr.*?</tr>", page, flags=re.S) if reference in row]
    assert len(rows) == 1, f"{reference} is not in the inbox once"
    return text(rows[0])


def test_the_inbox_counts_the_sla_in_business_hours_and_marks_reminded_and_escalated_tasks(
        sqlite_app: Any, sqlite_system: Any) -> None:
    clock = sqlite_system.services.clock
    reference = submit(sqlite_system)  # Monday 09:00, 40 business hours: due Friday 17:00
    bob = SignedIn(sqlite_app, "bob")
    assert "40 business h · 0% used" in inbox_row(bob.page("/"), reference)
    clock.advance(timedelta(days=3, hours=7))  # Thursday 16:00: 31 business hours gone, the reminder is due
    run_due_work(sqlite_system.services)
    row = inbox_row(bob.page("/"), reference)
    assert "78% used" in row and "reminded" in row and "escalated" not in row
    clock.advance(timedelta(days=2, hours=20))  # Sunday 12:00: breached at Friday 17:00, the weekend is not counted
    run_due_work(sqlite_system.services)
    row = inbox_row(bob.page("/?sort=sla"), reference)
    assert "100% used" in row and "escalated to ar supervisors" in row and "overdue" in row
    carol = SignedIn(sqlite_app, "carol")  # the supervisors' group is offered the task now
    assert "escalated to ar supervisors" in inbox_row(carol.page("/"), reference)
    assert {"task.reminded", "task.escalated"} <= set(actions(sqlite_system, reference))
    assert audit_count(sqlite_system) > 0
