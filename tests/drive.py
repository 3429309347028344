"""Drives requests through the REST API of a running installation, playing every person and system around
them: the agent who submits, staff working their task lists, customers answering, the bank reporting
payments, an admin retrying incidents. Used by the chaos test and the unattended benchmark.

It keeps no state the database does not: a call whose answer was lost (a killed web process) is sent again
with the same Idempotency-Key or message id, and a task found done already is skipped.
"""

from __future__ import annotations

import time
import urllib.error
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from typing import Any

from chaos_plan import APPROVERS, WORKERS, Plan, task_data
from cluster import Stack, Timeout
from testenv import ROOT

USERS = ("alice", "bob", "carol", "dave", "erin", "frank", "grace", "admin")


class Driver:
    """Plays every person and system around the requests, through the API only."""

    def __init__(self, stack: Stack, plans: list[Plan], today: date):
        self.stack, self.plans, self.today = stack, plans, today
        self.by_reference: dict[str, Plan] = {}
        self.seen: Counter[str] = Counter()
        self.completion_seconds: list[float] = []  # each successful task completion, as the caller saw it

    def call(self, method: str, path: str, user: str, body: Any = None,
             headers: dict[str, str] | None = None) -> tuple[int, Any]:
        """One API call, sent again while web processes are down or die under it (the answer may be lost:
        every call here is safe to repeat)."""
        for attempt in range(200):
            try:
                return self.stack.api(method, path, user, body, headers=headers, timeout=30)
            except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
                self.seen["connection lost"] += 1
                time.sleep(min(0.05 * (attempt + 1), 1.0))
        raise AssertionError(f"{method} {path}: no web process answered for minutes")

    # --- the people ------------------------------------------------------------------------------

    def bank(self, plan: Plan) -> None:
        assert plan.bank_payment is not None
        status, body = self.call("POST", "/api/v1/messages", "admin", {
            "name": "payment_received", "correlation_key": plan.bank_payment["payment_reference"],
            "message_id": f"bank-{plan.key}", "variables": plan.bank_payment, "ttl_seconds": 3600})
        assert status in (200, 202), body
        self.seen[f"bank message {'kept' if status == 202 else 'delivered'}"] += 1
        plan.state["bank_sent"] = True

    def submit(self, plan: Plan) -> None:
        if plan.bank_payment is not None and plan.bank_early:
            self.bank(plan)  # the bank's report comes before the request waits for it
        status, body = self.call("POST", "/api/v1/requests", "alice", plan.request,
                                 headers={"Idempotency-Key": plan.key})
        assert status == 201, (plan.key, body)
        plan.reference = body["reference"]
        self.by_reference[plan.reference] = plan
        if plan.bank_payment is not None and not plan.bank_early:
            self.bank(plan)

    def work(self, user: str) -> int:
        """Complete every task `user` may do now; returns how many."""
        status, body = self.call("GET", "/api/v1/tasks", user)
        assert status == 200, body
        done = 0
        for task in body["items"]:
            plan = self.by_reference.get(task["reference"])
            if plan is None:
                continue  # a demo request, not ours
            data = task_data(task["element_id"], plan, self.today)
            started = time.perf_counter()
            status, answer = self.call("POST", f"/api/v1/tasks/{task['id']}/complete", user, data)
            if status == 200:
                self.completion_seconds.append(time.perf_counter() - started)
                done += 1
                self.seen[f"completed {task['element_id']}"] += 1
            elif status in (404, 409):  # done already (an answer lost with a killed process), or moved on
                self.seen["task gone"] += 1
            else:
                raise AssertionError(f"{user} could not complete {task['element_id']} of {plan.reference}: "
                                     f"{status} {answer}")
        return done

    def customers(self) -> int:
        """Answer for every request waiting for its customer."""
        answered, page = 0, 1
        while True:
            status, body = self.call("GET", f"/api/v1/requests?status=awaiting_customer&page={page}&page_size=100",
                                     "alice")
            assert status == 200, body
            for row in body["items"]:
                plan = self.by_reference.get(row["reference"])
                if plan is not None and self._answer(plan):
                    answered += 1
            if not body["page"]["has_next"]:
                return answered
            page += 1

    def _answer(self, plan: Plan) -> bool:
        question_open = plan.state.get("asked") and not plan.state.get("answered")
        name = "customer_answer" if question_open else "customer_decision"
        variables = {"answer": "The March delivery."} if question_open else {"accept": True}
        status, body = self.call("POST", "/api/v1/messages", "alice", {
            "name": name, "correlation_key": plan.reference, "message_id": f"{plan.key}-{name}",
            "variables": variables, "ttl_seconds": 0})
        if status == 200:
            plan.state["answered" if question_open else "decided"] = True
            self.seen[f"customer {name}"] += 1
            return True
        assert status == 404, body  # not waiting any more (an earlier answer got through): fine
        return False

    def admin(self) -> int:
        status, body = self.call("GET", "/api/v1/incidents", "admin")
        assert status == 200, body
        for incident in body["items"]:
            status, answer = self.call("POST", f"/api/v1/incidents/{incident['id']}/retry", "admin", {})
            assert status in (200, 409), answer
            self.seen[f"incident {incident['error_code']} retried"] += status == 200
        return len(body["items"])

    def closed(self) -> int:
        with self.stack.connect() as conn:
            row = conn.execute("SELECT count(*) FROM requests WHERE status = 'closed' AND description LIKE "
                               "'Chaos request %%'").fetchone()
        return int(row[0])

    def stuck(self) -> str:
        """Where each unclosed request stands: its instance, what it waits for, its last audit events."""
        lines = []
        with self.stack.connect() as conn:
            open_ = [r[0] for r in conn.execute(
                "SELECT reference FROM requests WHERE status <> 'closed' AND description LIKE 'Chaos request %%'")]
            for reference in open_[:5]:
                plan = self.by_reference[reference]
                row = conn.execute("SELECT status, due_at, attempts, error, id FROM instances WHERE "
                                   "request_reference = %s", (reference,)).fetchone()
                subs = conn.execute("SELECT element_id, message, correlation_key FROM message_subscriptions WHERE "
                                    "instance_id = %s", (row[4],)).fetchall()
                tasks = conn.execute("SELECT element_id, candidate_groups, required_level FROM human_tasks WHERE "
                                     "status = 'open' AND request_reference = %s", (reference,)).fetchall()
                events = conn.execute("SELECT actor, action, after FROM audit_events WHERE subject = %s ORDER BY seq "
                                      "DESC LIMIT 6", (reference,)).fetchall()
                lines.append(f"{reference} {plan.type} {plan.state} instance {row[:4]} waits {subs} tasks {tasks}")
                lines += [f"    {e[0]} {e[1]} {str(e[2])[:200]}" for e in reversed(events)]
        return "\n".join(lines)

    def run(self, deadline: float) -> None:
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(self.submit, self.plans))
        assert len(self.by_reference) == len(self.plans)
        while self.closed() < len(self.plans):
            if time.monotonic() > deadline:
                raise Timeout(f"only {self.closed()} of {len(self.plans)} requests closed in time; {dict(self.seen)}"
                              f"\n{self.stuck()}")
            with ThreadPoolExecutor(4) as pool:
                # Staff in parallel; the approvers one after the other, the lowest level first (they all see
                # the approvals up to their level, and would race for them).
                staff = pool.map(self.work, sorted(set(WORKERS.values())))
                moved = sum(self.work(approver) for approver in APPROVERS) + sum(staff)
            moved += self.customers() + self.admin()
            if not moved:
                time.sleep(0.5)  # the workers are busy with asynchronous steps and retries


def seed_facts(stack: Stack, plan_facts: Any) -> None:
    from bpmn_requests.bootstrap import build_system
    from bpmn_requests.config import Settings
    from bpmn_requests.store.finance_sql import load_finance_facts
    system = build_system(Settings(database_url=stack.env["BPMN_REQUESTS_DATABASE_URL"],
                                   processes_dir=ROOT / "processes", forms_dir=ROOT / "forms"))
    try:
        with system.services.uow() as uow:
            load_finance_facts(uow.session, plan_facts)
            uow.commit()
    finally:
        system.dispose()
