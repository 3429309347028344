"""Timers on our clock, messages to receivers, BPMN errors from service tasks, asynchronous service tasks."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bpmn_requests.domain.errors import NotFound, ProcessError, ServiceTaskError
from bpmn_requests.engine.runner import Engine, RunContext, ServiceCall, Snapshot

HERE = Path(__file__).parent
T0 = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
REMIND_AT = T0 + timedelta(hours=30)


class Services:
    """Answers service calls; `fail` maps a topic to the error it raises."""

    def __init__(self, **fail: Exception):
        self.fail = fail
        self.calls: list[str] = []

    def __call__(self, call: ServiceCall) -> dict[str, Any]:
        self.calls.append(call.element_id)
        if call.topic in self.fail:
            raise self.fail[call.topic]
        return {"credit/score": {"score": 700}}.get(call.topic, {"invoice_amount": "100.00"})


@pytest.fixture
def engine() -> Engine:
    return Engine()


@pytest.fixture
def bundle(engine: Engine) -> Any:
    return engine.bundle({"events.bpmn": (HERE / "events.bpmn").read_bytes()})


def ctx(services: Services, at: datetime, **kwargs: Any) -> RunContext:
    return RunContext(services, "i1", now=at, values={"sla_reminder_at": REMIND_AT.isoformat()}, **kwargs)


def started(engine: Engine, bundle: Any, services: Services) -> Snapshot:
    return engine.start(bundle, "events", {"reference": "REQ-1", "payment_reference": "PAY-9"}, services, "i1",
                        ctx=ctx(services, T0))


def at_answer(engine: Engine, bundle: Any, services: Services) -> Snapshot:
    snap = started(engine, bundle, services)
    return engine.complete(bundle, "events", snap.state, snap.waiting[0].id, lambda data: {}, services, "i1",
                           ctx=ctx(services, T0))


def test_a_boundary_timer_waits_with_its_due_time_from_a_system_value(engine: Engine, bundle: Any) -> None:
    snap = started(engine, bundle, Services())
    assert [(t.element_id, t.due_at) for t in snap.timers] == [("Event_Remind", REMIND_AT)]
    assert snap.due_at == REMIND_AT
    assert "sla_reminder_at" not in snap.waiting[0].data  # a system value is never stored


def test_a_non_interrupting_timer_fires_when_due_and_leaves_the_task_open(engine: Engine, bundle: Any) -> None:
    services = Services()
    snap = started(engine, bundle, services)
    early = engine.advance(bundle, "events", snap.state, services, "i1", ctx=ctx(services, REMIND_AT - timedelta(seconds=1)))
    assert [s.element_id for s in early.trail] == [] and early.due_at == REMIND_AT
    fired = engine.advance(bundle, "events", snap.state, services, "i1", ctx=ctx(services, REMIND_AT))
    assert [s.element_id for s in fired.trail] == ["Event_Remind", "Task_Reminded", "Event_RemindDone"]
    assert [w.element_id for w in fired.waiting] == ["Task_Work"] and fired.waiting[0].id == snap.waiting[0].id
    assert fired.timers == [] and fired.due_at is None


def test_a_receive_task_subscribes_by_reference_and_takes_the_message_variables(engine: Engine, bundle: Any) -> None:
    services = Services()
    snap = at_answer(engine, bundle, services)
    [sub] = snap.subscriptions
    assert (sub.element_id, sub.message, sub.correlation_key) == ("Task_Answer", "customer_answer", "REQ-1")
    assert snap.statuses[-1] == "awaiting_customer"
    assert [t.due_at for t in snap.timers] == [T0 + timedelta(days=14)]  # a bare P14D, as Camunda Modeler writes it
    done = engine.deliver(bundle, "events", snap.state, "Task_Answer", "customer_answer", {"answer": "yes"},
                          ctx(services, T0 + timedelta(days=1)))
    assert done.subscriptions == [] and services.calls == ["Task_Lookup"]
    assert done.pending_async == ["Task_Score"] and done.due_at == T0 + timedelta(days=1)
    assert engine.data(bundle, "events", done.state)["answer"] == "yes"


def test_a_message_nobody_waits_for_is_refused(engine: Engine, bundle: Any) -> None:
    services = Services()
    snap = started(engine, bundle, services)
    with pytest.raises(NotFound, match="does not wait for message 'customer_answer'"):
        engine.deliver(bundle, "events", snap.state, "Task_Answer", "customer_answer", {}, ctx(services, T0))


def test_an_interrupting_timer_ends_the_wait_after_its_duration(engine: Engine, bundle: Any) -> None:
    services = Services()
    snap = at_answer(engine, bundle, services)
    done = engine.advance(bundle, "events", snap.state, services, "i1", ctx=ctx(services, T0 + timedelta(days=14)))
    assert done.completed and done.end_event == "Event_Expired" and done.subscriptions == []


def test_a_business_error_goes_to_the_error_boundary_event(engine: Engine, bundle: Any) -> None:
    services = Services(**{"invoice/lookup": ServiceTaskError("no INV-9", error_code="invoice_not_found")})
    snap = at_answer(engine, bundle, services)
    done = engine.deliver(bundle, "events", snap.state, "Task_Answer", "customer_answer", {"answer": "x"},
                          ctx(services, T0))
    assert done.completed and done.end_event == "Event_InvoiceMissing"
    data = engine.data(bundle, "events", done.state)
    assert (data["error_code"], data["error_message"]) == ("invoice_not_found", "no INV-9")
    assert "Task_Score" not in [s.element_id for s in done.trail]


@pytest.mark.parametrize("error", [ServiceTaskError("other", error_code="invoice_not_of_customer"),
                                   ServiceTaskError("timeout", error_code="invoice_not_found", transient=True)])
def test_an_error_no_boundary_catches_or_a_transient_one_is_raised_with_its_element(
        engine: Engine, bundle: Any, error: ServiceTaskError) -> None:
    services = Services(**{"invoice/lookup": error})
    snap = at_answer(engine, bundle, services)
    with pytest.raises(ServiceTaskError) as raised:
        engine.deliver(bundle, "events", snap.state, "Task_Answer", "customer_answer", {}, ctx(services, T0))
    assert raised.value.details["element_id"] == "Task_Lookup"


def test_a_network_error_of_a_service_is_a_transient_service_error(engine: Engine, bundle: Any) -> None:
    services = Services(**{"invoice/lookup": ConnectionRefusedError("refused")})
    snap = at_answer(engine, bundle, services)
    with pytest.raises(ServiceTaskError) as raised:
        engine.deliver(bundle, "events", snap.state, "Task_Answer", "customer_answer", {}, ctx(services, T0))
    assert raised.value.transient and raised.value.details["element_id"] == "Task_Lookup"


def test_an_asynchronous_task_waits_for_a_worker_and_runs_only_when_asked(engine: Engine, bundle: Any) -> None:
    services = Services()
    snap = at_answer(engine, bundle, services)
    snap = engine.deliver(bundle, "events", snap.state, "Task_Answer", "customer_answer", {}, ctx(services, T0))
    again = engine.advance(bundle, "events", snap.state, services, "i1", ctx=ctx(services, T0))
    assert again.pending_async == ["Task_Score"] and "Task_Score" not in services.calls
    ran = engine.advance(bundle, "events", snap.state, services, "i1", ctx=ctx(services, T0, run_async=True))
    assert services.calls.count("Task_Score") == 1 and ran.pending_async == []
    assert [s.message for s in ran.subscriptions] == ["payment_received"]
    assert ran.subscriptions[0].correlation_key == "PAY-9"  # correlationKey names the variable
    assert ran.due_at == T0 + timedelta(hours=1)


def test_an_overridden_step_completes_with_the_given_result_without_calling_the_service(
        engine: Engine, bundle: Any) -> None:
    services = Services()
    snap = at_answer(engine, bundle, services)
    snap = engine.deliver(bundle, "events", snap.state, "Task_Answer", "customer_answer", {}, ctx(services, T0))
    ran = engine.advance(bundle, "events", snap.state, services, "i1",
                         ctx=ctx(services, T0, run_async=True, overrides={"Task_Score": {"score": 1}}))
    assert "Task_Score" not in services.calls and engine.data(bundle, "events", ran.state)["score"] == 1


def event_gateway(engine: Engine, bundle: Any, services: Services) -> Snapshot:
    snap = at_answer(engine, bundle, services)
    snap = engine.deliver(bundle, "events", snap.state, "Task_Answer", "customer_answer", {}, ctx(services, T0))
    return engine.advance(bundle, "events", snap.state, services, "i1", ctx=ctx(services, T0, run_async=True))


def test_an_event_based_gateway_takes_the_message_that_comes_first(engine: Engine, bundle: Any) -> None:
    services = Services()
    snap = event_gateway(engine, bundle, services)
    done = engine.deliver(bundle, "events", snap.state, "Event_Paid", "payment_received", {"amount": "5.00"},
                          ctx(services, T0 + timedelta(minutes=5)))
    assert done.completed and done.end_event == "Event_Done" and done.timers == []
    assert engine.data(bundle, "events", done.state)["amount"] == "5.00"


def test_an_event_based_gateway_takes_the_timer_when_no_message_comes(engine: Engine, bundle: Any) -> None:
    services = Services()
    snap = event_gateway(engine, bundle, services)
    done = engine.advance(bundle, "events", snap.state, services, "i1", ctx=ctx(services, T0 + timedelta(hours=1)))
    assert done.completed and done.end_event == "Event_Unpaid" and done.subscriptions == []


def test_a_timer_that_does_not_evaluate_to_a_date_names_its_element(engine: Engine, bundle: Any) -> None:
    services = Services()
    bad = RunContext(services, "i1", now=T0, values={"sla_reminder_at": "soon"})
    with pytest.raises(ProcessError, match="Event_Remind"):
        engine.start(bundle, "events", {"reference": "REQ-1"}, services, "i1", ctx=bad)


def test_cancel_stops_every_wait(engine: Engine, bundle: Any) -> None:
    services = Services()
    snap = at_answer(engine, bundle, services)
    gone = engine.cancel(bundle, "events", snap.state)
    assert gone.completed and engine.describe(bundle, "events", gone.state).subscriptions == []
