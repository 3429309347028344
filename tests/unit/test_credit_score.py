"""credit/score: a monotone 0-100 score, a risk class and a recommended limit from AR history, blended with a
credit bureau's report when one is configured."""

from __future__ import annotations

import json
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from finance_fakes import FakeDirectory, make_context, make_record

from bpmn_requests.domain.errors import ServiceTaskError
from bpmn_requests.domain.finance import Customer
from bpmn_requests.domain.ports import BureauReport
from bpmn_requests.service_tasks.credit_score import (
    DEFINITION,
    CreditMetrics,
    aging_bucket,
    blended_score,
    bureau_points,
    downgraded,
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


# --- with a credit bureau ---------------------------------------------------------------------------------

class FixedBureau:
    """A credit bureau that gives one report, or refuses, and remembers who it was asked about."""

    def __init__(self, score: int = 720, delinquencies: int = 0, refusal: ServiceTaskError | None = None):
        self.answer = BureauReport(score, delinquencies, f"fixed-bureau report R-{score}-{delinquencies}")
        self.refusal = refusal
        self.asked: list[tuple[str, str, str, str | None]] = []

    def report(self, customer_id: str, name: str, country: str, registration: str | None) -> BureauReport:
        self.asked.append((customer_id, name, country, registration))
        if self.refusal is not None:
            raise self.refusal
        return self.answer


def _with_bureau(bureau: FixedBureau, customer_id: str = "C-1006") -> tuple[dict[str, Any], dict[str, Any]]:
    ctx = make_context(record=make_record(customer_id, type="credit_onboarding"))
    ctx.bureau = bureau
    out = DEFINITION.call(ctx, {"customer_id": customer_id, "requested_limit": "50000.00"})
    assert ctx.record.credit is not None
    return out, ctx.record.credit


@pytest.mark.parametrize(("bureau_score", "points"), [(300, "0"), (575, "50"), (850, "100"), (200, "0"),
                                                      (900, "100")])
def test_a_bureau_score_maps_onto_our_scale(bureau_score: int, points: str) -> None:
    assert bureau_points(bureau_score) == D(points)


def test_the_credit_score_is_half_ours_and_half_the_bureaus() -> None:
    internal, _ = _score("C-1006", "50000.00")
    out, evidence = _with_bureau(FixedBureau(score=575))
    assert out["credit_score"] == blended_score(internal["credit_score"], FixedBureau(score=575).answer)
    expected = (D(internal["credit_score"]) + 50) / 2
    assert abs(out["credit_score"] - expected) <= D("0.5")
    assert evidence["formula"] == "ar-credit-score/1+bureau/1"
    assert evidence["internal_score"] == internal["credit_score"]
    assert evidence["bureau"] == {"source": "fixed-bureau report R-575-0", "score": 575, "points": "50.00",
                                  "weight": "0.5", "delinquencies": 0}
    json.dumps(evidence)


def test_the_bureau_is_asked_about_the_customer_by_name_country_and_registration() -> None:
    bureau = FixedBureau()
    _with_bureau(bureau, "C-1006")
    assert bureau.asked == [("C-1006", "Litware Inc.", "US", "US-CA-7740215")]


@pytest.mark.parametrize(("risk", "delinquencies", "expected"), [
    ("A", 0, "A"), ("A", 1, "B"), ("A", 2, "C"), ("B", 5, "D"), ("D", 1, "D")])
def test_each_delinquency_lowers_the_risk_class_one_step(risk: str, delinquencies: int, expected: str) -> None:
    assert downgraded(risk, delinquencies) == expected


def test_delinquencies_lower_class_and_limit_but_not_the_score() -> None:
    clean, _ = _with_bureau(FixedBureau(score=800, delinquencies=0))
    defaulted, evidence = _with_bureau(FixedBureau(score=800, delinquencies=2))
    assert defaulted["credit_score"] == clean["credit_score"]
    assert "ABCD".index(defaulted["risk_class"]) == min(3, "ABCD".index(clean["risk_class"]) + 2)
    assert defaulted["recommended_limit"] < clean["recommended_limit"]
    assert evidence["bureau"]["delinquencies"] == 2


def test_a_worse_bureau_answer_never_improves_the_result() -> None:
    answers = [(850, 0), (750, 0), (650, 0), (650, 1), (500, 1), (500, 3), (300, 3)]
    results = [_with_bureau(FixedBureau(s, d))[0] for s, d in answers]
    scores = [r["credit_score"] for r in results]
    classes = ["ABCD".index(r["risk_class"]) for r in results]
    limits = [r["recommended_limit"] for r in results]
    assert scores == sorted(scores, reverse=True) and classes == sorted(classes)
    assert limits == sorted(limits, reverse=True) and limits[0] > limits[-1]


def test_a_bureau_refusal_reaches_the_process_unchanged_and_records_nothing() -> None:
    refusal = ServiceTaskError("no file", error_code="bureau_no_record")
    ctx = make_context(record=make_record("C-1006", type="credit_onboarding"))
    ctx.bureau = FixedBureau(refusal=refusal)
    with pytest.raises(ServiceTaskError) as caught:
        DEFINITION.call(ctx, {"customer_id": "C-1006"})
    assert caught.value is refusal and ctx.record.credit is None
