"""payment/match: remittance, exact amount and oldest-due matching, with a documented confidence."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from finance_fakes import TODAY, demo_gateway, make_context, make_record

from bpmn_requests.domain.errors import ServiceTaskError
from bpmn_requests.domain.finance import Payment
from bpmn_requests.service_tasks.payment_match import DEFINITION, invoice_references, normalise_company_name
from bpmn_requests.service_tasks.registry import ServiceSettings
from bpmn_requests.store.demo_data import FinanceFacts
from bpmn_requests.store.memory_finance import MemoryFinanceGateway

D = Decimal


def _with_payment(amount: str, remittance: str, *, payer: str = "FABRIKAM INC",
                  customer_id: str | None = None) -> MemoryFinanceGateway:
    gateway = demo_gateway()
    gateway.load(FinanceFacts(payments=(Payment(
        "PAY-7001", customer_id, payer, D(amount), D(amount), "USD", TODAY - timedelta(days=1), remittance,
        "unapplied"),)))
    return gateway


def _match(gateway: MemoryFinanceGateway, reference: str = "PAY-7001", customer_id: str = "C-1003",
           settings: ServiceSettings | None = None) -> dict[str, object]:
    ctx = make_context(gateway, make_record(customer_id, type="payment_issue"), settings=settings)
    return DEFINITION.call(ctx, {"customer_id": customer_id, "payment_references": [reference]})


def test_unidentified_cash_with_remittance_and_amount_is_applied_automatically() -> None:
    ctx = make_context(demo_gateway(), make_record("C-1003", type="payment_issue"))
    out = DEFINITION.call(ctx, {"customer_id": "C-1003", "payment_references": ["PAY-5003"]})
    assert out == {"payment_reference": "PAY-5003", "payment_amount": D("18500.00"), "matched_invoice": "INV-1003",
                   "match_confidence": 0.98, "match_method": "remittance_and_amount", "auto_apply": True}
    evidence = ctx.record.details["payment_match"]
    assert (evidence["identified_by"], evidence["name_score"], evidence["threshold"]) == (
        "payer_name", "100.0", "0.9")


@pytest.mark.parametrize(("amount", "remittance", "invoice", "method", "confidence", "auto"), [
    ("5000.00", "Invoice 1003", "INV-1003", "remittance", 0.85, False),
    ("6240.00", "thank you", "INV-1013", "exact_amount", 0.9, True),
    ("1000.00", "", "INV-1003", "oldest_due", 0.5, False),
    ("18500.00", "inv#1013", "INV-1013", "remittance", 0.85, False),  # the reference wins over the amount
])
def test_each_method_has_its_confidence(amount: str, remittance: str, invoice: str, method: str,
                                        confidence: float, auto: bool) -> None:
    out = _match(_with_payment(amount, remittance))
    assert (out["matched_invoice"], out["match_method"], out["match_confidence"], out["auto_apply"]) == (
        invoice, method, confidence, auto)


def test_a_payer_name_unlike_the_customer_halves_the_confidence() -> None:
    out = _match(_with_payment("18500.00", "INV 1003", payer="GLOBEX CORPORATION"))
    assert out["matched_invoice"] == "INV-1003"
    assert isinstance(out["match_confidence"], float) and out["match_confidence"] < 0.5
    assert out["auto_apply"] is False


def test_the_threshold_comes_from_the_settings() -> None:
    out = _match(demo_gateway(), "PAY-5003", settings=ServiceSettings(payment_auto_apply_confidence=0.99))
    assert (out["match_confidence"], out["auto_apply"]) == (0.98, False)


def test_a_payment_of_the_customer_needs_no_name_match() -> None:
    out = _match(_with_payment("6240.00", "", payer="SOMEONE ELSE", customer_id="C-1003"))
    assert (out["matched_invoice"], out["match_confidence"]) == ("INV-1013", 0.9)


def test_without_references_the_customer_unapplied_payments_are_matched() -> None:
    ctx = make_context(_with_payment("6240.00", "", customer_id="C-1003"), make_record("C-1003"))
    out = DEFINITION.call(ctx, {"customer_id": "C-1003", "payment_references": []})
    assert out["payment_reference"] == "PAY-7001"


def test_nothing_open_matches_nothing() -> None:
    gateway = _with_payment("100.00", "INV 1001", customer_id="C-1006")
    out = _match(gateway, customer_id="C-1006")
    assert (out["matched_invoice"], out["match_method"], out["auto_apply"]) == (None, "none", False)


@pytest.mark.parametrize(("customer_id", "references", "code", "field"), [
    ("C-1003", ["PAY-9999"], "payment_not_found", "payment_references"),
    ("C-1001", [], "payment_not_found", "payment_references"),
    ("C-1003", ["PAY-4901"], "payment_already_applied", "payment_references"),
    ("C-9999", ["PAY-5003"], "customer_not_found", "customer_id"),
])
def test_unknown_payments_are_refused_naming_the_field(customer_id: str, references: list[str], code: str,
                                                       field: str) -> None:
    with pytest.raises(ServiceTaskError) as caught:
        DEFINITION.call(make_context(), {"customer_id": customer_id, "payment_references": references})
    assert (caught.value.error_code, caught.value.field) == (code, field)


def test_a_payment_of_another_customer_is_refused() -> None:
    with pytest.raises(ServiceTaskError) as caught:
        _match(_with_payment("10.00", "", customer_id="C-1001"))
    assert caught.value.error_code == "payment_not_of_customer"


@pytest.mark.parametrize("text", ["INV 1003", "inv#1003", "Invoice 1003", "INV-1003", "invoice no. 1003",
                                  "paying INV1003 thanks"])
def test_remittance_references_are_normalised(text: str) -> None:
    assert invoice_references(text) == ["INV-1003"]


@pytest.mark.parametrize(("name", "expected"), [
    ("FABRIKAM INC", "fabrikam"), ("Fabrikam, Inc.", "fabrikam"),
    ("Isthmus Maritime Trading S.A.", "isthmus maritime trading"), ("Contoso Ltd", "contoso")])
def test_legal_suffixes_are_dropped_before_comparing_names(name: str, expected: str) -> None:
    assert normalise_company_name(name) == expected
