"""Chaos: the production form under fire. Two web processes (gunicorn), three workers and the scheduler on
PostgreSQL and Redis; 300 requests of every type driven through the REST API to closure, with customer
answers, bank events (some before the request waits for them), and a credit bureau that fails a third of
its calls for a while (timeouts, 503, 429: retried) and refuses some customers once (400: an incident an
admin retries). Meanwhile a killer SIGKILLs a random web or worker process every few seconds and starts it
again.

At the end every request is closed exactly once, every posting and every customer message exists exactly
once, the subledger reconciles and the audit chain verifies. The driver keeps no state the database does
not: a call whose answer was lost is sent again with the same Idempotency-Key or message id.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections import Counter
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from chaos_plan import Plan, plans
from cluster import BIN, STARTUP, Stack, healthy, postgres_stack, until
from drive import USERS, Driver, seed_facts
from fakes.bureau_server import BureauServer
from testenv import require_postgres, require_redis

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
COUNT = int(os.environ.get("BPMN_CHAOS_REQUESTS", "300"))
DEADLINE = float(os.environ.get("BPMN_CHAOS_SECONDS", "420"))
VICTIMS = ("web-1", "web-2", "worker-1", "worker-2", "worker-3")


class Killer(threading.Thread):
    """SIGKILLs a random web or worker process every few seconds and starts it again."""

    def __init__(self, stack: Stack, seed: int):
        super().__init__(daemon=True)
        self.stack, self.random, self.stop = stack, random.Random(seed), threading.Event()
        self.kills: Counter[str] = Counter()

    def run(self) -> None:
        while not self.stop.wait(self.random.uniform(1.5, 4.0)):
            name = self.random.choice(VICTIMS)
            proc = self.stack.procs[name]
            proc.kill()
            self.kills[name.split("-")[0]] += 1
            if self.stop.wait(self.random.uniform(0.3, 1.5)):
                proc.start()
                return
            proc.start()


def bureau_rule(refused: set[str]) -> Any:
    """400 for the first call about a customer in `refused` (an incident), else the seeded failures."""
    first_seen: set[str] = set()

    def rule(_number: int, query: dict[str, str]) -> str:
        customer = query.get("customer_id", "")
        if customer in refused and customer not in first_seen:
            first_seen.add(customer)
            return "400"
        return "ok"  # the seeded failure rate may still turn it into a 503, 429 or timeout
    return rule


def test_300_requests_close_exactly_once_while_processes_are_killed(tmp_path: Path) -> None:
    require_postgres()
    require_redis()
    today = date.today()
    facts, planned = plans(COUNT, today, seed=11)
    refused = {p.request["customer_id"] for p in planned if p.type == "credit_onboarding"}
    refused = set(sorted(refused)[::8])  # one in eight onboardings: the bureau refuses them once
    with BureauServer(bureau_rule(refused), fail_rate=0.3, fail_with=("503", "429", "timeout"), seed=3,
                      slow_seconds=1.5) as bureau, \
            postgres_stack(tmp_path, Stack, sweep_seconds="0.3", redispatch_seconds="5", service_retries="8",
                           retry_backoff_seconds="0.2", retry_backoff_max_seconds="2",
                           credit_bureau_url=bureau.url, credit_bureau_timeout_seconds="1") as stack:
        stack.cli("init", "--demo")
        seed_facts(stack, facts)
        stack.create_tokens(*USERS)
        for name in ("web-1", "web-2"):
            stack.start_web(name)
        for name in ("worker-1", "worker-2", "worker-3"):
            stack.start(name, str(BIN / "bpmn-requests"), "worker")
        stack.start("scheduler", str(BIN / "bpmn-requests"), "scheduler")
        until(lambda: all(healthy(p) for p in stack.web_ports.values()), "the web processes", STARTUP)
        driver, killer = Driver(stack, planned, today), Killer(stack, seed=7)
        killer.start()
        try:
            driver.run(time.monotonic() + DEADLINE)
        finally:
            killer.stop.set()
            killer.join(30)
        print(f"\nchaos: {COUNT} requests; kills {dict(killer.kills)}; bureau calls {bureau.calls}; "
              f"{dict(driver.seen)}")
        assert killer.kills["web"] >= 2 and killer.kills["worker"] >= 2, killer.kills
        check_exactly_once(stack, planned)
        assert bureau.calls > COUNT // 3  # the bureau really was asked (and failed) along the way


def check_exactly_once(stack: Stack, planned: list[Plan]) -> None:
    references = sorted(p.reference for p in planned)
    with stack.connect() as conn:
        def rows(sql: str) -> list[tuple[Any, ...]]:
            return [tuple(r) for r in conn.execute(sql, (references,)).fetchall()]

        ours = rows("SELECT reference, status, outcome FROM requests WHERE reference = ANY(%s)")
        assert len(ours) == len(planned) == len(set(references))  # one request per plan, never two
        assert {(status, outcome) for _, status, outcome in ours} == {("closed", "resolved")}
        assert rows("SELECT status, count(*) FROM instances WHERE request_reference = ANY(%s) GROUP BY 1") == \
            [("completed", len(planned))]
        completed = Counter(r[0] for r in rows(
            "SELECT subject FROM audit_events WHERE action = 'instance.completed' AND subject = ANY(%s)"))
        twice = [subject for subject, times in completed.items() if times != 1]
        assert not twice and len(completed) == len(planned), trail(conn, twice[:1])
        closings = Counter(r[0] for r in rows(
            "SELECT subject FROM audit_events WHERE action = 'request.updated' AND after->>'status' = 'closed' "
            "AND subject = ANY(%s)"))
        assert set(closings.values()) == {1}, "a request was closed more than once"
        postings = Counter(r[0] for r in rows(
            "SELECT request_reference FROM ar_postings WHERE request_reference = ANY(%s)"))
        assert set(postings.values()) == {1} and len(postings) == len(planned), "a request booked twice or never"
        approvals = rows("SELECT approval_id, count(*) FROM ar_postings WHERE request_reference = ANY(%s) "
                         "GROUP BY 1 HAVING count(*) > 1")
        assert approvals == []
        messages = Counter((r[0], r[1]) for r in rows(
            "SELECT request_reference, template FROM outbox WHERE request_reference = ANY(%s)"))
        for plan in planned:
            assert messages[(plan.reference, "request_received")] == 1
            assert messages[(plan.reference, "request_closed")] == 1
            assert messages[(plan.reference, "information_requested")] == (1 if plan.state.get("asked") else 0)
        incidents = rows("SELECT count(*), count(resolved_at) FROM incidents WHERE request_reference = ANY(%s)")
        assert incidents[0][0] >= 1 and incidents[0][0] == incidents[0][1], "incidents: none, or left open"
    verified = stack.cli("audit", "verify", "--json")
    assert '"ok": true' in verified, verified
    check_reconciles(stack)


def trail(conn: Any, references: list[str]) -> str:
    """The audit trail of requests, to show what happened when an assertion fails."""
    rows = conn.execute("SELECT subject, seq, at, actor, action, after FROM audit_events WHERE subject = ANY(%s) "
                        "ORDER BY seq", (references,)).fetchall()
    return "\n".join(f"{r[0]} {r[1]} {r[2]:%H:%M:%S.%f} {r[3]} {r[4]} {str(r[5])[:160]}" for r in rows)


def check_reconciles(stack: Stack) -> None:
    from bpmn_requests.bootstrap import build_system
    from bpmn_requests.config import Settings
    system = build_system(Settings(database_url=stack.env["BPMN_REQUESTS_DATABASE_URL"]))
    try:
        with system.services.uow() as uow:
            reconciliation = uow.finance.reconcile()
        assert reconciliation.balanced, reconciliation
    finally:
        system.dispose()
