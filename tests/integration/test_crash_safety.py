"""A process killed with SIGKILL in the middle of lifecycles leaves only whole transactions behind.

The driver (crash_driver.py) runs 17 requests through the real use cases on a real database. This test kills
it at random moments, restarts it, and finally lets it finish. Whatever the moment of each kill, every
request must end closed exactly once, every approval must have booked exactly one posting, no invoice
may have lost or gained an adjustment, the subledger must reconcile and the audit chain must be intact.
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

import crash_driver
import pytest
from sqlalchemy import func, select
from testenv import DEMO_NOW

from bpmn_requests.store.finance_sql import load_finance_facts
from bpmn_requests.store.finance_tables import invoices, postings
from bpmn_requests.usecases.audit import verify_audit

DRIVER = Path(crash_driver.__file__)
PACE = "0.005"  # seconds per clock reading in the driver: a lifecycle step takes a tenth of a second or so
MIN_KILLS, MAX_KILLS = 4, 10
READY_TIMEOUT = 30.0
# What a posting of each kind does to the open amount of its invoice.
OPEN_AMOUNT_SIGN = {"credit_memo": -1, "write_off": -1, "payment_application": -1, "debit_memo": 1}


def start_driver(url: str, seed: int, log: Path) -> subprocess.Popen[bytes]:
    with log.open("wb") as out:
        return subprocess.Popen([sys.executable, str(DRIVER), url, DEMO_NOW.isoformat(), str(seed), PACE],
                                stdout=out, stderr=subprocess.STDOUT)


def wait_until_ready(driver: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while "ready" not in log.read_text():
        assert driver.poll() is None, f"the driver stopped before it was ready:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"the driver was not ready within {READY_TIMEOUT} s"
        time.sleep(0.02)


def last_line(log: Path) -> str:
    lines = log.read_text().splitlines()
    return lines[-1] if lines else ""


def unfinished_requests(services: Any) -> int:
    """Planned requests not yet submitted or not yet closed."""
    with services.uow() as uow:
        closed = [r for r in uow.requests.search(limit=10_000) if r.status == "closed"]
    return len(crash_driver.PLANS) - len(closed)


def assert_consistent(services: Any, context: str) -> None:
    assert verify_audit(services).ok, f"audit chain broken {context}"
    with services.uow() as uow:
        assert uow.finance.reconcile().balanced, f"subledger does not reconcile {context}"


def invoice_amounts(services: Any) -> dict[str, tuple[Decimal, Decimal]]:
    """{number: (amount, open amount)} of every invoice."""
    with services.uow() as uow:
        rows = uow.session.execute(select(invoices.c.number, invoices.c.amount, invoices.c.open_amount)).all()
    return {r.number: (r.amount, r.open_amount) for r in rows}


def kill_at_random_moments(url: str, services: Any, seed: int, tmp_path: Path) -> list[tuple[str, int]]:
    """Start, wait 0.2-1.5 s, SIGKILL, repeat; returns (last line logged, unfinished requests) per kill.

    Stops early when the driver gets through all its work between two kills.
    """
    rng = random.Random(seed)
    kills: list[tuple[str, int]] = []
    in_transaction = 0
    while len(kills) < MAX_KILLS and (len(kills) < MIN_KILLS or in_transaction == 0):
        log = tmp_path / f"driver-{len(kills) + 1}.log"
        driver = start_driver(url, seed + len(kills), log)
        try:
            wait_until_ready(driver, log)
            time.sleep(rng.uniform(0.2, 1.5))
            os.kill(driver.pid, signal.SIGKILL)
            driver.wait(timeout=10)
        finally:
            if driver.poll() is None:
                driver.kill()
                driver.wait()
        line = last_line(log)
        if line.startswith("finished"):
            break
        assert driver.returncode == -signal.SIGKILL, log.read_text()
        in_transaction += line.startswith("begin")
        kills.append((line, unfinished_requests(services)))
        assert_consistent(services, f"after kill {len(kills)} at {line!r}")
    return kills


@pytest.mark.slow
def test_driver_killed_mid_lifecycle_resumes_every_request_and_books_each_approval_once(
        database_url: str, system: Any, tmp_path: Path) -> None:
    services = system.services  # the demo data is loaded: add the invoices, payments and customers of the plans
    with services.uow() as uow:
        load_finance_facts(uow.session, crash_driver.extra_finance_facts(DEMO_NOW.date()))
        uow.commit()
    opening = invoice_amounts(services)
    seed = random.SystemRandom().randrange(1, 1 << 30)

    kills = kill_at_random_moments(database_url, services, seed, tmp_path)
    log = tmp_path / "driver-final.log"
    driver = start_driver(database_url, seed + 1000, log)
    assert driver.wait(timeout=120) == 0, log.read_text()
    assert last_line(log) == f"finished {len(crash_driver.PLANS)}"

    context = f"(seed {seed}; kills at {kills})"
    assert len(kills) >= 3 and all(unfinished for _line, unfinished in kills), context
    assert any(line.startswith("begin") for line, _ in kills), f"no kill inside a use case {context}"
    assert_every_request_closed_once(services, context)
    assert_one_posting_per_approval(services, context)
    assert_invoices_match_their_postings(services, opening, context)
    with services.uow() as uow:
        assert uow.finance.customer("C-3001").credit_limit == Decimal("8000.00")
        assert uow.finance.customer("C-3002").credit_limit == Decimal("20000.00")
    assert_consistent(services, context)


def stored_by_plan(services: Any) -> dict[str, Any]:
    with services.uow() as uow:
        records = uow.requests.search(limit=10_000)
    keys = Counter(crash_driver.plan_key(r) for r in records)
    assert all(n == 1 for n in keys.values()), f"a request was submitted twice: {keys}"
    assert set(keys) == {p.key for p in crash_driver.PLANS}
    return {crash_driver.plan_key(r): r for r in records}


def assert_every_request_closed_once(services: Any, context: str) -> None:
    with services.uow() as uow:
        events = uow.audit.all()
        open_tasks = uow.tasks.open_tasks()
        instances = {r.reference: uow.instances.for_request(r.reference)
                     for r in uow.requests.search(limit=10_000)}
    completed = Counter(e.subject for e in events if e.action == "instance.completed")
    closings = Counter(e.subject for e in events
                       if e.action == "request.updated" and (e.after or {}).get("status") == "closed")
    assert open_tasks == [], context
    stored = stored_by_plan(services)
    for plan in crash_driver.PLANS:
        record = stored[plan.key]
        where = f"{record.reference} ({plan.key}) {context}"
        assert (record.status, record.outcome) == ("closed", plan.outcome), where
        assert record.closed_at is not None, where
        assert instances[record.reference].status == "completed", where
        assert completed[record.reference] == 1, where
        assert closings[record.reference] == 1, where


def assert_one_posting_per_approval(services: Any, context: str) -> None:
    with services.uow() as uow:
        keys = Counter(uow.session.execute(select(postings.c.idempotency_key)).scalars())
        by_request = {r.reference: (r, uow.finance.postings_for(r.reference))
                      for r in uow.requests.search(limit=10_000)}
        total = uow.session.execute(select(func.count()).select_from(postings)).scalar_one()
    assert all(n == 1 for n in keys.values()), f"an idempotency key was booked twice {context}"
    plans = {p.key: p for p in crash_driver.PLANS}
    booked = 0
    for record, posted in by_request.values():
        plan = plans[crash_driver.plan_key(record)]
        where = f"{record.reference} ({plan.key}) {context}"
        assert [(p.kind, str(p.amount), p.invoice_number) for p in posted] == list(plan.postings), where
        approved = Counter(a.id for a in record.approvals if a.decision == "approve")
        assert Counter(p.approval_id for p in posted) == approved, where
        for p in posted:
            assert f"{record.reference}:{p.approval_id}:{p.kind}" in keys, where
        booked += len(posted)
    assert total == booked == sum(len(p.postings) for p in crash_driver.PLANS), context


def assert_invoices_match_their_postings(services: Any, opening: dict[str, tuple[Decimal, Decimal]],
                                         context: str) -> None:
    """Open amount now = open amount before - credit memos - payments applied + debit memos, per invoice."""
    now = invoice_amounts(services)
    moved: dict[str, Decimal] = {number: Decimal("0.00") for number in now}
    with services.uow() as uow:
        for record in uow.requests.search(limit=10_000):
            for p in uow.finance.postings_for(record.reference):
                if p.invoice_number:
                    moved[p.invoice_number] += OPEN_AMOUNT_SIGN[p.kind] * p.amount
    for number, (amount, open_amount) in now.items():
        assert open_amount == opening[number][1] + moved[number], f"{number} {context}"
        if number.startswith("INV-3"):  # the disputed invoices started fully open
            assert opening[number] == (amount, amount)
    credited = {p.key: Decimal(p.invoice_amount) - now[p.key][1] for p in crash_driver.PLANS
                if p.request["type"] == "billing_dispute"}
    assert credited["INV-3001"] == Decimal("700.00") and credited["INV-3010"] == Decimal("-300.00"), context
    assert credited["INV-3007"] == credited["INV-3009"] == Decimal("0.00"), context
