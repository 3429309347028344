"""Due work on a real database: picking with SKIP LOCKED, dispatching and re-dispatching, racing workers.

A credit onboarding waits at its asynchronous credit score right after submission: due at once.
"""

from __future__ import annotations

import threading
from datetime import timedelta
from typing import Any

import pytest

from bpmn_requests.domain.clock import FixedClock
from bpmn_requests.usecases.audit import verify_audit
from bpmn_requests.usecases.jobs import dispatch_due, run_due_work, run_instance
from bpmn_requests.usecases.submit import SubmitRequest, submit_request

ONBOARDING = {"type": "credit_onboarding", "customer_id": "C-1002", "requested_limit": "2000.00",
              "description": "Credit terms for repeat orders."}


def onboarding(system: Any) -> str:
    return submit_request(SubmitRequest(ONBOARDING, "alice"), system.services).instance_id


def open_elements(system: Any, instance_id: str) -> list[str]:
    with system.services.uow() as uow:
        return sorted(t.element_id for t in uow.tasks.open_for_instance(instance_id))


def test_a_submitted_request_with_an_asynchronous_step_is_due_at_once(system: Any) -> None:
    instance_id = onboarding(system)
    with system.services.uow() as uow:
        row = uow.instances.get_for_update(instance_id)
    assert row.due_at == system.services.clock.now() and open_elements(system, instance_id) == []
    done = run_instance(system.services)
    assert done is not None and done.outcome == "advanced" and done.instance_id == instance_id
    assert open_elements(system, instance_id) == ["Task_CreditReview"]
    assert run_instance(system.services) is None


def test_dispatch_hands_out_due_work_once_until_it_is_overdue(system: Any) -> None:
    services = system.services
    instance_id = onboarding(system)
    sent: list[str] = []
    assert dispatch_due(services, sent.append) == [instance_id]
    assert dispatch_due(services, sent.append) == []  # handed out, not done yet: not again
    clock = services.clock
    assert isinstance(clock, FixedClock)
    clock.advance(services.jobs.redispatch_after + timedelta(seconds=1))
    assert dispatch_due(services, sent.append) == [instance_id]  # the first message may be lost: again
    run_due_work(services)
    assert dispatch_due(services, sent.append) == [] and sent == [instance_id, instance_id]


def test_a_broker_that_refuses_a_message_loses_nothing(system: Any) -> None:
    services = system.services
    instance_id = onboarding(system)

    def broker_down(instance: str) -> None:
        raise ConnectionError("broker unreachable")

    assert dispatch_due(services, broker_down) == []
    sent: list[str] = []
    assert dispatch_due(services, sent.append) == [instance_id]  # at the next sweep, not 30 s later


def test_racing_workers_advance_each_instance_exactly_once(system: Any) -> None:
    services = system.services
    ids = [submit_request(SubmitRequest({**ONBOARDING, "customer_id": customer}, "alice"), services).instance_id
           for customer in ("C-1002", "C-1004", "C-1005")]
    barrier = threading.Barrier(3)
    results: list[list[Any]] = []
    errors: list[BaseException] = []

    def worker() -> None:
        barrier.wait()
        try:
            results.append(run_due_work(services))
        except BaseException as exc:  # noqa: BLE001 - the test reports it
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    advanced = sorted(o.instance_id for batch in results for o in batch if o.outcome == "advanced")
    assert advanced == sorted(ids)
    for instance_id in ids:
        assert open_elements(system, instance_id) == ["Task_CreditReview"]
    assert verify_audit(services).ok


@pytest.mark.postgres
def test_a_worker_skips_the_instance_another_worker_holds(postgres_url: str, screener: object) -> None:
    from testenv import build_test_system
    system: Any = build_test_system(postgres_url, screener)
    try:
        instance_id = onboarding(system)
        now = system.services.clock.now()
        with system.services.uow() as holder:
            held = holder.instances.claim_due(now)
            assert held is not None and held.id == instance_id
            with system.services.uow() as other:
                assert other.instances.claim_due(now) is None  # skipped, not waited for
                assert other.instances.claim_due(now, instance_id) is None
        done = run_instance(system.services, instance_id)
        assert done is not None and done.outcome == "advanced"
    finally:
        system.dispose()


def test_the_sweep_wakes_for_due_work_not_for_work_a_worker_already_has(system: Any) -> None:
    from bpmn_requests.usecases.jobs import next_due_at
    services = system.services
    now = services.clock.now()
    instance_id = onboarding(system)
    assert next_due_at(services) == now
    dispatch_due(services, lambda _id: None)
    assert next_due_at(services) == now + services.jobs.redispatch_after  # when it is sent again, if not done
    run_due_work(services)
    with services.uow() as uow:
        reminder = uow.instances.get_for_update(instance_id).due_at  # the credit review's SLA reminder
    assert reminder is not None and reminder > now and next_due_at(services) == reminder
