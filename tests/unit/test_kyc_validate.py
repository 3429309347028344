"""The kyc/validate service task: completeness, who is screened, result, risk and evidence."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from kyc_fakes import NOW, SANCTIONS_DIR, a_company, a_context, an_individual

from bpmn_requests.domain.errors import ServiceTaskError
from bpmn_requests.domain.finance import Customer, IdDocument, Person
from bpmn_requests.service_tasks.kyc.pep import SyntheticPepList
from bpmn_requests.service_tasks.kyc.sanctions import SdnScreener
from bpmn_requests.service_tasks.kyc.validate import DEFINITION
from bpmn_requests.service_tasks.registry import ServiceContext, ServiceSettings


@pytest.fixture(scope="module")
def screener() -> SdnScreener:
    return SdnScreener.from_directory(SANCTIONS_DIR)


@pytest.fixture(scope="module")
def peps() -> SyntheticPepList:
    return SyntheticPepList()


def run(customer: Customer, screener: SdnScreener, peps: SyntheticPepList,
        settings: ServiceSettings | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """Run the task; returns its outputs and the evidence it wrote on the request record."""
    ctx = a_context(customer, screener, peps, settings)
    outputs = DEFINITION.call(ctx, {"customer_id": customer.id})
    assert ctx.record.kyc is not None
    return outputs, ctx.record.kyc


def with_people(*people: Person) -> Customer:
    return a_company(people=people)


def test_complete_demo_company_is_clear_with_low_risk(screener: SdnScreener, peps: SyntheticPepList) -> None:
    outputs, kyc = run(a_company(), screener, peps)
    assert outputs == {"kyc_result": "clear", "kyc_risk": "low", "kyc_hits": 0}
    assert (kyc["result"], kyc["risk"], kyc["findings"], kyc["reasons"]) == ("clear", "low", [], [])


def test_evidence_records_what_was_checked_against_which_list(screener: SdnScreener,
                                                              peps: SyntheticPepList) -> None:
    _, kyc = run(a_company(), screener, peps)
    assert set(kyc) >= {"result", "risk", "checked_at", "list_date", "list_entries", "threshold", "findings",
                        "screened", "hits", "pep_hits"}
    assert kyc["checked_at"] == NOW.isoformat()
    assert (kyc["list_date"], kyc["list_entries"], kyc["threshold"]) == ("2024-01-08", 7379, 88.0)
    assert kyc["screened"] == [
        {"name": "Northwind Traders Inc.", "role": "customer"},
        {"name": "Nancy Davolio", "role": "director"},
        {"name": "Andrew Fuller", "role": "owner"},
        {"name": "Harriet Lowe", "role": "owner"},  # exactly 25% is screened
    ]
    assert json.loads(json.dumps(kyc)) == kyc


def test_the_same_clock_gives_the_same_evidence(screener: SdnScreener, peps: SyntheticPepList) -> None:
    customer = an_individual(name="Manuel A. Noriega")
    assert run(customer, screener, peps) == run(customer, screener, peps)


def test_owner_below_25_percent_is_not_screened_and_the_evidence_says_so(
        screener: SdnScreener, peps: SyntheticPepList) -> None:
    customer = with_people(Person("Nancy Davolio", role="director"),
                           Person("Andrew Fuller", ownership=Decimal("80"), role="owner"),
                           Person("Manuel Antonio Noriega", ownership=Decimal("20"), role="owner"))
    outputs, kyc = run(customer, screener, peps)
    assert outputs["kyc_result"] == "clear"
    assert "Manuel Antonio Noriega" not in [s["name"] for s in kyc["screened"]]
    assert kyc["not_screened"] == [{
        "name": "Manuel Antonio Noriega", "role": "owner", "ownership": "20",
        "reason": "ownership 20% is below the 25% screening threshold"}]


def test_a_director_owning_under_25_percent_is_still_screened_as_director(
        screener: SdnScreener, peps: SyntheticPepList) -> None:
    customer = with_people(Person("Nancy Davolio", role="director"),
                           Person("Nancy Davolio", ownership=Decimal("10"), role="owner"),
                           Person("Andrew Fuller", ownership=Decimal("90"), role="owner"))
    _, kyc = run(customer, screener, peps)
    assert {"name": "Nancy Davolio", "role": "director"} in kyc["screened"]
    assert kyc["not_screened"] == []


def test_expired_id_document_asks_for_review_naming_the_field(screener: SdnScreener,
                                                               peps: SyntheticPepList) -> None:
    customer = an_individual(id_document=IdDocument("passport", "P1234567", date(2025, 3, 13)))
    outputs, kyc = run(customer, screener, peps)
    assert (outputs["kyc_result"], outputs["kyc_risk"]) == ("review", "medium")
    assert kyc["findings"] == ["id_document.expires_on: expired on 2025-03-13"]


def test_id_document_expiring_within_30_days_is_a_warning_only(screener: SdnScreener,
                                                                peps: SyntheticPepList) -> None:
    customer = an_individual(id_document=IdDocument("passport", "P1234567", date(2025, 4, 10)))
    outputs, kyc = run(customer, screener, peps)
    assert outputs["kyc_result"] == "clear"
    assert kyc["warnings"] == ["id_document.expires_on: expires on 2025-04-10, within 30 days"]


def test_id_document_expiring_today_is_still_valid(screener: SdnScreener, peps: SyntheticPepList) -> None:
    customer = an_individual(id_document=IdDocument("passport", "P1234567", NOW.date()))
    _, kyc = run(customer, screener, peps)
    assert kyc["findings"] == []


def test_company_without_directors_asks_for_review_naming_the_field(screener: SdnScreener,
                                                                     peps: SyntheticPepList) -> None:
    customer = with_people(Person("Andrew Fuller", ownership=Decimal("100"), role="owner"))
    outputs, kyc = run(customer, screener, peps)
    assert outputs["kyc_result"] == "review"
    assert kyc["findings"] == ["directors: no director recorded"]
    assert kyc["reasons"] == ["finding: directors: no director recorded"]


def test_company_without_owners_or_registration_number_lists_each_missing_field(
        screener: SdnScreener, peps: SyntheticPepList) -> None:
    customer = a_company(registration_number=None, people=(Person("Nancy Davolio", role="director"),))
    _, kyc = run(customer, screener, peps)
    assert kyc["findings"] == ["registration_number: missing",
                               "beneficial_owners: no beneficial owner recorded"]


def test_individual_missing_birth_date_address_and_document_lists_each_field(
        screener: SdnScreener, peps: SyntheticPepList) -> None:
    customer = an_individual(date_of_birth=None, address=" ", id_document=None)
    outputs, kyc = run(customer, screener, peps)
    assert outputs["kyc_result"] == "review"
    assert kyc["findings"] == ["address: missing", "date_of_birth: missing", "id_document: missing"]


def test_id_document_without_number_or_expiry_is_incomplete(screener: SdnScreener,
                                                             peps: SyntheticPepList) -> None:
    customer = an_individual(id_document=IdDocument("passport", "", None))
    _, kyc = run(customer, screener, peps)
    assert kyc["findings"] == ["id_document.number: missing", "id_document.expires_on: missing"]


def test_unknown_customer_is_a_business_error_on_customer_id(screener: SdnScreener,
                                                             peps: SyntheticPepList) -> None:
    ctx: ServiceContext = a_context(a_company(), screener, peps)
    with pytest.raises(ServiceTaskError) as raised:
        DEFINITION.call(ctx, {"customer_id": "C-404"})
    assert (raised.value.error_code, raised.value.field) == ("customer_not_found", "customer_id")


def test_similar_name_of_a_director_asks_for_review_with_high_risk(screener: SdnScreener,
                                                                   peps: SyntheticPepList) -> None:
    customer = with_people(Person("Manuel A. Noriega", role="director"),
                           Person("Andrew Fuller", ownership=Decimal("100"), role="owner"))
    outputs, kyc = run(customer, screener, peps)
    assert outputs == {"kyc_result": "review", "kyc_risk": "high", "kyc_hits": 1}
    [hit] = kyc["hits"]
    assert hit == {"screened_name": "Manuel A. Noriega", "role": "director",
                   "list_name": "NORIEGA, Manuel Antonio", "entry_id": "1572", "type": "individual",
                   "programs": "CUBA", "score": hit["score"], "phonetic_match": True, "alias": False}
    assert hit["score"] == round(hit["score"], 1) and hit["score"] >= 88.0


def test_exact_listed_name_of_the_customer_is_blocked(screener: SdnScreener, peps: SyntheticPepList) -> None:
    outputs, kyc = run(an_individual(name="NORIEGA, Manuel Antonio"), screener, peps)
    assert outputs == {"kyc_result": "blocked", "kyc_risk": "high", "kyc_hits": 1}
    assert kyc["reasons"] == ["NORIEGA, Manuel Antonio (customer) is listed as NORIEGA, Manuel Antonio (SDN 1572)"]


def test_similar_but_not_exact_customer_name_is_reviewed_not_blocked(screener: SdnScreener,
                                                                     peps: SyntheticPepList) -> None:
    outputs, _ = run(an_individual(name="Manuel A. Noriega"), screener, peps)
    assert outputs["kyc_result"] == "review"


def test_exact_listed_controlling_owner_blocks_but_a_listed_director_is_reviewed(
        screener: SdnScreener, peps: SyntheticPepList) -> None:
    owner = with_people(Person("Nancy Davolio", role="director"),
                        Person("Manuel Antonio Noriega", ownership=Decimal("50"), role="owner"))
    director = with_people(Person("Manuel Antonio Noriega", role="director"),
                           Person("Andrew Fuller", ownership=Decimal("100"), role="owner"))
    assert run(owner, screener, peps)[0]["kyc_result"] == "blocked"
    assert run(director, screener, peps)[0]["kyc_result"] == "review"


def test_block_threshold_comes_from_the_settings(screener: SdnScreener, peps: SyntheticPepList) -> None:
    customer = an_individual(name="Manuel Antonio Noriega")
    never = ServiceSettings(sanctions_block_threshold=100.1)
    assert run(customer, screener, peps, never)[0]["kyc_result"] == "review"


def test_pep_match_asks_for_review_with_high_risk(screener: SdnScreener, peps: SyntheticPepList) -> None:
    customer = with_people(Person("Colm O Briain Hegarty", role="director"),
                           Person("Andrew Fuller", ownership=Decimal("100"), role="owner"))
    outputs, kyc = run(customer, screener, peps)
    assert outputs == {"kyc_result": "review", "kyc_risk": "high", "kyc_hits": 1}
    assert kyc["pep_hits"] == [{"screened_name": "Colm O Briain Hegarty", "pep_name": "Colm Ó Briain-Hegarty",
                                "position": "Senator", "country": "IE", "score": 100.0}]


def test_customer_in_a_high_risk_country_is_reviewed_with_high_risk(screener: SdnScreener,
                                                                    peps: SyntheticPepList) -> None:
    outputs, kyc = run(an_individual(country="Iran"), screener, peps)
    assert (outputs["kyc_result"], outputs["kyc_risk"]) == ("review", "high")
    assert kyc["findings"] == ["country: IR is a high-risk jurisdiction (enhanced due diligence)"]


def test_owner_from_a_high_risk_country_raises_risk_to_medium(screener: SdnScreener,
                                                              peps: SyntheticPepList) -> None:
    customer = with_people(Person("Nancy Davolio", role="director"),
                           Person("Andrew Fuller", country="KP", ownership=Decimal("100"), role="owner"))
    outputs, _ = run(customer, screener, peps)
    assert (outputs["kyc_result"], outputs["kyc_risk"]) == ("clear", "medium")


def test_name_without_latin_letters_cannot_be_screened_and_is_reviewed(screener: SdnScreener,
                                                                       peps: SyntheticPepList) -> None:
    outputs, kyc = run(an_individual(name="Ольга Беннет"), screener, peps)
    assert outputs["kyc_result"] == "review"
    assert kyc["findings"] == ["name: cannot be screened (no Latin letters); add a transliteration"]
    assert kyc["screened"] == [{"name": "Ольга Беннет", "role": "customer"}]


def test_missing_customer_id_is_refused_by_the_input_contract(screener: SdnScreener,
                                                               peps: SyntheticPepList) -> None:
    ctx = a_context(a_company(), screener, peps)
    with pytest.raises(ServiceTaskError) as raised:
        DEFINITION.call(ctx, {"customer_id": ""})
    assert raised.value.error_code == "missing_input"
    assert DEFINITION.topic == "kyc/validate"
    assert [p.name for p in DEFINITION.outputs] == ["kyc_result", "kyc_risk", "kyc_hits"]


def test_demo_customers_people_all_screen_clear(screener: SdnScreener, peps: SyntheticPepList) -> None:
    people = ("Nancy Davolio", "Andrew Fuller", "Olivia Bennett", "Harriet Lowe", "Kevin Brandt",
              "Sofia Lindqvist", "Peter Hollis", "Amelia Stratton", "Thomas Whitcombe",
              "Ricardo Vidal Herrera", "Hannah Meyer")
    customer = with_people(*(Person(n, role="director") for n in people),
                           Person("Andrew Fuller", ownership=Decimal("100"), role="owner"))
    outputs, kyc = run(replace(customer, name="Isthmus Maritime Trading S.A."), screener, peps)
    assert outputs == {"kyc_result": "clear", "kyc_risk": "low", "kyc_hits": 0}
    assert kyc["hits"] == kyc["pep_hits"] == []


def test_a_person_who_is_director_and_owner_is_screened_once_under_both_roles(
        screener: SdnScreener, peps: SyntheticPepList) -> None:
    customer = with_people(Person("Nancy Davolio", role="director"),
                           Person("DAVOLIO, Nancy", ownership=Decimal("30"), role="owner"))
    _, kyc = run(customer, screener, peps)
    assert kyc["screened"][1:] == [{"name": "Nancy Davolio", "role": "director, owner"}]


def test_owner_without_ownership_is_a_finding_and_is_screened_anyway(screener: SdnScreener,
                                                                     peps: SyntheticPepList) -> None:
    customer = with_people(Person("Nancy Davolio", role="director"), Person("Andrew Fuller", role="owner"))
    outputs, kyc = run(customer, screener, peps)
    assert outputs["kyc_result"] == "review"
    assert kyc["findings"] == ["people[1].ownership: missing for owner Andrew Fuller; screened anyway"]
    assert {"name": "Andrew Fuller", "role": "owner"} in kyc["screened"]
