"""The eight seed cases: each request taken from intake to closure by the people who would handle it.

`bpmn-requests demo` runs them; the end-to-end tests assert their results on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from ..domain.errors import DomainError, ProcessError
from ..domain.users import User
from .context import Services
from .jobs import run_due_work
from .queries import show_request
from .submit import SubmitRequest, submit_request
from .tasks import CompleteTask, complete_task, respond_as_customer


@dataclass(frozen=True)
class Work:
    """Complete the open task at `element_id` as `user` with `data`; `refused` expects a refusal."""

    element_id: str
    user: str
    data: dict[str, Any] | Callable[[Services], dict[str, Any]]
    refused: bool = False


@dataclass(frozen=True)
class CustomerAnswer:
    accept: bool
    comment: str = ""


@dataclass(frozen=True)
class SeedCase:
    number: int
    title: str
    submitted_by: str
    request: dict[str, Any]
    steps: tuple[Work | CustomerAnswer, ...]


@dataclass
class CaseResult:
    case: SeedCase
    reference: str = ""
    status: str = ""
    outcome: str | None = None
    postings: list[dict[str, Any]] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)
    approvals: list[dict[str, Any]] = field(default_factory=list)
    record: dict[str, Any] = field(default_factory=dict)


def _investigation(corrected: str, reason: str = "pricing_error") -> dict[str, Any]:
    return {"decision": "adjust", "corrected_amount": corrected, "reason_code": reason,
            "note": "Checked the contract price list against the invoice lines."}


def _approve(comment: str = "Checked against contract and evidence.") -> dict[str, Any]:
    return {"decision": "approve", "comment": comment}


def _plan(services: Services) -> dict[str, Any]:
    first = services.clock.today() + timedelta(days=30)
    return {"decision": "approve_plan", "plan_installments": 3, "first_due_date": first.isoformat(),
            "note": "Three monthly installments; customer has confirmed cash flow."}


SEED_CASES: tuple[SeedCase, ...] = (
    SeedCase(1, "Northwind disputes INV-1001 (wrong pricing)", "alice",
             {"type": "billing_dispute", "customer_id": "C-1001", "invoice_numbers": ["INV-1001"],
              "disputed_amount": "700.00", "description": "Invoice INV-1001 uses the old unit price.",
              "channel": "email"},
             (Work("Task_Investigate", "bob", _investigation("11800.00")),
              Work("Task_Approve", "carol", _approve()), CustomerAnswer(True))),
    SeedCase(2, "Contoso disputes INV-1002", "alice",
             {"type": "billing_dispute", "customer_id": "C-1002", "invoice_numbers": ["INV-1002"],
              "description": "Volume discount missing on INV-1002.", "channel": "phone"},
             (Work("Task_Investigate", "bob", _investigation("13750.00", "billing_error")),
              Work("Task_Approve", "carol", _approve()), CustomerAnswer(True))),
    SeedCase(3, "Fabrikam's payment PAY-5003 not posted", "alice",
             {"type": "payment_issue", "customer_id": "C-1003", "payment_references": ["PAY-5003"],
              "description": "We paid INV-1003 but it still shows as overdue."}, ()),
    SeedCase(4, "Adventure Works billing error on INV-1004", "alice",
             {"type": "billing_dispute", "customer_id": "C-1004", "invoice_numbers": ["INV-1004"],
              "description": "INV-1004 bills 20 units; we received 8."},
             (Work("Task_Investigate", "bob", _investigation("5600.00", "billing_error")),
              Work("Task_Approve", "carol", _approve(), refused=True),
              Work("Task_Approve", "bob", _approve(), refused=True),
              Work("Task_Approve", "dave", _approve("Above level 1; approved at level 2.")),
              CustomerAnswer(True))),
    SeedCase(5, "Tailspin disputes INV-1005 (invoice correct)", "alice",
             {"type": "billing_dispute", "customer_id": "C-1005", "invoice_numbers": ["INV-1005"],
              "description": "We think INV-1005 is too high."},
             (Work("Task_Investigate", "bob", {"decision": "reject",
                                               "note": "Delivery notes and contract prices match the invoice."}),)),
    SeedCase(6, "Litware asks for a $50,000 credit limit", "alice",
             {"type": "credit_onboarding", "customer_id": "C-1006", "requested_limit": "50000.00",
              "description": "New customer onboarding; requests net-30 terms with a 50k limit."},
             (Work("Task_CreditReview", "grace", {"decision": "approve_limit", "approved_limit": "50000.00",
                                                  "note": "Strong current ratio and equity."}),
              Work("Task_Approve", "dave", _approve()))),
    SeedCase(7, "Isthmus Maritime: director on the SDN list", "alice",
             {"type": "credit_onboarding", "customer_id": "C-1008", "requested_limit": "20000.00",
              "description": "New customer asks for trade credit."},
             (Work("Task_KycReview", "frank", {"decision": "confirm_match",
                                               "rationale": "Director matches SDN entry NORIEGA, Manuel Antonio."}),)),
    SeedCase(8, "Wide World Importers restructures $30,000", "alice",
             {"type": "debt_restructuring", "customer_id": "C-1007",
              "invoice_numbers": ["INV-1071", "INV-1072", "INV-1073"], "installments": 3,
              "description": "Cash-flow problems; asks to pay overdue invoices in three installments."},
             (Work("Task_RestructurePlan", "grace", _plan), Work("Task_Approve", "dave", _approve()),
              CustomerAnswer(True))),
)


def _user(services: Services, username: str) -> User:
    with services.uow() as uow:
        user = uow.users.get(username)
    if user is None:
        raise ProcessError(f"seed user {username} is missing: run `bpmn-requests init --demo`")
    return user


def _open_task(services: Services, reference: str, element_id: str) -> str:
    with services.uow() as uow:
        for task in uow.tasks.open_for_request(reference):
            if task.element_id == element_id:
                return task.id
        status = uow.requests.get(reference).status
    raise ProcessError(f"{reference} has no open task {element_id} (status {status})")


def run_seed_case(case: SeedCase, services: Services) -> CaseResult:
    result = CaseResult(case)
    submitted = submit_request(SubmitRequest(case.request, case.submitted_by, case.request.get("channel", "cli")),
                               services)
    result.reference = submitted.reference
    run_due_work(services)  # the worker's part: asynchronous service tasks, due timers
    for step in case.steps:
        if isinstance(step, CustomerAnswer):
            respond_as_customer(result.reference, step.accept, step.comment, services)
            run_due_work(services)
            continue
        data = step.data(services) if callable(step.data) else step.data
        task_id = _open_task(services, result.reference, step.element_id)
        try:
            complete_task(CompleteTask(task_id, _user(services, step.user), data), services)
        except DomainError as exc:
            if not step.refused:
                raise
            result.refusals.append(f"{step.user}: {exc.message}")
        else:
            if step.refused:
                raise ProcessError(f"case {case.number}: {step.user} was expected to be refused at {step.element_id}")
        run_due_work(services)
    record = show_request(result.reference, services)
    result.record = record
    result.status, result.outcome = record["status"], record["outcome"]
    result.postings = record["postings"]
    result.approvals = record["approvals"]
    return result


# Requests `demo --open` leaves waiting, so the inbox and the portal have work to show.
OPEN_CASES: tuple[SeedCase, ...] = (
    SeedCase(9, "Tailspin disputes INV-1005 again: waiting for billing", "alice",
             {"type": "billing_dispute", "customer_id": "C-1005", "invoice_numbers": ["INV-1005"],
              "description": "Freight charged twice on INV-1005.", "channel": "email"}, ()),
    SeedCase(10, "Fabrikam disputes INV-1013: waiting for approval", "alice",
             {"type": "billing_dispute", "customer_id": "C-1003", "invoice_numbers": ["INV-1013"],
              "description": "INV-1013 misses the agreed 5% discount.", "channel": "phone"},
             (Work("Task_Investigate", "bob", _investigation("5928.00")),)),
    SeedCase(11, "Northwind asks for a $120 goodwill refund: waiting for the customer's answer", "alice",
             {"type": "credit_adjustment", "customer_id": "C-1001", "invoice_numbers": ["INV-1001"],
              "adjustment_kind": "refund", "disputed_amount": "120.00",
              "description": "Late delivery of the second batch; asks for a goodwill refund."},
             (Work("Task_ReviewAdjustment", "bob", {"decision": "adjust", "adjustment_amount": "120.00",
                                                    "reason_code": "goodwill",
                                                    "note": "Delivery was five days late."}),)),
    SeedCase(12, "Hannah Meyer asks for credit: waiting for compliance", "alice",
             {"type": "credit_onboarding", "customer_id": "C-1009", "requested_limit": "3000.00",
              "description": "Private customer asks for a small credit line."}, ()),
)
