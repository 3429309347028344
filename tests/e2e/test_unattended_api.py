"""Messages, incidents and the unattended parts of the request record through the REST API (test client,
bearer tokens), on SQLite and PostgreSQL where the lifecycle writes.

A message is delivered to the request waiting for it, kept when it comes early (and delivered when the
request reaches the receiver: the worker's due work does it), refused with a clear answer when nobody waits,
and has one effect when sent twice. An incident is made the way production makes one (a credit bureau that
refuses for good) and resolved by retry, skip and cancel, each audited.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from testenv import DEMO_NOW
from unattended_helpers import (
    NEED_INFO,
    actions,
    api_for,
    audit_count,
    complete,
    error,
    make_incident,
    open_elements,
    submit,
)

from bpmn_requests.usecases.jobs import run_due_work
from bpmn_requests.web import create_app

ANSWER = {"answer": "USD 10.00 a unit, as in the 2026 price list."}


@pytest.fixture
def system(ops_system: Any) -> Any:
    return ops_system


@pytest.fixture
def sqlite_system(ops_sqlite_system: Any) -> Any:
    return ops_sqlite_system


@pytest.fixture
def app(system: Any) -> Any:
    return create_app(system=system, config={"TESTING": True})


@pytest.fixture
def sqlite_app(sqlite_system: Any) -> Any:
    return create_app(system=sqlite_system, config={"TESTING": True})


def message(name: str, key: str, message_id: str | None = "m-1", **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "correlation_key": key, **extra}
    if message_id:
        body["message_id"] = message_id
    return body


def asked(system: Any) -> str:
    """A dispute whose investigator asked the customer a question: it waits for `customer_answer`."""
    reference = submit(system)
    complete(system, reference, "Task_Investigate", "bob", NEED_INFO)
    return reference


# --- sending messages ----------------------------------------------------------------------------------

def test_only_agents_integrations_and_admins_send_messages(sqlite_app: Any, sqlite_system: Any) -> None:
    reference = submit(sqlite_system)
    bob = api_for(sqlite_app, sqlite_system, "bob")
    before = audit_count(sqlite_system)
    refused = error(bob.post("/api/v1/messages", message("customer_answer", reference, variables=ANSWER)),
                    403, "forbidden")
    assert "agents, integrations" in refused["message"]
    assert audit_count(sqlite_system) == before
    for username in ("alice", "bank", "admin"):
        sent = api_for(sqlite_app, sqlite_system, username).post(
            "/api/v1/messages", message("payment_received", "PAY-7001", f"bank-{username}", ttl_seconds=60))
        assert sent.status_code == 202, sent.get_json()


def test_a_message_needs_an_id_in_the_body_or_the_idempotency_key(sqlite_app: Any, sqlite_system: Any) -> None:
    bank = api_for(sqlite_app, sqlite_system, "bank")
    body = error(bank.post("/api/v1/messages", message("payment_received", "PAY-7001", None)), 422, "invalid")
    assert set(body["field_errors"]) == {"message_id"}
    sent = bank.post("/api/v1/messages", message("payment_received", "PAY-7001", None),
                     headers={"Idempotency-Key": "feed-0042"})
    assert sent.status_code == 202 and sent.get_json()["message_id"] == "feed-0042"
    bad = bank.post("/api/v1/messages", message("payment_received", "PAY-7001", None),
                    headers={"Idempotency-Key": "two words"})
    assert set(error(bad, 422, "invalid")["field_errors"]) == {"Idempotency-Key"}


def test_a_message_nobody_waits_for_without_a_time_to_live_is_404_saying_what_waits(
        sqlite_app: Any, sqlite_system: Any) -> None:
    reference = submit(sqlite_system)
    bank = api_for(sqlite_app, sqlite_system, "bank")
    before = audit_count(sqlite_system)
    early = error(bank.post("/api/v1/messages", message("customer_answer", reference, variables=ANSWER,
                                                          ttl_seconds=0)), 404, "not_found")
    assert early["message"] == (f"request {reference} does not wait for message 'customer_answer' now "
                                f"(status investigation; it waits for no message)")
    unknown = error(bank.post("/api/v1/messages", message("payment_received", "PAY-0000", ttl_seconds=0)),
                    404, "not_found")
    assert "no request waits for message 'payment_received' with correlation key 'PAY-0000'" in unknown["message"]
    assert "ttl_seconds" in unknown["message"]
    assert audit_count(sqlite_system) == before
    too_long = error(bank.post("/api/v1/messages", message("payment_received", "PAY-1", ttl_seconds=366 * 86400)),
                     422, "invalid")
    assert set(too_long["field_errors"]) == {"ttl_seconds"}


def test_a_customer_answer_reaches_the_waiting_request_and_a_resend_has_no_second_effect(
        app: Any, system: Any) -> None:
    reference = asked(system)
    alice = api_for(app, system, "alice")  # the agent who took the customer's call
    sent = alice.post("/api/v1/messages", message("customer_answer", reference, "call-17", variables=ANSWER))
    assert sent.status_code == 200, sent.get_json()
    body = sent.get_json()
    assert (body["status"], body["duplicate"], body["reference"], body["element_id"]) == (
        "delivered", False, reference, "Task_ProvideInformation")
    assert body["request_status"] == "investigation"
    assert body["links"] == {"request": f"/api/v1/requests/{reference}"}
    assert open_elements(system, reference) == ["Task_Investigate"]
    after_first = (audit_count(system), open_elements(system, reference))

    again = alice.post("/api/v1/messages", message("customer_answer", reference, "call-17", variables=ANSWER))
    assert again.status_code == 200
    assert (again.get_json()["duplicate"], again.get_json()["status"]) == (True, "delivered")
    assert again.get_json()["id"] == body["id"]
    assert (audit_count(system), open_elements(system, reference)) == after_first
    record = alice.get(f"/api/v1/requests/{reference}").get_json()
    assert [s["data"] for s in record["steps"] if s["element_id"] == "Task_ProvideInformation"] == [ANSWER]
    assert actions(system, reference).count("message.delivered") == 1


def test_variables_the_receiver_does_not_take_are_422_naming_them(sqlite_app: Any, sqlite_system: Any) -> None:
    reference = asked(sqlite_system)
    alice = api_for(sqlite_app, sqlite_system, "alice")
    before = (audit_count(sqlite_system), open_elements(sqlite_system, reference))
    empty = error(alice.post("/api/v1/messages", message("customer_answer", reference, variables={"answer": ""})),
                  422, "invalid")
    assert set(empty["field_errors"]) == {"variables.answer"}
    extra = error(alice.post("/api/v1/messages", message("customer_answer", reference, "m-2",
                                                           variables={**ANSWER, "approved_limit": "1"})),
                  422, "invalid")
    assert set(extra["field_errors"]) == {"variables.approved_limit"}
    not_object = error(alice.post("/api/v1/messages", message("customer_answer", reference, variables=["x"])),
                       422, "invalid")
    assert set(not_object["field_errors"]) == {"variables"}
    assert (audit_count(sqlite_system), open_elements(sqlite_system, reference)) == before


def test_an_early_message_is_kept_and_delivered_when_the_request_reaches_the_receiver(
        app: Any, system: Any) -> None:
    reference = submit(system)  # at Task_Investigate: nobody waits for the answer yet
    alice = api_for(app, system, "alice")
    kept = alice.post("/api/v1/messages", message("customer_answer", reference, "email-3", variables=ANSWER,
                                                  ttl_seconds=3600))
    assert kept.status_code == 202, kept.get_json()
    assert (kept.get_json()["status"], kept.get_json()["reference"]) == ("buffered", None)
    assert kept.get_json()["expires_at"] == (DEMO_NOW + timedelta(hours=1)).isoformat()

    complete(system, reference, "Task_Investigate", "bob", NEED_INFO)  # the worker delivers it then
    assert open_elements(system, reference) == ["Task_Investigate"]
    trail = actions(system, reference)
    assert trail.index("message.buffered") < trail.index("message.delivered")
    admin = api_for(app, system, "admin")
    [listed] = admin.get("/api/v1/messages").get_json()["items"]
    assert (listed["status"], listed["reference"], listed["element_id"], listed["sender"]) == (
        "delivered", reference, "Task_ProvideInformation", "alice")


def test_a_kept_message_expires_when_no_request_comes_for_it(sqlite_app: Any, sqlite_system: Any) -> None:
    from bpmn_requests.usecases.messages import expire_messages

    bank = api_for(sqlite_app, sqlite_system, "bank")
    assert bank.post("/api/v1/messages", message("payment_received", "PAY-7001", ttl_seconds=60)).status_code == 202
    sqlite_system.services.clock.advance(timedelta(minutes=2))
    assert [m.message_id for m in expire_messages(sqlite_system.services)] == ["m-1"]
    [listed] = bank.get("/api/v1/messages?status=expired").get_json()["items"]
    assert listed["message_id"] == "m-1"
    again = bank.post("/api/v1/messages", message("payment_received", "PAY-7001", ttl_seconds=60))
    assert again.status_code == 200
    assert (again.get_json()["duplicate"], again.get_json()["status"]) == (True, "expired")


def test_recent_messages_are_for_admins_and_integrations(sqlite_app: Any, sqlite_system: Any) -> None:
    bank = api_for(sqlite_app, sqlite_system, "bank")
    for number in range(3):
        bank.post("/api/v1/messages", message("payment_received", f"PAY-70{number}", f"m-{number}", ttl_seconds=60))
    items = bank.get("/api/v1/messages?limit=2").get_json()["items"]
    assert len(items) == 2 and {i["status"] for i in items} == {"buffered"}
    assert api_for(sqlite_app, sqlite_system, "admin").get("/api/v1/messages?status=delivered").get_json() == {
        "items": []}
    error(api_for(sqlite_app, sqlite_system, "alice").get("/api/v1/messages"), 403, "forbidden")
    assert set(error(bank.get("/api/v1/messages?status=lost"), 422, "invalid")["field_errors"]) == {"status"}


# --- incidents -----------------------------------------------------------------------------------------

def test_incidents_are_for_admins_only(sqlite_app: Any, sqlite_system: Any) -> None:
    reference, incident, _ = make_incident(sqlite_system)
    apis = [api_for(sqlite_app, sqlite_system, username) for username in ("alice", "bob", "bank", "grace")]
    before = audit_count(sqlite_system)
    for api in apis:
        error(api.get("/api/v1/incidents"), 403, "forbidden")
        error(api.get(f"/api/v1/incidents/{incident}"), 403, "forbidden")
        error(api.post(f"/api/v1/incidents/{incident}/retry"), 403, "forbidden")
        error(api.post(f"/api/v1/incidents/{incident}/skip", {"result": {}}), 403, "forbidden")
        error(api.post(f"/api/v1/incidents/{incident}/cancel", {"reason": "no"}), 403, "forbidden")
    assert audit_count(sqlite_system) == before
    admin = api_for(sqlite_app, sqlite_system, "admin")
    error(admin.get("/api/v1/incidents/999"), 404, "not_found")


def test_an_incident_shows_the_error_the_element_and_the_data_and_a_retry_runs_the_step_again(
        app: Any, system: Any) -> None:
    reference, incident, bureau = make_incident(system)
    admin = api_for(app, system, "admin")
    [listed] = admin.get("/api/v1/incidents").get_json()["items"]
    assert (listed["id"], listed["reference"], listed["element_id"], listed["error_code"], listed["open"]) == (
        incident, reference, "Task_ScoreApplicant", "bureau_refused", True)
    assert listed["data"]["customer_id"] == "C-1006" and listed["attempts"] == 1
    shown = admin.get(f"/api/v1/incidents/{incident}").get_json()
    assert (shown["request_status"], shown["instance_status"]) == ("in_progress", "incident")
    record = admin.get(f"/api/v1/requests/{reference}").get_json()
    assert record["incident"]["id"] == incident and record["due_work"]["instance_status"] == "incident"
    assert record["due_work"]["last_error"].startswith("credit bureau: HTTP 400")
    assert record["waiting_for"]["workers"] == [{"element_id": "Task_ScoreApplicant", "name": "Score credit"}]

    bureau.refuse = False
    retried = admin.post(f"/api/v1/incidents/{incident}/retry")
    assert retried.status_code == 200, retried.get_json()
    assert (retried.get_json()["resolution"], retried.get_json()["resolved_by"]) == ("retried", "admin")
    assert retried.get_json()["instance_status"] == "running"
    run_due_work(system.services)  # the worker runs the step again
    assert open_elements(system, reference) == ["Task_CreditReview"]
    assert admin.get("/api/v1/incidents").get_json()["items"] == []
    assert [i["id"] for i in admin.get("/api/v1/incidents?open=false").get_json()["items"]] == [incident]
    assert admin.get(f"/api/v1/requests/{reference}").get_json()["incident"] is None
    error(admin.post(f"/api/v1/incidents/{incident}/retry"), 409, "conflict")
    assert {"incident.opened", "incident.retried"} <= set(actions(system, reference))


def test_skipping_a_failed_step_goes_on_with_the_result_given(app: Any, system: Any) -> None:
    reference, incident, _ = make_incident(system)
    admin = api_for(app, system, "admin")
    before = audit_count(system)
    error(admin.post(f"/api/v1/incidents/{incident}/skip", {"result": "high"}), 422, "invalid")
    error(admin.post(f"/api/v1/incidents/{incident}/skip", {}), 422, "invalid")
    floats = error(admin.post(f"/api/v1/incidents/{incident}/skip", {"result": {"credit_score": 70.5}}),
                   422, "invalid")
    assert "decimals" in floats["message"]
    assert audit_count(system) == before
    result = {"credit_score": 70, "risk_class": "B", "recommended_limit": "20000.00"}
    skipped = admin.post(f"/api/v1/incidents/{incident}/skip", {"result": result})
    assert skipped.status_code == 200, skipped.get_json()
    assert (skipped.get_json()["resolution"], skipped.get_json()["resolution_data"]) == ("skipped", result)
    assert open_elements(system, reference) == ["Task_CreditReview"]
    with system.services.uow() as uow:
        event = [e for e in uow.audit.for_subject(reference) if e.action == "incident.skipped"][0]
    assert (event.actor, event.after["element"], event.after["result"]) == ("admin", "Task_ScoreApplicant", result)


def test_cancelling_closes_the_request_as_cancelled_with_the_reason(app: Any, system: Any) -> None:
    reference, incident, _ = make_incident(system)
    admin = api_for(app, system, "admin")
    assert set(error(admin.post(f"/api/v1/incidents/{incident}/cancel", {"reason": ""}), 422,
                     "invalid")["field_errors"]) == {"reason"}
    error(admin.post(f"/api/v1/incidents/{incident}/cancel", {"reason": "   "}), 422, "invalid")
    cancelled = admin.post(f"/api/v1/incidents/{incident}/cancel", {"reason": "The customer withdrew."})
    assert cancelled.status_code == 200, cancelled.get_json()
    assert (cancelled.get_json()["resolution"], cancelled.get_json()["instance_status"]) == ("cancelled", "cancelled")
    record = admin.get(f"/api/v1/requests/{reference}").get_json()
    assert (record["status"], record["outcome"]) == ("closed", "cancelled")
    assert record["resolution"]["cancel_reason"] == "The customer withdrew."
    assert record["waiting_for"]["workers"] == [] and record["incident"] is None
    assert "request.cancelled" in actions(system, reference)
    error(admin.post(f"/api/v1/incidents/{incident}/skip", {"result": {}}), 409, "conflict")


# --- the request record ----------------------------------------------------------------------------------

def test_the_record_shows_the_sla_in_business_hours_and_what_the_request_waits_for(
        sqlite_app: Any, sqlite_system: Any) -> None:
    reference = submit(sqlite_system)  # Monday 09:00; a target of 40 business hours: Friday 17:00
    alice = api_for(sqlite_app, sqlite_system, "alice")
    record = alice.get(f"/api/v1/requests/{reference}").get_json()
    assert record["sla"] == {"target_hours": 40.0, "started_at": DEMO_NOW.isoformat(),
                             "due_at": "2026-11-06T17:00:00+00:00", "reminder_at": record["sla"]["reminder_at"],
                             "paused": False, "paused_since": None, "used_percent": 0, "breached_at": None}
    assert record["waiting_for"]["tasks"] == ["Investigate dispute"]
    assert record["due_work"] == {"instance_status": "running", "due_at": record["due_work"]["due_at"],
                                  "attempts": 0, "last_error": None}

    sqlite_system.services.clock.advance(timedelta(hours=8))  # Monday 17:00: one business day of five used
    complete(sqlite_system, reference, "Task_Investigate", "bob", NEED_INFO)
    waiting = alice.get(f"/api/v1/requests/{reference}").get_json()
    assert waiting["status"] == "awaiting_customer"
    assert (waiting["sla"]["paused"], waiting["sla"]["due_at"]) == (True, None)
    assert waiting["sla"]["paused_since"] == (DEMO_NOW + timedelta(hours=8)).isoformat()
    assert waiting["sla"]["used_percent"] == 20
    assert waiting["waiting_for"]["messages"] == [
        {"message": "customer_answer", "correlation_key": reference, "element_id": "Task_ProvideInformation",
         "name": waiting["waiting_for"]["messages"][0]["name"]}]

    sqlite_system.services.clock.advance(timedelta(days=7))  # a week later: paused, so not breached
    later = alice.get(f"/api/v1/requests/{reference}").get_json()["sla"]
    assert (later["breached_at"], later["used_percent"]) == (None, 20)


def test_the_same_answer_form_sent_twice_at_once_has_one_effect(system: Any) -> None:
    """A double click on the portal: two requests with the same form id race; one answer is delivered."""
    import threading

    from bpmn_requests.usecases.portal import open_status_link
    from bpmn_requests.usecases.portal_answers import answer_question

    reference = asked(system)
    token = open_status_link(reference, "customer:C-1001", system.services)
    barrier, results, failures = threading.Barrier(2), [], []

    def send() -> None:
        barrier.wait()
        try:
            results.append(answer_question(token, ANSWER, system.services, form_id="form-0123456789"))
        except Exception as exc:  # collected, so the assertion names it
            failures.append(exc)

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert failures == [] and len(results) == 2
    assert actions(system, reference).count("message.delivered") == 1
    assert open_elements(system, reference) == ["Task_Investigate"]
