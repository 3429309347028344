"""The sweep loop (stops between steps, wakes early, sleeps until the next due time, stands by without the
lock), its round over the real use cases on the in-memory store, and the worker's task; no broker, no database."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from support import open_elements

from bpmn_requests.bootstrap import ADVANCE_TASK, System
from bpmn_requests.config import Settings
from bpmn_requests.usecases.context import Services
from bpmn_requests.usecases.outbox import Delivery, DeliveryReport
from bpmn_requests.usecases.submit import SubmitRequest, submit_request
from bpmn_requests.worker.celery_app import make_celery, worker_argv
from bpmn_requests.worker.sweep import (
    OnceBrokenThisRound,
    OutboxDelivery,
    Round,
    Sweeper,
    SweepSteps,
    sweep_steps,
)
from bpmn_requests.worker.sweep_lock import FileLock

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
ONBOARDING = {"type": "credit_onboarding", "customer_id": "C-1006", "requested_limit": "8000.00",
              "description": "Net-30 terms for our first orders."}


class FakeWork:
    """Steps that record what ran; `during` lets a test act inside a step (stop the sweeper, say)."""

    def __init__(self, next_due: datetime | None = None, handled: int = 0, deliver: bool = True):
        self.calls: list[str] = []
        self.due, self.handled, self.with_delivery = next_due, handled, deliver
        self.during: dict[str, Callable[[], None]] = {}

    def _step(self, name: str) -> None:
        self.calls.append(name)
        self.during.get(name, lambda: None)()

    def steps(self, batch: int = 10) -> SweepSteps:
        def expire() -> int:
            self._step("expire")
            return 0

        def due_work(should_stop: Callable[[], bool]) -> int:
            self._step("due_work")
            return self.handled

        return SweepSteps(expire, due_work, (lambda: self._step("deliver")) if self.with_delivery else None,
                          lambda: self.due, lambda: NOW, batch)


class FakeLock:
    def __init__(self, free: bool = True):
        self.free, self.released = free, False

    def acquire(self) -> bool:
        return self.free

    def release(self) -> None:
        self.released = True


def run_in_thread(sweeper: Sweeper) -> threading.Thread:
    thread = threading.Thread(target=sweeper.run, daemon=True)
    thread.start()
    return thread


def until(check: Callable[[], bool], what: str, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


# --- one round -------------------------------------------------------------------------------------------

def test_a_round_expires_messages_then_does_due_work_then_delivers_the_outbox() -> None:
    work = FakeWork()
    assert Sweeper(work.steps(), 1.0).run_round() == Round(0, 0, True)
    assert work.calls == ["expire", "due_work", "deliver"]


def test_a_stop_during_a_step_ends_the_round_before_the_next_step() -> None:
    work = FakeWork()
    sweeper = Sweeper(work.steps(), 1.0)
    work.during["expire"] = sweeper.stop
    assert sweeper.run_round().finished is False
    assert work.calls == ["expire"]


def test_due_work_is_asked_between_instances_whether_to_stop() -> None:
    answers: list[bool] = []
    sweeper: Sweeper

    def due_work(should_stop: Callable[[], bool]) -> int:
        answers.append(should_stop())
        sweeper.stop()
        answers.append(should_stop())
        return 1

    sweeper = Sweeper(SweepSteps(lambda: 0, due_work, None, lambda: None, lambda: NOW), 1.0)
    sweeper.run_round()
    assert answers == [False, True]


# --- how long it sleeps ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("next_due", "expected"), [
    (None, 5.0),                                # nothing scheduled: the interval
    (NOW + timedelta(seconds=2), 2.0),          # due sooner than the interval: until then
    (NOW + timedelta(minutes=5), 5.0),          # due later: the interval
    (NOW - timedelta(seconds=1), 5.0),          # due already and the round could do nothing: the interval
])
def test_the_sweep_sleeps_until_the_next_due_time_or_the_interval(next_due: datetime | None,
                                                                  expected: float) -> None:
    sweeper = Sweeper(FakeWork(next_due).steps(), 5.0)
    assert sweeper.delay(Round()) == pytest.approx(expected)


def test_work_that_fell_due_during_a_busy_round_is_looked_at_at_once() -> None:
    sweeper = Sweeper(FakeWork(NOW - timedelta(milliseconds=50)).steps(), 5.0)
    assert sweeper.delay(Round(handled=1)) == 0.0


def test_a_full_batch_starts_the_next_round_at_once() -> None:
    sweeper = Sweeper(FakeWork(handled=10).steps(batch=10), 5.0)
    assert sweeper.delay(Round(handled=10)) == 0.0


def test_a_wake_up_cuts_the_sleep_short_and_stop_ends_the_loop() -> None:
    work = FakeWork()
    sweeper = Sweeper(work.steps(), 60.0)
    thread = run_in_thread(sweeper)
    until(lambda: work.calls.count("expire") == 1, "the first round")
    sweeper.wake("some-instance")
    until(lambda: work.calls.count("expire") == 2, "a second round long before the 60 s interval")
    sweeper.stop()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_a_failing_round_is_logged_and_the_sweep_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    work = FakeWork(deliver=False)
    failures = iter([RuntimeError("database restarting")])

    def flaky() -> None:
        error = next(failures, None)
        if error is not None:
            raise error

    work.during["expire"] = flaky
    sweeper = Sweeper(work.steps(), 0.01)
    thread = run_in_thread(sweeper)
    until(lambda: work.calls.count("due_work") >= 1, "a round after the failed one")
    sweeper.stop()
    thread.join(timeout=5)
    assert "sweep round failed" in caplog.text and "database restarting" in caplog.text


# --- one sweeper at a time -------------------------------------------------------------------------------

def test_a_process_without_the_lock_stands_by_and_takes_over_when_it_is_free(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level("INFO", logger="bpmn_requests.sweep")
    work, lock = FakeWork(), FakeLock(free=False)
    sweeper = Sweeper(work.steps(), 0.01, lock)
    thread = run_in_thread(sweeper)
    until(lambda: "standing by" in caplog.text, "standing by")
    assert work.calls == []
    lock.free = True
    until(lambda: "expire" in work.calls, "the take-over")
    sweeper.stop()
    thread.join(timeout=5)
    assert "this process sweeps now" in caplog.text and lock.released


def test_a_file_lock_admits_one_holder_at_a_time(tmp_path: Path) -> None:
    first, second = FileLock(tmp_path / "db.sweep-lock"), FileLock(tmp_path / "db.sweep-lock")
    assert first.acquire() and first.acquire()  # asked every round: still held
    assert not second.acquire()
    first.release()
    assert second.acquire()
    second.release()


# --- talking to the broker and the mail server -----------------------------------------------------------

def test_after_one_failed_send_the_rest_of_the_round_fails_without_waiting_on_the_broker() -> None:
    attempts: list[str] = []

    def dead_broker(instance_id: str) -> None:
        attempts.append(instance_id)
        raise ConnectionError("refused")

    send = OnceBrokenThisRound(dead_broker)
    for instance_id in ("a", "b", "c"):
        with pytest.raises(ConnectionError):
            send(instance_id)
    assert attempts == ["a"]


def test_a_failed_delivery_waits_before_the_outbox_is_tried_again() -> None:
    clock = [0.0]
    reports = [DeliveryReport([Delivery("k1", "REQ-1", "a@example.com", "retry", 1, "421 busy")]),
               DeliveryReport([Delivery("k1", "REQ-1", "a@example.com", "sent", 1)])]
    runs: list[float] = []

    def deliver(_sender: Any) -> DeliveryReport:
        runs.append(clock[0])
        return reports.pop(0)

    outbox = OutboxDelivery(deliver, lambda: nullcontext(object()), lambda: clock[0])  # type: ignore[arg-type, return-value]
    outbox()                     # fails: wait 30 s
    clock[0] = 10.0
    outbox()                     # too early: not tried
    clock[0] = 31.0
    outbox()
    assert runs == [0.0, 31.0]


# --- the round over the real use cases (in-memory store) -------------------------------------------------

def test_without_a_broker_the_sweep_runs_the_asynchronous_step_itself(services: Services) -> None:
    reference = submit_request(SubmitRequest(ONBOARDING, "alice", "cli"), services).reference
    assert open_elements(services, reference) == []  # credit/score waits for a worker
    sweeper = Sweeper(sweep_steps(services), 1.0)
    assert sweeper.run_round().handled == 1
    assert open_elements(services, reference) == ["Task_CreditReview"]


def test_with_a_broker_the_sweep_hands_due_work_out_once_until_it_is_overdue(services: Services) -> None:
    submit_request(SubmitRequest(ONBOARDING, "alice", "cli"), services)
    sent: list[str] = []
    sweeper = Sweeper(sweep_steps(services, send=sent.append), 1.0)
    sweeper.run_round()
    sweeper.run_round()  # handed out already, not yet overdue: not sent again
    assert len(sent) == 1
    services.clock.advance(services.jobs.redispatch_after + timedelta(seconds=1))  # type: ignore[attr-defined]
    sweeper.run_round()  # no worker finished it: sent again
    assert len(sent) == 2 and sent[0] == sent[1]


# --- the worker's task ---------------------------------------------------------------------------------

class NoDatabase:
    def dispose(self) -> None:
        pass


def test_the_advance_task_does_the_step_of_its_instance(services: Services) -> None:
    reference = submit_request(SubmitRequest(ONBOARDING, "alice", "cli"), services).reference
    with services.uow() as uow:
        instance_id = uow.instances.for_request(reference).id
    settings = Settings(broker_url="redis://127.0.0.1:6379/0")
    app = make_celery(settings, build=lambda: System(settings, NoDatabase(), services))  # type: ignore[arg-type]
    app.tasks[ADVANCE_TASK].run(instance_id)
    assert open_elements(services, reference) == ["Task_CreditReview"]
    app.tasks[ADVANCE_TASK].run(instance_id)  # delivered twice: nothing is due, nothing happens
    assert open_elements(services, reference) == ["Task_CreditReview"]


def test_one_worker_process_runs_solo_and_more_run_prefork() -> None:
    settings = Settings(broker_url="redis://127.0.0.1:6379/0")
    assert "--pool=solo" in worker_argv(settings) and "--concurrency=1" in worker_argv(settings)
    assert "--pool=prefork" in worker_argv(settings, 4) and "--concurrency=4" in worker_argv(settings, 4)
