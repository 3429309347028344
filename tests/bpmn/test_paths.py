"""Every path of every diagram, through the real use cases on the in-memory unit of work.

Each test follows one request from submission to its end event (or to the wait state the path leads to)
and checks the end event reached, the outcome, the postings, the approvals, the statuses the request went
through and the user tasks it opened. The eight seed cases on SQL are in tests/e2e.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from support import (
    approvals,
    complete,
    decision,
    dispute,
    ending,
    investigation,
    invoice_open,
    memory_state,
    notices,
    open_elements,
    opened,
    postings,
    record,
    rejection,
    state_copy,
    statuses,
    submit,
)

from bpmn_requests.domain.errors import ValidationFailed
from bpmn_requests.domain.finance import Invoice, Payment
from bpmn_requests.store.demo_data import FinanceFacts
from bpmn_requests.usecases.context import Services
from bpmn_requests.usecases.tasks import respond_as_customer

D = Decimal


# --- customer_request: KYC ---------------------------------------------------------------------------

def waits_for(services: Services, reference: str) -> list[str]:
    """The messages the request waits for now (a customer's answer is a message to a receive task)."""
    with services.uow() as uow:
        return sorted(s.message for s in uow.subscriptions.for_instance(uow.instances.for_request(reference).id))


def test_clear_kyc_goes_straight_to_classification_and_the_investigation(services: Services) -> None:
    ref = dispute(services)
    rec = record(services, ref)
    assert rec.kyc is not None and rec.kyc["result"] == "clear"
    assert rec.classification is not None and rec.classification["team"] == "billing"
    assert opened(services, ref) == ["Task_Investigate"]
    assert statuses(services, ref) == ["investigation"]
    assert notices(services, ref) == ["request_received"]


def test_kyc_review_cleared_by_compliance_continues_to_the_request_type(services: Services) -> None:
    # Hannah Meyer's passport expired a month ago: a finding, so a person reviews.
    ref = submit(services, type="credit_onboarding", customer_id="C-1009", requested_limit="2000.00",
                 description="Credit terms for repeat orders.").reference
    assert record(services, ref).kyc["result"] == "review"  # type: ignore[index]
    assert open_elements(services, ref) == ["Task_KycReview"]
    complete(services, ref, "Task_KycReview", "frank",
             {"decision": "clear", "rationale": "New passport seen; the expired one was renewed."})
    assert opened(services, ref) == ["Task_KycReview", "Task_CreditReview"]
    # credit/score runs in a worker: the request is in progress until its review opens.
    assert statuses(services, ref) == ["compliance_review", "in_progress", "investigation"]
    assert ending(services, ref) == (None, None)


def test_confirmed_kyc_match_closes_the_request_as_blocked(services: Services) -> None:
    ref = submit(services, type="credit_onboarding", customer_id="C-1008", requested_limit="20000.00",
                 description="New customer asks for trade credit.").reference
    complete(services, ref, "Task_KycReview", "frank",
             {"decision": "confirm_match", "rationale": "The director is the listed person."})
    assert ending(services, ref) == ("Event_Blocked", "blocked")
    assert statuses(services, ref) == ["compliance_review", "closed"]
    assert opened(services, ref) == ["Task_KycReview"]
    assert postings(services, ref) == [] and approvals(services, ref) == []
    assert notices(services, ref) == ["request_declined"]


# --- customer_request: approval, posting, the customer's answer ------------------------------------

def test_credit_memo_within_the_automatic_authority_is_approved_by_the_system(services: Services) -> None:
    ref = dispute(services, "INV-1002", "C-1002")
    complete(services, ref, "Task_Investigate", "bob", investigation("14000.00"))
    assert opened(services, ref) == ["Task_Investigate"] and waits_for(services, ref) == ["customer_decision"]
    assert approvals(services, ref) == [("system", 0, "approve")]
    assert postings(services, ref) == [("credit_memo", D("200.00"), "INV-1002")]
    assert statuses(services, ref) == ["investigation", "awaiting_customer"]


def test_approved_change_is_posted_naming_its_approval_before_the_customer_answers(
        services: Services) -> None:
    ref = dispute(services)
    complete(services, ref, "Task_Investigate", "bob", investigation("11800.00"))
    assert open_elements(services, ref) == ["Task_Approve"]
    assert postings(services, ref) == []  # nothing is posted before its approval
    complete(services, ref, "Task_Approve", "carol", decision("approve"))
    [approval] = record(services, ref).approvals
    assert (approval.approver, approval.level, approval.proposed_by) == ("carol", 1, "bob")
    with services.uow() as uow:
        [posting] = uow.finance.postings_for(ref)
    assert (posting.kind, posting.amount, posting.approval_id) == ("credit_memo", D("700.00"), approval.id)
    assert statuses(services, ref) == ["investigation", "awaiting_approval", "awaiting_customer"]
    assert open_elements(services, ref) == [] and waits_for(services, ref) == ["customer_decision"]


def test_returned_approval_reopens_the_investigation_and_the_new_proposal_is_approved(
        services: Services) -> None:
    ref = dispute(services)
    complete(services, ref, "Task_Investigate", "bob", investigation("11800.00"))
    complete(services, ref, "Task_Approve", "carol", decision("return", "Attach the price list first."))
    assert open_elements(services, ref) == ["Task_Investigate"]
    assert postings(services, ref) == []
    complete(services, ref, "Task_Investigate", "bob", investigation("12000.00"))
    complete(services, ref, "Task_Approve", "carol", decision("approve"))
    assert approvals(services, ref) == [("carol", 1, "return"), ("carol", 1, "approve")]
    assert postings(services, ref) == [("credit_memo", D("500.00"), "INV-1001")]
    assert opened(services, ref) == ["Task_Investigate", "Task_Approve", "Task_Investigate", "Task_Approve"]
    assert statuses(services, ref) == ["investigation", "awaiting_approval", "investigation",
                                       "awaiting_approval", "awaiting_customer"]


def test_rejected_approval_closes_the_request_as_rejected_without_posting(services: Services) -> None:
    ref = dispute(services)
    complete(services, ref, "Task_Investigate", "bob", investigation("11800.00"))
    complete(services, ref, "Task_Approve", "carol", decision("reject", "The contract price applies."))
    assert ending(services, ref) == ("Event_Rejected", "rejected")
    assert approvals(services, ref) == [("carol", 1, "reject")]
    assert postings(services, ref) == []
    assert invoice_open(services, "INV-1001") == D("12500.00")
    assert statuses(services, ref) == ["investigation", "awaiting_approval", "closed"]
    assert notices(services, ref) == ["request_received", "request_rejected"]


def test_customer_acceptance_closes_the_request_as_resolved(services: Services) -> None:
    ref = dispute(services)
    complete(services, ref, "Task_Investigate", "bob", investigation("11800.00"))
    complete(services, ref, "Task_Approve", "carol", decision("approve"))
    respond_as_customer(ref, True, "Thank you.", services)
    assert ending(services, ref) == ("Event_Resolved", "resolved")
    assert statuses(services, ref)[-2:] == ["awaiting_customer", "closed"]
    assert notices(services, ref) == ["request_received", "resolution_proposed", "request_closed"]
    assert record(services, ref).steps[-1].actor == "customer:C-1001"


def _reject_first_proposal(services: Services) -> str:
    ref = dispute(services)
    complete(services, ref, "Task_Investigate", "bob", investigation("11800.00"))
    complete(services, ref, "Task_Approve", "carol", decision("approve"))
    respond_as_customer(ref, False, "The price should be 11,500.", services)
    complete(services, ref, "Task_Investigate", "bob", investigation("11500.00"))
    complete(services, ref, "Task_Approve", "carol", decision("approve"))
    return ref


def test_customer_rejection_reopens_the_investigation_for_a_second_approval_and_posting(
        services: Services) -> None:
    ref = _reject_first_proposal(services)
    assert opened(services, ref) == ["Task_Investigate", "Task_Approve", "Task_Investigate", "Task_Approve"]
    assert waits_for(services, ref) == ["customer_decision"]
    assert [a[2] for a in approvals(services, ref)] == ["approve", "approve"]
    first, second = record(services, ref).approvals
    assert first.id != second.id
    with services.uow() as uow:
        booked = uow.finance.postings_for(ref)
        assert uow.finance.reconcile().balanced
    assert [(p.kind, p.invoice_number, p.approval_id) for p in booked] == [
        ("credit_memo", "INV-1001", first.id), ("credit_memo", "INV-1001", second.id)]
    assert booked[0].amount == D("700.00")
    respond_as_customer(ref, True, "", services)
    assert ending(services, ref) == ("Event_Resolved", "resolved")


def test_second_round_after_customer_rejection_credits_only_the_new_difference(services: Services) -> None:
    ref = _reject_first_proposal(services)
    assert [amount for _, amount, _ in postings(services, ref)] == [D("700.00"), D("300.00")]
    assert invoice_open(services, "INV-1001") == D("11500.00")


def test_unknown_request_type_is_refused_at_intake_so_no_process_starts(services: Services) -> None:
    # Gateway_RequestType's "other" flow (Event_UnknownType) cannot be reached: intake knows every type.
    before = state_copy(services)
    with pytest.raises(ValidationFailed) as refused:
        submit(services, type="price_inquiry", customer_id="C-1001", description="What do you charge?")
    assert "type" in refused.value.field_errors
    assert state_copy(services) == before


# --- billing_dispute ----------------------------------------------------------------------------------

def test_invoice_corrected_down_becomes_a_credit_memo_on_the_invoice(services: Services) -> None:
    ref = dispute(services, "INV-1004", "C-1004")
    complete(services, ref, "Task_Investigate", "bob", investigation("9600.00", "billing_error"))
    complete(services, ref, "Task_Approve", "carol", decision("approve"))
    assert postings(services, ref) == [("credit_memo", D("2000.00"), "INV-1004")]
    assert invoice_open(services, "INV-1004") == D("9600.00")
    assert record(services, ref).resolution["adjustments"][0]["reason_code"] == "billing_error"


def test_invoice_corrected_up_becomes_a_debit_memo_for_the_difference(services: Services) -> None:
    ref = dispute(services)
    complete(services, ref, "Task_Investigate", "bob", investigation("13000.00", "other"))
    complete(services, ref, "Task_Approve", "carol", decision("approve"))
    assert postings(services, ref) == [("debit_memo", D("500.00"), "INV-1001")]
    assert invoice_open(services, "INV-1001") == D("13000.00")
    respond_as_customer(ref, True, "", services)
    assert ending(services, ref) == ("Event_Resolved", "resolved")


def test_corrected_amount_equal_to_the_invoice_is_rejected_without_approval(services: Services) -> None:
    ref = dispute(services)
    complete(services, ref, "Task_Investigate", "bob", investigation("12500.00"))
    assert ending(services, ref) == ("Event_Rejected", "rejected")
    assert opened(services, ref) == ["Task_Investigate"]
    assert postings(services, ref) == [] and approvals(services, ref) == []


def test_rejected_dispute_closes_as_rejected_without_approval(services: Services) -> None:
    ref = dispute(services)
    complete(services, ref, "Task_Investigate", "bob", rejection())
    assert ending(services, ref) == ("Event_Rejected", "rejected")
    assert statuses(services, ref) == ["investigation", "closed"]
    assert postings(services, ref) == [] and approvals(services, ref) == []


# --- payment_issue ------------------------------------------------------------------------------------

def test_confident_payment_match_is_applied_and_closed_without_any_user_task(services: Services) -> None:
    ref = submit(services, type="payment_issue", customer_id="C-1003", payment_references=["PAY-5003"],
                 description="We paid INV-1003.").reference
    assert ending(services, ref) == ("Event_Resolved", "resolved")
    assert opened(services, ref) == []
    assert approvals(services, ref) == [("system", 0, "approve")]
    assert postings(services, ref) == [("payment_application", D("18500.00"), "INV-1003")]
    assert statuses(services, ref) == ["closed"]
    assert invoice_open(services, "INV-1003") == D("0.00")


def _unreferenced_payment(services: Services) -> str:
    """A payment naming no invoice, whose amount fits two of Fabrikam's invoices: no confident match."""
    today = services.clock.today()

    def invoice(number: str, due: int) -> Invoice:
        return Invoice(number, "C-1003", D("2400.00"), D("2400.00"), "USD", today - timedelta(days=20),
                       today + timedelta(days=due), "open", "CT-1003")

    memory_state(services).finance.load(FinanceFacts(
        invoices=(invoice("INV-1031", 10), invoice("INV-1032", 12)),
        payments=(Payment("PAY-6001", None, "FABRIKAM INC", D("2400.00"), D("2400.00"), "USD",
                          today - timedelta(days=1), "MARCH SETTLEMENT", "unapplied"),)))
    ref = submit(services, type="payment_issue", customer_id="C-1003", payment_references=["PAY-6001"],
                 description="Our March payment is not on our account.").reference
    assert open_elements(services, ref) == ["Task_MatchPayment"]
    assert record(services, ref).details["payment_match"]["auto_apply"] is False
    return ref


def test_unconfident_payment_match_is_applied_to_the_invoice_billing_names(services: Services) -> None:
    ref = _unreferenced_payment(services)
    complete(services, ref, "Task_MatchPayment", "bob",
             {"decision": "apply", "invoice_number": "INV-1032", "note": "Customer confirmed by phone."})
    assert ending(services, ref) == ("Event_Resolved", "resolved")
    assert postings(services, ref) == [("payment_application", D("2400.00"), "INV-1032")]
    assert approvals(services, ref) == [("system", 0, "approve")]
    assert statuses(services, ref) == ["investigation", "closed"]
    assert invoice_open(services, "INV-1032") == D("0.00")
    assert invoice_open(services, "INV-1031") == D("2400.00")


def test_payment_billing_cannot_match_is_rejected(services: Services) -> None:
    ref = _unreferenced_payment(services)
    complete(services, ref, "Task_MatchPayment", "bob", {"decision": "reject", "note": "Not their money."})
    assert ending(services, ref) == ("Event_Rejected", "rejected")
    assert postings(services, ref) == [] and approvals(services, ref) == []


# --- credit_onboarding --------------------------------------------------------------------------------

def test_approved_credit_limit_is_set_and_closed_without_asking_the_customer(services: Services) -> None:
    ref = submit(services, type="credit_onboarding", customer_id="C-1006", requested_limit="8000.00",
                 description="Net-30 terms for our first orders.").reference
    complete(services, ref, "Task_CreditReview", "grace",
             {"decision": "approve_limit", "approved_limit": "8000.00", "note": "Sound balance sheet."})
    complete(services, ref, "Task_Approve", "carol", decision("approve"))
    assert ending(services, ref) == ("Event_Resolved", "resolved")
    assert opened(services, ref) == ["Task_CreditReview", "Task_Approve"]
    assert approvals(services, ref) == [("carol", 1, "approve")]
    assert postings(services, ref) == [("credit_limit_change", D("8000.00"), None)]
    with services.uow() as uow:
        assert uow.finance.customer("C-1006").credit_limit == D("8000.00")  # type: ignore[union-attr]
    assert statuses(services, ref) == ["in_progress", "investigation", "awaiting_approval", "closed"]


def test_rejected_credit_application_closes_as_rejected(services: Services) -> None:
    ref = submit(services, type="credit_onboarding", customer_id="C-1006", requested_limit="8000.00",
                 description="Net-30 terms for our first orders.").reference
    complete(services, ref, "Task_CreditReview", "grace", rejection("Too little trading history."))
    assert ending(services, ref) == ("Event_Rejected", "rejected")
    assert postings(services, ref) == [] and approvals(services, ref) == []


# --- credit_adjustment --------------------------------------------------------------------------------

def adjustment(services: Services, kind: str, amount: str) -> str:
    return submit(services, type="credit_adjustment", customer_id="C-1002", invoice_numbers=["INV-1002"],
                  adjustment_kind=kind, disputed_amount=amount,
                  description=f"Please {kind} {amount}.").reference


def test_small_write_off_is_booked_without_review_or_approver(services: Services) -> None:
    ref = adjustment(services, "write_off", "250.00")  # exactly the tolerance
    assert opened(services, ref) == [] and waits_for(services, ref) == ["customer_decision"]
    assert approvals(services, ref) == [("system", 0, "approve")]
    assert postings(services, ref) == [("write_off", D("250.00"), "INV-1002")]
    assert record(services, ref).resolution["adjustments"][0]["reason_code"] == "small_balance"
    respond_as_customer(ref, True, "", services)
    assert ending(services, ref) == ("Event_Resolved", "resolved")
    assert statuses(services, ref) == ["awaiting_customer", "closed"]


def test_customer_rejecting_an_automatic_write_off_does_not_book_it_twice(services: Services) -> None:
    ref = adjustment(services, "write_off", "120.00")
    respond_as_customer(ref, False, "Write off the whole invoice, please.", services)
    assert postings(services, ref) == [("write_off", D("120.00"), "INV-1002")]


def test_write_off_above_the_tolerance_is_reviewed_and_approved(services: Services) -> None:
    ref = adjustment(services, "write_off", "1200.00")
    assert open_elements(services, ref) == ["Task_ReviewAdjustment"]
    complete(services, ref, "Task_ReviewAdjustment", "bob",
             {"decision": "adjust", "adjustment_amount": "1200.00", "reason_code": "uncollectible",
              "note": "Disputed freight we cannot prove."})
    complete(services, ref, "Task_Approve", "carol", decision("approve"))
    assert postings(services, ref) == [("write_off", D("1200.00"), "INV-1002")]
    assert approvals(services, ref) == [("carol", 1, "approve")]
    assert invoice_open(services, "INV-1002") == D("13000.00")
    assert statuses(services, ref) == ["investigation", "awaiting_approval", "awaiting_customer"]


def test_refund_is_reviewed_and_becomes_a_credit_memo(services: Services) -> None:
    ref = adjustment(services, "refund", "400.00")
    complete(services, ref, "Task_ReviewAdjustment", "bob",
             {"decision": "adjust", "adjustment_amount": "350.00", "reason_code": "service_failure",
              "note": "Two days of downtime."})
    complete(services, ref, "Task_Approve", "carol", decision("approve"))
    assert postings(services, ref) == [("credit_memo", D("350.00"), "INV-1002")]
    respond_as_customer(ref, True, "", services)
    assert ending(services, ref) == ("Event_Resolved", "resolved")
    assert opened(services, ref) == ["Task_ReviewAdjustment", "Task_Approve"]


def test_rejected_adjustment_closes_as_rejected(services: Services) -> None:
    ref = adjustment(services, "refund", "400.00")
    complete(services, ref, "Task_ReviewAdjustment", "bob", rejection("No service failure on record."))
    assert ending(services, ref) == ("Event_Rejected", "rejected")
    assert postings(services, ref) == [] and approvals(services, ref) == []


# --- debt_restructuring -------------------------------------------------------------------------------

def restructuring(services: Services) -> str:
    return submit(services, type="debt_restructuring", customer_id="C-1007", invoice_numbers=["INV-1073"],
                  installments=3, description="Please let us pay INV-1073 in three parts.").reference


def test_approved_plan_books_an_installment_plan_the_customer_accepts(services: Services) -> None:
    ref = restructuring(services)
    first_due = services.clock.today() + timedelta(days=30)
    complete(services, ref, "Task_RestructurePlan", "grace",
             {"decision": "approve_plan", "plan_installments": 3, "first_due_date": first_due.isoformat(),
              "note": "Cash flow confirmed."})
    complete(services, ref, "Task_Approve", "dave", decision("approve"))  # 7,500 needs level 2
    assert postings(services, ref) == [("installment_plan", D("7500.00"), None)]
    with services.uow() as uow:
        [plan] = uow.finance.postings_for(ref)
    assert [due for due, _ in plan.installments] == [first_due, date(2027, 1, 2), date(2027, 2, 2)]
    assert sum(amount for _, amount in plan.installments) == D("7500.00")
    respond_as_customer(ref, True, "", services)
    assert ending(services, ref) == ("Event_Resolved", "resolved")
    assert approvals(services, ref) == [("dave", 2, "approve")]
    assert statuses(services, ref) == ["in_progress", "investigation", "awaiting_approval", "awaiting_customer",
                                       "closed"]


def test_rejected_restructuring_closes_as_rejected(services: Services) -> None:
    ref = restructuring(services)
    complete(services, ref, "Task_RestructurePlan", "grace", rejection("Payment history too poor."))
    assert ending(services, ref) == ("Event_Rejected", "rejected")
    assert postings(services, ref) == [] and approvals(services, ref) == []
