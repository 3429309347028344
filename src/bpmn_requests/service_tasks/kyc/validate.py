"""The `kyc/validate` service task: data completeness, sanctions and PEP screening, risk rating, evidence.

Result rules (the evidence's `reasons` says which applied):
- `blocked`: the customer itself, or a beneficial owner holding 50% or more (OFAC's 50 percent rule: an
  entity owned that much by a blocked person is blocked too), matches a list entry exactly, i.e. the
  same normalised words, with a score at or above `sanctions_block_threshold`. Only an exact name
  blocks automatically; a similar name is a question for a person, never an automatic refusal.
- `review`: any sanctions candidate at or above `sanctions_review_threshold`, any PEP match, or any
  finding (missing data, an expired or unscreenable document or name, a high-risk country).
- `clear`: none of these.

Risk: `high` for a sanctions candidate, a PEP match or a customer in a high-risk country; `medium` for
findings or a director or owner from a high-risk country; else `low`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from ...domain.errors import ServiceTaskError
from ...domain.finance import Customer, IdDocument
from ...domain.ports import PepMatch, ScreeningCandidate, ScreeningResult
from ..registry import Param, ServiceContext, ServiceTaskDefinition
from .normalize import tokens

SCREENING_OWNERSHIP = Decimal("25")  # beneficial owners from this share up are screened (FATF, EU AMLD)
BLOCKING_OWNERSHIP = Decimal("50")  # OFAC's 50 percent rule
EXPIRY_WARNING_DAYS = 30
# A small demo set, owned by compliance in a real deployment: the FATF "call for action" jurisdictions
# (KP, IR, MM) and the countries under comprehensive U.S. embargo (CU, SY). Codes or English names.
HIGH_RISK_COUNTRIES = {"KP": "North Korea", "IR": "Iran", "MM": "Myanmar", "CU": "Cuba", "SY": "Syria"}
_COUNTRY_NAMES = {name.casefold(): code for code, name in HIGH_RISK_COUNTRIES.items()} | {
    "democratic people's republic of korea": "KP", "burma": "MM", "syrian arab republic": "SY",
    "iran (islamic republic of)": "IR"}


@dataclass
class Subject:
    """One name to screen and why: the customer, a director, an owner (a person may hold two roles)."""

    name: str
    roles: list[str]
    ownership: Decimal | None = None
    country: str | None = None

    @property
    def role(self) -> str:
        return ", ".join(self.roles)

    @property
    def may_block(self) -> bool:
        owns_control = self.ownership is not None and self.ownership >= BLOCKING_OWNERSHIP
        return "customer" in self.roles or ("owner" in self.roles and owns_control)


@dataclass
class Review:
    """What the checks found, before the result is decided."""

    findings: list[str] = field(default_factory=list)  # "<field>: <problem>"; each one asks for review
    warnings: list[str] = field(default_factory=list)  # noted in the evidence, no review on their own
    not_screened: list[dict[str, str]] = field(default_factory=list)


def validate_customer(ctx: ServiceContext, inputs: dict[str, Any]) -> dict[str, Any]:
    """Check one customer's data, screen its names, rate the risk and record the evidence."""
    customer_id = str(inputs["customer_id"])
    customer = ctx.finance.customer(customer_id)
    if customer is None:
        raise ServiceTaskError(f"customer {customer_id!r} not found", error_code="customer_not_found",
                               field="customer_id")
    review = Review()
    check_completeness(customer, ctx.clock.today(), review)
    subjects = subjects_to_screen(customer, review)
    names = [(s.name, s.role) for s in subjects]
    screening = ctx.screener.screen(names)
    hits = [c for c in screening.candidates if c.score >= ctx.settings.sanctions_review_threshold]
    pep_hits = ctx.peps.screen(names)
    blocking = blocking_hits(hits, subjects, ctx.settings.sanctions_block_threshold)
    result, reasons = decide(blocking, hits, pep_hits, review)
    risk = rate_risk(customer, subjects, hits, pep_hits, review)
    ctx.record.kyc = evidence(ctx, screening, subjects, hits, pep_hits, review, result, risk, reasons)
    return {"kyc_result": result, "kyc_risk": risk, "kyc_hits": len(hits) + len(pep_hits)}


# --- completeness -----------------------------------------------------------------------------------

def check_completeness(customer: Customer, today: date, review: Review) -> None:
    """Record a finding per missing or expired field; the required fields depend on the customer kind."""
    required: dict[str, object] = {"name": customer.name, "country": customer.country,
                                   "address": customer.address}
    if customer.kind == "company":
        required["registration_number"] = customer.registration_number
    else:
        required["date_of_birth"] = customer.date_of_birth
    review.findings += [f"{name}: missing" for name, value in required.items() if _blank(value)]
    if customer.kind == "company":
        if not any(p.role == "director" for p in customer.people):
            review.findings.append("directors: no director recorded")
        if not any(p.role == "owner" for p in customer.people):
            review.findings.append("beneficial_owners: no beneficial owner recorded")
    elif customer.id_document is None:
        review.findings.append("id_document: missing")
    if customer.id_document is not None:
        check_id_document(customer.id_document, today, review)
    country = country_code(customer.country)
    if country in HIGH_RISK_COUNTRIES:
        review.findings.append(f"country: {country} is a high-risk jurisdiction (enhanced due diligence)")


def check_id_document(document: IdDocument, today: date, review: Review) -> None:
    """A document without number or expiry date, or expired, is a finding; expiring soon, a warning."""
    if _blank(document.number):
        review.findings.append("id_document.number: missing")
    expires = document.expires_on
    if expires is None:
        review.findings.append("id_document.expires_on: missing")
    elif expires < today:  # valid through its expiry date
        review.findings.append(f"id_document.expires_on: expired on {expires.isoformat()}")
    elif expires <= today + timedelta(days=EXPIRY_WARNING_DAYS):
        review.warnings.append(f"id_document.expires_on: expires on {expires.isoformat()}, "
                               f"within {EXPIRY_WARNING_DAYS} days")


def _blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# --- who is screened --------------------------------------------------------------------------------

def subjects_to_screen(customer: Customer, review: Review) -> list[Subject]:
    """The customer, every director and every owner holding 25% or more; one subject per person."""
    by_name: dict[str, Subject] = {}

    def add(field: str, name: str, role: str, ownership: Decimal | None, country: str | None) -> None:
        if _blank(name):
            return  # already a finding of the completeness check or below
        if not tokens(name):
            review.findings.append(f"{field}: cannot be screened (no Latin letters); add a transliteration")
        subject = by_name.setdefault(_person_key(name), Subject(name, [], ownership, country))
        if role not in subject.roles:
            subject.roles.append(role)
        if ownership is not None:
            subject.ownership = ownership

    add("name", customer.name, "customer", None, customer.country)
    below: list[tuple[str, Decimal]] = []
    for index, person in enumerate(customer.people):
        field = f"people[{index}]"
        if _blank(person.name):
            review.findings.append(f"{field}.name: missing")
        elif person.role == "owner" and person.ownership is None:
            review.findings.append(f"{field}.ownership: missing for owner {person.name}; screened anyway")
            add(f"{field}.name", person.name, "owner", None, person.country)
        elif person.role == "owner" and person.ownership is not None and person.ownership < SCREENING_OWNERSHIP:
            below.append((person.name, person.ownership))
        elif person.role in ("director", "owner"):
            add(f"{field}.name", person.name, person.role, person.ownership, person.country)
    for name, ownership in below:
        if _person_key(name) not in by_name:  # a director owning 10% is screened as a director
            review.not_screened.append({
                "name": name, "role": "owner", "ownership": str(ownership),
                "reason": f"ownership {ownership}% is below the {SCREENING_OWNERSHIP}% screening threshold"})
    return list(by_name.values())


def _person_key(name: str) -> str:
    """One key per person however the name is written ("FULLER, Andrew" = "Andrew Fuller")."""
    return " ".join(sorted(tokens(name))) or name.strip().casefold()


# --- result, risk, evidence -------------------------------------------------------------------------

def blocking_hits(hits: list[ScreeningCandidate], subjects: list[Subject],
                  block_threshold: float) -> list[ScreeningCandidate]:
    """Hits that block: an exact name match of the customer or a controlling owner, scored high enough."""
    may_block = {(s.name, s.role) for s in subjects if s.may_block}
    return [c for c in hits if (c.screened_name, c.role) in may_block and c.score >= block_threshold
            and sorted(tokens(c.screened_name)) == sorted(tokens(c.list_name))]


def decide(blocking: list[ScreeningCandidate], hits: list[ScreeningCandidate], pep_hits: list[PepMatch],
           review: Review) -> tuple[str, list[str]]:
    """The result and the reasons for it, in the order of the rules in the module docstring."""
    if blocking:
        return "blocked", [f"{c.screened_name} ({c.role}) is listed as {c.list_name} (SDN {c.entry_id})"
                           for c in blocking]
    reasons = [f"sanctions candidate: {c.screened_name} ({c.role}) ~ {c.list_name} (SDN {c.entry_id}, "
               f"score {c.score:.1f})" for c in hits]
    reasons += [f"PEP match: {m.screened_name} ~ {m.pep_name}, {m.position} ({m.country})" for m in pep_hits]
    reasons += [f"finding: {f}" for f in review.findings]
    return ("review" if reasons else "clear"), reasons


def rate_risk(customer: Customer, subjects: list[Subject], hits: list[ScreeningCandidate],
              pep_hits: list[PepMatch], review: Review) -> str:
    """low / medium / high, per the rules in the module docstring."""
    if hits or pep_hits or country_code(customer.country) in HIGH_RISK_COUNTRIES:
        return "high"
    people_at_risk = any(country_code(s.country) in HIGH_RISK_COUNTRIES for s in subjects)
    return "medium" if review.findings or people_at_risk else "low"


def country_code(country: str | None) -> str | None:
    """An ISO alpha-2 code from a code or an English name (only the names this module needs to know)."""
    if not country:
        return None
    text = country.strip()
    return text.upper() if len(text) == 2 else _COUNTRY_NAMES.get(text.casefold(), text)


def evidence(ctx: ServiceContext, screening: ScreeningResult, subjects: list[Subject],
             hits: list[ScreeningCandidate], pep_hits: list[PepMatch], review: Review,
             result: str, risk: str, reasons: list[str]) -> dict[str, Any]:
    """The JSON-friendly record of what was checked, against which list, and what was found."""
    return {
        "result": result,
        "risk": risk,
        "reasons": reasons,
        "checked_at": ctx.clock.now().isoformat(),
        "list_date": screening.list_date,
        "list_entries": screening.entries,
        "threshold": screening.threshold,
        "review_threshold": ctx.settings.sanctions_review_threshold,
        "block_threshold": ctx.settings.sanctions_block_threshold,
        "findings": list(review.findings),
        "warnings": list(review.warnings),
        "screened": [{"name": s.name, "role": s.role} for s in subjects],
        "not_screened": list(review.not_screened),
        "hits": [{"screened_name": c.screened_name, "role": c.role, "list_name": c.list_name,
                  "entry_id": c.entry_id, "type": c.entry_type, "programs": c.programs,
                  "score": round(c.score, 1), "phonetic_match": c.phonetic_match, "alias": c.matched_alias}
                 for c in hits],
        "pep_hits": [{"screened_name": m.screened_name, "pep_name": m.pep_name, "position": m.position,
                      "country": m.country, "score": round(m.score, 1)} for m in pep_hits],
    }


DEFINITION = ServiceTaskDefinition(
    topic="kyc/validate",
    title="Validate the customer (KYC)",
    description="Checks the customer's KYC data is complete and current, screens the customer, its "
                "directors and its owners of 25% or more against the sanctions (OFAC SDN) and PEP lists, "
                "rates the risk and records the evidence on the request.",
    inputs=(Param("customer_id", "string", "The customer to validate"),),
    outputs=(
        Param("kyc_result", "string", "clear | review | blocked"),
        Param("kyc_risk", "string", "low | medium | high"),
        Param("kyc_hits", "integer", "Sanctions candidates plus PEP matches a reviewer must look at"),
    ),
    handler=validate_customer,
)
