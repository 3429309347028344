"""The FinanceGateway contract, run here on MemoryFinanceGateway.

`GatewayContract` is written once; tests/integration/test_finance_sql.py runs the same class on the
SQL subledger (SQLite and PostgreSQL), so the adapters are held to identical behaviour; so is
`ReceiptContract`, receiving the payments the bank reports.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any, Protocol

import pytest
from finance_fakes import NOW, TODAY

from bpmn_requests.domain import ledger
from bpmn_requests.domain.errors import ServiceTaskError
from bpmn_requests.domain.finance import FinanceGateway, JournalLine, Payment, Posting, PostingRequest
from bpmn_requests.store.demo_data import demo_finance_facts
from bpmn_requests.store.memory_finance import MemoryFinanceGateway

D = Decimal
ZERO = D("0.00")
DEMO_OPEN_TOTAL = D("104840.00")


class LedgerGateway(FinanceGateway, Protocol):
    """A FinanceGateway plus the inspection methods both subledger adapters offer."""

    def account_balance(self, account: str) -> Decimal: ...
    def journal_entry(self, number: str) -> tuple[JournalLine, ...]: ...
    def credit_limit_changes(self, customer_id: str) -> list[ledger.CreditLimitChange]: ...


def post(gateway: LedgerGateway, kind: str, amount: str, *, customer_id: str = "C-1001",
         key: str | None = None, approval_id: str = "APR-1", at: datetime = NOW, **extra: object) -> Posting:
    request = PostingRequest(kind=kind, request_reference="REQ-1", approval_id=approval_id,
                             customer_id=customer_id, amount=D(amount), currency="USD",
                             idempotency_key=key or f"REQ-1:{approval_id}:{kind}", **extra)  # type: ignore[arg-type]
    return gateway.post(request, at)


def refused(gateway: LedgerGateway, kind: str, amount: str, **extra: Any) -> ServiceTaskError:
    with pytest.raises(ServiceTaskError) as caught:
        post(gateway, kind, amount, **extra)
    return caught.value


def open_amount(gateway: LedgerGateway, number: str) -> Decimal:
    invoice = gateway.invoice(number)
    assert invoice is not None
    return invoice.open_amount


def pair(debit_account: str, credit_account: str, amount: str) -> tuple[JournalLine, ...]:
    return (JournalLine(debit_account, D(amount), ZERO), JournalLine(credit_account, ZERO, D(amount)))


def assert_reconciles(gateway: LedgerGateway) -> None:
    result = gateway.reconcile()
    assert result.balanced, result
    # The demo's one payment with unapplied cash, and the one the receipt tests receive.
    unapplied = sum((p.unapplied_amount for ref in ("PAY-5003", "PAY-9001") if (p := gateway.payment(ref))), ZERO)
    assert -gateway.account_balance(ledger.UNAPPLIED_CASH) == unapplied


class GatewayContract:
    """Behaviour every FinanceGateway adapter shares. Subclasses supply `gateway`, seeded with the demo."""

    def test_demo_facts_reconcile_from_the_start(self, gateway: LedgerGateway) -> None:
        assert gateway.reconcile().open_items_total == DEMO_OPEN_TOTAL
        assert_reconciles(gateway)

    def test_customers_round_trip_with_people_document_and_financials(self, gateway: LedgerGateway) -> None:
        facts = {c.id: c for c in demo_finance_facts(TODAY).customers}
        for customer_id in ("C-1001", "C-1006", "C-1009"):
            assert gateway.customer(customer_id) == facts[customer_id]
        litware = gateway.customer("C-1006")
        assert litware is not None and litware.financials["equity"] == D("1500000")
        assert [p.role for p in litware.people] == ["director", "owner"]

    def test_unknown_keys_answer_none(self, gateway: LedgerGateway) -> None:
        assert gateway.customer("C-0000") is None
        assert gateway.invoice("INV-0000") is None
        assert gateway.payment("PAY-0000") is None
        assert gateway.postings_for("REQ-0") == []

    def test_open_invoices_come_oldest_due_first(self, gateway: LedgerGateway) -> None:
        assert [i.number for i in gateway.open_invoices("C-1007")] == ["INV-1071", "INV-1072", "INV-1073"]
        assert [i.number for i in gateway.open_invoices("C-1003")] == ["INV-1003", "INV-1013"]
        assert [i.number for i in gateway.invoices_of("C-1001")] == ["INV-0901", "INV-0931", "INV-0961",
                                                                     "INV-1001"]

    def test_payments_keep_unidentified_cash_without_customer(self, gateway: LedgerGateway) -> None:
        cash = gateway.payment("PAY-5003")
        assert cash is not None and (cash.customer_id, cash.unapplied_amount) == (None, D("18500.00"))
        assert [p.reference for p in gateway.payments_of("C-1001")] == ["PAY-4901", "PAY-4931", "PAY-4961"]

    def test_credit_memo_reduces_the_open_amount(self, gateway: LedgerGateway) -> None:
        posting = post(gateway, "credit_memo", "700.00", invoice_number="INV-1001", reason_code="pricing_error")
        assert (posting.number, posting.amount, posting.posted_at) == ("CM-000001", D("700.00"), NOW)
        assert (posting.request_reference, posting.approval_id, posting.invoice_number) == (
            "REQ-1", "APR-1", "INV-1001")
        assert posting.lines == pair("4100", "1200", "700.00")
        assert open_amount(gateway, "INV-1001") == D("11800.00")
        assert gateway.postings_for("REQ-1") == [posting]
        assert_reconciles(gateway)

    def test_the_same_idempotency_key_books_once(self, gateway: LedgerGateway) -> None:
        first = post(gateway, "credit_memo", "700.00", invoice_number="INV-1001")
        again = post(gateway, "credit_memo", "700.00", invoice_number="INV-1001", at=NOW + timedelta(hours=1))
        different = post(gateway, "credit_memo", "5.00", invoice_number="INV-1001")  # same key: first wins
        assert again == first == different
        assert gateway.postings_for("REQ-1") == [first]
        assert gateway.journal_entry("CM-000001") == pair("4100", "1200", "700.00")
        assert open_amount(gateway, "INV-1001") == D("11800.00")
        assert_reconciles(gateway)

    def test_posting_numbers_count_per_kind(self, gateway: LedgerGateway) -> None:
        numbers = [post(gateway, "credit_memo", "1.00", invoice_number="INV-1001", key="a").number,
                   post(gateway, "debit_memo", "1.00", invoice_number="INV-1001", key="b").number,
                   post(gateway, "credit_memo", "1.00", invoice_number="INV-1001", key="c").number]
        assert numbers == ["CM-000001", "DM-000001", "CM-000002"]

    def test_debit_memo_increases_the_open_amount(self, gateway: LedgerGateway) -> None:
        posting = post(gateway, "debit_memo", "250.00", invoice_number="INV-1001")
        assert (posting.number, posting.lines) == ("DM-000001", pair("1200", "4000", "250.00"))
        assert open_amount(gateway, "INV-1001") == D("12750.00")
        assert_reconciles(gateway)

    def test_payment_application_settles_invoice_and_identifies_the_cash(self, gateway: LedgerGateway) -> None:
        posting = post(gateway, "payment_application", "18500.00", customer_id="C-1003",
                       invoice_number="INV-1003", payment_reference="PAY-5003")
        assert (posting.number, posting.lines) == ("PA-000001", pair("2050", "1200", "18500.00"))
        invoice, payment = gateway.invoice("INV-1003"), gateway.payment("PAY-5003")
        assert invoice is not None and (invoice.open_amount, invoice.status, invoice.paid_on) == (ZERO, "paid", TODAY)
        assert payment is not None and (payment.unapplied_amount, payment.status, payment.customer_id) == (
            ZERO, "applied", "C-1003")
        assert "PAY-5003" in [p.reference for p in gateway.payments_of("C-1003")]
        assert_reconciles(gateway)

    def test_partial_payment_application(self, gateway: LedgerGateway) -> None:
        post(gateway, "payment_application", "10000.00", customer_id="C-1003", invoice_number="INV-1003",
             payment_reference="PAY-5003")
        invoice, payment = gateway.invoice("INV-1003"), gateway.payment("PAY-5003")
        assert invoice is not None and (invoice.open_amount, invoice.status) == (D("8500.00"), "partially_paid")
        assert payment is not None and (payment.unapplied_amount, payment.status) == (
            D("8500.00"), "partially_applied")
        assert_reconciles(gateway)

    @pytest.mark.parametrize(("amount", "invoice", "code"), [
        ("18500.01", "INV-1003", "amount_exceeds_unapplied_cash"),
        ("18500.00", "INV-1013", "amount_exceeds_open_balance")])
    def test_over_application_is_refused_and_changes_nothing(self, gateway: LedgerGateway, amount: str,
                                                             invoice: str, code: str) -> None:
        before = (gateway.invoice(invoice), gateway.payment("PAY-5003"), gateway.reconcile())
        error = refused(gateway, "payment_application", amount, customer_id="C-1003", invoice_number=invoice,
                        payment_reference="PAY-5003")
        assert error.error_code == code
        assert (gateway.invoice(invoice), gateway.payment("PAY-5003"), gateway.reconcile()) == before
        assert gateway.postings_for("REQ-1") == []
        ok = post(gateway, "payment_application", "1.00", customer_id="C-1003", invoice_number="INV-1003",
                  payment_reference="PAY-5003")
        assert ok.number == "PA-000001"  # the refusal used no number

    def test_credit_memo_above_the_open_balance_is_refused(self, gateway: LedgerGateway) -> None:
        error = refused(gateway, "credit_memo", "12500.01", invoice_number="INV-1001")
        assert (error.error_code, error.field) == ("amount_exceeds_open_balance", "amount")
        assert open_amount(gateway, "INV-1001") == D("12500.00")
        assert_reconciles(gateway)

    def test_write_off_to_zero(self, gateway: LedgerGateway) -> None:
        partial = post(gateway, "write_off", "100.00", invoice_number="INV-1001", key="w1")
        rest = post(gateway, "write_off", "12400.00", invoice_number="INV-1001", key="w2")
        assert (partial.number, rest.number, rest.lines) == ("WO-000001", "WO-000002",
                                                             pair("6100", "1200", "12400.00"))
        invoice = gateway.invoice("INV-1001")
        assert invoice is not None and (invoice.open_amount, invoice.status) == (ZERO, "written_off")
        assert_reconciles(gateway)

    def test_credit_limit_change_sets_the_limit_and_keeps_the_old_one(self, gateway: LedgerGateway) -> None:
        posting = post(gateway, "credit_limit_change", "50000.00", customer_id="C-1006")
        assert (posting.number, posting.lines) == ("CL-000001", ())
        customer = gateway.customer("C-1006")
        assert customer is not None and customer.credit_limit == D("50000.00")
        assert gateway.credit_limit_changes("C-1006") == [
            ledger.CreditLimitChange("C-1006", ZERO, D("50000.00"), "CL-000001")]
        assert_reconciles(gateway)

    def test_installment_plan_stores_its_schedule(self, gateway: LedgerGateway) -> None:
        schedule = ledger.installment_schedule(D("30000.00"), 3, TODAY + timedelta(days=30))
        posting = post(gateway, "installment_plan", "30000.00", customer_id="C-1007", installments=schedule,
                       invoice_numbers=("INV-1071", "INV-1072", "INV-1073"))
        assert (posting.number, posting.lines) == ("IP-000001", ())
        assert [a for _, a in posting.installments] == [D("10000.00")] * 3
        assert gateway.postings_for("REQ-1")[0].installments == schedule
        assert open_amount(gateway, "INV-1071") == D("12000.00")  # a plan reschedules, it settles nothing
        assert_reconciles(gateway)

    def test_installment_plan_that_does_not_sum_is_refused(self, gateway: LedgerGateway) -> None:
        schedule = ((TODAY, D("100.00")), (TODAY + timedelta(days=31), D("100.00")))
        error = refused(gateway, "installment_plan", "300.00", customer_id="C-1007", installments=schedule)
        assert error.error_code == "installments_mismatch"
        assert gateway.postings_for("REQ-1") == []

    @pytest.mark.parametrize(("extra", "code", "field"), [
        ({"invoice_number": "INV-9999"}, "invoice_not_found", "invoice_number"),
        ({"invoice_number": "INV-1002"}, "invoice_not_of_customer", "invoice_number"),
        ({"invoice_number": "INV-1001", "customer_id": "C-9999"}, "customer_not_found", "customer_id"),
    ])
    def test_unknown_or_foreign_targets_are_refused(self, gateway: LedgerGateway, extra: dict[str, str],
                                                     code: str, field: str) -> None:
        error = refused(gateway, "credit_memo", "10.00", **extra)
        assert (error.error_code, error.field) == (code, field)

    def test_unknown_payment_is_refused(self, gateway: LedgerGateway) -> None:
        error = refused(gateway, "payment_application", "10.00", invoice_number="INV-1001",
                        payment_reference="PAY-9999")
        assert (error.error_code, error.field) == ("payment_not_found", "payment_reference")

    def test_reconciles_after_every_kind(self, gateway: LedgerGateway) -> None:
        steps: list[tuple[str, str, dict[str, Any]]] = [
            ("credit_memo", "700.00", {"invoice_number": "INV-1001"}),
            ("debit_memo", "120.50", {"invoice_number": "INV-1001"}),
            ("payment_application", "18500.00", {"customer_id": "C-1003", "invoice_number": "INV-1003",
                                                 "payment_reference": "PAY-5003"}),
            ("write_off", "0.01", {"customer_id": "C-1002", "invoice_number": "INV-1002"}),
            ("credit_limit_change", "45000.00", {"customer_id": "C-1007"}),
            ("installment_plan", "100.00", {"customer_id": "C-1007", "installments": ledger.installment_schedule(
                D("100.00"), 3, date(2030, 1, 31))}),
        ]
        expected = DEMO_OPEN_TOTAL - D("700.00") + D("120.50") - D("18500.00") - D("0.01")
        for kind, amount, extra in steps:
            post(gateway, kind, amount, **extra)
            assert_reconciles(gateway)
        assert gateway.reconcile().open_items_total == expected
        assert [p.number for p in gateway.postings_for("REQ-1")] == [
            "CM-000001", "DM-000001", "PA-000001", "WO-000001", "CL-000001", "IP-000001"]

    def test_a_naive_time_is_refused(self, gateway: LedgerGateway) -> None:
        with pytest.raises(ValueError):
            post(gateway, "credit_memo", "1.00", invoice_number="INV-1001", at=datetime(2025, 3, 14, 9, 0))


def receipt(reference: str = "PAY-9001", amount: str = "1250.00", customer_id: str | None = "C-1003", *,
            currency: str = "USD", received_on: date = TODAY) -> Payment:
    """A payment as the bank reports it: all of it unapplied."""
    return Payment(reference, customer_id, "FABRIKAM INC", D(amount), D(amount), currency, received_on,
                   "INV 1013", "unapplied")


def receive(gateway: LedgerGateway, payment: Payment, key: str = "REQ-1:receive") -> Payment:
    return gateway.receive_payment(payment, NOW, key)


def receive_refused(gateway: LedgerGateway, payment: Payment, key: str = "REQ-1:receive") -> ServiceTaskError:
    with pytest.raises(ServiceTaskError) as caught:
        receive(gateway, payment, key)
    return caught.value


def cash_balances(gateway: LedgerGateway) -> tuple[Decimal, Decimal]:
    return gateway.account_balance(ledger.CASH), gateway.account_balance(ledger.UNAPPLIED_CASH)


class ReceiptContract:
    """Receiving payments the bank reports: booked once per reference, the subledger still reconciling."""

    def test_a_received_payment_is_booked_as_the_customers_unapplied_cash(self, gateway: LedgerGateway) -> None:
        cash, unapplied = cash_balances(gateway)
        booked = receive(gateway, receipt())
        assert booked == receipt() == gateway.payment("PAY-9001")
        assert "PAY-9001" in [p.reference for p in gateway.payments_of("C-1003")]
        assert gateway.journal_entry("RC-PAY-9001") == pair("1000", "2050", "1250.00")
        assert cash_balances(gateway) == (cash + D("1250.00"), unapplied - D("1250.00"))
        assert gateway.reconcile().open_items_total == DEMO_OPEN_TOTAL
        assert_reconciles(gateway)

    def test_receiving_the_same_payment_again_books_nothing(self, gateway: LedgerGateway) -> None:
        first = receive(gateway, receipt())
        balances = cash_balances(gateway)
        assert receive(gateway, receipt(), key="REQ-1:receive") == first
        assert receive(gateway, receipt(amount="1250"), key="another step") == first
        assert gateway.journal_entry("RC-PAY-9001") == pair("1000", "2050", "1250.00")
        assert cash_balances(gateway) == balances

    @pytest.mark.parametrize("changed", [{"amount": "1250.01"}, {"customer_id": "C-1001"}, {"currency": "EUR"}],
                             ids=["amount", "customer", "currency"])
    def test_another_amount_customer_or_currency_under_a_known_reference_is_refused(
            self, gateway: LedgerGateway, changed: dict[str, Any]) -> None:
        first = receive(gateway, receipt())
        balances = cash_balances(gateway)
        error = receive_refused(gateway, receipt(**changed))
        assert (error.error_code, error.field) == ("payment_conflict", "payment_reference")
        assert gateway.payment("PAY-9001") == first and cash_balances(gateway) == balances

    def test_a_seeded_payment_reported_by_the_bank_is_the_same_payment(self, gateway: LedgerGateway) -> None:
        seeded = gateway.payment("PAY-5003")
        assert seeded is not None and seeded.customer_id is None  # unidentified cash is no contradiction
        balances = cash_balances(gateway)
        assert receive(gateway, receipt("PAY-5003", "18500.00")) == seeded
        assert cash_balances(gateway) == balances
        error = receive_refused(gateway, receipt("PAY-4901", str(gateway.payment("PAY-4901").amount)))  # type: ignore[union-attr]
        assert error.error_code == "payment_conflict"  # C-1001's payment is not C-1003's

    @pytest.mark.parametrize(("payment", "key", "code", "field"), [
        (receipt(customer_id="C-9999"), "k", "customer_not_found", "customer_id"),
        (receipt(amount="0.00"), "k", "invalid_amount", "amount"),
        (receipt(amount="10.001"), "k", "invalid_amount", "amount"),
        (receipt(received_on=TODAY + timedelta(days=1)), "k", "invalid_input", "received_on"),
        (receipt(currency="usd"), "k", "invalid_input", "currency"),
        (receipt(reference=" "), "k", "invalid_input", "payment_reference"),
        (receipt(reference="PAY-" + "9" * 40), "k", "invalid_input", "payment_reference"),
        (replace(receipt(), unapplied_amount=D("1.00")), "k", "invalid_input", "unapplied_amount"),
        (receipt(), "", "missing_input", "idempotency_key"),
    ])
    def test_a_malformed_receipt_is_refused_naming_the_field(self, gateway: LedgerGateway, payment: Payment,
                                                            key: str, code: str, field: str) -> None:
        balances = cash_balances(gateway)
        error = receive_refused(gateway, payment, key)
        assert (error.error_code, error.field) == (code, field)
        assert gateway.payment(payment.reference) is None and cash_balances(gateway) == balances

    def test_a_received_payment_can_be_applied_and_everything_reconciles(self, gateway: LedgerGateway) -> None:
        receive(gateway, receipt(amount="1200.00"))
        post(gateway, "payment_application", "1200.00", customer_id="C-1003", invoice_number="INV-1013",
             payment_reference="PAY-9001")
        payment = gateway.payment("PAY-9001")
        assert payment is not None and (payment.unapplied_amount, payment.status) == (ZERO, "applied")
        assert gateway.reconcile().open_items_total == DEMO_OPEN_TOTAL - D("1200.00")
        assert_reconciles(gateway)

    def test_a_receipt_needs_a_timezone_aware_time(self, gateway: LedgerGateway) -> None:
        with pytest.raises(ValueError):
            gateway.receive_payment(receipt(), datetime(2025, 3, 14, 9, 0), "k")


class TestMemoryFinanceGateway(GatewayContract, ReceiptContract):
    @pytest.fixture
    def gateway(self) -> MemoryFinanceGateway:
        return MemoryFinanceGateway(demo_finance_facts(TODAY))


def test_memory_gateway_keeps_contracts_and_contacts() -> None:
    gateway = MemoryFinanceGateway(demo_finance_facts(TODAY))
    assert {c.customer_id for c in gateway.contacts} >= {"C-1001", "C-1009"}
    assert all(c.number.startswith("CT-") for c in gateway.contracts)
