"""`credit/score`: a 0-100 credit score, a risk class and a recommended limit from AR history.

Contract (processes/README.md):
  inputs   customer_id (required); requested_limit (Decimal, optional).
  outputs  credit_score (int 0..100), risk_class (A best .. D), recommended_limit (Decimal).
  errors   customer_not_found (customer_id), invalid_input (requested_limit).
  errors   with a bureau: bureau_unavailable (transient: retried), bureau_no_record, bureau_refused,
           bureau_bad_answer.
  record   record.credit: the metrics, each penalty, the financial cap and the result; with a bureau also
           the internal score and the bureau's score, delinquencies and source (bureau and report id).

Score = 100 - the sum of these penalties (points), rounded half up and clamped to 0..100. Each penalty
only grows as its metric worsens, so the score is monotone in every metric:
  payment delay   0.5 per average day late on paid invoices, at most 25; no paid invoice yet: 15
  overdue items   30 x (open amount weighted by age: 1-30 days 0.25, 31-60 0.5, 61-90 0.75, 90+ 1.0)
                  / open amount
  DSO             0.25 per day of days-sales-outstanding above 45, at most 15 (DSO = open amount /
                  sales invoiced in the last 90 days x 90, capped at 365)
  disputes        5 per other open dispute of the customer, at most 15
  financials      current ratio: 10 x (1.5 - ratio), 0..10; debt to equity: 5 x (ratio - 1), 0..10;
                  net margin: 100 x (5% - margin), 0..5; no statements: 10
Risk class: A >= 80, B >= 65, C >= 50, D below. Recommended limit = min(requested limit, or the current
limit, and the financial cap: 10% of equity and 25% of working capital) x the class factor (A 1, B 0.75,
C 0.5, D 0), rounded down to a hundred.

With a credit bureau configured (ctx.bureau), its report is combined with the score above: we see how the
customer pays us, the bureau how they pay everyone else, so each counts half. The bureau's 300..850 score
becomes 0..100 points ((score - 300) / 5.5); the credit score is the mean of both, rounded half up. Each
delinquency on the bureau's file then lowers the risk class one step (A -> B -> C -> D), since a default
elsewhere is a risk our own ledger cannot see yet. Both rules keep the score monotone: a worse bureau
answer never raises the score, class or limit.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, timedelta
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Any

from ..domain.finance import Customer, Invoice
from ..domain.ports import BureauReport
from .invoice_lookup import amount_input, days_past_due, require_customer
from .registry import Param, ServiceContext, ServiceTaskDefinition

FORMULA = "ar-credit-score/1"
BUREAU_FORMULA = "ar-credit-score/1+bureau/1"
BUREAU_WEIGHT = Decimal("0.5")
BUREAU_SCALE = (300, 850)
RISK_ORDER = "ABCD"
BUCKET_WEIGHTS = {"current": Decimal("0"), "1-30": Decimal("0.25"), "31-60": Decimal("0.5"),
                  "61-90": Decimal("0.75"), "90+": Decimal("1")}
DSO_WINDOW_DAYS = 90
DSO_CAP = Decimal("365")
FINANCIAL_KEYS = ("current_assets", "current_liabilities", "total_liabilities", "equity", "revenue",
                  "net_income")
RATIO_CAP = Decimal("99")  # stands for "no denominator": no liabilities, or no equity to carry the debt
# An unknown customer is neither good nor bad: a thin file lands in class B unless statements lift it.
NO_HISTORY = Decimal(15)
NO_STATEMENTS = Decimal(10)
CLASS_FLOORS = (("A", 80), ("B", 65), ("C", 50))
CLASS_FACTORS = {"A": Decimal("1"), "B": Decimal("0.75"), "C": Decimal("0.5"), "D": Decimal("0")}


@dataclass(frozen=True)
class CreditMetrics:
    open_total: Decimal
    aging: dict[str, Decimal]  # bucket -> open amount
    dso: Decimal
    avg_days_late: Decimal | None  # None: no paid invoice yet
    paid_invoices: int
    open_disputes: int
    current_ratio: Decimal | None = None  # None: no financial statements
    debt_to_equity: Decimal | None = None
    net_margin: Decimal | None = None


def aging_bucket(days: int) -> str:
    if days <= 0:
        return "current"
    if days <= 30:
        return "1-30"
    if days <= 60:
        return "31-60"
    return "61-90" if days <= 90 else "90+"


def measure(customer: Customer, invoices: list[Invoice], today: date, open_disputes: int) -> CreditMetrics:
    """The payment-behaviour and balance-sheet metrics the score rests on."""
    open_items = [i for i in invoices if i.open_amount > 0]
    open_total = sum((i.open_amount for i in open_items), Decimal("0.00"))
    aging = dict.fromkeys(BUCKET_WEIGHTS, Decimal("0.00"))
    for invoice in open_items:
        aging[aging_bucket(days_past_due(invoice, today))] += invoice.open_amount
    paid = [i for i in invoices if i.status == "paid" and i.paid_on is not None]
    late = [Decimal(max(0, (i.paid_on - i.due_on).days)) for i in paid if i.paid_on is not None]
    average_late = (sum(late, Decimal(0)) / len(late)).quantize(Decimal("0.1")) if late else None
    ratios = _ratios(customer.financials)
    return CreditMetrics(open_total, aging, _dso(invoices, open_total, today), average_late, len(paid),
                         open_disputes, *ratios)


def _dso(invoices: list[Invoice], open_total: Decimal, today: date) -> Decimal:
    since = today - timedelta(days=DSO_WINDOW_DAYS)
    sales = sum((i.amount for i in invoices if i.issued_on > since), Decimal("0.00"))
    if open_total == 0:
        return Decimal("0.0")
    if sales == 0:
        return DSO_CAP
    return min(DSO_CAP, open_total / sales * DSO_WINDOW_DAYS).quantize(Decimal("0.1"))


def _ratios(financials: dict[str, Decimal]) -> tuple[Decimal | None, Decimal | None, Decimal | None]:
    if any(key not in financials for key in FINANCIAL_KEYS):
        return None, None, None
    f = {key: Decimal(financials[key]) for key in FINANCIAL_KEYS}
    current = (f["current_assets"] / f["current_liabilities"] if f["current_liabilities"] > 0 else RATIO_CAP)
    leverage = f["total_liabilities"] / f["equity"] if f["equity"] > 0 else RATIO_CAP
    margin = f["net_income"] / f["revenue"] if f["revenue"] > 0 else Decimal("-1")
    return current.quantize(Decimal("0.01")), leverage.quantize(Decimal("0.01")), margin.quantize(Decimal("0.0001"))


def _clamp(value: Decimal, top: Decimal) -> Decimal:
    return min(top, max(Decimal(0), value))


def penalties(m: CreditMetrics) -> dict[str, Decimal]:
    """Each penalty in points (see the module docstring); every one grows with its metric's risk."""
    weighted = sum((BUCKET_WEIGHTS[b] * amount for b, amount in m.aging.items()), Decimal(0))
    result = {
        "payment_delay": NO_HISTORY if m.avg_days_late is None else _clamp(m.avg_days_late / 2, Decimal(25)),
        "overdue_items": Decimal(30) * weighted / m.open_total if m.open_total > 0 else Decimal(0),
        "dso": _clamp((m.dso - 45) / 4, Decimal(15)),
        "disputes": _clamp(Decimal(5 * m.open_disputes), Decimal(15)),
    }
    if m.current_ratio is None or m.debt_to_equity is None or m.net_margin is None:
        result["no_financial_statements"] = NO_STATEMENTS
    else:
        result["current_ratio"] = _clamp((Decimal("1.5") - m.current_ratio) * 10, Decimal(10))
        result["debt_to_equity"] = _clamp((m.debt_to_equity - 1) * 5, Decimal(10))
        result["net_margin"] = _clamp((Decimal("0.05") - m.net_margin) * 100, Decimal(5))
    return {name: points.quantize(Decimal("0.01")) for name, points in result.items()}


def score(m: CreditMetrics) -> int:
    """100 minus the penalties, rounded half up, within 0..100."""
    raw = (Decimal(100) - sum(penalties(m).values(), Decimal(0))).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return max(0, min(100, int(raw)))


def risk_class(value: int) -> str:
    return next((name for name, floor in CLASS_FLOORS if value >= floor), "D")


def bureau_points(bureau_score: int) -> Decimal:
    """A bureau score (300..850) on our 0..100 scale."""
    low, high = BUREAU_SCALE
    return Decimal(min(high, max(low, bureau_score)) - low) * 100 / (high - low)


def blended_score(internal: int, report: BureauReport) -> int:
    """Our score and the bureau's, each weighing half, rounded half up."""
    mixed = Decimal(internal) * (1 - BUREAU_WEIGHT) + bureau_points(report.score) * BUREAU_WEIGHT
    return max(0, min(100, int(mixed.quantize(Decimal(1), rounding=ROUND_HALF_UP))))


def downgraded(risk: str, delinquencies: int) -> str:
    """The risk class one step worse per delinquency on the bureau's file, never past D."""
    return RISK_ORDER[min(len(RISK_ORDER) - 1, RISK_ORDER.index(risk) + max(0, delinquencies))]


def financial_cap(financials: dict[str, Decimal]) -> Decimal | None:
    """What the balance sheet carries: 10% of equity and 25% of working capital, the lower; None without it."""
    if any(key not in financials for key in ("current_assets", "current_liabilities", "equity")):
        return None
    working_capital = Decimal(financials["current_assets"]) - Decimal(financials["current_liabilities"])
    cap = min(Decimal(financials["equity"]) / 10, working_capital / 4)
    return max(Decimal(0), cap).quantize(Decimal("0.01"))


def recommended_limit(customer: Customer, risk: str, requested: Decimal | None) -> Decimal:
    """The limit to grant: the request (or current limit) within the financial cap, scaled by the risk class."""
    cap = financial_cap(customer.financials)
    target = requested if requested is not None else customer.credit_limit
    if target == 0 and cap is not None:
        target = cap
    if cap is not None:
        target = min(target, cap)
    hundreds = (target * CLASS_FACTORS[risk] / 100).to_integral_value(rounding=ROUND_DOWN)
    return (hundreds * 100).quantize(Decimal("0.01"))


def _evidence(m: CreditMetrics, points: dict[str, Decimal], result: dict[str, Any],
              customer: Customer, requested: Decimal | None, ctx: ServiceContext) -> dict[str, Any]:
    metrics = {key: (str(value) if isinstance(value, Decimal) else value) for key, value in asdict(m).items()}
    metrics["aging"] = {bucket: str(amount) for bucket, amount in m.aging.items()}
    cap = financial_cap(customer.financials)
    return {
        "formula": FORMULA, "scored_at": ctx.clock.now().isoformat(), "customer_id": customer.id,
        "credit_score": result["credit_score"], "risk_class": result["risk_class"],
        "recommended_limit": str(result["recommended_limit"]),
        "requested_limit": str(requested) if requested is not None else None,
        "current_limit": str(customer.credit_limit), "financial_cap": str(cap) if cap is not None else None,
        "metrics": metrics, "penalties": {name: str(value) for name, value in points.items()},
    }


def _ask_bureau(ctx: ServiceContext, customer: Customer) -> BureauReport | None:
    if ctx.bureau is None:
        return None
    return ctx.bureau.report(customer.id, customer.name, customer.country, customer.registration_number)


def _bureau_evidence(internal: int, report: BureauReport) -> dict[str, Any]:
    return {"formula": BUREAU_FORMULA, "internal_score": internal,
            "internal_risk_class": risk_class(internal),
            # source names the bureau and its report id, so an analyst can ask the bureau for the report.
            "bureau": {"source": report.source, "score": report.score,
                       "points": str(bureau_points(report.score).quantize(Decimal("0.01"))),
                       "weight": str(BUREAU_WEIGHT), "delinquencies": report.delinquencies}}


def score_customer(ctx: ServiceContext, inputs: dict[str, Any]) -> dict[str, Any]:
    """Score the request's customer (with the bureau's report, when one is configured) and write the
    evidence to the request record."""
    customer = require_customer(ctx.finance, inputs["customer_id"])
    raw_requested = inputs.get("requested_limit")
    requested = amount_input(raw_requested, "requested_limit") if raw_requested not in (None, "") else None
    report = _ask_bureau(ctx, customer)
    disputes = ctx.directory.open_disputes_of(customer.id, exclude=ctx.record.reference)
    metrics = measure(customer, ctx.finance.invoices_of(customer.id), ctx.clock.today(), disputes)
    internal = score(metrics)
    value = blended_score(internal, report) if report else internal
    risk = downgraded(risk_class(value), report.delinquencies) if report else risk_class(value)
    result = {"credit_score": value, "risk_class": risk,
              "recommended_limit": recommended_limit(customer, risk, requested)}
    ctx.record.credit = _evidence(metrics, penalties(metrics), result, customer, requested, ctx)
    if report:
        ctx.record.credit.update(_bureau_evidence(internal, report))
    return result


DEFINITION = ServiceTaskDefinition(
    topic="credit/score",
    title="Score credit",
    description="Scores a customer 0-100 from payment history, aging, disputes and financial statements.",
    inputs=(
        Param("customer_id", "string", "The customer to score."),
        Param("requested_limit", "decimal", "The credit limit asked for.", required=False),
    ),
    outputs=(
        Param("credit_score", "integer", "0 (worst) to 100 (best)."),
        Param("risk_class", "string", "A (best) to D."),
        Param("recommended_limit", "decimal", "The limit the score supports."),
    ),
    handler=score_customer,
)
