"""Unattended work through the real use cases on a small process of its own (tests/unit/unattended/):
SLA timers with the clock under control, customer and system messages, asynchronous service tasks,
retries with backoff, incidents and what admins do about them.

The clock only moves when a test says so; `drain` is what a worker does at that moment.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support import ROOT, memory_state, staff

from bpmn_requests.domain.clock import FixedClock
from bpmn_requests.domain.errors import Conflict, Forbidden, NotFound, ServiceTaskError, ValidationFailed
from bpmn_requests.domain.users import User
from bpmn_requests.engine.runner import Engine
from bpmn_requests.service_tasks import build_registry
from bpmn_requests.service_tasks.kyc.pep import SyntheticPepList
from bpmn_requests.service_tasks.registry import Param, Registry, ServiceContext, ServiceTaskDefinition
from bpmn_requests.store.demo_data import demo_finance_facts
from bpmn_requests.store.memory import MemoryState, MemoryUnitOfWork, MemoryUsers
from bpmn_requests.store.memory_finance import MemoryFinanceGateway
from bpmn_requests.usecases.accounts import DEMO_USERS
from bpmn_requests.usecases.context import Services
from bpmn_requests.usecases.incidents import cancel_incident, list_incidents, retry_incident, skip_incident
from bpmn_requests.usecases.jobs import JobOutcome, run_due_work
from bpmn_requests.usecases.messages import IncomingMessage, MessageResult, expire_messages, send_message
from bpmn_requests.usecases.ports import HumanTask, InstanceRow
from bpmn_requests.usecases.submit import SubmitRequest, submit_request
from bpmn_requests.usecases.tasks import CompleteTask, complete_task, tasks_for

HERE = Path(__file__).parent / "unattended"
MONDAY = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # 16 business hours from here: Tuesday 17:00
DUE = datetime(2026, 11, 3, 17, 0, tzinfo=UTC)
REMINDER = datetime(2026, 11, 3, 13, 0, tzinfo=UTC)  # 75% of the target: 12 business hours


@dataclass
class Flaky:
    """The `test/flaky` service: answers from a script (ok, transient, permanent, bug), then ok."""

    script: list[str] = field(default_factory=list)
    calls: int = 0

    def __call__(self, ctx: ServiceContext, inputs: dict[str, Any]) -> dict[str, Any]:
        self.calls += 1
        step = self.script.pop(0) if self.script else "ok"
        if step == "transient":
            raise ServiceTaskError("test/flaky: 503 Service Unavailable", error_code="unavailable", transient=True)
        if step == "permanent":
            raise ServiceTaskError("test/flaky: 400 no such account", error_code="refused")
        if step == "bug":
            raise KeyError("account")
        return {"flaky_result": "ok", "payment_key": "PAY-77"}


@pytest.fixture
def flaky() -> Flaky:
    return Flaky()


@pytest.fixture
def services(flaky: Flaky) -> Iterator[Services]:
    clock = FixedClock(MONDAY)
    state = MemoryState(finance=MemoryFinanceGateway(demo_finance_facts(clock.today())))
    for username, full_name, groups in DEMO_USERS:
        MemoryUsers(state).add(User(username, full_name, frozenset(groups), f"{username}@example.com"), None)
    definition = ServiceTaskDefinition("test/flaky", "Flaky", "A service that fails as the test says.", (),
                                       (Param("flaky_result", "string", "ok"),), flaky)
    built = Services(engine=Engine(), registry=Registry([*build_registry().definitions(), definition]),
                     screener=_NoHits(), peps=SyntheticPepList(), clock=clock,
                     uow=lambda: MemoryUnitOfWork(state, clock.now),  # type: ignore[arg-type, return-value]
                     main_process="unattended")
    files = {"processes/unattended.bpmn": (HERE / "unattended.bpmn").read_bytes(),
             "forms/customer_information.form": (ROOT / "forms" / "customer_information.form").read_bytes()}
    with built.uow() as uow:
        uow.deployments.add(files, "admin")
        uow.commit()
    yield built


class _NoHits:
    def screen(self, names: list[tuple[str, str]]) -> Any:
        from bpmn_requests.domain.ports import ScreeningResult
        return ScreeningResult("2026-01-01", 0, 88.0)


def clock(services: Services) -> FixedClock:
    assert isinstance(services.clock, FixedClock)
    return services.clock


def at(services: Services, when: datetime) -> list[JobOutcome]:
    """Move the clock to `when` and do the work due then."""
    clock(services).advance(when - services.clock.now())
    return run_due_work(services)


def submit(services: Services) -> str:
    request = {"type": "billing_dispute", "customer_id": "C-1001", "invoice_numbers": ["INV-1001"],
               "description": "INV-1001 uses the old price."}
    return submit_request(SubmitRequest(request, "alice"), services).reference


def instance(services: Services, reference: str) -> InstanceRow:
    with services.uow() as uow:
        return uow.instances.for_request(reference)


def work_task(services: Services, reference: str) -> HumanTask:
    with services.uow() as uow:
        [task] = [t for t in uow.tasks.open_for_request(reference) if t.element_id == "Task_Work"]
        return task


def finish_work(services: Services, reference: str) -> None:
    complete_task(CompleteTask(work_task(services, reference).id, staff(services, "bob"), {}), services)


def audit(services: Services, reference: str, action: str) -> list[dict[str, Any]]:
    with services.uow() as uow:
        return [e.after or {} for e in uow.audit.for_subject(reference) if e.action == action]


def answer(services: Services, reference: str, text: str = "The March delivery.", message_id: str = "m-1",
           **kwargs: Any) -> MessageResult:
    return send_message(IncomingMessage("customer_answer", reference, {"answer": text}, message_id,
                                        "customer:C-1001", **kwargs), services)


def at_payment_wait(services: Services) -> str:
    reference = submit(services)
    finish_work(services, reference)
    answer(services, reference)
    run_due_work(services)
    return reference


# --- SLA timers ------------------------------------------------------------------------------------

def test_the_instance_stores_when_its_first_sla_timer_is_due(services: Services) -> None:
    reference = submit(services)
    assert instance(services, reference).due_at == REMINDER


def test_no_sla_timer_fires_before_its_time(services: Services) -> None:
    reference = submit(services)
    assert at(services, REMINDER - timedelta(minutes=1)) == []
    assert "reminded_at" not in work_task(services, reference).properties


def test_the_holder_is_reminded_before_the_target_and_the_task_stays_open(services: Services) -> None:
    reference = submit(services)
    [done] = at(services, REMINDER)
    assert done.outcome == "advanced" and done.due_at == DUE
    task = work_task(services, reference)
    assert task.properties["reminded_at"] == REMINDER.isoformat()
    assert [a["element"] for a in audit(services, reference, "task.reminded")] == ["Task_Work"]


def test_at_breach_the_task_is_escalated_to_the_supervisors(services: Services) -> None:
    reference = submit(services)
    carol = staff(services, "carol")  # ar_supervisors: not a candidate of Task_Work before the breach
    assert work_task(services, reference).id not in {t.id for t in tasks_for(carol, services)}
    at(services, REMINDER)
    at(services, DUE)
    task = work_task(services, reference)
    assert "ar_supervisors" in task.candidate_groups and task.properties["escalated_to"] == "ar_supervisors"
    assert task.id in {t.id for t in tasks_for(carol, services)}
    assert audit(services, reference, "task.escalated")[0]["groups"] == ["billing", "ar_supervisors"]
    with services.uow() as uow:
        assert uow.requests.get(reference).classification["breached_at"] == DUE.isoformat()  # type: ignore[index]
    assert instance(services, reference).due_at is None  # nothing more is due


def test_the_sla_clock_stands_still_while_the_customer_is_asked(services: Services) -> None:
    reference = submit(services)
    clock(services).advance(timedelta(hours=1))  # Monday 10:00: one business hour used
    finish_work(services, reference)
    with services.uow() as uow:
        paused = uow.requests.get(reference).classification or {}
    assert paused["due_at"] is None and paused["paused_since"] == "2026-11-02T10:00:00+00:00"
    clock(services).advance(timedelta(days=2))  # Wednesday 10:00: 16 business hours waiting
    answer(services, reference)
    with services.uow() as uow:
        resumed = uow.requests.get(reference).classification or {}
    assert resumed["due_at"] == "2026-11-05T17:00:00+00:00"  # Tuesday 17:00 moved by the 16 hours lost
    assert resumed["pauses"] == [["2026-11-02T10:00:00+00:00", "2026-11-04T10:00:00+00:00"]]


# --- customer messages -------------------------------------------------------------------------------

def test_the_customers_answer_reaches_the_waiting_request_by_its_reference(services: Services) -> None:
    reference = submit(services)
    finish_work(services, reference)
    result = answer(services, reference)
    assert (result.status, result.reference, result.element_id) == ("delivered", reference, "Task_Answer")
    with services.uow() as uow:
        record = uow.requests.get(reference)
    assert record.steps[-1].data == {"answer": "The March delivery."} and record.steps[-1].actor == "customer:C-1001"
    assert audit(services, reference, "message.delivered")[0]["message"] == "customer_answer"


def test_the_same_message_twice_has_one_effect(services: Services) -> None:
    reference = submit(services)
    finish_work(services, reference)
    answer(services, reference, message_id="form-42")
    again = answer(services, reference, "A different text", message_id="form-42")
    assert (again.status, again.first_status) == ("duplicate", "delivered")
    assert len(audit(services, reference, "message.delivered")) == 1


def test_an_answer_nobody_waits_for_is_refused_with_what_the_request_waits_for(services: Services) -> None:
    reference = submit(services)  # still with billing: no question was asked
    with pytest.raises(NotFound, match=rf"request {reference} does not wait for message 'customer_answer' now "
                                       r"\(status investigation; it waits for no message\)"):
        answer(services, reference, ttl=timedelta(0))


def test_a_message_for_no_request_at_all_says_how_to_send_it_early(services: Services) -> None:
    with pytest.raises(NotFound, match="no request waits for message 'payment_received' with correlation key "
                                       "'PAY-1'; send it with a time to live"):
        send_message(IncomingMessage("payment_received", "PAY-1", {}, "b-1", "bank", ttl=timedelta(0)), services)


def test_an_answer_the_form_refuses_changes_nothing(services: Services) -> None:
    reference = submit(services)
    finish_work(services, reference)
    with pytest.raises(ValidationFailed) as refused:
        send_message(IncomingMessage("customer_answer", reference, {"answer": ""}, "m-1", "customer:C-1001"),
                     services)
    assert "answer" in refused.value.field_errors
    with services.uow() as uow:
        assert uow.messages.by_message_id("customer_answer", "m-1") is None
    assert answer(services, reference, message_id="m-1").status == "delivered"


@pytest.mark.parametrize("bad", [{"name": "", "message_id": "x"}, {"name": "ok", "message_id": "has space"},
                                 {"name": "ok", "message_id": "x", "key": "REQ-1\x00"},
                                 {"name": "ok", "message_id": "x", "ttl": timedelta(days=400)}])
def test_a_malformed_message_names_the_field(services: Services, bad: dict[str, Any]) -> None:
    with pytest.raises(ValidationFailed):
        send_message(IncomingMessage(bad["name"], bad.get("key", "REQ-1"), {}, bad["message_id"], "bank",
                                     ttl=bad.get("ttl")), services)


def test_without_an_answer_the_request_is_closed_after_the_answer_period(services: Services) -> None:
    reference = submit(services)
    finish_work(services, reference)
    assert at(services, MONDAY + timedelta(days=14) - timedelta(minutes=1)) == []
    at(services, MONDAY + timedelta(days=14))
    with services.uow() as uow:
        record = uow.requests.get(reference)
        assert uow.subscriptions.for_instance(instance(services, reference).id) == []
    assert (record.status, record.outcome) == ("closed", "no_response")
    assert instance(services, reference).status == "completed"


# --- asynchronous service tasks, retries, incidents -----------------------------------------------

def test_an_asynchronous_task_runs_in_the_worker_not_in_the_request(services: Services, flaky: Flaky) -> None:
    reference = submit(services)
    finish_work(services, reference)
    answer(services, reference)
    assert flaky.calls == 0 and instance(services, reference).due_at == MONDAY
    [done] = run_due_work(services)
    assert done.outcome == "advanced" and flaky.calls == 1
    with services.uow() as uow:
        [sub] = uow.subscriptions.for_instance(instance(services, reference).id)
    assert (sub.message, sub.correlation_key) == ("payment_received", "PAY-77")


def test_a_transient_failure_is_retried_with_exponential_backoff(services: Services, flaky: Flaky) -> None:
    flaky.script = ["transient", "transient"]
    reference = submit(services)
    finish_work(services, reference)
    answer(services, reference)
    [first] = run_due_work(services)
    assert (first.outcome, first.due_at) == ("retry", MONDAY + timedelta(minutes=1))  # R2/PT1M
    row = instance(services, reference)
    assert (row.attempts, row.status) == (1, "running") and "503" in (row.error or "")
    assert at(services, MONDAY + timedelta(seconds=59)) == []
    [second] = at(services, MONDAY + timedelta(minutes=1))
    assert (second.outcome, second.due_at) == ("retry", MONDAY + timedelta(minutes=3))  # then twice as long
    [third] = at(services, MONDAY + timedelta(minutes=3))
    assert third.outcome == "advanced" and flaky.calls == 3
    assert (instance(services, reference).attempts, instance(services, reference).error) == (0, None)
    assert [a["attempt"] for a in audit(services, reference, "step.failed")] == [1, 2]


def test_retries_used_up_open_an_incident_with_the_element_and_the_data(services: Services, flaky: Flaky) -> None:
    flaky.script = ["transient"] * 3
    reference = submit(services)
    finish_work(services, reference)
    answer(services, reference)
    run_due_work(services)
    at(services, MONDAY + timedelta(minutes=1))
    [last] = at(services, MONDAY + timedelta(minutes=3))
    assert last.outcome == "incident"
    [incident] = list_incidents(services)
    assert (incident.element_id, incident.error_code, incident.attempts) == ("Task_Flaky", "unavailable", 3)
    assert incident.data["answer"] == "The March delivery." and incident.request_reference == reference
    assert (instance(services, reference).status, instance(services, reference).due_at) == ("incident", None)
    assert at(services, MONDAY + timedelta(days=1)) == []  # an incident waits for an admin, not a worker


@pytest.mark.parametrize(("failure", "code"), [("permanent", "refused"), ("bug", "KeyError")])
def test_a_permanent_error_opens_an_incident_at_once(services: Services, flaky: Flaky, failure: str,
                                                     code: str) -> None:
    flaky.script = [failure]
    reference = submit(services)
    finish_work(services, reference)
    answer(services, reference)
    [done] = run_due_work(services)
    assert done.outcome == "incident" and flaky.calls == 1
    [incident] = list_incidents(services)
    assert incident.error_code == code
    assert audit(services, reference, "incident.opened")[0]["incident"] == incident.id


def incident_of(services: Services, flaky: Flaky) -> tuple[str, int]:
    flaky.script = ["permanent"]
    reference = submit(services)
    finish_work(services, reference)
    answer(services, reference)
    run_due_work(services)
    [incident] = list_incidents(services)
    return reference, incident.id


def test_an_admin_retries_an_incident_and_the_step_runs_again(services: Services, flaky: Flaky) -> None:
    reference, incident_id = incident_of(services, flaky)
    resolved = retry_incident(incident_id, staff(services, "admin"), services)
    assert (resolved.resolution, resolved.resolved_by) == ("retried", "admin")
    [done] = run_due_work(services)
    assert done.outcome == "advanced" and flaky.calls == 2 and list_incidents(services) == []
    assert audit(services, reference, "incident.retried")[0]["element"] == "Task_Flaky"


def test_an_admin_skips_the_step_with_the_result_it_should_have_given(services: Services, flaky: Flaky) -> None:
    reference, incident_id = incident_of(services, flaky)
    skip_incident(incident_id, {"flaky_result": "by hand", "payment_key": "PAY-9"}, staff(services, "admin"),
                  services)
    assert flaky.calls == 1  # not called again
    with services.uow() as uow:
        [sub] = uow.subscriptions.for_instance(instance(services, reference).id)
    assert sub.correlation_key == "PAY-9" and instance(services, reference).status == "running"
    assert audit(services, reference, "incident.skipped")[0]["result"]["payment_key"] == "PAY-9"


def test_an_admin_cancels_the_request_of_an_incident(services: Services, flaky: Flaky) -> None:
    reference, incident_id = incident_of(services, flaky)
    cancel_incident(incident_id, "The customer withdrew by phone.", staff(services, "admin"), services)
    with services.uow() as uow:
        record = uow.requests.get(reference)
        assert uow.tasks.open_for_request(reference) == []
    assert (record.status, record.outcome) == ("closed", "cancelled")
    assert instance(services, reference).status == "cancelled"
    assert audit(services, reference, "request.cancelled")[0]["reason"] == "The customer withdrew by phone."


def test_only_admins_resolve_incidents_and_only_once(services: Services, flaky: Flaky) -> None:
    _reference, incident_id = incident_of(services, flaky)
    with pytest.raises(Forbidden):
        retry_incident(incident_id, staff(services, "bob"), services)
    retry_incident(incident_id, staff(services, "admin"), services)
    with pytest.raises(Conflict, match="already resolved"):
        cancel_incident(incident_id, "too late", staff(services, "admin"), services)


# --- messages from other systems: early, late, refused ------------------------------------------------

def payment(services: Services, variables: dict[str, Any], message_id: str = "bank-1",
            ttl: timedelta | None = None) -> MessageResult:
    return send_message(IncomingMessage("payment_received", "PAY-77", variables, message_id, "bank", ttl=ttl),
                        services)


def test_a_system_event_reaches_the_request_waiting_for_its_key(services: Services) -> None:
    reference = at_payment_wait(services)
    result = payment(services, {"amount": "120.00"})
    assert (result.status, result.reference, result.element_id) == ("delivered", reference, "Event_PaymentReceived")
    with services.uow() as uow:
        record = uow.requests.get(reference)
    assert (record.status, record.outcome) == ("closed", "resolved")


def test_a_message_may_set_only_the_variables_its_receiver_names(services: Services) -> None:
    at_payment_wait(services)
    with pytest.raises(ValidationFailed, match="may not set it at Event_PaymentReceived, which takes amount, "
                                               "payer_name") as refused:
        payment(services, {"approval_level": 0})
    assert refused.value.field == "approval_level"


def test_an_early_message_waits_in_the_buffer_and_is_delivered_when_the_request_is_ready(services: Services) -> None:
    early = payment(services, {"amount": "120.00"}, ttl=timedelta(hours=2))
    assert early.status == "buffered" and early.expires_at == MONDAY + timedelta(hours=2)
    reference = submit(services)
    finish_work(services, reference)
    answer(services, reference)
    run_due_work(services)  # the flaky step, then the buffered payment at the gateway
    with services.uow() as uow:
        record = uow.requests.get(reference)
        stored = uow.messages.by_message_id("payment_received", "bank-1")
    assert (record.status, record.outcome) == ("closed", "resolved")
    assert stored is not None and (stored.status, stored.request_reference) == ("delivered", reference)


def test_a_buffered_message_expires_when_no_request_comes_in_time(services: Services) -> None:
    payment(services, {"amount": "120.00"}, ttl=timedelta(minutes=1))
    clock(services).advance(timedelta(minutes=2))
    [expired] = expire_messages(services)
    assert expired.status == "expired"
    reference = at_payment_wait(services)
    with services.uow() as uow:
        assert uow.requests.get(reference).status != "closed"  # still waiting: the late copy is gone


def test_a_buffered_message_its_receiver_refuses_is_kept_as_refused(services: Services) -> None:
    payment(services, {"bogus": "1"}, ttl=timedelta(hours=2))
    reference = at_payment_wait(services)
    with services.uow() as uow:
        stored = uow.messages.by_message_id("payment_received", "bank-1")
    assert stored is not None and stored.status == "refused"
    assert audit(services, reference, "message.refused")[0]["message_id"] == "bank-1"


def test_the_event_gateway_takes_its_timer_when_no_event_comes(services: Services) -> None:
    reference = at_payment_wait(services)
    at(services, MONDAY + timedelta(hours=1))
    with services.uow() as uow:
        assert uow.requests.get(reference).outcome == "resolved"


def test_nothing_is_due_in_an_empty_system(services: Services) -> None:
    assert run_due_work(services) == []
    assert memory_state(services).incidents == {}


def test_work_announced_to_a_worker_after_the_commit_is_not_handed_out_again(services: Services) -> None:
    from bpmn_requests.usecases.jobs import dispatch_due
    announced: list[str] = []
    services.on_due = announced.append
    reference = submit(services)
    finish_work(services, reference)
    answer(services, reference)  # the asynchronous step is due now
    assert announced == [instance(services, reference).id]
    assert dispatch_due(services, announced.append) == []  # the sweep leaves it to the worker told
    clock(services).advance(services.jobs.redispatch_after + timedelta(seconds=1))
    assert dispatch_due(services, announced.append) == [instance(services, reference).id]  # unless it is lost


def test_a_kept_message_that_ends_the_request_completes_it_once(services: Services) -> None:
    reference = submit(services)
    finish_work(services, reference)
    payment(services, {"amount": "120.00"}, ttl=timedelta(hours=2))  # before the request waits for it
    answer(services, reference)
    run_due_work(services)  # the flaky step; then the kept payment ends the request in the next job
    run_due_work(services)
    assert len(audit(services, reference, "instance.completed")) == 1
