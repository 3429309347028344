"""credit/score: a monotone 0-100 score, a risk class and a recommended limit from AR history."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from finance_fakes import FakeDirectory, make_context, make_record

from bpmn_requests.domain.errors import ServiceTaskError
from bpmn_requests.domain.finance import Customer
from bpmn_requests.service_tasks.credit_score import (
    DEFINITION,
    CreditMetrics,
    aging_bucket,
    recommended_limit,
    risk_class,
    score,
)

D = Decimal


def _score(customer_id: str, requested: str | None = None, disputes: int = 0) -> tuple[dict[str, Any], dict[str, Any]]:
    directory = FakeDirectory({customer_id: disputes})
    ctx = make_context(record=make_record(customer_id, type="credit_onboarding"), directory=directory)
    inputs: dict[str, object] = {"customer_id": customer_id}
    if requested is not None:
        inputs["requested_limit"] = D(requested)
    out = DEFINITION.call(ctx, inputs)
    assert directory.asked == [(customer_id, ctx.record.reference)]  # the request itself is no other dispute
    assert ctx.record.credit is not None
    return out, ctx.record.credit


def test_a_new_customer_with_sound_financials_scores_well() -> None:
    out, evidence = _score("C-1006", "50000.00")
    assert out["risk_class"] in ("A", "B")
    assert out["recommended_limit"] == D("50000.00")
    assert evidence["metrics"]["current_ratio"] == "2.00" and evidence["financial_cap"] == "102500.00"
    json.dumps(evidence)


def test_a_late_payer_with_overdue_invoices_scores_worse_but_is_scored() -> None:
    wide_world, evidence = _score("C-1007")
    litware, _ = _score("C-1006", "50000.00")
    northwind, _ = _score("C-1001")
    assert isinstance(wide_world["credit_score"], int) and 0 <= wide_world["credit_score"] <= 100
    assert wide_world["credit_score"] < min(litware["credit_score"], northwind["credit_score"])
    assert wide_world["risk_class"] in ("C", "D")
    assert evidence["metrics"]["aging"] == {"current": "0.00", "1-30": "0.00", "31-60": "7500.00",
                                            "61-90": "22500.00", "90+": "0.00"}
    assert evidence["metrics"]["avg_days_late"] == "37.7"


def test_open_disputes_lower_the_score() -> None:
    calm, _ = _score("C-1001")
    disputed, evidence = _score("C-1001", disputes=2)
    assert disputed["credit_score"] == calm["credit_score"] - 10
    assert evidence["penalties"]["disputes"] == "10.00"


@pytest.mark.parametrize(("inputs", "code", "field"), [
    ({"customer_id": "C-9999"}, "customer_not_found", "customer_id"),
    ({"customer_id": "C-1006", "requested_limit": 5000.5}, "invalid_input", "requested_limit"),
])
def test_bad_inputs_are_refused_naming_the_field(inputs: dict[str, object], code: str, field: str) -> None:
    with pytest.raises(ServiceTaskError) as caught:
        DEFINITION.call(make_context(), inputs)
    assert (caught.value.error_code, caught.value.field) == (code, field)


BASE = CreditMetrics(
    open_total=D("10000.00"), aging={"current": D("10000.00"), "1-30": D(0), "31-60": D(0), "61-90": D(0),
                                     "90+": D(0)},
    dso=D("40"), avg_days_late=D("2"), paid_invoices=5, open_disputes=0,
    current_ratio=D("2"), debt_to_equity=D("0.5"), net_margin=D("0.1"))


def _aged(days: int) -> CreditMetrics:
    aging = dict.fromkeys(BASE.aging, D(0))
    aging[aging_bucket(days)] = D("10000.00")
    return replace(BASE, aging=aging)


@pytest.mark.parametrize("worse", [
    [replace(BASE, avg_days_late=D(v)) for v in (0, 5, 20, 40, 60, 200)],
    [replace(BASE, dso=D(v)) for v in (10, 45, 60, 90, 120, 365)],
    [replace(BASE, open_disputes=n) for n in range(6)],
    [replace(BASE, current_ratio=D(v)) for v in ("3", "1.5", "1.2", "0.8", "0.3", "0")],
    [replace(BASE, debt_to_equity=D(v)) for v in ("0", "1", "1.5", "2.5", "4", "99")],
    [replace(BASE, net_margin=D(v)) for v in ("0.2", "0.05", "0.02", "0", "-0.5")],
    [_aged(d) for d in (0, 10, 45, 75, 120)],
], ids=["days_late", "dso", "disputes", "current_ratio", "debt_to_equity", "net_margin", "aging"])
def test_the_score_never_rises_as_a_metric_worsens(worse: list[CreditMetrics]) -> None:
    scores = [score(m) for m in worse]
    assert scores == sorted(scores, reverse=True)
    assert scores[0] > scores[-1]
    assert all(0 <= s <= 100 for s in scores)


def test_the_worst_case_still_scores_within_range() -> None:
    worst = replace(_aged(200), avg_days_late=D(300), dso=D(365), open_disputes=9, current_ratio=D(0),
                    debt_to_equity=D(99), net_margin=D(-1))
    assert score(worst) == 0 and risk_class(score(worst)) == "D"


@pytest.mark.parametrize(("value", "expected"), [(100, "A"), (80, "A"), (79, "B"), (65, "B"), (64, "C"),
                                                 (50, "C"), (49, "D"), (0, "D")])
def test_risk_classes(value: int, expected: str) -> None:
    assert risk_class(value) == expected


def test_the_recommended_limit_respects_the_balance_sheet_and_the_class() -> None:
    customer = Customer("C-1", "Acme", "company", "US", None, credit_limit=D("20000.00"),
                        financials={"current_assets": D(400000), "current_liabilities": D(200000),
                                    "equity": D(300000)})
    assert recommended_limit(customer, "A", D("90000.00")) == D("30000.00")  # 10% of equity
    assert recommended_limit(customer, "B", D("10000.00")) == D("7500.00")
    assert recommended_limit(customer, "C", None) == D("10000.00")  # half the current limit
    assert recommended_limit(customer, "D", D("10000.00")) == D("0.00")
    assert recommended_limit(replace(customer, financials={}), "A", D("12345.67")) == D("12300.00")
