"""The eight seed cases, end to end through the use cases, on SQLite and on PostgreSQL."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from bpmn_requests.usecases.audit import verify_audit
from bpmn_requests.usecases.queries import show_request
from bpmn_requests.usecases.seed_cases import SEED_CASES, CaseResult, run_seed_case


def run(system: Any, number: int) -> CaseResult:
    return run_seed_case(SEED_CASES[number - 1], system.services)


def money(value: Any) -> Decimal:
    return Decimal(str(value))


def invoice(result: CaseResult, number: str) -> dict[str, Any]:
    return next(i for i in result.record["financial_references"]["invoices"] if i["number"] == number)


def test_case_1_pricing_dispute_gives_a_700_credit_memo_after_level_1_approval(system: Any) -> None:
    result = run(system, 1)
    assert (result.status, result.outcome) == ("closed", "resolved")
    [posting] = result.postings
    assert posting["kind"] == "credit_memo" and money(posting["amount"]) == Decimal("700.00")
    assert posting["invoice"] == "INV-1001" and posting["request"] == result.reference
    [approval] = result.approvals
    assert (approval["approver"], approval["decision"], approval["level"]) == ("carol", "approve", 1)
    assert posting["approval_id"] == approval["id"]
    assert money(invoice(result, "INV-1001")["open_amount"]) == Decimal("11800.00")
    assert result.reference.startswith("REQ-")
    actions = [e["action"] for e in result.record["audit"]]
    assert "request.submitted" in actions and "approval.decided" in actions


def test_case_2_contoso_gets_a_450_credit_memo(system: Any) -> None:
    result = run(system, 2)
    assert result.outcome == "resolved"
    assert [(p["kind"], money(p["amount"])) for p in result.postings] == [("credit_memo", Decimal("450.00"))]
    assert result.approvals[0]["level"] == 1


def test_case_3_unposted_payment_is_matched_and_applied_without_a_credit_memo(system: Any) -> None:
    result = run(system, 3)
    assert (result.status, result.outcome) == ("closed", "resolved")
    assert [(p["kind"], p["invoice"], money(p["amount"])) for p in result.postings] == [
        ("payment_application", "INV-1003", Decimal("18500.00"))]
    with system.services.uow() as uow:
        paid = uow.finance.invoice("INV-1003")
        payment = uow.finance.payment("PAY-5003")
    assert paid.status == "paid" and paid.open_amount == Decimal("0.00")
    assert payment.unapplied_amount == Decimal("0.00")
    assert result.approvals[0]["approver"] == "system"


def test_case_4_level_2_credit_memo_refuses_carol_and_bob_then_dave_approves(system: Any) -> None:
    result = run(system, 4)
    assert len(result.refusals) == 2
    assert "level 2" in result.refusals[0] and result.refusals[0].startswith("carol")
    assert "four eyes" in result.refusals[1] and result.refusals[1].startswith("bob")
    [approval] = result.approvals
    assert (approval["approver"], approval["level"]) == ("dave", 2)
    assert [(p["kind"], money(p["amount"])) for p in result.postings] == [("credit_memo", Decimal("6000.00"))]
    assert money(invoice(result, "INV-1004")["open_amount"]) == Decimal("5600.00")


def test_case_5_rejected_dispute_closes_without_posting_and_shows_every_step(system: Any) -> None:
    result = run(system, 5)
    assert (result.status, result.outcome) == ("closed", "rejected")
    assert result.postings == [] and result.approvals == []
    steps = result.record["steps"]
    assert [(s["element_id"], s["actor"]) for s in steps] == [("Task_Investigate", "bob")]
    assert all(e["actor"] and e["at"] for e in result.record["audit"])
    assert money(invoice(result, "INV-1005")["open_amount"]) == Decimal("11800.00")


def test_case_6_new_customer_gets_a_50000_credit_limit_at_level_2(system: Any) -> None:
    result = run(system, 6)
    assert result.outcome == "resolved"
    assert result.record["kyc"]["result"] == "clear"
    assert result.record["credit"] is not None
    assert [(p["kind"], money(p["amount"])) for p in result.postings] == [("credit_limit_change", Decimal("50000.00"))]
    assert result.approvals[0]["level"] == 2 and result.approvals[0]["approver"] == "dave"
    with system.services.uow() as uow:
        assert uow.finance.customer("C-1006").credit_limit == Decimal("50000.00")


def test_case_7_sanctioned_director_is_confirmed_and_the_request_ends_blocked(system: Any) -> None:
    result = run(system, 7)
    assert (result.status, result.outcome) == ("closed", "blocked")
    kyc = result.record["kyc"]
    assert kyc["result"] == "review"
    assert any("NORIEGA" in hit["list_name"].upper() for hit in kyc["hits"])
    assert result.postings == [] and result.approvals == []
    assert [s["actor"] for s in result.record["steps"]] == ["frank"]


def test_case_8_restructuring_books_three_dated_installments_summing_to_30000(system: Any) -> None:
    result = run(system, 8)
    assert result.outcome == "resolved"
    [plan] = result.postings
    assert plan["kind"] == "installment_plan" and money(plan["amount"]) == Decimal("30000.00")
    installments = plan["installments"]
    assert len(installments) == 3
    assert sum(money(i["amount"]) for i in installments) == Decimal("30000.00")
    assert len({i["due_on"] for i in installments}) == 3
    assert result.approvals[0]["level"] == 2


@pytest.mark.parametrize("number", range(1, 9))
def test_every_case_leaves_an_intact_audit_chain_and_a_reconciled_ledger(system: Any, number: int) -> None:
    result = run(system, number)
    assert verify_audit(system.services).ok
    with system.services.uow() as uow:
        assert uow.finance.reconcile().balanced
    view = show_request(result.reference, system.services)
    for key in ("reference", "type", "status", "customer", "financial_references", "kyc", "approvals",
                "postings", "resolution", "audit"):
        assert key in view
