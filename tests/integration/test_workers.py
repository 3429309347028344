"""The production form as real processes: gunicorn, two `bpmn-requests worker`s and a `bpmn-requests scheduler`
on a fresh PostgreSQL schema and a Redis database of their own, driven through the REST API.

To catch a worker in the middle of a step, the test holds a lock on the table of user tasks: the step of
`credit/score` then waits inside its transaction (with its instance row locked) when it opens the credit
review, until the test lets go. The tests run in order on one set of processes (module fixture).
"""

from __future__ import annotations

import contextlib
import json
import shutil
import signal
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cluster import BIN, STARTUP, Proc, Stack, free_port, healthy, postgres_stack, until
from testenv import REQUIRE_SERVICES, require_postgres, require_redis

pytestmark = pytest.mark.slow
ONBOARDING = {"type": "credit_onboarding", "customer_id": "C-1006", "requested_limit": "8000.00",
              "description": "Net-30 terms for our first orders."}


class WorkerStack(Stack):
    """The installation of these tests: alice submits credit onboardings, grace sees their reviews."""

    def create_tokens(self, *users: str) -> None:
        super().create_tokens(*(users or ("alice", "grace")))

    def submit(self) -> str:
        status, body = self.api("POST", "/api/v1/requests", "alice", ONBOARDING)
        assert status == 201, body
        return str(body["reference"])

    def reviews(self, reference: str) -> list[dict[str, Any]]:
        """The open credit review tasks of the request, as grace (credit) sees them."""
        _, body = self.api("GET", "/api/v1/tasks", "grace")
        return [t for t in body["items"] if t["reference"] == reference and t["element_id"] == "Task_CreditReview"]

    def instance_id(self, reference: str) -> str:
        with self.connect() as conn:
            row = conn.execute("SELECT id FROM instances WHERE request_reference = %s", (reference,)).fetchone()
        assert row is not None
        return str(row[0])


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WorkerStack]:
    require_postgres()
    require_redis()
    with postgres_stack(tmp_path_factory.mktemp("workers"), WorkerStack, sweep_seconds="0.2",
                        redispatch_seconds="2") as built:
        built.cli("init", "--demo")
        built.start_web("web")
        for name in ("worker-1", "worker-2"):
            built.start(name, str(BIN / "bpmn-requests"), "worker")
        built.start("scheduler", str(BIN / "bpmn-requests"), "scheduler")
        until(lambda: "scheduler started" in built.procs["scheduler"].log(), "the scheduler", STARTUP)
        built.start("scheduler-standby", str(BIN / "bpmn-requests"), "scheduler")
        built.create_tokens()  # while the processes start
        until(lambda: all(" ready." in built.procs[n].log() for n in ("worker-1", "worker-2")), "the workers", STARTUP)
        until(lambda: "standing by" in built.procs["scheduler-standby"].log(), "the second scheduler", STARTUP)
        until(lambda: healthy(built.web_port), "gunicorn's /healthz", STARTUP)
        yield built


@contextlib.contextmanager
def steps_held(stack: WorkerStack) -> Iterator[Callable[[], bool]]:
    """Makes every step that opens a user task wait in its transaction until the block ends; yields a
    check: is a step waiting on us right now?"""
    conn = stack.connect()
    conn.execute("LOCK TABLE human_tasks IN SHARE MODE")  # blocks INSERTs, not reads
    ours = conn.info.backend_pid

    def waiting() -> bool:
        with stack.connect() as probe:
            return bool(probe.execute("SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))",
                                      (ours,)).fetchone()[0])

    try:
        yield waiting
    finally:
        conn.rollback()
        conn.close()


def in_step(worker: Proc, instance_id: str) -> bool:
    """The worker started a step of the instance and has not said how it ended."""
    lines = [line for line in worker.log().splitlines() if instance_id in line]
    return bool(lines) and lines[-1].endswith("step started")


def running_step(stack: WorkerStack, instance_id: str, waiting: Callable[[], bool]) -> Proc:
    """The one worker whose step of the instance is held by the test (checked twice, 0.3 s apart: the other
    worker may be told about the same instance, and finds it locked at once)."""
    def found() -> Proc | None:
        workers = [p for n, p in stack.procs.items() if n.startswith("worker") and p.popen.poll() is None]
        holding = [w for w in workers if in_step(w, instance_id)]
        return holding[0] if len(holding) == 1 and waiting() else None

    first = until(found, "a worker inside the step")
    time.sleep(0.3)
    assert found() is first
    return first


@pytest.mark.postgres
def test_an_asynchronous_step_runs_on_a_worker_without_anyone_running_it(stack: WorkerStack) -> None:
    reference = stack.submit()
    until(lambda: stack.reviews(reference), f"{reference} to reach the credit review")
    until(lambda: [n for n, p in stack.procs.items() if n.startswith("worker") and f"{reference} (instance" in p.log()],
          "a worker to log the step")  # it logs after the commit the review appeared with


@pytest.mark.postgres
def test_a_step_lost_with_a_killed_worker_is_done_by_another(stack: WorkerStack) -> None:
    with steps_held(stack) as waiting:
        reference = stack.submit()
        instance_id = stack.instance_id(reference)
        victim = running_step(stack, instance_id, waiting)
        assert victim.stop(signal.SIGKILL) == -signal.SIGKILL
    # The killed worker's transaction is rolled back and its task never acknowledged: the sweep sends the
    # overdue instance again and the other worker does the step, once.
    until(lambda: stack.reviews(reference), f"{reference} to reach the credit review after the kill")
    survivor = next(p for n, p in stack.procs.items() if n.startswith("worker") and p is not victim)
    until(lambda: f"{reference} (instance {instance_id}): step done" in survivor.log(), "the survivor's log line")
    assert len(stack.reviews(reference)) == 1
    _, trail = stack.api("GET", f"/api/v1/requests/{reference}/audit", "grace")
    opened = [e["after"]["element"] for e in trail["items"] if e["action"] == "task.opened"]
    assert opened == ["Task_CreditReview"]


@pytest.mark.postgres
def test_a_worker_told_to_stop_finishes_its_step_first(stack: WorkerStack) -> None:
    with steps_held(stack) as waiting:
        reference = stack.submit()
        instance_id = stack.instance_id(reference)
        worker = running_step(stack, instance_id, waiting)
        worker.popen.send_signal(signal.SIGTERM)
    assert worker.stop() == 0
    assert "Warm shutdown" in worker.log()
    assert f"{reference} (instance {instance_id}): step done" in worker.log()
    assert len(stack.reviews(reference)) == 1


@pytest.mark.postgres
def test_a_stopped_scheduler_exits_cleanly_and_the_one_standing_by_takes_over(stack: WorkerStack) -> None:
    scheduler, standby = stack.procs["scheduler"], stack.procs["scheduler-standby"]
    assert scheduler.stop() == 0
    assert "scheduler stopped" in scheduler.log()
    until(lambda: "this process sweeps now" in standby.log(), "the standby scheduler to take over")
    assert standby.stop() == 0


@pytest.mark.postgres
def test_work_waits_for_a_dead_broker_and_is_done_once_it_is_back(stack: WorkerStack) -> None:
    """No worker, no scheduler left from the tests before; the broker of this test is not there at first."""
    if shutil.which("redis-server") is None:
        if REQUIRE_SERVICES:
            pytest.fail("redis-server is not installed; BPMN_TESTS_REQUIRE_SERVICES=1 makes it mandatory")
        pytest.skip("redis-server is not installed: cannot bring a broker back")
    port = free_port()
    broker = {"BPMN_REQUESTS_BROKER_URL": f"redis://127.0.0.1:{port}/0"}
    scheduler = stack.start("scheduler-2", str(BIN / "bpmn-requests"), "scheduler", **broker)
    (stack.tmp / "request.json").write_text(json.dumps(ONBOARDING))
    reference = stack.cli("requests", "submit", "--as", "alice", "--file", "request.json", "--json", **broker)
    reference = json.loads(reference)["reference"]
    until(lambda: scheduler.log().count("could not hand instance") >= 2, "the scheduler to fail to dispatch twice")
    assert scheduler.popen.poll() is None, scheduler.log()
    stack.start("redis-2", "redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                "--appendonly", "no")
    stack.start("worker-3", str(BIN / "bpmn-requests"), "worker", **broker)
    until(lambda: stack.reviews(reference), f"{reference} to reach the credit review once the broker is back",
          timeout=30)
    assert stack.procs["worker-3"].stop() == 0 and scheduler.stop() == 0


def test_serve_without_a_broker_runs_the_asynchronous_step_itself_and_stops_on_sigterm(tmp_path: Path) -> None:
    """The embedded default on SQLite: the sweep runs in `serve`, woken by the submission (its interval of
    60 s would be far too long otherwise)."""
    embedded = WorkerStack(tmp_path, f"sqlite:///{tmp_path / 'embedded.db'}", sweep_seconds="60")
    embedded.cli("init", "--demo")
    serve = embedded.start("serve", str(BIN / "bpmn-requests"), "serve", "--port", str(embedded.web_port))
    try:
        embedded.create_tokens()
        until(lambda: healthy(embedded.web_port), "serve's /healthz", STARTUP)
        reference = embedded.submit()
        until(lambda: embedded.reviews(reference), f"{reference} to reach the credit review", timeout=15)
        # The step commits before it is logged: wait for the line too.
        until(lambda: f"{reference} (instance" in serve.log() and "step done" in serve.log(),
              "serve to log the step", timeout=10)
    finally:
        assert serve.stop() == 0, serve.log()
