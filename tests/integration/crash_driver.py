"""Drives many request lifecycles through the real use cases, and can be killed at any moment and restarted.

The crash-safety test runs this file as a subprocess (`python crash_driver.py URL NOW SEED PACE`), kills it
with SIGKILL at random moments and starts it again. On every start it reads the database (which planned
requests exist, their status, their open tasks, the steps and approvals already committed) and moves each
unfinished request on from its last committed step; planned requests that were never committed are
submitted. It keeps no state of its own, so the database is the only memory it has.

It prints one line before (`begin`) and after (`done`) each use case call, flushed, so the test can tell a
kill inside a transaction from one between transactions. `PACE` seconds pass inside every clock reading,
and the use cases read the clock many times per transaction: most of the wall time is spent inside
transactions, where a kill hurts most.

The test module imports the plans and the extra finance facts from here, so both sides agree on them.
"""

from __future__ import annotations

import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
REQUESTER = "alice"


# --- the finance facts the plans need, beyond the demo data -------------------------------------------

def extra_finance_facts(today: date) -> Any:
    """Open invoices INV-3001.. for the demo customers, payments for them, two new customers to onboard."""
    from bpmn_requests.domain.finance import Customer, IdDocument, Invoice, Payment, Person
    from bpmn_requests.store.demo_data import FinanceFacts

    def invoice(number: str, customer_id: str, amount: str) -> Invoice:
        value = Decimal(amount)
        return Invoice(number=number, customer_id=customer_id, amount=value, open_amount=value, currency="USD",
                       issued_on=today - timedelta(days=7), due_on=today + timedelta(days=23), status="open",
                       contract_number=f"CT-{customer_id[2:]}")

    def payment(reference: str, customer_id: str, payer: str, amount: str, remittance: str) -> Payment:
        value = Decimal(amount)
        return Payment(reference=reference, customer_id=customer_id, payer_name=payer, amount=value,
                       unapplied_amount=value, currency="USD", received_on=today - timedelta(days=1),
                       remittance_text=remittance, status="unapplied")

    def company(customer_id: str, name: str, director: str, domain: str, registration: str) -> Customer:
        person = Person(director, date(1974, 5, 17), "US", None, "director")
        owner = Person(director, date(1974, 5, 17), "US", Decimal("100"), "owner")
        return Customer(
            id=customer_id, name=name, kind="company", country="US", email=f"ap@{domain}", currency="USD",
            tax_id=f"TAX-{registration}", registration_number=registration,
            address="10 Main Street, Springfield, IL 62701, US",
            id_document=IdDocument("registry_extract", f"RX-{registration}", today + timedelta(days=900)),
            people=(person, owner), credit_limit=Decimal("0.00"), since=today - timedelta(days=15),
            financials={"current_assets": Decimal("640000"), "current_liabilities": Decimal("300000"),
                        "total_liabilities": Decimal("700000"), "equity": Decimal("1200000"),
                        "revenue": Decimal("4100000"), "net_income": Decimal("330000")})

    disputed = tuple(invoice(p.key, p.request["customer_id"], p.invoice_amount) for p in PLANS
                     if p.request["type"] == "billing_dispute")
    return FinanceFacts(
        customers=(company("C-3001", "Brightwater Office Supplies Inc.", "Margaret Ellison",
                           "brightwater.example", "US-IL-3300101"),
                   company("C-3002", "Copperleaf Garden Tools LLC", "Daniel Okafor",
                           "copperleaf.example", "US-IL-3300102")),
        invoices=disputed + (invoice("INV-3101", "C-1001", "2300.00"), invoice("INV-3102", "C-1002", "1875.50"),
                             invoice("INV-3103", "C-1004", "3000.00")),
        payments=(payment("PAY-3101", "C-1001", "NORTHWIND TRADERS", "2300.00", "INV-3101"),
                  payment("PAY-3102", "C-1002", "CONTOSO LTD", "1875.50", "Invoice 3102"),
                  payment("PAY-3103", "C-1004", "ADVENTURE WORKS CYCLES", "1000.00", "part payment")))


# --- what to do with each request -----------------------------------------------------------------------

@dataclass(frozen=True)
class Plan:
    """One request: how to submit it, what each round of its tasks answers, and what it must end with.

    `proposals` answers the proposal task (investigation, credit review, manual payment match) round by
    round; `approvals` gives (approver, decision) for each approval task in order; `postings` is the
    expected (kind, amount, invoice) of every posting.
    """

    key: str  # the invoice, payment or customer that identifies the request in the database
    request: dict[str, Any]
    proposals: tuple[dict[str, Any], ...] = ()
    approvals: tuple[tuple[str, str], ...] = ()
    outcome: str = "resolved"
    postings: tuple[tuple[str, str, str | None], ...] = ()
    invoice_amount: str = "0.00"


def _dispute(number: str, customer_id: str, amount: str, corrected: str | None, *,
             approvals: tuple[tuple[str, str], ...] = (("carol", "approve"),), rework: str | None = None,
             outcome: str = "resolved") -> Plan:
    """A billing dispute of invoice `number`; `corrected` None means billing rejects it."""
    request = {"type": "billing_dispute", "customer_id": customer_id, "invoice_numbers": [number],
               "description": f"Invoice {number} does not match the agreed price.", "channel": "email"}
    if corrected is None:
        return Plan(number, request, ({"decision": "reject", "note": "The invoice matches the contract."},),
                    outcome="rejected", invoice_amount=amount)
    proposals = tuple({"decision": "adjust", "corrected_amount": value, "reason_code": "pricing_error",
                       "note": "Checked the price list."} for value in (corrected, rework) if value is not None)
    final = Decimal(amount) - Decimal(proposals[-1]["corrected_amount"])
    kind = "credit_memo" if final > 0 else "debit_memo"
    posted = outcome == "resolved"
    return Plan(number, request, proposals, approvals, outcome,
                ((kind, str(abs(final)), number),) if posted else (), amount)


PLANS: tuple[Plan, ...] = (
    _dispute("INV-3001", "C-1001", "4200.00", "3500.00"),
    _dispute("INV-3002", "C-1002", "5100.00", "4650.00"),
    _dispute("INV-3003", "C-1003", "6300.00", "5000.00"),
    _dispute("INV-3004", "C-1004", "7450.00", "7000.00"),
    _dispute("INV-3005", "C-1005", "8800.00", "8600.00", approvals=()),  # 200.00: approved automatically
    _dispute("INV-3006", "C-1001", "12000.00", "6000.00", approvals=(("dave", "approve"),)),  # level 2
    _dispute("INV-3007", "C-1002", "3900.00", None),
    _dispute("INV-3008", "C-1003", "2750.00", "2100.00",
             approvals=(("carol", "return"), ("carol", "approve")), rework="2250.00"),
    _dispute("INV-3009", "C-1004", "4100.00", "3100.00", approvals=(("carol", "reject"),), outcome="rejected"),
    _dispute("INV-3010", "C-1005", "5600.00", "5900.00"),  # underbilled: a 300.00 debit memo
    _dispute("INV-3011", "C-1001", "9999.99", "9000.00"),
    _dispute("INV-3012", "C-1002", "4400.00", None),
    Plan("PAY-3101", {"type": "payment_issue", "customer_id": "C-1001", "payment_references": ["PAY-3101"],
                      "description": "Our payment for INV-3101 is not shown."},
         postings=(("payment_application", "2300.00", "INV-3101"),)),
    Plan("PAY-3102", {"type": "payment_issue", "customer_id": "C-1002", "payment_references": ["PAY-3102"],
                      "description": "We paid invoice 3102 last week."},
         postings=(("payment_application", "1875.50", "INV-3102"),)),
    Plan("PAY-3103", {"type": "payment_issue", "customer_id": "C-1004", "payment_references": ["PAY-3103"],
                      "description": "A part payment of 1,000 is not applied."},
         proposals=({"decision": "apply", "invoice_number": "INV-3103", "note": "Part payment of INV-3103."},),
         postings=(("payment_application", "1000.00", "INV-3103"),)),
    Plan("C-3001", {"type": "credit_onboarding", "customer_id": "C-3001", "requested_limit": "8000.00",
                    "description": "New customer asks for net-30 terms."},
         proposals=({"decision": "approve_limit", "approved_limit": "8000.00", "note": "Sound balance sheet."},),
         approvals=(("carol", "approve"),), postings=(("credit_limit_change", "8000.00", None),)),
    Plan("C-3002", {"type": "credit_onboarding", "customer_id": "C-3002", "requested_limit": "20000.00",
                    "description": "New customer asks for a 20k limit."},
         proposals=({"decision": "approve_limit", "approved_limit": "20000.00", "note": "Sound balance sheet."},),
         approvals=(("dave", "approve"),), postings=(("credit_limit_change", "20000.00", None),)),
)

PROPOSAL_TASKS = {"Task_Investigate": "bob", "Task_MatchPayment": "bob", "Task_CreditReview": "grace"}


def plan_key(record: Any) -> str:
    """The plan a stored request belongs to."""
    details = record.details
    if record.type == "billing_dispute":
        return str(details["invoice_numbers"][0])
    if record.type == "payment_issue":
        return str(details["payment_references"][0])
    return str(record.customer_id)


# --- running -----------------------------------------------------------------------------------------

class PacedClock:
    """A fixed clock on which every reading takes `pace` seconds, so transactions last a while."""

    def __init__(self, at: datetime, pace: float):
        self._at, self._pace = at, pace

    def now(self) -> datetime:
        time.sleep(self._pace)
        return self._at

    def today(self) -> date:
        return self._at.date()


def say(*words: object) -> None:
    sys.stdout.write(" ".join(map(str, words)) + "\n")
    sys.stdout.flush()


def build(url: str, now: datetime, pace: float) -> Any:
    from bpmn_requests.bootstrap import build_system
    from bpmn_requests.config import Settings
    from bpmn_requests.service_tasks.kyc.sanctions import SdnScreener

    settings = Settings(database_url=url, processes_dir=ROOT / "processes", forms_dir=ROOT / "forms",
                        sanctions_dir=ROOT / "data" / "sanctions")
    screener = SdnScreener.from_directory(settings.sanctions_dir, threshold=88.0)
    system = build_system(settings, clock=PacedClock(now, pace), screener=screener)
    services = system.services
    with services.uow() as uow:  # parse the diagrams and forms now, not after the test starts its timer
        deployment = uow.deployments.active()
        assert deployment is not None, "deploy first: the test initialises the database"
        services.bundle(deployment)
        services.forms(deployment)
    return system


def stored_requests(services: Any) -> dict[str, Any]:
    """{plan key: request record} of every planned request committed so far."""
    with services.uow() as uow:
        return {plan_key(r): r for r in uow.requests.search(limit=10_000)}


def next_work(plan: Plan, record: Any, services: Any) -> tuple[str, Any]:
    """What to do next with a stored, unfinished request: (label, a function doing it in one use case)."""
    from bpmn_requests.usecases.jobs import run_instance
    from bpmn_requests.usecases.tasks import (
        CUSTOMER_DECISION,
        CompleteTask,
        complete_task,
        respond_as_customer,
    )

    with services.uow() as uow:
        tasks = uow.tasks.open_for_request(record.reference)
        instance = uow.instances.for_request(record.reference)
        waits = {s.message for s in uow.subscriptions.for_instance(instance.id)}
    if not tasks:
        # The customer's answer is a message to the receive task; a worker's part is due work.
        if CUSTOMER_DECISION in waits:
            return CUSTOMER_DECISION, lambda: respond_as_customer(record.reference, True, "", services)
        if instance.due_at is not None:
            return "due work", lambda: run_instance(services, instance.id)
        raise RuntimeError(f"{record.reference} ({plan.key}) is {record.status} with no open task")
    task = tasks[0]

    def complete(username: str, data: dict[str, Any]) -> Any:
        with services.uow() as uow:
            user = uow.users.get(username)
        return lambda: complete_task(CompleteTask(task.id, user, data), services)

    if task.element_id in PROPOSAL_TASKS:
        done = sum(1 for s in record.steps if s.element_id == task.element_id)
        data = plan.proposals[min(done, len(plan.proposals) - 1)]
        return f"{task.element_id}#{done + 1}", complete(PROPOSAL_TASKS[task.element_id], data)
    if task.element_id == "Task_Approve":
        approver, decision = plan.approvals[len(record.approvals)]
        return (f"Task_Approve#{len(record.approvals) + 1}:{decision}",
                complete(approver, {"decision": decision, "comment": f"{decision} after review"}))
    raise RuntimeError(f"{record.reference} ({plan.key}) waits at {task.element_id}, which no plan expects")


def advance(plan: Plan, record: Any, services: Any) -> None:
    """One use case call (one transaction) for one request."""
    from bpmn_requests.usecases.submit import SubmitRequest, submit_request

    if record is None:
        say("begin", plan.key, "submit")
        result = submit_request(SubmitRequest(plan.request, REQUESTER, plan.request.get("channel", "cli")), services)
        say("done", plan.key, "submit", result.reference)
        return
    label, work = next_work(plan, record, services)
    say("begin", plan.key, label, record.reference)
    work()
    say("done", plan.key, label, record.reference)


def run(url: str, now: datetime, seed: int, pace: float) -> None:
    system = build(url, now, pace)
    services = system.services
    rng = random.Random(seed)
    say("ready")
    while True:
        stored = stored_requests(services)
        unknown = set(stored) - {p.key for p in PLANS}
        if unknown:
            raise RuntimeError(f"requests outside the plans: {sorted(unknown)}")
        pending = [p for p in PLANS if p.key not in stored or stored[p.key].status != "closed"]
        if not pending:
            break
        rng.shuffle(pending)  # round robin in a random order: many lifecycles are half-way at any moment
        for plan in pending:
            advance(plan, stored.get(plan.key), services)
    say("finished", len(PLANS))
    system.dispose()


if __name__ == "__main__":
    _url, _now, _seed, _pace = sys.argv[1:5]
    run(_url, datetime.fromisoformat(_now).astimezone(UTC), int(_seed), float(_pace))
