"""The lifecycle runs unattended: SLA reminders and escalations, the SLA clock paused while the customer is
asked, requests closed when the customer does not answer, payment issues waiting for the bank.

Time is the system's `FixedClock`: a test moves it and does the due work a worker would do (`drain`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from support import (
    NOW,
    complete,
    dispute,
    drain,
    ending,
    instance,
    investigation,
    memory_services,
    notices,
    open_elements,
    open_task,
    opened,
    postings,
    record,
    staff,
    submit,
)

from bpmn_requests.domain.calendar import BusinessCalendar
from bpmn_requests.domain.clock import FixedClock
from bpmn_requests.domain.errors import ValidationFailed
from bpmn_requests.usecases.context import Services
from bpmn_requests.usecases.messages import IncomingMessage, MessageResult, send_message
from bpmn_requests.usecases.tasks import answer_for_customer, tasks_for

D = Decimal
ASK = {"decision": "need_info", "question": "Which delivery does INV-1001 cover?", "note": "Scope unclear."}


def clock(services: Services) -> FixedClock:
    assert isinstance(services.clock, FixedClock)
    return services.clock


def move_to(services: Services, moment: datetime) -> None:
    """Let time pass until `moment`, then do the work that fell due (as a worker would)."""
    clock(services).advance(moment - services.clock.now())
    drain(services)


def sla_times(services: Services, reference: str) -> tuple[datetime, datetime]:
    """(reminder time, due time) of the request's SLA as stored on the request."""
    classification = record(services, reference).classification or {}
    return (datetime.fromisoformat(classification["reminder_at"]), datetime.fromisoformat(classification["due_at"]))


def audit(services: Services, reference: str, action: str) -> list[dict[str, Any]]:
    with services.uow() as uow:
        return [e.after or {} for e in uow.audit.for_subject(reference) if e.action == action]


# --- SLA: reminder, escalation, business hours, pauses -------------------------------------------------------

def test_the_assignee_is_reminded_before_the_sla_target_and_not_a_second_earlier(services: Services) -> None:
    ref = dispute(services)
    remind_at, due_at = sla_times(services, ref)
    assert NOW < remind_at < due_at and instance(services, ref).due_at == remind_at  # stored with the task
    move_to(services, remind_at - timedelta(seconds=1))
    assert "reminded_at" not in open_task(services, ref, "Task_Investigate").properties
    assert audit(services, ref, "task.reminded") == []
    move_to(services, remind_at)
    task = open_task(services, ref, "Task_Investigate")
    assert task.properties["reminded_at"] == remind_at.isoformat()
    assert [e["element"] for e in audit(services, ref, "task.reminded")] == ["Task_Investigate"]
    assert "ar_supervisors" not in task.candidate_groups and instance(services, ref).due_at == due_at


def test_at_breach_the_task_is_offered_to_the_supervisors_and_only_then(services: Services) -> None:
    ref = dispute(services)
    _, due_at = sla_times(services, ref)
    carol = staff(services, "carol")
    move_to(services, due_at - timedelta(minutes=1))
    assert audit(services, ref, "task.escalated") == []
    assert ref not in {t.request_reference for t in tasks_for(carol, services)}
    move_to(services, due_at)
    task = open_task(services, ref, "Task_Investigate")
    assert task.candidate_groups == ("billing", "ar_supervisors")
    assert (task.properties["escalated_to"], task.properties["escalated_at"]) == ("ar_supervisors", due_at.isoformat())
    assert [e["groups"] for e in audit(services, ref, "task.escalated")] == [["billing", "ar_supervisors"]]
    assert ref in {t.request_reference for t in tasks_for(carol, services)}
    assert record(services, ref).classification["breached_at"] == due_at.isoformat()  # type: ignore[index]
    # The task stays open where it was: the supervisors may now do it or give it to someone.
    complete(services, ref, "Task_Investigate", "carol", investigation("12000.00"))
    assert opened(services, ref)[-1] == "Task_Approve"


def test_the_approval_escalates_to_the_finance_managers(services: Services) -> None:
    ref = dispute(services)
    complete(services, ref, "Task_Investigate", "bob", investigation("11800.00"))
    move_to(services, sla_times(services, ref)[1])
    task = open_task(services, ref, "Task_Approve")
    assert task.properties["escalated_to"] == "finance_managers" and "finance_managers" in task.candidate_groups


def test_weekends_do_not_count_and_a_holiday_moves_the_target_by_a_day(screener: object) -> None:
    friday = datetime.fromisoformat("2026-11-06T13:00:00+00:00")
    plain = memory_services(friday, screener=screener)  # type: ignore[arg-type]
    ref = dispute(plain)
    remind_at, due_at = sla_times(plain, ref)
    hours = float(record(plain, ref).classification["sla_hours"])  # type: ignore[index]
    calendar = plain.settings.calendar
    assert calendar.between(friday, due_at) == timedelta(hours=hours)
    assert due_at - friday > timedelta(hours=hours + 48)  # the weekend lies between
    move_to(plain, friday + timedelta(hours=hours))  # as many wall-clock hours: the weekend, nothing due
    assert audit(plain, ref, "task.escalated") == [] and audit(plain, ref, "task.reminded") == []

    monday = date(2026, 11, 9)
    with_holiday = memory_services(friday, screener=screener)  # type: ignore[arg-type]
    with_holiday.settings = replace(with_holiday.settings, calendar=BusinessCalendar(holidays=frozenset({monday})))
    other = dispute(with_holiday)
    later_remind, later_due = sla_times(with_holiday, other)
    assert (later_remind - remind_at, later_due - due_at) == (timedelta(days=1), timedelta(days=1))
    move_to(with_holiday, due_at)  # when the plain calendar breaches: not yet, the holiday does not count
    assert audit(with_holiday, other, "task.escalated") == []
    move_to(with_holiday, later_due)
    assert len(audit(with_holiday, other, "task.escalated")) == 1


def test_the_sla_clock_stops_while_the_customer_is_asked_and_the_target_moves_by_the_time_waited(
        services: Services) -> None:
    ref = dispute(services)
    _, due_at = sla_times(services, ref)
    move_to(services, NOW + timedelta(hours=4))
    complete(services, ref, "Task_Investigate", "bob", ASK)
    assert record(services, ref).status == "awaiting_customer"
    assert record(services, ref).classification["due_at"] is None  # type: ignore[index]  # the clock stands
    move_to(services, NOW + timedelta(days=2, hours=4))  # two business days waiting (16 business hours)
    assert audit(services, ref, "task.escalated") == []
    answer_for_customer(ref, "customer_answer", {"answer": "The March delivery."}, services)
    drain(services)
    new_remind, new_due = sla_times(services, ref)
    assert services.settings.calendar.between(due_at, new_due) == timedelta(hours=16)
    assert instance(services, ref).due_at == new_remind  # the reopened task's timers use the moved target
    move_to(services, due_at)  # the old target passes without an escalation
    assert audit(services, ref, "task.escalated") == []
    move_to(services, new_due)
    assert len(audit(services, ref, "task.escalated")) == 1


# --- requests for information: answered in time, or closed -------------------------------------------------

def test_a_request_for_information_left_unanswered_is_closed_and_the_customer_told(services: Services) -> None:
    ref = dispute(services)
    complete(services, ref, "Task_Investigate", "bob", ASK)
    asked_at = services.clock.now()
    assert open_elements(services, ref) == []  # the customer answers by message, not in an inbox
    move_to(services, asked_at + timedelta(days=14) - timedelta(seconds=1))
    assert ending(services, ref) == (None, None)
    move_to(services, asked_at + timedelta(days=14))
    assert ending(services, ref) == ("Event_ClosedNoResponse", "no_response")
    assert notices(services, ref)[-2:] == ["information_requested", "request_closed_no_response"]
    assert postings(services, ref) == [] and record(services, ref).approvals == []


def test_an_answer_in_time_cancels_the_automatic_closure(services: Services) -> None:
    ref = dispute(services)
    complete(services, ref, "Task_Investigate", "bob", ASK)
    asked_at = services.clock.now()
    move_to(services, asked_at + timedelta(days=13))
    answer_for_customer(ref, "customer_answer", {"answer": "The March delivery."}, services)
    drain(services)
    move_to(services, asked_at + timedelta(days=30))
    assert ending(services, ref) == (None, None)
    assert open_elements(services, ref) == ["Task_Investigate"]
    assert "request_closed_no_response" not in notices(services, ref)


def test_a_credit_adjustment_question_left_unanswered_closes_the_request(services: Services) -> None:
    ref = submit(services, type="credit_adjustment", customer_id="C-1001", invoice_numbers=["INV-1001"],
                 adjustment_kind="refund", disputed_amount="500.00", description="Goodwill refund.").reference
    complete(services, ref, "Task_ReviewAdjustment", "bob", ASK)
    move_to(services, services.clock.now() + timedelta(days=14))
    assert ending(services, ref) == ("Event_ClosedNoResponse", "no_response")


# --- payment issues waiting for the bank ---------------------------------------------------------------------

PAYMENT = "PAY-7001"


def bank_event(services: Services, ttl: timedelta | None = None, **variables: Any) -> MessageResult:
    """The bank reports PAY-7001: 12,500.00 from Northwind naming INV-1001 (which it pays in full)."""
    body = {"payment_reference": PAYMENT, "payment_amount": "12500.00", "currency": "USD",
            "payer_name": "NORTHWIND TRADERS", "remittance_text": "INV-1001", "received_on": "2026-11-02", **variables}
    return send_message(IncomingMessage("payment_received", PAYMENT, body, f"bank-{len(variables)}", "bank", ttl=ttl),
                        services)


def payment_issue(services: Services, *references: str) -> str:
    return submit(services, type="payment_issue", customer_id="C-1001", payment_references=list(references),
                  description="We paid INV-1001; it still shows as open.").reference


def test_a_payment_the_ledger_does_not_know_is_waited_for_and_applied_when_the_bank_reports_it(
        services: Services) -> None:
    ref = payment_issue(services, PAYMENT)
    assert ending(services, ref) == (None, None) and open_elements(services, ref) == []
    with services.uow() as uow:
        [waiting] = uow.subscriptions.for_instance(instance(services, ref).id)
    assert (waiting.element_id, waiting.message, waiting.correlation_key) == (
        "Event_PaymentReceived", "payment_received", PAYMENT)
    result = bank_event(services)
    drain(services)
    assert (result.status, result.reference, result.element_id) == ("delivered", ref, "Event_PaymentReceived")
    assert ending(services, ref) == ("Event_Resolved", "resolved")
    assert postings(services, ref) == [("payment_application", D("12500.00"), "INV-1001")]
    with services.uow() as uow:
        assert uow.finance.payment(PAYMENT).unapplied_amount == D("0.00")  # type: ignore[union-attr]


def test_a_bank_message_that_comes_first_is_kept_and_delivered_when_the_request_waits(services: Services) -> None:
    early = bank_event(services, ttl=timedelta(hours=2))
    assert early.status == "buffered" and early.reference is None
    ref = payment_issue(services, PAYMENT)  # the worker delivers the kept message at once
    assert ending(services, ref) == ("Event_Resolved", "resolved")
    assert postings(services, ref) == [("payment_application", D("12500.00"), "INV-1001")]


def test_without_the_bank_report_within_five_days_the_issue_is_rejected(services: Services) -> None:
    ref = payment_issue(services, PAYMENT)
    move_to(services, NOW + timedelta(days=5) - timedelta(seconds=1))
    assert ending(services, ref) == (None, None)
    move_to(services, NOW + timedelta(days=5))
    assert ending(services, ref) == ("Event_Rejected", "rejected")
    assert notices(services, ref)[-1] == "request_rejected" and postings(services, ref) == []


def test_a_bank_message_may_set_only_the_payment_variables(services: Services) -> None:
    ref = payment_issue(services, PAYMENT)
    with pytest.raises(ValidationFailed, match="may not set it at Event_PaymentReceived"):
        bank_event(services, approved="yes")
    assert ending(services, ref) == (None, None)
