"""Test helpers: the real use cases, engine, registry and diagrams over the in-memory unit of work.

`memory_services()` gives a system with the demo customers, invoices, payments and staff, and
`processes/` and `forms/` deployed, without a database. The other helpers drive one request through it.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from bpmn_requests.domain.clock import FixedClock
from bpmn_requests.domain.ports import SanctionsScreener
from bpmn_requests.domain.requests import RequestRecord
from bpmn_requests.domain.users import User
from bpmn_requests.engine.runner import Engine
from bpmn_requests.service_tasks import build_registry
from bpmn_requests.service_tasks.kyc.pep import SyntheticPepList
from bpmn_requests.service_tasks.kyc.sanctions import SdnScreener
from bpmn_requests.store.demo_data import demo_finance_facts
from bpmn_requests.store.memory import MemoryState, MemoryUnitOfWork, MemoryUsers
from bpmn_requests.store.memory_finance import MemoryFinanceGateway
from bpmn_requests.usecases.accounts import DEMO_USERS
from bpmn_requests.usecases.context import Services
from bpmn_requests.usecases.deploy import collect_files, deploy
from bpmn_requests.usecases.jobs import run_due_work
from bpmn_requests.usecases.ports import HumanTask, InstanceRow
from bpmn_requests.usecases.submit import SubmitRequest, Submitted, submit_request
from bpmn_requests.usecases.tasks import Completed, CompleteTask, complete_task

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)  # the same moment as the end-to-end tests

# Parsing the diagrams is the slow part of a run; the engine caches parsed specs by file hash.
_ENGINE = Engine()


def memory_services(now: datetime = NOW, screener: SanctionsScreener | None = None) -> Services:
    """Services over a fresh MemoryState: demo finance facts and staff, processes/ and forms/ deployed.

    Pass the session-scoped `screener` fixture: loading the sanctions list takes a while.
    """
    clock = FixedClock(now)
    state = MemoryState(finance=MemoryFinanceGateway(demo_finance_facts(clock.today())))
    users = MemoryUsers(state)
    for username, full_name, groups in DEMO_USERS:
        # No password: hashing with argon2 is slow and these tests never log in.
        users.add(User(username, full_name, frozenset(groups), f"{username}@example.com"), None)
    services = Services(
        engine=_ENGINE, registry=build_registry(),
        screener=screener or SdnScreener.from_directory(ROOT / "data" / "sanctions", threshold=88.0),
        peps=SyntheticPepList(), clock=clock,
        # MemoryUnitOfWork sets its repositories on __enter__, which mypy's Protocol check cannot see.
        uow=lambda: MemoryUnitOfWork(state, clock.now, snapshot=True))  # type: ignore[arg-type, return-value]
    deploy(collect_files(ROOT / "processes", ROOT / "forms"), "admin", services)
    return services


def memory_state(services: Services) -> MemoryState:
    """The MemoryState behind `services`, to look at or to add facts to."""
    uow = services.uow()
    assert isinstance(uow, MemoryUnitOfWork)
    return uow.state


def add_staff(services: Services, username: str, *groups: str) -> User:
    """Add a staff user beyond the demo ones (for example one who both proposes and approves)."""
    user = User(username, username.title(), frozenset(groups), f"{username}@example.com")
    MemoryUsers(memory_state(services)).add(user, None)
    return user


def state_copy(services: Services) -> dict[str, Any]:
    """A deep copy of all the memory store holds, ledger included; equal copies mean nothing changed."""
    held = vars(memory_state(services))
    return copy.deepcopy({name: vars(value) if name == "finance" else value for name, value in held.items()})


def staff(services: Services, username: str) -> User:
    with services.uow() as uow:
        user = uow.users.get(username)
    assert user is not None, f"no user {username}"
    return user


def drain(services: Services) -> None:
    """Do the due work a worker would do now (asynchronous service tasks, timers due at the clock's time)."""
    run_due_work(services)


def submit(services: Services, *, by: str = "alice", **request: Any) -> Submitted:
    """Submit a request (the intake fields as keyword arguments) as staff user `by`; a worker then does
    what became due."""
    submitted = submit_request(SubmitRequest(request, by, str(request.get("channel", "cli"))), services)
    drain(services)
    return submitted


def dispute(services: Services, invoice: str = "INV-1001", customer: str = "C-1001", *,
            by: str = "alice") -> str:
    """Submit a billing dispute about one invoice; returns its reference."""
    return submit(services, by=by, type="billing_dispute", customer_id=customer, invoice_numbers=[invoice],
                  description=f"{invoice} is wrong.").reference


def open_task(services: Services, reference: str, element_id: str) -> HumanTask:
    """The one open task of `reference` at `element_id`; fails naming what is open instead."""
    with services.uow() as uow:
        tasks = uow.tasks.open_for_request(reference)
    found = [t for t in tasks if t.element_id == element_id]
    assert len(found) == 1, f"{reference}: no open {element_id}; open: {[t.element_id for t in tasks]}"
    return found[0]


def complete(services: Services, reference: str, element_id: str, username: str,
             data: dict[str, Any]) -> Completed:
    """Complete the open task at `element_id` as `username` with form `data`."""
    task = open_task(services, reference, element_id)
    done = complete_task(CompleteTask(task.id, staff(services, username), data), services)
    drain(services)
    return done


def open_elements(services: Services, reference: str) -> list[str]:
    with services.uow() as uow:
        return sorted(t.element_id for t in uow.tasks.open_for_request(reference))


def record(services: Services, reference: str) -> RequestRecord:
    with services.uow() as uow:
        return uow.requests.get(reference)


def instance(services: Services, reference: str) -> InstanceRow:
    with services.uow() as uow:
        return uow.instances.for_request(reference)


def statuses(services: Services, reference: str) -> list[str]:
    """The request's status after each change, in order, as the audit trail recorded it."""
    with services.uow() as uow:
        events = uow.audit.for_subject(reference)
    seen = [e.after["status"] for e in events if e.action == "request.updated" and e.after]
    return [s for i, s in enumerate(seen) if i == 0 or seen[i - 1] != s]


def postings(services: Services, reference: str) -> list[tuple[str, Decimal, str | None]]:
    """(kind, amount, invoice) of each posting of the request, in booking order."""
    with services.uow() as uow:
        return [(p.kind, p.amount, p.invoice_number) for p in uow.finance.postings_for(reference)]


def invoice_open(services: Services, number: str) -> Decimal:
    """The open amount of an invoice in the ledger now."""
    with services.uow() as uow:
        found = uow.finance.invoice(number)
    assert found is not None, f"no invoice {number}"
    return found.open_amount


def approvals(services: Services, reference: str) -> list[tuple[str, int, str]]:
    """(approver, level, decision) of each approval decision on the request, in order."""
    return [(a.approver, a.level, a.decision) for a in record(services, reference).approvals]


def opened(services: Services, reference: str) -> list[str]:
    """The element of every user task the request opened, in order (the path through the diagrams)."""
    with services.uow() as uow:
        events = uow.audit.for_subject(reference)
    return [e.after["element"] for e in events if e.action == "task.opened" and e.after]


def ending(services: Services, reference: str) -> tuple[str | None, str | None]:
    """(end event, outcome) once the instance has completed; (None, None) while it runs."""
    row, rec = instance(services, reference), record(services, reference)
    if row.status != "completed":
        return None, None
    assert rec.status == "closed", f"{reference} completed at {row.end_event} but is {rec.status}"
    return row.end_event, rec.outcome


def notices(services: Services, reference: str) -> list[str]:
    """The templates of the messages queued for the customer, in order."""
    with services.uow() as uow:
        return [m.template for m in uow.outbox.for_request(reference)]


# Form data of the user tasks, valid unless a test changes it.
def investigation(corrected: str, reason: str = "pricing_error") -> dict[str, Any]:
    return {"decision": "adjust", "corrected_amount": corrected, "reason_code": reason,
            "note": "Checked the contract price list against the invoice lines."}


def decision(choice: str, comment: str = "Checked against the evidence.") -> dict[str, Any]:
    """The approval form: approve, reject or return."""
    return {"decision": choice, "comment": comment}


def rejection(note: str = "The invoice matches the contract and the delivery notes.") -> dict[str, Any]:
    """The reject choice of the investigation, adjustment, credit and plan forms."""
    return {"decision": "reject", "note": note}
